//! Why a generation run stopped. Per-sample failures are *not* errors: they become records with a
//! failure status. These are the failures of the run itself.

use std::path::PathBuf;

use tally_backend::{BackendError, Halted};
use tally_core::CoreError;
use tally_prompt::PromptError;

#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// A `++key=value` setting or a flag is invalid; the message names it.
    #[error("invalid setting {key}: {reason}")]
    Setting { key: String, reason: String },

    /// A feature of `ns generate` that Tally does not implement yet.
    #[error("{what} is not supported yet by `tally generate`")]
    Unsupported { what: String },

    /// Partial or finished outputs exist that were produced under different settings.
    #[error("{path} was written with different settings:\n  {}\nrerun with --override-resume (or ++resume_policy=restart) to discard it and start over", changes.join("\n  "))]
    ResumeMismatch { path: PathBuf, changes: Vec<String> },

    /// An output file exists that this engine did not write (no run record next to it).
    #[error("{path} exists but has no {meta} next to it (not written by `tally generate`, or written by an older version); rerun with --override-resume (or ++resume_policy=restart) to regenerate it")]
    ForeignOutput { path: PathBuf, meta: String },

    /// A journal line is not what the engine writes.
    #[error("{path}:{line}: not a tally-generate journal entry: {reason}")]
    Journal {
        path: PathBuf,
        line: usize,
        reason: String,
    },

    #[error("input {path}, line {line}: {reason}")]
    Input {
        path: PathBuf,
        line: usize,
        reason: String,
    },

    #[error("cannot build the prompt of problem {index}{}", id.as_ref().map(|i| format!(" (id {i})")).unwrap_or_default())]
    Prompt {
        index: usize,
        id: Option<String>,
        #[source]
        source: PromptError,
    },

    #[error("cannot load the prompt")]
    PromptLoad(#[source] PromptError),

    /// The model name could not be discovered (needed to key samples and check resumes).
    #[error("cannot determine the model name; pass --model")]
    ModelName(#[source] BackendError),

    #[error(transparent)]
    Core(#[from] CoreError),

    /// Another process is writing the same output.
    #[error(transparent)]
    Locked(#[from] tally_core::LockError),

    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The backend stopped sending (its circuit breaker tripped: the server went away). The
    /// samples that finished are journalled; those never sent are not, so a rerun generates
    /// exactly them.
    #[error("stopped: {halted}; {written} samples written, {not_sent} not sent. Once the server answers again, rerun the same command to resume")]
    Halted {
        halted: Halted,
        written: u64,
        not_sent: u64,
    },

    /// An invariant of the engine broke; a bug, reported instead of writing a wrong file.
    #[error("internal error: {0}")]
    Internal(String),
}

impl GenerateError {
    pub(crate) fn setting(key: &str, reason: impl Into<String>) -> Self {
        GenerateError::Setting {
            key: key.to_string(),
            reason: reason.into(),
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        GenerateError::Io {
            path: path.into(),
            source,
        }
    }
}
