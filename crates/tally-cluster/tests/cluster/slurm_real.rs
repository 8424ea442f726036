//! The Slurm executor against a real Slurm (e.g. the one-node cluster of
//! `shared/tools/slurm-local.sh start`). Skipped, with a note, when `sinfo` is missing or no node
//! is idle.

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use tally_cluster::{Executor, Job, JobId, JobState, SlurmConfig, SlurmExecutor};

const LIMIT: Duration = Duration::from_secs(120);

fn slurm_is_usable() -> bool {
    match std::process::Command::new("sinfo")
        .args(["-h", "-o", "%T"])
        .output()
    {
        Ok(out) if out.status.success() => {
            let idle = String::from_utf8_lossy(&out.stdout)
                .lines()
                .any(|l| l.starts_with("idle"));
            if !idle {
                if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
                    panic!(
                        "a real-service test cannot run under CI: its service or data is missing"
                    );
                }
                eprintln!("skipping the real-Slurm test: no idle node (start one with slurm-local.sh start)");
            }
            idle
        }
        _ => {
            if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
                panic!("a real-service test cannot run under CI: no Slurm controller answers");
            }
            eprintln!(
                "skipping the real-Slurm test: `sinfo` is not available or no controller answers"
            );
            false
        }
    }
}

fn sh(name: &str, script: &str, log: &Path) -> Job {
    Job::new(name, ["bash", "-c", script], log)
}

async fn wait(exec: &SlurmExecutor, ids: &[JobId]) -> Vec<JobState> {
    tokio::time::timeout(LIMIT, exec.wait(ids))
        .await
        .expect("Slurm jobs did not finish in time")
        .unwrap()
}

#[tokio::test]
async fn dependencies_arrays_failures_and_cancel_on_real_slurm() {
    if !slurm_is_usable() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let config = SlurmConfig {
        // One small node: exclusive jobs would run one at a time and slow the test down.
        exclusive: false,
        poll_interval: Duration::from_millis(200),
        ..SlurmConfig::new(d.join("scripts"))
    };
    let exec = SlurmExecutor::new(config);
    // NeMo-Skills' default (--exclusive) for the first pair, which runs one at a time anyway.
    let exclusive = SlurmExecutor::new(SlurmConfig {
        poll_interval: Duration::from_millis(200),
        ..SlurmConfig::new(d.join("scripts"))
    });

    // afterok: the second job reads what the first wrote.
    let first = exclusive
        .submit(&sh(
            "tally-first",
            &format!("sleep 1; echo first > {}/first.txt", d.display()),
            &d.join("logs/first_%j.log"),
        ))
        .await
        .unwrap();
    let second = exclusive
        .submit(
            &sh(
                "tally-second",
                &format!(
                    "cat {0}/first.txt > {0}/second.txt; echo \"$NOTE\"",
                    d.display()
                ),
                &d.join("logs/second.log"),
            )
            .env("NOTE", "a note with spaces")
            .after(&first),
        )
        .await
        .unwrap();

    // An array of 3 tasks, one log each.
    let array = exec
        .submit(
            &sh(
                "tally-array",
                &format!(
                    "echo $SLURM_ARRAY_TASK_ID > {}/task-$SLURM_ARRAY_TASK_ID.txt",
                    d.display()
                ),
                &d.join("logs/array_%A_%a.log"),
            )
            .array(3),
        )
        .await
        .unwrap();

    // A failing job and its dependent, which must never run.
    let failing = exec
        .submit(&sh(
            "tally-fail",
            "echo failing; exit 3",
            &d.join("logs/fail.log"),
        ))
        .await
        .unwrap();
    let never = exec
        .submit(
            &sh(
                "tally-never",
                &format!("touch {}/never.txt", d.display()),
                &d.join("logs/never.log"),
            )
            .after(&failing),
        )
        .await
        .unwrap();

    let states = wait(
        &exec,
        &[
            first.clone(),
            second.clone(),
            array.clone(),
            failing.clone(),
        ],
    )
    .await;
    assert_eq!(
        states,
        vec![
            JobState::Completed,
            JobState::Completed,
            JobState::Completed,
            JobState::Failed(3)
        ]
    );
    assert_eq!(fs::read_to_string(d.join("second.txt")).unwrap(), "first\n");
    assert_eq!(
        fs::read_to_string(d.join("logs/second.log")).unwrap(),
        "a note with spaces\n"
    );
    for t in 0..3 {
        assert_eq!(
            fs::read_to_string(d.join(format!("task-{t}.txt"))).unwrap(),
            format!("{t}\n")
        );
        assert!(d.join(format!("logs/array_{array}_{t}.log")).exists());
    }
    assert_eq!(
        fs::read_to_string(d.join(format!("logs/first_{first}.log"))).unwrap(),
        ""
    );
    // Slurm cancels the dependent of a failed job (--kill-on-invalid-dep) a few seconds later.
    assert_eq!(wait(&exec, &[never]).await, vec![JobState::Cancelled]);
    assert!(!d.join("never.txt").exists());

    // afterany: runs after the failed job all the same (a summary that reports what failed).
    let any = exec
        .submit(
            &sh(
                "tally-afterany",
                &format!("touch {}/afterany.txt", d.display()),
                &d.join("logs/afterany.log"),
            )
            .after(&failing)
            .after(&array.task(2))
            .after_any(),
        )
        .await
        .unwrap();
    assert_eq!(wait(&exec, &[any]).await, vec![JobState::Completed]);
    assert!(d.join("afterany.txt").exists());

    // One array task on its own: its state and node, from sacct where accounting runs, else
    // from scontrol; which one is what the cluster's configuration says.
    let task = exec.describe(&array.task(1)).await.unwrap();
    assert_eq!(task.state, JobState::Completed);
    assert!(task.nodes.is_some(), "{task:?}");
    let config = std::process::Command::new("scontrol")
        .args(["show", "config"])
        .output()
        .unwrap();
    let accounting = !String::from_utf8_lossy(&config.stdout)
        .lines()
        .any(|l| l.starts_with("AccountingStorageType") && l.contains("accounting_storage/none"));
    assert_eq!(exec.has_accounting(), Some(accounting));
    assert_eq!(
        task.source,
        if accounting {
            tally_cluster::StateSource::Sacct
        } else {
            tally_cluster::StateSource::Scontrol
        }
    );

    // Cancel a running job; its pending dependent goes with it.
    let long = exec
        .submit(&sh(
            "tally-long",
            "exec sleep 300",
            &d.join("logs/long.log"),
        ))
        .await
        .unwrap();
    let after_long = exec
        .submit(
            &sh(
                "tally-after-long",
                &format!("touch {}/after-long.txt", d.display()),
                &d.join("logs/after-long.log"),
            )
            .after(&long),
        )
        .await
        .unwrap();
    let deadline = Instant::now() + LIMIT;
    while exec.state(&long).await.unwrap() != JobState::Running {
        assert!(Instant::now() < deadline, "the long job never started");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(exec.state(&after_long).await.unwrap(), JobState::Pending);
    exec.cancel(&long).await.unwrap();
    assert_eq!(
        wait(&exec, &[long.clone(), after_long]).await,
        vec![JobState::Cancelled, JobState::Cancelled]
    );
    assert!(!d.join("after-long.txt").exists());
    // Cancelling a job that already ended is not an error.
    exec.cancel(&long).await.unwrap();
}
