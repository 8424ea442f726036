//! The pipeline's one error type: a message for bad input, or the failing crate's own error.

/// What went wrong in a stage; the message names the file, flag or URL at fault.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// Bad options or input, with the reason.
    #[error("{0}")]
    Invalid(String),
    /// The pre-flight check failed: nothing was sent.
    #[error("no usable server at {address}: checked before the run, nothing was sent (is the server running, and is the address right?)")]
    ServerCheck {
        address: String,
        #[source]
        source: tally_generate::tally_backend::BackendError,
    },
    /// An error of the stage's crate (generation, grading, launching, …).
    #[error(transparent)]
    Stage(Box<dyn std::error::Error + Send + Sync>),
}

pub type Result<T, E = EvalError> = std::result::Result<T, E>;

impl From<String> for EvalError {
    fn from(s: String) -> Self {
        EvalError::Invalid(s)
    }
}

impl From<&str> for EvalError {
    fn from(s: &str) -> Self {
        EvalError::Invalid(s.to_string())
    }
}

macro_rules! stage_errors {
    ($($t:ty),* $(,)?) => {$(
        impl From<$t> for EvalError {
            fn from(e: $t) -> Self {
                EvalError::Stage(Box::new(e))
            }
        }
    )*};
}

stage_errors!(
    std::io::Error,
    serde_json::Error,
    tally_core::CoreError,
    tally_data::DataError,
    tally_generate::GenerateError,
    tally_generate::tally_backend::BackendError,
    tally_grade::files::FileGradeError,
    tally_judge::JudgeError,
    tally_genselect::GenSelectError,
    tally_launch::LaunchError,
    tally_cluster::ClusterError,
    tally_metrics::MetricsError,
    tally_sandbox::SandboxError,
    tally_generate::tally_prompt::PromptError,
);

#[cfg(feature = "local")]
stage_errors!(tally_local::LocalError);
