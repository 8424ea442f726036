use std::path::PathBuf;

/// Everything that can go wrong reading, serving, reporting or comparing runs.
#[derive(Debug, thiserror::Error)]
pub enum ViewError {
    #[error(transparent)]
    Core(#[from] tally_core::CoreError),
    #[error(transparent)]
    Metrics(#[from] tally_metrics::MetricsError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Record {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{path} has {found} samples but {reference} has {expected}: line i of every sample file must be problem i")]
    Misaligned {
        path: PathBuf,
        found: usize,
        reference: PathBuf,
        expected: usize,
    },
    #[error("the runs share no benchmark with the same problems ({0})")]
    NothingShared(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("writing parquet {path}: {message}")]
    Parquet { path: PathBuf, message: String },
}

impl ViewError {
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        ViewError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
