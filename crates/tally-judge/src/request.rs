//! The prompt sent to the judge for one record.

use serde_json::{Map, Value};
use tally_prompt::{Filled, Prompt};

use crate::error::JudgeError;

/// A rendered judge request: the prompt text (template mode) or messages (chat mode), and the
/// stop phrases to send with it.
#[derive(Debug, Clone, PartialEq)]
pub struct JudgeRequest {
    pub prompt: Filled,
    pub stop_phrases: Vec<String>,
}

impl JudgeRequest {
    /// Fills `prompt` (normally `judge/math`) with the whole record, as NeMo-Skills does, so a
    /// custom judge config may use any field. `record` must already hold `predicted_answer`
    /// (see [`crate::JudgeInput::from_record`]).
    pub fn build(
        prompt: &Prompt,
        record: &Map<String, Value>,
        extra_stop_phrases: &[String],
    ) -> Result<JudgeRequest, JudgeError> {
        Ok(JudgeRequest {
            prompt: prompt.fill(record)?,
            stop_phrases: prompt.stop_phrases(extra_stop_phrases),
        })
    }
}
