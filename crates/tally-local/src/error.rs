//! Failures of loading or running the embedded model.

use std::path::PathBuf;

use tally_backend::BackendError;

#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    #[error("cannot read model file {path}: {message}")]
    Load { path: PathBuf, message: String },

    #[error("model file {path} is not a supported llama or qwen2 model: {message}")]
    Unsupported { path: PathBuf, message: String },

    #[error("tokenizer: {0}")]
    Tokenizer(String),

    #[error("chat template of {path}")]
    Template {
        path: PathBuf,
        #[source]
        source: tally_prompt::PromptError,
    },

    #[error("invalid option: {0}")]
    Options(String),
}

impl From<LocalError> for BackendError {
    fn from(e: LocalError) -> BackendError {
        BackendError::Config(e.to_string())
    }
}
