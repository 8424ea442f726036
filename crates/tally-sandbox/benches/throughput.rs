//! Snippets per second on a TIR-like mix: Tally's sandbox (pre-warmed fork-server workers with
//! real sessions) against NeMo-Skills' design (a fresh Python interpreter per call that re-runs
//! the session's whole history in a new IPython shell), same snippets, same run.
//!
//! `cargo bench -p tally-sandbox --bench throughput` (needs scripts/sandbox-setup.sh).
//! Env: TALLY_SANDBOX_BENCH_SESSIONS (default 40 for Tally), TALLY_SANDBOX_BENCH_BASELINE_SESSIONS
//! (default 4), TALLY_SANDBOX_BENCH_WORKERS (default: number of cores; the baseline runs with the
//! same concurrency).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use tally_sandbox::{ExecuteRequest, ProcessStatus, SandboxConfig, SandboxService};

/// One TIR trajectory: the code blocks a model typically writes for one problem.
const SESSION: &[&str] = &[
    "import sympy as sp\nx = sp.Symbol('x')",
    "sols = sp.solve(x**2 - 5*x + 6, x)\nsols",
    "import numpy as np\na = np.arange(100)\nint((a**2).sum())",
    "total = 0\nfor k in range(1, 2001):\n    if k % 3 == 0 or k % 5 == 0:\n        total += k\nprint(total)",
    "print(sols[2])",
    "sp.simplify(sp.sin(x)**2 + sp.cos(x)**2), sp.Rational(3, 4) + sp.Rational(1, 6)",
];

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// NeMo-Skills' client-side wrapper (sandbox.py), simplified to what costs time: a fresh
/// interpreter, a fresh InteractiveShell, the history re-run, the last output captured.
fn nemo_wrapper(history: &[&str]) -> String {
    let cells = serde_json::to_string(history).unwrap();
    format!(
        r#"
import json, warnings
warnings.filterwarnings('ignore')
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils import io
shell = InteractiveShell()
shell.InteractiveTB.set_mode('Plain')
for code in json.loads({cells:?}):
    with io.capture_output() as captured:
        shell.run_cell(code)
print(json.dumps({{"process_status": "completed", "stdout": captured.stdout, "stderr": captured.stderr}}))
"#
    )
}

async fn run_tally(service: &SandboxService, sessions: usize, concurrency: usize) -> (usize, f64) {
    let started = Instant::now();
    let sem = std::sync::Arc::new(tokio::sync::Semaphore::new(concurrency));
    let mut tasks = Vec::new();
    for s in 0..sessions {
        let service = service.clone();
        let sem = sem.clone();
        tasks.push(tokio::spawn(async move {
            let _p = sem.acquire_owned().await.unwrap();
            let id = format!("bench-{s}");
            let mut n = 0;
            for code in SESSION {
                let mut req = ExecuteRequest::new(*code);
                req.session_id = Some(id.clone());
                let r = service.execute(&req).await.unwrap();
                assert!(
                    matches!(
                        r.process_status,
                        ProcessStatus::Completed | ProcessStatus::Error
                    ),
                    "{r:?}"
                );
                n += 1;
            }
            service.close_session(&id).await;
            n
        }));
    }
    let mut n = 0;
    for t in tasks {
        n += t.await.unwrap();
    }
    (n, started.elapsed().as_secs_f64())
}

async fn run_nemo(python: PathBuf, sessions: usize, concurrency: usize) -> (usize, f64) {
    let started = Instant::now();
    let sem = std::sync::Arc::new(tokio::sync::Semaphore::new(concurrency));
    let mut tasks = Vec::new();
    for _ in 0..sessions {
        let sem = sem.clone();
        let python = python.clone();
        tasks.push(tokio::spawn(async move {
            let _p = sem.acquire_owned().await.unwrap();
            let mut n = 0;
            for k in 1..=SESSION.len() {
                let out = tokio::process::Command::new(&python)
                    .arg("-c")
                    .arg(nemo_wrapper(&SESSION[..k]))
                    .env("OPENBLAS_NUM_THREADS", "1")
                    .output()
                    .await
                    .unwrap();
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                n += 1;
            }
            n
        }));
    }
    let mut n = 0;
    for t in tasks {
        n += t.await.unwrap();
    }
    (n, started.elapsed().as_secs_f64())
}

fn main() {
    // `cargo test --benches` passes --bench-less flags; only run when benchmarking.
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return;
    }
    let cache = std::env::var_os("TALLY_CACHE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/tally"));
    let venv = SandboxConfig::venv_in(&cache);
    if !venv.join("bin/python").exists() {
        eprintln!(
            "NOTE: {} missing; run scripts/sandbox-setup.sh",
            venv.display()
        );
        return;
    }
    let workers = env_usize(
        "TALLY_SANDBOX_BENCH_WORKERS",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
    );
    let sessions = env_usize("TALLY_SANDBOX_BENCH_SESSIONS", 40);
    let baseline_sessions = env_usize("TALLY_SANDBOX_BENCH_BASELINE_SESSIONS", 4);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut config = SandboxConfig::new(venv.clone());
        config.workers = workers;
        config.worker_start_timeout = Duration::from_secs(180);
        let t0 = Instant::now();
        let service = SandboxService::start(config).await.expect("sandbox starts");
        println!(
            "tally-sandbox: {} workers, isolation {}, ready in {:.2} s",
            workers,
            service.isolation().name(),
            t0.elapsed().as_secs_f64()
        );
        // Warm-up (one session), not measured.
        run_tally(&service, 1, 1).await;
        let (n, secs) = run_tally(&service, sessions, workers).await;
        let ours = n as f64 / secs;
        println!("tally-sandbox (sessions, sandboxed): {n} snippets in {secs:.2} s = {ours:.1} snippets/s");
        service.shutdown().await;
        let (n, secs) = run_nemo(venv.join("bin/python"), baseline_sessions, workers).await;
        let theirs = n as f64 / secs;
        println!("nemo-skills design (fresh python + history replay, unsandboxed): {n} snippets in {secs:.2} s = {theirs:.2} snippets/s");
        println!("speed-up: {:.1}x", ours / theirs);
    });
}
