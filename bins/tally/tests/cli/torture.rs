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
