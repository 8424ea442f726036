//! The local executor on real processes: order, dependencies, arrays, failures, cancellation.

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use tally_cluster::{Executor, Job, JobState, LocalExecutor};

fn sh(name: &str, script: &str, log: &Path) -> Job {
    Job::new(name, ["sh", "-c", script], log)
}

#[tokio::test]
async fn jobs_run_in_order_and_a_dependency_gates_its_dependent() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    let exec = LocalExecutor::new();
    let first = exec
        .submit(&sh(
            "first",
            &format!("sleep 0.2; echo one >> {d}/order"),
            &dir.path().join("first.log"),
        ))
        .await
        .unwrap();
    let second = exec
        .submit(
            &sh(
                "second",
                &format!("echo two >> {d}/order; echo \"to log $GREETING\""),
                &dir.path().join("logs/second.log"),
            )
            .env("GREETING", "hi there")
            .after(&first),
        )
        .await
        .unwrap();
    let states = exec.wait(&[first, second]).await.unwrap();
    assert_eq!(states, vec![JobState::Completed, JobState::Completed]);
    assert_eq!(
        fs::read_to_string(dir.path().join("order")).unwrap(),
        "one\ntwo\n"
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("logs/second.log")).unwrap(),
        "to log hi there\n"
    );
}

#[tokio::test]
async fn a_failed_job_reports_its_code_and_its_dependent_never_runs() {
    let dir = tempfile::tempdir().unwrap();
    let exec = LocalExecutor::new();
    let marker = dir.path().join("ran");
    let bad = exec
        .submit(&sh(
            "bad",
            "echo oops >&2; exit 3",
            &dir.path().join("bad.log"),
        ))
        .await
        .unwrap();
    let dependent = exec
        .submit(
            &sh(
                "dep",
                &format!("touch {}", marker.display()),
                &dir.path().join("dep.log"),
            )
            .after(&bad),
        )
        .await
        .unwrap();
    let independent = exec
        .submit(&sh("free", "true", &dir.path().join("free.log")))
        .await
        .unwrap();
    let states = exec.wait(&[bad, dependent, independent]).await.unwrap();
    assert_eq!(
        states,
        vec![
            JobState::Failed(3),
            JobState::Cancelled,
            JobState::Completed
        ]
    );
    assert!(!marker.exists());
    assert_eq!(
        fs::read_to_string(dir.path().join("bad.log")).unwrap(),
        "oops\n"
    );
}

#[tokio::test]
async fn array_tasks_see_their_index_and_expand_the_log_pattern() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    let exec = LocalExecutor::new();
    let job = sh(
        "arr",
        &format!("echo $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT > {d}/task-$SLURM_ARRAY_TASK_ID; echo log $SLURM_ARRAY_TASK_ID"),
        &dir.path().join("arr_%a.log"),
    )
    .array(3);
    let id = exec.submit(&job).await.unwrap();
    assert_eq!(exec.wait(&[id]).await.unwrap(), vec![JobState::Completed]);
    for t in 0..3 {
        assert_eq!(
            fs::read_to_string(dir.path().join(format!("task-{t}"))).unwrap(),
            format!("{t}/3\n")
        );
        assert_eq!(
            fs::read_to_string(dir.path().join(format!("arr_{t}.log"))).unwrap(),
            format!("log {t}\n")
        );
    }
    // One failing task fails the array with its code; the other tasks still ran.
    let failing = sh(
        "arr2",
        &format!("touch {d}/b$SLURM_ARRAY_TASK_ID; [ $SLURM_ARRAY_TASK_ID != 1 ] || exit 5"),
        &dir.path().join("arr2.log"),
    )
    .array(3);
    let id = exec.submit(&failing).await.unwrap();
    assert_eq!(exec.wait(&[id]).await.unwrap(), vec![JobState::Failed(5)]);
    assert!(dir.path().join("b2").exists());
}

#[tokio::test]
async fn cancel_stops_a_running_group_and_skips_pending_work() {
    let dir = tempfile::tempdir().unwrap();
    let exec = LocalExecutor::new().with_grace(Duration::from_secs(2));
    let pid_file = dir.path().join("child.pid");
    // The job starts a grandchild in its group; cancelling must take that down too.
    let long = exec
        .submit(&sh(
            "long",
            &format!("sleep 300 & echo $! > {}; wait", pid_file.display()),
            &dir.path().join("long.log"),
        ))
        .await
        .unwrap();
    let after = exec
        .submit(&sh("after", "true", &dir.path().join("after.log")).after(&long))
        .await
        .unwrap();
    let queued = exec
        .submit(&sh("queued", "true", &dir.path().join("queued.log")))
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while exec.state(&long).await.unwrap() != JobState::Running || !pid_file.exists() {
        assert!(Instant::now() < deadline, "job never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    exec.cancel(&queued).await.unwrap();
    assert_eq!(exec.state(&queued).await.unwrap(), JobState::Cancelled);
    exec.cancel(&long).await.unwrap();
    let states = exec.wait(&[long.clone(), after, queued]).await.unwrap();
    assert_eq!(
        states,
        vec![
            JobState::Cancelled,
            JobState::Cancelled,
            JobState::Cancelled
        ]
    );
    let grandchild: i32 = fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // The grandchild may linger as a zombie until reaped; it must not be running.
    let stat = fs::read_to_string(format!("/proc/{grandchild}/stat")).unwrap_or_default();
    assert!(
        stat.is_empty() || stat.contains(") Z "),
        "grandchild still alive: {stat}"
    );
    // Cancelling a finished job is a no-op.
    exec.cancel(&long).await.unwrap();
}

#[tokio::test]
async fn a_missing_program_fails_with_127_and_says_so_in_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let exec = LocalExecutor::new();
    let log = dir.path().join("missing.log");
    let id = exec
        .submit(&Job::new("missing", ["/nonexistent/tally-nope"], &log))
        .await
        .unwrap();
    assert_eq!(exec.wait(&[id]).await.unwrap(), vec![JobState::Failed(127)]);
    assert!(fs::read_to_string(&log)
        .unwrap()
        .contains("cannot run `/nonexistent/tally-nope`"));
}

#[tokio::test]
async fn unknown_dependencies_and_bad_jobs_are_refused_at_submission() {
    let exec = LocalExecutor::new();
    let err = exec
        .submit(
            &Job::new("x", ["true"], "/tmp/x.log").after(&tally_cluster::JobId::new("local-99")),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("local-99"), "{err}");
    assert!(exec
        .submit(&Job::new("bad name", ["true"], "/tmp/x.log"))
        .await
        .is_err());
}
