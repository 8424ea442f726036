//! The Slurm executor against stand-in programs: what it runs, and its errors when sbatch is
//! missing or refuses a job. Needs no Slurm.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use tally_cluster::{ClusterError, Executor, Job, JobId, JobState, SlurmConfig, SlurmExecutor};

/// Tests here write a program and run it at once; a concurrent test's fork holding the file open
/// for writing would make exec fail with ETXTBSY, so they take turns.
static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn fake(dir: &Path, name: &str, body: &str) {
    let path = dir.join(name);
    fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
}

fn executor(bin: &Path, scripts: &Path) -> SlurmExecutor {
    SlurmExecutor::new(SlurmConfig {
        bin_dir: Some(bin.to_path_buf()),
        ..SlurmConfig::new(scripts)
    })
}

#[tokio::test]
async fn a_missing_sbatch_is_named_with_how_to_install_it() {
    let _turn = TURN.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let exec = executor(&dir.path().join("empty-bin"), dir.path());
    let err = exec
        .submit(&Job::new("j", ["true"], dir.path().join("j.log")))
        .await
        .unwrap_err();
    assert!(
        matches!(err, ClusterError::ProgramNotFound { .. }),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("sbatch") && msg.contains("apt-get install slurm-client"),
        "{msg}"
    );
}

#[tokio::test]
async fn a_refused_submission_carries_sbatchs_stderr() {
    let _turn = TURN.lock().await;
    let dir = tempfile::tempdir().unwrap();
    fake(dir.path(), "sbatch", "echo 'sbatch: error: Batch job submission failed: Invalid partition name specified' >&2; exit 1");
    let exec = executor(dir.path(), &dir.path().join("scripts"));
    let err = exec
        .submit(&Job::new("j", ["true"], dir.path().join("logs/j.log")))
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("Invalid partition name specified") && msg.contains("job `j`"),
        "{msg}"
    );
    // The script stays behind for inspection.
    assert!(dir.path().join("scripts/j.0.sbatch").exists());
}

#[tokio::test]
async fn submission_passes_the_script_and_reads_the_parsable_id() {
    let _turn = TURN.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    fake(
        dir.path(),
        "sbatch",
        &format!("echo \"$@\" > {d}/sbatch-args; echo '1234;cluster'"),
    );
    let exec = executor(dir.path(), &dir.path().join("scripts"));
    let id = exec
        .submit(&Job::new(
            "gen",
            ["tally", "generate"],
            dir.path().join("logs/gen_%j.log"),
        ))
        .await
        .unwrap();
    assert_eq!(id, JobId::new("1234"));
    let args = fs::read_to_string(dir.path().join("sbatch-args")).unwrap();
    assert_eq!(args.trim(), format!("--parsable {d}/scripts/gen.0.sbatch"));
    // sbatch does not create the log directory; the executor does.
    assert!(dir.path().join("logs").is_dir());
}

#[tokio::test]
async fn states_come_from_squeue_then_scontrol() {
    let _turn = TURN.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let exec = executor(dir.path(), dir.path());
    let id = JobId::new("7");

    fake(dir.path(), "squeue", "printf 'PENDING\\nRUNNING\\n'");
    fake(dir.path(), "scontrol", "exit 99");
    assert_eq!(exec.state(&id).await.unwrap(), JobState::Running);

    fake(dir.path(), "squeue", "true");
    fake(
        dir.path(),
        "scontrol",
        "echo 'JobId=7 JobName=j JobState=FAILED Reason=NonZeroExitCode ExitCode=3:0'",
    );
    assert_eq!(exec.state(&id).await.unwrap(), JobState::Failed(3));

    fake(
        dir.path(),
        "squeue",
        "echo 'slurm_load_jobs error: Invalid job id specified' >&2; exit 1",
    );
    fake(
        dir.path(),
        "scontrol",
        "echo 'slurm_load_jobs error: Invalid job id specified' >&2; exit 1",
    );
    assert_eq!(exec.state(&id).await.unwrap(), JobState::Unknown);

    fake(
        dir.path(),
        "squeue",
        "echo 'squeue: error: Unable to contact slurm controller' >&2; exit 1",
    );
    let err = exec.state(&id).await.unwrap_err().to_string();
    assert!(err.contains("Unable to contact slurm controller"), "{err}");
}
