//! What can go wrong when running jobs or merging chunks. Every message names the program, job or
//! file involved, so a binary can print it as is.

use std::path::PathBuf;

use crate::job::JobId;

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// A program the executor needs (sbatch, squeue, scontrol, scancel) is not installed.
    #[error("`{program}` was not found: {hint}")]
    ProgramNotFound { program: String, hint: String },
    #[error("could not run `{program}`: {source}")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    /// sbatch refused the job; `stderr` is sbatch's own explanation.
    #[error("sbatch refused job `{job}` (script {}, {status}): {stderr}", script.display())]
    SubmitRefused {
        job: String,
        script: PathBuf,
        status: String,
        stderr: String,
    },
    /// A Slurm query or command failed for a reason other than "no such job".
    #[error("`{command}` failed ({status}): {stderr}")]
    Command {
        command: String,
        status: String,
        stderr: String,
    },
    /// A Slurm program answered with text this crate does not understand.
    #[error("`{command}` printed something unexpected: {output:?}")]
    UnexpectedOutput { command: String, output: String },
    #[error("job `{name}`: {reason}")]
    InvalidJob { name: String, reason: String },
    #[error("unknown job id `{0}` (not submitted through this executor)")]
    UnknownJob(JobId),
    #[error("chunk ids `{spec}`: {reason}")]
    ChunkIds { spec: String, reason: String },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Core(#[from] tally_core::CoreError),
    /// Another process is writing (or merging into) the same output.
    #[error(transparent)]
    Locked(#[from] tally_core::LockError),
}

impl ClusterError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ClusterError::Io {
            path: path.into(),
            source,
        }
    }
}

pub type Result<T, E = ClusterError> = std::result::Result<T, E>;
