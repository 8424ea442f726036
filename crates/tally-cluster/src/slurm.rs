//! The Slurm executor: one `sbatch` per job, states from `sacct` where accounting runs and from
//! `squeue` / `scontrol` otherwise, `scancel`.

use std::path::PathBuf;
use std::process::Output;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::time::Duration;

use async_trait::async_trait;

use crate::error::{ClusterError, Result};
use crate::executor::Executor;
use crate::job::{Job, JobId, JobState};
use crate::sbatch_script::{log_dir, sbatch_script, script_path, SlurmConfig};
use crate::slurm_state::{
    active_from_squeue, aggregate, parse_sacct, parse_scontrol, JobInfo, StateSource,
};

/// How to get the Slurm client programs.
pub const SLURM_HINT: &str =
    "install Slurm's client commands (sbatch, squeue, scontrol, scancel), \
     configured for your cluster: Debian/Ubuntu `apt-get install slurm-client`, RHEL/Rocky \
     `dnf install slurm` (EPEL); or run from the cluster's login node, or use the local executor";

/// Submits jobs to Slurm with `sbatch`.
///
/// Each job becomes a batch script (see [`sbatch_script`]) written to the configured script
/// directory and submitted with `sbatch --parsable`. States come from `sacct` where the cluster
/// keeps accounting (it knows every job for good); elsewhere from `squeue` while the job is
/// queued or running and from `scontrol show job` after it ended, and a job Slurm has forgotten
/// (`MinJobAge` after its end) reads [`JobState::Unknown`]. Whether `sacct` answers is learnt on
/// its first call and remembered.
#[derive(Debug)]
pub struct SlurmExecutor {
    config: SlurmConfig,
    next_script: AtomicU64,
    /// 0: not asked yet, 1: sacct answers, 2: no accounting.
    accounting: AtomicU8,
}

impl SlurmExecutor {
    pub fn new(config: SlurmConfig) -> Self {
        SlurmExecutor {
            config,
            next_script: AtomicU64::new(0),
            accounting: AtomicU8::new(0),
        }
    }

    /// Whether `sacct` answered (`None`: not asked yet).
    pub fn has_accounting(&self) -> Option<bool> {
        match self.accounting.load(Ordering::Relaxed) {
            1 => Some(true),
            2 => Some(false),
            _ => None,
        }
    }

    /// The job's tasks as `sacct` knows them; `None` without accounting, or while sacct does not
    /// list the job yet (slurmdbd learns of a new job a moment after sbatch).
    async fn sacct(&self, id: &JobId) -> Result<Option<Vec<crate::slurm_state::TaskState>>> {
        if self.has_accounting() == Some(false) {
            return Ok(None);
        }
        let args = [
            "-n",
            "-P",
            "-D",
            "-X",
            "-o",
            "JobID,State,ExitCode,NodeList",
            "-j",
            id.as_str(),
        ];
        let out = match self.run("sacct", &args).await {
            Ok(out) => out,
            // A cluster's login node may lack sacct while having the rest.
            Err(ClusterError::ProgramNotFound { .. }) => {
                self.accounting.store(2, Ordering::Relaxed);
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        if !out.status.success() {
            // "Slurm accounting storage is disabled", or slurmdbd unreachable: fall back.
            tracing::debug!(stderr = %text(&out.stderr), "sacct does not answer; using squeue and scontrol");
            self.accounting.store(2, Ordering::Relaxed);
            return Ok(None);
        }
        self.accounting.store(1, Ordering::Relaxed);
        let tasks = parse_sacct(&text(&out.stdout));
        Ok((!tasks.is_empty()).then_some(tasks))
    }

    /// State, requeues and nodes of a job (or array task): from `sacct` where accounting runs,
    /// else from `scontrol show job`; a job neither knows reads [`JobState::Unknown`].
    pub async fn describe(&self, id: &JobId) -> Result<JobInfo> {
        if let Some(tasks) = self.sacct(id).await? {
            return Ok(JobInfo::from_tasks(&tasks, StateSource::Sacct));
        }
        let tasks = self.scontrol(id).await?;
        Ok(JobInfo::from_tasks(&tasks, StateSource::Scontrol))
    }

    async fn scontrol(&self, id: &JobId) -> Result<Vec<crate::slurm_state::TaskState>> {
        let show = self
            .run("scontrol", &["-o", "show", "job", id.as_str()])
            .await?;
        if !show.status.success() {
            let stderr = text(&show.stderr);
            if is_unknown_job(&stderr) {
                return Ok(Vec::new());
            }
            return Err(ClusterError::Command {
                command: format!("scontrol -o show job {id}"),
                status: show.status.to_string(),
                stderr,
            });
        }
        Ok(parse_scontrol(&text(&show.stdout)))
    }

    pub fn config(&self) -> &SlurmConfig {
        &self.config
    }

    fn program(&self, name: &str) -> PathBuf {
        match &self.config.bin_dir {
            Some(dir) => dir.join(name),
            None => PathBuf::from(name),
        }
    }

    async fn run(&self, name: &str, args: &[&str]) -> Result<Output> {
        let program = self.program(name);
        tokio::process::Command::new(&program)
            .args(args)
            .stdin(std::process::Stdio::null())
            .output()
            .await
            .map_err(|e| {
                if e.kind() == std::io::ErrorKind::NotFound {
                    ClusterError::ProgramNotFound {
                        program: program.display().to_string(),
                        hint: SLURM_HINT.to_string(),
                    }
                } else {
                    ClusterError::Spawn {
                        program: program.display().to_string(),
                        source: e,
                    }
                }
            })
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).trim().to_string()
}

/// Slurm's way of saying it does not know (or no longer knows) a job.
fn is_unknown_job(stderr: &str) -> bool {
    stderr.contains("Invalid job id")
}

#[async_trait]
impl Executor for SlurmExecutor {
    async fn submit(&self, job: &Job) -> Result<JobId> {
        let script = sbatch_script(job, &self.config)?;
        let path = script_path(
            &self.config,
            job,
            self.next_script.fetch_add(1, Ordering::SeqCst),
        );
        if let Some(dir) = log_dir(job) {
            std::fs::create_dir_all(dir).map_err(|e| ClusterError::io(dir, e))?;
        }
        tally_core::atomic::atomic_write_bytes(&path, script.as_bytes())?;
        let path_text = path.to_string_lossy().into_owned();
        let out = self.run("sbatch", &["--parsable", &path_text]).await?;
        if !out.status.success() {
            return Err(ClusterError::SubmitRefused {
                job: job.name.clone(),
                script: path,
                status: out.status.to_string(),
                stderr: text(&out.stderr),
            });
        }
        // --parsable prints `<id>` or `<id>;<cluster>`.
        let stdout = text(&out.stdout);
        let id = stdout.split(';').next().unwrap_or_default();
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ClusterError::UnexpectedOutput {
                command: format!("sbatch --parsable {path_text}"),
                output: stdout,
            });
        }
        tracing::info!(job = %job.name, id, script = %path.display(), "submitted to Slurm");
        Ok(JobId::new(id))
    }

