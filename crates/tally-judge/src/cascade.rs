//! Which records need the judge at all. With `--judge-only-when=symbolic-false` the judge is
//! asked only where the symbolic checker said no (or could not decide) and there is an answer,
//! which is where an LLM can change the outcome; with `--judge-only-when=undecided` only where
//! the checker could not decide (`grade_status: undecided`), its other verdicts standing.

use serde_json::{Map, Value};

use crate::input::JudgeInput;

/// Judgement recorded when the symbolic verdict already says the answer is right and the
/// cascade skipped the judge. It parses as Yes under both parse modes.
pub const SYMBOLIC_CORRECT_JUDGEMENT: &str =
    "Reasoning: The symbolic checker found the answers equivalent; the judge was not asked.\nJudgement: Yes";

/// Judgement recorded when the symbolic verdict already says the answer is wrong and the
/// cascade skipped the judge (`--judge-only-when=undecided`). It parses as No under both parse
/// modes.
pub const SYMBOLIC_WRONG_JUDGEMENT: &str =
    "Reasoning: The symbolic checker found the answers different; the judge was not asked.\nJudgement: No";

/// `--judge-only-when`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum JudgeWhen {
    /// Every record that prefill does not settle (NeMo-Skills' behaviour).
    #[default]
    Always,
    /// Only records whose symbolic verdict (`is_correct`) is false, null or missing.
    SymbolicFalse,
    /// Only records the symbolic checker could not decide (`grade_status: undecided`, or no
    /// verdict at all); its equal / not-equal verdicts are kept.
    Undecided,
}

/// What to do with one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Write this judgement without a call (no answer, or identical answers).
    Prefill(&'static str),
    /// The symbolic checker already accepted the answer; write [`SYMBOLIC_CORRECT_JUDGEMENT`].
    SkipSymbolicCorrect,
    /// The symbolic checker decided the answer is wrong; write [`SYMBOLIC_WRONG_JUDGEMENT`].
    SkipSymbolicWrong,
    /// Send the judge prompt.
    Ask,
}

impl Decision {
    /// The judgement to write when no call is made.
    pub fn judgement(self) -> Option<&'static str> {
        match self {
            Decision::Prefill(text) => Some(text),
            Decision::SkipSymbolicCorrect => Some(SYMBOLIC_CORRECT_JUDGEMENT),
            Decision::SkipSymbolicWrong => Some(SYMBOLIC_WRONG_JUDGEMENT),
            Decision::Ask => None,
        }
    }
}

/// Decides for one record. Prefill comes first, as in NeMo-Skills, whatever `is_correct` says.
pub fn decide(record: &Map<String, Value>, input: &JudgeInput, when: JudgeWhen) -> Decision {
    if let Some(text) = input.prefill() {
        return Decision::Prefill(text);
    }
    match when {
        JudgeWhen::Always => Decision::Ask,
        JudgeWhen::SymbolicFalse => match record.get("is_correct") {
            Some(Value::Bool(true)) => Decision::SkipSymbolicCorrect,
            _ => Decision::Ask,
        },
        JudgeWhen::Undecided => {
            let undecided = record.get("grade_status").and_then(Value::as_str) == Some("undecided");
            match record.get("is_correct") {
                _ if undecided => Decision::Ask,
                Some(Value::Bool(true)) => Decision::SkipSymbolicCorrect,
                Some(Value::Bool(false)) => Decision::SkipSymbolicWrong,
                _ => Decision::Ask,
            }
        }
    }
}
