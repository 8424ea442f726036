//! A multi-node evaluation on the real local Slurm (three slurmd nodes, `just services`), with
//! the embedded model (deterministic, so a Slurm run and a local run must agree): two running
//! chunk jobs get Slurm's time-limit warning (SIGUSR1: they stop and requeue themselves), one is
//! cancelled outright, and the user submits the same command again. Every (problem, seed) ends
//! exactly once, the metrics equal the `--cluster local` run's, and the summary ran once.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::{missing_service, read_records, run, shared, stderr, stdout, tally};

pub(crate) fn idle_nodes() -> usize {
    Command::new("sinfo")
        .args(["-h", "-t", "idle", "-o", "%D"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(0)
}

pub(crate) fn model() -> Option<PathBuf> {
    let cache = std::env::var_os("TALLY_CACHE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/tally"));
    let m = cache.join("llama-server/models/SmolLM2-135M-Instruct.Q4_1.gguf");
    m.exists().then_some(m)
}

/// (job id, state, name, node) of this expname's jobs (an array task's id is `<array>_<k>`).
pub(crate) fn jobs(prefix: &str) -> Vec<(String, String, String, String)> {
    let o = Command::new("squeue")
        .args(["-h", "-o", "%i %T %j %N"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| {
            let mut p = l.split_whitespace();
            Some((
                p.next()?.into(),
                p.next()?.into(),
                p.next()?.into(),
                p.next().unwrap_or_default().into(),
            ))
        })
        .filter(|(_, _, n, _): &(String, String, String, String)| n.starts_with(prefix))
        .collect()
}

/// Slurm's time-limit warning by hand: SIGUSR1 to the batch shell (tally, after `exec`).
/// slurmctld answers "Job can not be altered now, try again later" to a task still being launched
/// (and scancel then retries for minutes, even after the task took the signal and requeued
/// itself): bounded tries, until the signal is taken or the task restarted.
pub(crate) fn time_limit_warning(id: &str) {
    for _ in 0..40 {
        let out = Command::new("timeout")
            .args(["5", "scancel", "--batch", "--signal=USR1", id])
            .output()
            .unwrap();
        if out.status.success() {
            return;
        }
        let show = Command::new("scontrol")
            .args(["-o", "show", "job", id])
            .output()
            .unwrap();
        let show = String::from_utf8_lossy(&show.stdout);
        if !show.contains("Restarts=0 ") {
            return;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    panic!("SIGUSR1 never reached Slurm job {id}");
}

/// A task that requeued itself waits for its begin time (Slurm's job-credential lifetime,
/// one to two minutes) before it may run again; the test sets that time to now so the resumed
/// run starts at once. What is tested (the task stops, requeues and resumes) is unchanged.
pub(crate) fn skip_requeue_delay(id: &str) {
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(60) {
        let show = Command::new("scontrol")
            .args(["-o", "show", "job", id])
            .output()
            .unwrap();
        let show = String::from_utf8_lossy(&show.stdout);
        if show.contains("JobState=PENDING") && !show.contains("Restarts=0 ") {
            let _ = Command::new("scontrol")
                .args(["update", &format!("JobId={id}"), "StartTime=now"])
                .status();
            return;
        }
        if show.contains("JobState=COMPLETED") || show.is_empty() {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn eval(d: &Path, model: &Path, cluster: &str, out: &str, wait: bool) -> std::process::Output {
    let mut cmd = tally();
    cmd.current_dir(d).args([
        "eval",
        &format!("--cluster={cluster}"),
        "--expname=pre",
        "--server_type=local",
        &format!("--model={}", model.display()),
        &format!("--output_dir={out}"),
        "--benchmarks=gsm8k:1,aime24:1",
        "--num_chunks=3",
        "--data_dir=data",
        "--not_exclusive",
        "++prompt_template=qwen-instruct",
        "++max_samples=6",
        "++inference.tokens_to_generate=32",
        "++max_concurrent_requests=2",
    ]);
    if wait {
        cmd.arg("--wait");
    }
    run(&mut cmd)
}

#[cfg(feature = "local")]
#[test]
fn a_preempted_multi_node_eval_ends_exactly_once_and_as_a_local_run() {
    let _model = crate::common::model_cpu();
    let Some(model) = model() else {
        missing_service("no cached SmolLM2 model (scripts/llama-server.sh model)");
        return;
    };
    if idle_nodes() < 3 {
        missing_service("fewer than 3 idle Slurm nodes (SLURM_NODES=3 slurm-local.sh start)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for b in ["gsm8k", "aime24"] {
        let prep = run(tally()
            .current_dir(d)
            .args(["prepare", b, "--data_dir", "data", "--source"])
            .arg(shared().join("data").join(b)));
        assert!(prep.status.success(), "{}", stderr(&prep));
    }
    let local = eval(d, &model, "local", "local", false);
    assert!(local.status.success(), "{}", stderr(&local));

    let first = eval(d, &model, "slurm", "slurm", false);
    assert!(first.status.success(), "{}", stderr(&first));
    // 6 parts (2 benchmarks × 3 chunks), one array task each, and the summary.
    assert_eq!(stdout(&first).matches("submitted pre-").count(), 7);

    // Three running chunk jobs: two warned (SIGUSR1 → requeue), one cancelled outright.
    let t0 = Instant::now();
    let running = loop {
        let r: Vec<String> = jobs("pre-")
            .into_iter()
            .filter(|(_, s, n, _)| s == "RUNNING" && n == "pre-parts")
            .map(|(id, _, _, _)| id)
            .collect();
        if r.len() >= 3 {
            // Past the batch shell's `exec`: the signal reaches tally.
            std::thread::sleep(Duration::from_secs(2));
            break r;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "chunk jobs never ran: {:?}",
            jobs("pre-")
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    for id in &running[..2] {
        time_limit_warning(id);
    }
    for id in &running[..2] {
        skip_requeue_delay(id);
    }
    assert!(Command::new("scancel")
        .arg(&running[2])
        .status()
        .unwrap()
        .success());
    std::thread::sleep(Duration::from_secs(2));

    // The user submits the same command again and waits.
    let again = eval(d, &model, "slurm", "slurm", true);
    let text = stdout(&again);
    assert!(again.status.success(), "{text}\n{}", stderr(&again));
    let resubmitted = text.matches("submitted pre-").count();
    assert!(
        (2..=3).contains(&resubmitted),
        "only the cancelled chunk (and the summary) may be sent again:\n{text}"
    );

    for b in ["gsm8k", "aime24"] {
        for f in ["output.jsonl", "output-rs0.jsonl"] {
            let want = read_records(&d.join(format!("local/eval-results/{b}/{f}")));
            let got = read_records(&d.join(format!("slurm/eval-results/{b}/{f}")));
            let ids = |v: &[serde_json::Map<String, serde_json::Value>]| -> Vec<String> {
                v.iter().map(|r| r["id"].to_string()).collect()
            };
            assert_eq!(ids(&got), ids(&want), "{b}/{f}");
            assert_eq!(got, want, "{b}/{f}: records differ from the local run's");
        }
    }
    let metrics = |p: &str| -> serde_json::Value {
        serde_json::from_str(
            &std::fs::read_to_string(d.join(p).join("eval-results/metrics.json")).unwrap(),
        )
        .unwrap()
    };
    assert_eq!(metrics("slurm"), metrics("local"));
    let summaries = std::fs::read_dir(d.join("slurm/eval-logs"))
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("pre-summarize_")
        })
        .count();
    assert_eq!(summaries, 1, "the summary job must run exactly once");
}