    async fn state(&self, id: &JobId) -> Result<JobState> {
        if let Some(tasks) = self.sacct(id).await? {
            return Ok(aggregate(&tasks));
        }
        let squeue = self
            .run("squeue", &["-h", "-j", id.as_str(), "-o", "%T"])
            .await?;
        if squeue.status.success() {
            if let Some(state) = active_from_squeue(&text(&squeue.stdout)) {
                return Ok(state);
            }
        } else if !is_unknown_job(&text(&squeue.stderr)) {
            return Err(ClusterError::Command {
                command: format!("squeue -h -j {id} -o %T"),
                status: squeue.status.to_string(),
                stderr: text(&squeue.stderr),
            });
        }
        Ok(aggregate(&self.scontrol(id).await?))
    }

    async fn cancel(&self, id: &JobId) -> Result<()> {
        let out = self.run("scancel", &[id.as_str()]).await?;
        let stderr = text(&out.stderr);
        // Some versions exit 0 and only complain on stderr; a job that already ended is fine.
        let ended = stderr.contains("already completing or completed");
        if (out.status.success() && !stderr.contains("error")) || ended {
            return Ok(());
        }
        Err(ClusterError::Command {
            command: format!("scancel {id}"),
            status: out.status.to_string(),
            stderr,
        })
    }

    fn poll_interval(&self) -> Duration {
        self.config.poll_interval
    }
}

#[cfg(test)]
mod tests {
    //! Which program answers, with stand-in Slurm programs in `bin_dir` (the real cluster's
    //! answers are in tests/cluster/slurm_real.rs, on whichever path that cluster has).
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn program(dir: &std::path::Path, name: &str, body: &str) {
        let path = dir.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    fn executor(dir: &std::path::Path) -> SlurmExecutor {
        SlurmExecutor::new(SlurmConfig {
            bin_dir: Some(dir.to_path_buf()),
            ..SlurmConfig::new(dir.join("scripts"))
        })
    }

    #[tokio::test]
    async fn sacct_answers_where_accounting_runs() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        program(
            d,
            "sacct",
            "printf '7_1|PREEMPTED|0:15|node1\\n7_1|RUNNING|0:0|node2\\n'",
        );
        for p in ["squeue", "scontrol"] {
            program(d, p, "echo should not be asked >&2; exit 9");
        }
        let exec = executor(d);
        assert_eq!(exec.has_accounting(), None);
        let id = JobId::new("7").task(1);
        assert_eq!(exec.state(&id).await.unwrap(), JobState::Running);
        let info = exec.describe(&id).await.unwrap();
        assert_eq!(exec.has_accounting(), Some(true));
        assert_eq!(info.source, StateSource::Sacct);
        assert_eq!((info.restarts, info.nodes.as_deref()), (1, Some("node2")));
        assert_eq!(info.label(), "running");
    }

    #[tokio::test]
    async fn without_accounting_squeue_and_scontrol_answer() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        program(
            d,
            "sacct",
            "echo 'Slurm accounting storage is disabled' >&2; exit 1",
        );
        program(d, "squeue", "exit 0");
        program(
            d,
            "scontrol",
            "echo 'JobId=8 JobState=PENDING Reason=BeginTime Restarts=1 NodeList=(null) ExitCode=0:0'",
        );
        let exec = executor(d);
        let id = JobId::new("8");
        let info = exec.describe(&id).await.unwrap();
        assert_eq!(exec.has_accounting(), Some(false));
        assert_eq!(info.source, StateSource::Scontrol);
        assert_eq!((info.label(), info.nodes.as_deref()), ("requeued", None));
        // sacct is not asked again (it would now say the job completed).
        program(d, "sacct", "echo '8|COMPLETED|0:0|node1'");
        assert_eq!(exec.state(&id).await.unwrap(), JobState::Pending);
    }
}
