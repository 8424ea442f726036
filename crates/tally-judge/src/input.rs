//! From a graded sample record to what the judge compares, and the answers that need no judge.

use serde_json::{Map, Value};
use tally_prompt::{py_str, py_strip};

use crate::error::{id_suffix, JudgeError};

/// Judgement written without asking the judge when there is no predicted answer.
pub const NO_ANSWER_JUDGEMENT: &str = "Reasoning: No answer was provided.\nJudgement: No";
/// Judgement written without asking the judge when both answers are the same string.
pub const IDENTICAL_JUDGEMENT: &str = "Reasoning: The two answers are identical.\nJudgement: Yes";

/// The three fields the judge prompt compares, as JSON values so that Python's `str()` of
/// numbers (`5`, `5.0`) is reproduced where they are printed or compared.
#[derive(Debug, Clone, PartialEq)]
pub struct JudgeInput {
    pub problem: Value,
    /// `Value::Null` when no answer was extracted.
    pub predicted_answer: Value,
    pub expected_answer: Value,
}

impl JudgeInput {
    /// Reads the judge input from `record` (1-based `line` for messages). A missing
    /// `predicted_answer` is extracted from `generation` with `extract` and inserted into the
    /// record (at its end, as NeMo-Skills does), so the judged record carries it.
    pub fn from_record(
        record: &mut Map<String, Value>,
        line: usize,
        extract: &dyn Fn(&str) -> Option<String>,
    ) -> Result<JudgeInput, JudgeError> {
        if !record.contains_key("predicted_answer") {
            let Some(Value::String(generation)) = record.get("generation") else {
                return Err(JudgeError::NoGeneration {
                    line,
                    id: id_suffix(record),
                });
            };
            let predicted = extract(generation).map_or(Value::Null, Value::String);
            record.insert("predicted_answer".into(), predicted);
        }
        let expected = match record.get("expected_answer") {
            None | Some(Value::Null) => {
                return Err(JudgeError::MissingExpected {
                    line,
                    id: id_suffix(record),
                })
            }
            Some(v) => v.clone(),
        };
        let problem = record
            .get("problem")
            .cloned()
            .ok_or_else(|| JudgeError::NoProblem {
                line,
                id: id_suffix(record),
            })?;
        Ok(JudgeInput {
            problem,
            predicted_answer: record["predicted_answer"].clone(),
            expected_answer: expected,
        })
    }

    /// The judgement that needs no judge: no answer (`null` or `""`) is "No"; an answer whose
    /// Python `str(x).strip()` equals the expected one's is "Yes". `None`: ask the judge.
    pub fn prefill(&self) -> Option<&'static str> {
        match &self.predicted_answer {
            Value::Null => return Some(NO_ANSWER_JUDGEMENT),
            Value::String(s) if s.is_empty() => return Some(NO_ANSWER_JUDGEMENT),
            _ => {}
        }
        let predicted = py_str(&self.predicted_answer);
        let expected = py_str(&self.expected_answer);
        (py_strip(&predicted) == py_strip(&expected)).then_some(IDENTICAL_JUDGEMENT)
    }
}
