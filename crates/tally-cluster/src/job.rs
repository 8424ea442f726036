//! What a job is, what identifies it once submitted, and the states it passes through.

use std::fmt;
use std::path::PathBuf;

use crate::error::{ClusterError, Result};

/// One unit of work for an [`Executor`](crate::Executor): a program with its arguments (run
/// without a shell), extra environment, a log file for its stdout and stderr, and the jobs that
/// must complete successfully first.
///
/// `log_path` may use Slurm's filename patterns, which the local executor expands too: `%j` (job
/// id), `%A` (array job id), `%a` (array task id), `%x` (job name), `%%` (a `%`). Give an array
/// job `%a` in its log path, or its tasks share one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// Job name (Slurm `--job-name`): letters, digits and `_.-+:@` only, so it can be quoted
    /// nowhere and never confuses Slurm's `key=value` output.
    pub name: String,
    /// Program and arguments, run exactly as given (no shell).
    pub command: Vec<String>,
    /// Variables added to the job's environment, in this order.
    pub env: Vec<(String, String)>,
    /// Where stdout and stderr go (created, with its directory; truncated on start).
    pub log_path: PathBuf,
    /// Jobs that must have completed successfully (Slurm `afterok`) before this one starts; if
    /// one fails or is cancelled, this job never runs and ends `Cancelled`. With `after_any`,
    /// they only have to have ended, however.
    pub depends_on: Vec<JobId>,
    /// Slurm `afterany` instead of `afterok`: the job runs once its dependencies ended, so it can
    /// itself report which of them did not complete (a summary naming the missing chunk).
    pub after_any: bool,
    /// `Some(n)`: a job array of tasks `0..n`, each told its index in `SLURM_ARRAY_TASK_ID`.
    pub array: Option<u32>,
    /// Working directory; `None` runs where the executor's process runs (as sbatch does).
    pub current_dir: Option<PathBuf>,
}

impl Job {
    pub fn new(
        name: impl Into<String>,
        command: impl IntoIterator<Item = impl Into<String>>,
        log_path: impl Into<PathBuf>,
    ) -> Self {
        Job {
            name: name.into(),
            command: command.into_iter().map(Into::into).collect(),
            env: Vec::new(),
            log_path: log_path.into(),
            depends_on: Vec::new(),
            after_any: false,
            array: None,
            current_dir: None,
        }
    }

    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    pub fn after(mut self, id: &JobId) -> Self {
        self.depends_on.push(id.clone());
        self
    }

    /// Run once the dependencies ended, whether or not they completed (Slurm `afterany`).
    pub fn after_any(mut self) -> Self {
        self.after_any = true;
        self
    }

    pub fn array(mut self, tasks: u32) -> Self {
        self.array = Some(tasks);
        self
    }

    pub fn current_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.current_dir = Some(dir.into());
        self
    }

    /// Checks what every executor needs, so a bad job fails at submission with a reason rather
    /// than as a mangled script or a confused query later.
    pub fn validate(&self) -> Result<()> {
        let bad = |reason: &str| {
            Err(ClusterError::InvalidJob {
                name: self.name.clone(),
                reason: reason.to_string(),
            })
        };
        if self.name.is_empty() || !self.name.bytes().all(is_name_byte) {
            return bad("a job name must be non-empty and use only letters, digits and `_.-+:@`");
        }
        if self.command.is_empty() || self.command[0].is_empty() {
            return bad("the command is empty");
        }
        if self.command.iter().any(|a| a.contains('\0')) {
            return bad("an argument contains a NUL byte");
        }
        for (key, value) in &self.env {
            let valid_key = !key.is_empty()
                && !key.as_bytes()[0].is_ascii_digit()
                && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if !valid_key {
                return bad(&format!("`{key}` is not a valid environment variable name"));
            }
            if value.contains('\0') {
                return bad(&format!("the value of `{key}` contains a NUL byte"));
            }
        }
        if self.array == Some(0) {
            return bad("an array job needs at least one task");
        }
        Ok(())
    }
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"_.-+:@".contains(&b)
}

