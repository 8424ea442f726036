use std::path::PathBuf;

/// What can go wrong while preparing judge requests, assembling judged records or using the
/// judgement cache. Messages name the line, problem id, file or key involved.
#[derive(Debug, thiserror::Error)]
pub enum JudgeError {
    #[error("line {line}{id}: expected_answer is required for judgement, found null or missing")]
    MissingExpected { line: usize, id: String },

    #[error("line {line}{id}: no predicted_answer and no string 'generation' to extract one from")]
    NoGeneration { line: usize, id: String },

    #[error("line {line}{id}: no 'problem' field for the judge prompt")]
    NoProblem { line: usize, id: String },

    #[error("judge output has no 'generation' field to store as '{key}'")]
    NoJudgeGeneration { key: String },

    #[error(transparent)]
    Prompt(#[from] tally_prompt::PromptError),

    #[error("judgement cache {path}")]
    CacheIo {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("judgement cache {path}, line {line}: {message}")]
    CacheLine {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

/// `" (id 17)"` when the record has an `id`, for error messages.
pub(crate) fn id_suffix(record: &serde_json::Map<String, serde_json::Value>) -> String {
    match record.get("id") {
        Some(id) => format!(" (id {})", tally_prompt::py_str(id)),
        None => String::new(),
    }
}
