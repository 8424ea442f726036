//! What every record carries besides its NeMo-Skills fields: how the sample ended.
//!
//! Records stay JSON objects end to end (`serde_json::Map` with insertion order), because
//! NeMo-Skills files carry every input field through every stage and users add their own; each
//! stage decodes only the fields it needs.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How a sample ended. Written as `status` next to NeMo-Skills' keys; files without it (written
/// by NeMo-Skills) are read as `ok`/`no_answer` from `predicted_answer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The model finished and an answer was extracted.
    Ok,
    /// The model finished but no answer could be extracted.
    NoAnswer,
    /// The model hit the token budget before finishing.
    Truncated,
    /// A reasoning block (`<think>`) was never closed.
    ReasoningUnfinished,
    /// The request failed after all retries (connection error, 5xx, 429, bad response).
    RequestError,
    /// The request or the whole sample ran past its deadline.
    Timeout,
    /// The prompt did not fit the model's context.
    ContextExceeded,
    /// The code sandbox failed (TIR) in a way that stopped the sample.
    SandboxError,
    /// The grader panicked on this sample (a bug in Tally, caught): its verdict is unknown.
    /// Grading the file again retries it.
    GraderError,
}

impl Status {
    pub const ALL: [Status; 9] = [
        Status::Ok,
        Status::NoAnswer,
        Status::Truncated,
        Status::ReasoningUnfinished,
        Status::RequestError,
        Status::Timeout,
        Status::ContextExceeded,
        Status::SandboxError,
        Status::GraderError,
    ];

    /// A failure of the infrastructure rather than an answer of the model: such samples are never
    /// counted as wrong answers; summaries count them separately.
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            Status::RequestError
                | Status::Timeout
                | Status::ContextExceeded
                | Status::SandboxError
                | Status::GraderError
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::NoAnswer => "no_answer",
            Status::Truncated => "truncated",
            Status::ReasoningUnfinished => "reasoning_unfinished",
            Status::RequestError => "request_error",
            Status::Timeout => "timeout",
            Status::ContextExceeded => "context_exceeded",
            Status::SandboxError => "sandbox_error",
            Status::GraderError => "grader_error",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A short name of a JSON value's type, for error messages.
pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_round_trips_through_its_name() {
        for st in Status::ALL {
            assert_eq!(Status::parse(st.as_str()), Some(st));
            let json = serde_json::to_string(&st).unwrap();
            assert_eq!(json, format!("\"{}\"", st.as_str()));
        }
        assert_eq!(Status::parse("weird"), None);
    }

    #[test]
    fn failures_are_not_answers() {
        assert!(Status::RequestError.is_failure());
        assert!(Status::Timeout.is_failure());
        assert!(Status::GraderError.is_failure());
        assert!(!Status::Truncated.is_failure());
        assert!(!Status::NoAnswer.is_failure());
    }
}
