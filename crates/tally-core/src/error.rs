//! Error kinds shared by every stage. Messages name the file, line or argument involved.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}: not a JSON object: {source}")]
    Json {
        path: PathBuf,
        line: usize,
        #[source]
        source: serde_json::Error,
    },
    #[error("{path}:{line}: expected a JSON object, found {found}")]
    NotAnObject {
        path: PathBuf,
        line: usize,
        found: &'static str,
    },
    #[error("{path}:{line}: {message}")]
    Field {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("override `{arg}`: {reason}")]
    Override { arg: String, reason: String },
    #[error("benchmark spec `{spec}`: {reason}")]
    BenchmarkSpec { spec: String, reason: String },
}

impl CoreError {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        CoreError::Io {
            path: path.into(),
            source,
        }
    }
}

pub type Result<T, E = CoreError> = std::result::Result<T, E>;
