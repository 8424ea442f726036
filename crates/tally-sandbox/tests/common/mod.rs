//! What the real-sandbox tests share: finding the venv (or failing under CI), starting a service
//! on its own thread and runtime, and looking at its processes through /proc.

#![allow(dead_code)] // each test binary uses a different part

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use tally_sandbox::{SandboxConfig, SandboxService};

/// The venv of `scripts/sandbox-setup.sh`; `None` (with a note) when it is missing — except
/// under CI, where a missing sandbox fails the test instead of skipping it.
pub fn venv_or_skip() -> Option<PathBuf> {
    let cache = std::env::var_os("TALLY_CACHE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/tally"));
    let venv = SandboxConfig::venv_in(&cache);
    if venv.join("bin/python").exists() {
        return Some(venv);
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "CI is set but the sandbox venv {} is missing: run scripts/sandbox-setup.sh",
            venv.display()
        );
    }
    eprintln!(
        "NOTE: skipping a real-sandbox test: {} missing; run scripts/sandbox-setup.sh",
        venv.display()
    );
    None
}

/// A service running on a thread of its own; dropped → shut down.
pub struct Running {
    pub url: String,
    pub service: SandboxService,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    /// Starts a service with `config`; panics if it cannot start.
    pub fn start(config: SandboxConfig) -> Running {
        let (tx, rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Runtime::new().unwrap();
            rt.block_on(async move {
                let service = SandboxService::start(config).await.expect("sandbox starts");
                eprintln!("sandbox isolation: {}", service.isolation().name());
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                let url = format!("http://{}", listener.local_addr().unwrap());
                tx.send((url, service.clone())).unwrap();
                tally_sandbox::serve(service, listener, async {
                    let _ = stop_rx.await;
                })
                .await
                .unwrap();
            });
        });
        let (url, service) = rx
            .recv_timeout(Duration::from_secs(300))
            .expect("sandbox ready");
        Running {
            url,
            service,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    /// Stops serving, kills the workers, removes the runtime directory; waits for all of it.
    pub fn stop(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop_now();
    }
}

pub fn block<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// A config for tests: `workers` slots, the rest default.
pub fn config(venv: PathBuf, workers: usize) -> SandboxConfig {
    let mut c = SandboxConfig::new(venv);
    c.workers = workers;
    c
}

/// One process as /proc shows it.
pub struct Proc {
    pub pid: u32,
    pub ppid: u32,
    pub uid: u32,
}

/// Every process on the machine.
pub fn processes() -> Vec<Proc> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
            continue;
        };
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|s| s.parse::<u32>().ok())
        };
        if let (Some(ppid), Some(uid)) = (field("PPid:"), field("Uid:")) {
            out.push(Proc { pid, ppid, uid });
        }
    }
    out
}

/// The processes descended from `roots` (the roots included).
pub fn tree(roots: &[u32]) -> Vec<Proc> {
    let all = processes();
    let mut children: HashMap<u32, Vec<usize>> = HashMap::new();
    for (i, p) in all.iter().enumerate() {
        children.entry(p.ppid).or_default().push(i);
    }
    let mut seen = vec![false; all.len()];
    let mut stack: Vec<usize> = all
        .iter()
        .enumerate()
        .filter(|(_, p)| roots.contains(&p.pid))
        .map(|(i, _)| i)
        .collect();
    let mut out = Vec::new();
    while let Some(i) = stack.pop() {
        if std::mem::replace(&mut seen[i], true) {
            continue;
        }
        stack.extend(children.get(&all[i].pid).into_iter().flatten().copied());
        out.push(Proc {
            pid: all[i].pid,
            ppid: all[i].ppid,
            uid: all[i].uid,
        });
    }
    out
}

/// The service's worker trees: (process count, summed PSS in KiB).
pub fn worker_footprint(service: &SandboxService) -> (usize, u64) {
    let roots: Vec<u32> = service.worker_pids().into_iter().flatten().collect();
    let procs = tree(&roots);
    let pss: u64 = procs.iter().map(|p| pss_kib(p.pid)).sum();
    (procs.len(), pss)
}

/// A process's proportional set size (shared pages split between their users), in KiB.
pub fn pss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Pss:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Polls `f` every 50 ms until it is true or `limit` passes; returns its last value.
pub fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = std::time::Instant::now();
    loop {
        if f() {
            return true;
        }
        if start.elapsed() > limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
