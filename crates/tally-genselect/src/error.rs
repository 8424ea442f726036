use std::path::PathBuf;

use tally_core::CoreError;

#[derive(Debug, thiserror::Error)]
pub enum GenSelectError {
    #[error(transparent)]
    Core(#[from] CoreError),
    #[error("{path}:{line}: {message}")]
    Record {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{path} has {found} records but {reference} has {expected}: seed files must hold one line per problem")]
    LineCount {
        path: PathBuf,
        found: usize,
        reference: PathBuf,
        expected: usize,
    },
    #[error("{0}: no seed files (output-rs<seed>.jsonl) to select from")]
    NoSeeds(PathBuf),
    #[error("{path}: the last line is incomplete (was the file still being written?)")]
    Torn { path: PathBuf },
}
