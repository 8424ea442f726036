//! The Slurm executor: one `sbatch` per job, states from `squeue` / `scontrol`, `scancel`.

use std::path::PathBuf;
use std::process::Output;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;

use crate::error::{ClusterError, Result};
use crate::executor::Executor;
use crate::job::{Job, JobId, JobState};
use crate::sbatch_script::{log_dir, sbatch_script, script_path, SlurmConfig};
use crate::slurm_state::{active_from_squeue, aggregate, parse_scontrol};

/// How to get the Slurm client programs.
pub const SLURM_HINT: &str =
    "install Slurm's client commands (sbatch, squeue, scontrol, scancel), \
     configured for your cluster: Debian/Ubuntu `apt-get install slurm-client`, RHEL/Rocky \
     `dnf install slurm` (EPEL); or run from the cluster's login node, or use the local executor";

/// Submits jobs to Slurm with `sbatch`.
///
/// Each job becomes a batch script (see [`sbatch_script`]) written to the configured script
/// directory and submitted with `sbatch --parsable`. States come from `squeue` while the job is
/// queued or running and from `scontrol show job` after it ended; a job Slurm has forgotten
/// (`MinJobAge` after its end) reads [`JobState::Unknown`]. `sacct` is never used.
#[derive(Debug)]
pub struct SlurmExecutor {
    config: SlurmConfig,
    next_script: AtomicU64,
}

impl SlurmExecutor {
    pub fn new(config: SlurmConfig) -> Self {
        SlurmExecutor {
            config,
            next_script: AtomicU64::new(0),
        }
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
        let show = self
            .run("scontrol", &["-o", "show", "job", id.as_str()])
            .await?;
        if !show.status.success() {
            let stderr = text(&show.stderr);
            if is_unknown_job(&stderr) {
                return Ok(JobState::Unknown);
            }
            return Err(ClusterError::Command {
                command: format!("scontrol -o show job {id}"),
                status: show.status.to_string(),
                stderr,
            });
        }
        Ok(aggregate(&parse_scontrol(&text(&show.stdout))))
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