/// What an executor calls a submitted job: Slurm's job id (the array job id for arrays, or
/// `<array id>_<task>` for one task of an array), or the local executor's own `local-<n>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobId(String);

impl JobId {
    pub fn new(id: impl Into<String>) -> Self {
        JobId(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Task `task` of this array job (`<id>_<task>`, as Slurm names it).
    pub fn task(&self, task: u32) -> JobId {
        JobId(format!("{}_{task}", self.0))
    }

    /// A Slurm job id: digits, or `<digits>_<digits>` for one array task.
    pub fn is_slurm_id(&self) -> bool {
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        match self.0.split_once('_') {
            Some((job, task)) => digits(job) && digits(task),
            None => digits(&self.0),
        }
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a job stands. For an array job: the state of the whole array (running while any task
/// runs, failed if any task failed, completed only when every task completed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    /// Waiting for its turn, its dependencies or resources.
    Pending,
    Running,
    /// Every task exited 0.
    Completed,
    /// Exit status of the (first) failed task; a task killed by signal `s` reads `128 + s`, as in
    /// a shell, and a failure Slurm gives no code for (node failure, time limit) reads at least 1.
    Failed(i32),
    /// Cancelled by the user, or never run because a dependency did not complete.
    Cancelled,
    /// The executor no longer knows the job (Slurm forgets finished jobs after `MinJobAge`).
    Unknown,
}

impl JobState {
    /// No further change will come.
    pub fn is_finished(self) -> bool {
        !matches!(self, JobState::Pending | JobState::Running)
    }

    pub fn is_success(self) -> bool {
        self == JobState::Completed
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JobState::Pending => f.write_str("pending"),
            JobState::Running => f.write_str("running"),
            JobState::Completed => f.write_str("completed"),
            JobState::Failed(code) => write!(f, "failed (exit {code})"),
            JobState::Cancelled => f.write_str("cancelled"),
            JobState::Unknown => f.write_str("unknown"),
        }
    }
}

/// Expands Slurm's filename patterns in a log path (for executors that are not Slurm).
pub(crate) fn expand_log_pattern(
    pattern: &str,
    job_id: &str,
    task: Option<u32>,
    name: &str,
) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('j') | Some('A') => out.push_str(job_id),
            Some('a') => out.push_str(
                &task
                    .map(|t| t.to_string())
                    .unwrap_or_else(|| "4294967294".into()),
            ),
            Some('x') => out.push_str(name),
            Some('%') => out.push('%'),
            Some(other) => {
                out.push('%');
                out.push(other);
            }
            None => out.push('%'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_the_problem() {
        assert!(Job::new("eval-0", ["true"], "l").validate().is_ok());
        for job in [
            Job::new("has space", ["true"], "l"),
            Job::new("", ["true"], "l"),
            Job::new("x", Vec::<String>::new(), "l"),
            Job::new("x", ["true"], "l").env("1A", "v"),
            Job::new("x", ["true"], "l").array(0),
        ] {
            let err = job.validate().unwrap_err().to_string();
            assert!(err.starts_with(&format!("job `{}`", job.name)), "{err}");
        }
    }

    #[test]
    fn log_patterns_expand_like_slurm() {
        assert_eq!(
            expand_log_pattern("l/%x_%j_%a.log", "local-3", Some(2), "gen"),
            "l/gen_local-3_2.log"
        );
        assert_eq!(
            expand_log_pattern("100%%_%A%q%", "7", None, "n"),
            "100%_7%q%"
        );
    }

    #[test]
    fn states_say_whether_they_are_final() {
        assert!(!JobState::Pending.is_finished());
        assert!(!JobState::Running.is_finished());
        assert!(JobState::Failed(3).is_finished());
        assert_eq!(JobState::Failed(3).to_string(), "failed (exit 3)");
        assert!(JobState::Completed.is_success());
    }
}
