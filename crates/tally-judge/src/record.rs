//! The judged record NeMo-Skills writes, key order included: summaries and users read these
//! files, and `num_generated_tokens` must describe the judge call on judged lines.

use serde_json::{Map, Value};

use crate::error::JudgeError;

/// A judged line: the judge's output with `generation` renamed to `key` (`judgement`), then
/// the input fields whose names the judge output does not already use.
pub fn judged_record(
    mut judge_output: Map<String, Value>,
    input: Map<String, Value>,
    key: &str,
) -> Result<Map<String, Value>, JudgeError> {
    let generation = judge_output
        .shift_remove("generation")
        .ok_or_else(|| JudgeError::NoJudgeGeneration { key: key.into() })?;
    judge_output.insert(key.to_string(), generation);
    for (k, v) in input {
        if !judge_output.contains_key(&k) {
            judge_output.insert(k, v);
        }
    }
    Ok(judge_output)
}

/// A prefilled line: Python's `{key: judgement, **input}`. When the input already has `key`
/// (re-judging a judged file), the key stays first but keeps the input's value, as in Python.
pub fn prefilled_record(
    judgement: &str,
    input: Map<String, Value>,
    key: &str,
) -> Map<String, Value> {
    let mut out = Map::with_capacity(input.len() + 1);
    out.insert(key.to_string(), Value::String(judgement.to_string()));
    for (k, v) in input {
        out.insert(k, v);
    }
    out
}
