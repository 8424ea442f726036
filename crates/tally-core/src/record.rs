//! Typed views of the records that flow between stages.
//!
//! Records stay JSON objects end to end (`serde_json::Map` with insertion order), because
//! NeMo-Skills files carry every input field through every stage and users add their own. The
//! types here are *views* that read the fields a stage needs and report precisely what is wrong.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

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
}

impl Status {
    pub const ALL: [Status; 8] = [
        Status::Ok,
        Status::NoAnswer,
        Status::Truncated,
        Status::ReasoningUnfinished,
        Status::RequestError,
        Status::Timeout,
        Status::ContextExceeded,
        Status::SandboxError,
    ];

    /// A failure of the infrastructure rather than an answer of the model: such samples are never
    /// counted as wrong answers; summaries count them separately.
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            Status::RequestError | Status::Timeout | Status::ContextExceeded | Status::SandboxError
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

/// A benchmark problem as `prepare` writes it and `generate` reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// `id` when present (NeMo-Skills' datasets have one; some user files do not).
    pub id: Option<String>,
    pub problem: String,
    /// Kept as JSON: gsm8k stores numbers, most sets strings.
    pub expected_answer: Value,
    pub subset_for_metrics: Option<String>,
}

impl Problem {
    /// Reads the fields a problem must have; the error text says which one is missing or mistyped.
    pub fn from_record(record: &Map<String, Value>) -> Result<Problem, String> {
        let problem = match record.get("problem") {
            Some(Value::String(s)) => s.clone(),
            Some(other) => {
                return Err(format!("`problem` must be a string, found {}", kind(other)))
            }
            None => return Err("missing field `problem`".into()),
        };
        let expected_answer = match record.get("expected_answer") {
            Some(v) => v.clone(),
            None => return Err("missing field `expected_answer`".into()),
        };
        let id = match record.get("id") {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        let subset_for_metrics = record
            .get("subset_for_metrics")
            .and_then(Value::as_str)
            .map(str::to_string);
        Ok(Problem {
            id,
            problem,
            expected_answer,
            subset_for_metrics,
        })
    }
}

/// The fields of a graded sample that summaries read.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleView {
    /// `predicted_answer`: `None` when null or absent (NeMo-Skills: null means no answer).
    pub predicted_answer: Option<Value>,
    pub has_predicted_answer_key: bool,
    /// `is_correct` as a number (NeMo-Skills sums booleans); `None` when absent or null.
    pub is_correct: Option<f64>,
    pub judgement: Option<String>,
    pub subset_for_metrics: Option<String>,
    pub status: Status,
    /// Canonical form of the answer written by `tally grade` (equivalence classes for voting).
    pub answer_canonical: Option<String>,
}

impl SampleView {
    pub fn from_record(record: &Map<String, Value>) -> Result<SampleView, String> {
        let predicted_answer = match record.get("predicted_answer") {
            None | Some(Value::Null) => None,
            Some(v) => Some(v.clone()),
        };
        let is_correct = match record.get("is_correct") {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(if *b { 1.0 } else { 0.0 }),
            Some(Value::Number(n)) => n.as_f64(),
            Some(other) => {
                return Err(format!(
                    "`is_correct` must be a boolean, found {}",
                    kind(other)
                ))
            }
        };
        let judgement = match record.get("judgement") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => {
                return Err(format!(
                    "`judgement` must be a string, found {}",
                    kind(other)
                ))
            }
        };
        let status = match record.get("status") {
            Some(Value::String(s)) => {
                Status::parse(s).ok_or_else(|| format!("unknown status `{s}`"))?
            }
            _ if predicted_answer.is_none() => Status::NoAnswer,
            _ => Status::Ok,
        };
        Ok(SampleView {
            has_predicted_answer_key: record.contains_key("predicted_answer"),
            predicted_answer,
            is_correct,
            judgement,
            subset_for_metrics: record
                .get("subset_for_metrics")
                .and_then(Value::as_str)
                .map(str::to_string),
            status,
            answer_canonical: record
                .get("answer_canonical")
                .and_then(Value::as_str)
                .map(str::to_string),
        })
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
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

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
        assert!(!Status::Truncated.is_failure());
        assert!(!Status::NoAnswer.is_failure());
    }

    #[test]
    fn sample_without_status_derives_it_from_the_answer() {
        let s =
            SampleView::from_record(&map(json!({"predicted_answer": null, "is_correct": false})))
                .unwrap();
        assert_eq!(s.status, Status::NoAnswer);
        assert_eq!(s.is_correct, Some(0.0));
        let s = SampleView::from_record(&map(json!({"predicted_answer": "5", "is_correct": true})))
            .unwrap();
        assert_eq!(s.status, Status::Ok);
        assert_eq!(s.is_correct, Some(1.0));
    }

    #[test]
    fn sample_with_bad_fields_says_which() {
        let e = SampleView::from_record(&map(json!({"is_correct": "yes"}))).unwrap_err();
        assert!(e.contains("is_correct"), "{e}");
        let e = SampleView::from_record(&map(json!({"status": "exploded"}))).unwrap_err();
        assert!(e.contains("exploded"), "{e}");
    }

    #[test]
    fn problem_requires_problem_and_answer() {
        let e = Problem::from_record(&map(json!({"problem": "1+1"}))).unwrap_err();
        assert!(e.contains("expected_answer"));
        let p = Problem::from_record(&map(
            json!({"id": 7, "problem": "1+1", "expected_answer": 2}),
        ))
        .unwrap();
        assert_eq!(p.id.as_deref(), Some("7"));
    }
}
