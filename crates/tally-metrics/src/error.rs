use std::path::PathBuf;

use tally_core::CoreError;

#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    #[error(transparent)]
    Core(#[from] CoreError),
    #[error("{0}: not a directory")]
    NotADirectory(PathBuf),
    #[error(
        "the results directory {0} does not contain any valid eval-results or output*jsonl files"
    )]
    NoResults(PathBuf),
    #[error("the benchmark directory {0} lacks output*jsonl files")]
    BenchmarkWithoutOutputs(PathBuf),
    #[error("{path}:{line}: {message}")]
    Record {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{path} has {found} records but {reference} has {expected}: every sample file must hold one line per problem")]
    LineCountMismatch {
        path: PathBuf,
        found: usize,
        reference: PathBuf,
        expected: usize,
    },
    #[error("{path}:{line}: problem `{found}` but {reference}:{line} has `{expected}`: sample files are not in the same problem order")]
    ProblemOrderMismatch {
        path: PathBuf,
        line: usize,
        found: String,
        reference: PathBuf,
        expected: String,
    },
    #[error("{path}: the last line is torn (an interrupted writer); finish or repair the run before summarizing")]
    TornFile { path: PathBuf },
    #[error("{path}: no record carries a verdict (`is_correct`, `symbolic_correct` or `judgement`): grade it first (`tally grade`)")]
    NoVerdict { path: PathBuf },
    #[error("{path}: {message}")]
    Layout { path: PathBuf, message: String },
    #[error("unknown metric type `{0}` (supported: math)")]
    UnknownMetricType(String),
    #[error("polars: {0}")]
    Polars(String),
    #[error("plot {path}: {message}")]
    Plot { path: PathBuf, message: String },
}

impl From<polars::prelude::PolarsError> for MetricsError {
    fn from(e: polars::prelude::PolarsError) -> Self {
        MetricsError::Polars(e.to_string())
    }
}
