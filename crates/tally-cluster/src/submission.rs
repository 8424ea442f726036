//! What a cluster submission sent, so that submitting the same evaluation again sends only
//! what is unfinished.
//!
//! The record (`<log_dir>/<expname>-slurm-jobs.json`) maps each job's name to its id and log
//! pattern. Submitting again asks the scheduler about every recorded id first: a job still
//! queued or running is kept (never a second copy of it), a job whose outputs are final is not
//! sent again, and anything else (failed, cancelled, forgotten, never sent) is submitted anew.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{ClusterError, Result};
use crate::executor::Executor;
use crate::job::{JobId, JobState};

/// One job as submitted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmittedJob {
    pub id: String,
    /// The log path pattern given to the scheduler (`%j` expanded by it).
    pub log: PathBuf,
}

impl SubmittedJob {
    pub fn job_id(&self) -> JobId {
        JobId::new(self.id.clone())
    }

    /// The log file of this job (`%j`, `%A`, `%a`, `%x` replaced; for an array task `A_a`, `%A`
    /// and `%a` are the array's id and the task's index).
    pub fn log_file(&self, name: &str) -> PathBuf {
        let (job, task) = self.id.split_once('_').unwrap_or((&self.id, ""));
        let s = self
            .log
            .to_string_lossy()
            .replace("%j", &self.id)
            .replace("%A", job)
            .replace("%a", task)
            .replace("%x", name);
        PathBuf::from(s)
    }
}

/// Every job of an evaluation's submissions, by job name (the latest id of each).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Submission {
    pub jobs: BTreeMap<String, SubmittedJob>,
}

impl Submission {
    /// Reads a record; an absent one is empty. A record of an older format (a bare id list) is
    /// read as empty too: its jobs can no longer be matched to names.
    pub fn read(path: &Path) -> Result<Submission> {
        match std::fs::read(path) {
            Ok(bytes) => Ok(serde_json::from_slice(&bytes).unwrap_or_default()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Submission::default()),
            Err(e) => Err(ClusterError::io(path, e)),
        }
    }

    /// Writes the record atomically.
    pub fn write(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_vec_pretty(self).unwrap_or_default();
        tally_core::atomic::atomic_write_bytes(path, &text)?;
        Ok(())
    }
}

/// What to do with one job of a new submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Its previous copy is still queued or running: keep it, send nothing.
    Keep { id: JobId, state: JobState },
    /// Its outputs are final: nothing to do.
    Done,
    /// Submit it (again).
    Submit,
}

/// Decides for one job: `previous` is its record from an earlier submission, `outputs_final`
/// whether every output it writes is already complete.
pub async fn decide(
    executor: &dyn Executor,
    previous: Option<&SubmittedJob>,
    outputs_final: bool,
) -> Result<Decision> {
    if let Some(p) = previous {
        let id = p.job_id();
        let state = executor.state(&id).await?;
        if !state.is_finished() {
            return Ok(Decision::Keep { id, state });
        }
    }
    Ok(if outputs_final {
        Decision::Done
    } else {
        Decision::Submit
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_round_trips_and_an_old_one_reads_as_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("eval-slurm-jobs.json");
        assert_eq!(Submission::read(&path).unwrap(), Submission::default());
        let mut s = Submission::default();
        s.jobs.insert(
            "eval-gsm8k-chunk0".into(),
            SubmittedJob {
                id: "42".into(),
                log: dir.path().join("eval-gsm8k-chunk0_%j.log"),
            },
        );
        s.write(&path).unwrap();
        assert_eq!(Submission::read(&path).unwrap(), s);
        assert_eq!(
            s.jobs["eval-gsm8k-chunk0"].log_file("eval-gsm8k-chunk0"),
            dir.path().join("eval-gsm8k-chunk0_42.log")
        );
        let task = SubmittedJob {
            id: "42_3".into(),
            log: dir.path().join("eval-jobs_%A_%a.log"),
        };
        assert_eq!(task.log_file("x"), dir.path().join("eval-jobs_42_3.log"));
        std::fs::write(&path, r#"{"jobs": ["1", "2"], "summarize": "3"}"#).unwrap();
        assert_eq!(Submission::read(&path).unwrap(), Submission::default());
    }
}
