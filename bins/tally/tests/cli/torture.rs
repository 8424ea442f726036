//! The torture harness's fixed-seed slice (docs/reliability.md): real `tally` processes against
//! the fault-injecting server, SIGKILLed two or three times each, restarted until done; every
//! trial must end byte-identical to an uninterrupted run, each sample once, nothing left behind.

use std::time::Duration;

use tally_torture::{FaultConfig, FaultServer, Harness, Mode, Workload};

const TRIALS: u64 = 5;

fn torture(mode: Mode) {
    let root = tempfile::tempdir().unwrap();
    let workload = Workload {
        problems: 30,
        ..Workload::default()
    };
    let harness = Harness::new(env!("CARGO_BIN_EXE_tally").as_ref(), root.path(), workload)
        .unwrap_or_else(|e| panic!("{e}"));
    let server =
        FaultServer::start(FaultConfig::flaky(0.15, 7, Duration::from_millis(25))).unwrap();
    let mut broken = Vec::new();
    for seed in 1..=TRIALS {
        let r = harness
            .trial(mode, seed, &server)
            .unwrap_or_else(|e| panic!("{e}"));
        eprintln!(
            "{} seed {seed}: {} restarts; {}",
            mode.name(),
            r.restarts,
            r.kills.join("; ")
        );
        if !r.exact() {
            broken.push(format!(
                "seed {seed} ({}):\n  {}",
                r.kills.join("; "),
                r.violations
                    .iter()
                    .map(|v| v.to_string())
                    .collect::<Vec<_>>()
                    .join("\n  ")
            ));
        }
    }
    let faults = server
        .counters()
        .faults
        .load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        faults > 0,
        "the server injected no fault: the trials proved nothing"
    );
    assert!(
        broken.is_empty(),
        "{} trials broke:\n{}",
        mode.name(),
        broken.join("\n")
    );
}

#[test]
fn generate_survives_kills_and_faults() {
    torture(Mode::Generate);
}

#[test]
fn chunked_generate_survives_kills_and_faults() {
    torture(Mode::Chunks);
}

#[test]
fn judge_survives_kills_and_faults() {
    torture(Mode::Judge);
}

#[test]
fn eval_survives_kills_and_faults() {
    torture(Mode::Eval);
}

/// SIGTERM (preemption) and SIGUSR1 (Slurm's time-limit warning) stop a run at once with the
/// signal's exit code; the rerun finishes with every problem once.
#[test]
fn a_signalled_run_stops_cleanly_and_the_rerun_completes() {
    let dir = tempfile::tempdir().unwrap();
    let problems = dir.path().join("problems.jsonl");
    tally_torture::workload::write_problems(&problems, 60).unwrap();
    let server = FaultServer::start(FaultConfig::flaky(0.0, 1, Duration::from_millis(40))).unwrap();
    let out = dir.path().join("out");
    let cmd = || {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_tally"));
        c.args([
            "generate",
            "--server_type=vllm",
            &format!("--server_address={}", server.url()),
            &format!("--output_dir={}", out.display()),
            "--num_random_seeds=2",
            &format!("++input_file={}", problems.display()),
            "++max_concurrent_requests=2",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
        c
    };
    for (signal, code) in [("-USR1", 138), ("-TERM", 143)] {
        let child = cmd().spawn().unwrap();
        std::thread::sleep(Duration::from_millis(700));
        let sent = std::process::Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let t0 = std::time::Instant::now();
        let o = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(code), "{signal}: {err}");
        assert!(t0.elapsed() < Duration::from_secs(5), "{signal}: slow stop");
        assert!(err.contains("stopping; rerun the same command"), "{err}");
        assert!(
            !out.join("output-rs1.jsonl").exists(),
            "{signal}: the run had finished"
        );
    }
    let o = cmd().output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for seed in 0..2 {
        let text = std::fs::read_to_string(out.join(format!("output-rs{seed}.jsonl"))).unwrap();
        let ids: Vec<String> = text
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["id"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        let want: Vec<String> = (0..60).map(|i| format!("p{i:03}")).collect();
        assert_eq!(ids, want);
    }
}
