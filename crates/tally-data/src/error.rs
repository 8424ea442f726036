use std::path::PathBuf;

use tally_core::CoreError;

#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error(transparent)]
    Core(#[from] CoreError),
    #[error("unknown benchmark `{name}` (known: {known})")]
    UnknownBenchmark { name: String, known: String },
    #[error("benchmark `{benchmark}` has no split `{split}` (splits: {splits})")]
    UnknownSplit {
        benchmark: String,
        split: String,
        splits: String,
    },
    #[error("{path}:{line}: {message}")]
    BadRecord {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{path}: {message}")]
    BadSource { path: PathBuf, message: String },
    #[error("{path}: no source file for `{benchmark}` split `{split}` (looked for {looked_for})")]
    SourceNotFound {
        path: PathBuf,
        benchmark: String,
        split: String,
        looked_for: String,
    },
    #[error("{benchmark}: its source ({url}) is not a downloadable file; {how}")]
    NeedsLocalSource {
        benchmark: String,
        url: String,
        how: String,
    },
    #[error("download {url}: {message}")]
    Download { url: String, message: String },
    #[error("{path}: the source holds no records")]
    Empty { path: PathBuf },
    #[error("reading parquet {path}: {message}")]
    Parquet { path: PathBuf, message: String },
}
