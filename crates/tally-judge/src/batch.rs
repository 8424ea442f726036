//! One graded file made ready for the judge: every record with its `predicted_answer`, and the
//! verdicts that need no call.

use serde_json::{Map, Value};

use crate::cascade::{decide, JudgeWhen};
use crate::error::JudgeError;
use crate::input::JudgeInput;

/// The records of one file in order, with the judgement of those settled without a call.
#[derive(Debug, Clone, PartialEq)]
pub struct JudgeBatch {
    pub records: Vec<Map<String, Value>>,
    /// Per record: the judgement to write without asking (prefill or cascade), else `None`.
    pub prefilled: Vec<Option<String>>,
}

impl JudgeBatch {
    /// Records that need the judge.
    pub fn asked(&self) -> usize {
        self.prefilled.iter().filter(|p| p.is_none()).count()
    }

    /// Prepares `(line number, record)` pairs; a missing `predicted_answer` is extracted from
    /// `generation` with `extract`. Errors name the line and problem id.
    pub fn prepare(
        lines: impl IntoIterator<Item = (usize, Map<String, Value>)>,
        when: JudgeWhen,
        extract: &dyn Fn(&str) -> Option<String>,
    ) -> Result<JudgeBatch, JudgeError> {
        let (mut records, mut prefilled) = (Vec::new(), Vec::new());
        for (line, mut record) in lines {
            let input = JudgeInput::from_record(&mut record, line, extract)?;
            prefilled.push(
                decide(&record, &input, when)
                    .judgement()
                    .map(str::to_string),
            );
            records.push(record);
        }
        Ok(JudgeBatch { records, prefilled })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::{IDENTICAL_JUDGEMENT, NO_ANSWER_JUDGEMENT, SYMBOLIC_CORRECT_JUDGEMENT};

    fn rec(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn settles_what_needs_no_judge_and_extracts_missing_answers() {
        let lines = vec![
            (
                1,
                rec(json!({"problem": "p", "expected_answer": "2", "predicted_answer": null})),
            ),
            (
                2,
                rec(json!({"problem": "p", "expected_answer": "2", "predicted_answer": " 2 "})),
            ),
            (
                3,
                rec(
                    json!({"problem": "p", "expected_answer": "1/2", "predicted_answer": "0.5", "is_correct": true}),
                ),
            ),
            (
                4,
                rec(
                    json!({"problem": "p", "expected_answer": "6", "generation": "so 7", "is_correct": false}),
                ),
            ),
        ];
        let extract = |g: &str| g.split(' ').next_back().map(str::to_string);
        let b = JudgeBatch::prepare(lines.clone(), JudgeWhen::Always, &extract).unwrap();
        assert_eq!(
            b.prefilled,
            [
                Some(NO_ANSWER_JUDGEMENT.to_string()),
                Some(IDENTICAL_JUDGEMENT.to_string()),
                None,
                None
            ]
        );
        assert_eq!(b.records[3]["predicted_answer"], "7");
        assert_eq!(b.asked(), 2);
        let cascade = JudgeBatch::prepare(lines, JudgeWhen::SymbolicFalse, &extract).unwrap();
        assert_eq!(
            cascade.prefilled[2].as_deref(),
            Some(SYMBOLIC_CORRECT_JUDGEMENT)
        );
        assert_eq!(cascade.asked(), 1);
    }

    #[test]
    fn a_null_expected_answer_names_its_line() {
        let lines = vec![(
            7,
            rec(
                json!({"id": "a", "problem": "p", "expected_answer": null, "predicted_answer": "1"}),
            ),
        )];
        let e = JudgeBatch::prepare(lines, JudgeWhen::Always, &|_| None).unwrap_err();
        assert!(e.to_string().contains("line 7 (id a)"), "{e}");
    }
}
