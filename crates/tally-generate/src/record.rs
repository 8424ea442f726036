//! One sample's outcome and the output record built from it.
//!
//! Key order follows NeMo-Skills (spec §1.7): the generation keys first (`num_generated_tokens`,
//! `generation`), then every input field they do not overwrite. Tally's own keys (`status`, an
//! `error` for failed requests, `seed`) come last, so dropping them leaves NeMo-Skills' record
//! byte for byte.

use serde_json::{json, Map, Value};
use tally_backend::{trim_after_stop_phrases, BackendError, GenerationResponse};
use tally_core::Status;

/// How one (problem, seed) sample ended. A failed request has no generation (`null`), never an
/// empty one, and says why in `error`.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleOutcome {
    pub status: Status,
    /// The generation with stop phrases trimmed; `None` when the request failed.
    pub generation: Option<String>,
    pub num_generated_tokens: Option<u64>,
    pub error: Option<String>,
}

/// Keys written by the engine; input fields with these names are overwritten.
const TALLY_KEYS: [&str; 3] = ["status", "error", "seed"];

impl SampleOutcome {
    /// A finished generation, trimmed after the first stop phrase (spec §8.3). `truncated` when
    /// the token budget ran out.
    pub fn from_response(resp: &GenerationResponse, stops: &[String]) -> SampleOutcome {
        SampleOutcome {
            status: resp.status(),
            generation: Some(trim_after_stop_phrases(&resp.text, stops).to_string()),
            num_generated_tokens: resp.num_generated_tokens,
            error: None,
        }
    }

    /// A failed request: `request_error`, `timeout` or `context_exceeded`, with the message.
    pub fn from_error(err: &BackendError) -> SampleOutcome {
        let mut message = err.to_string();
        let mut source = std::error::Error::source(err);
        while let Some(s) = source {
            message.push_str(": ");
            message.push_str(&s.to_string());
            source = s.source();
        }
        SampleOutcome {
            status: err.status(),
            generation: None,
            num_generated_tokens: None,
            error: Some(message),
        }
    }

    pub(crate) fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("status".into(), json!(self.status.as_str()));
        m.insert("generation".into(), json!(self.generation));
        m.insert(
            "num_generated_tokens".into(),
            json!(self.num_generated_tokens),
        );
        if let Some(e) = &self.error {
            m.insert("error".into(), json!(e));
        }
        Value::Object(m)
    }

    pub(crate) fn from_json(v: &Value) -> Result<SampleOutcome, String> {
        let m = v.as_object().ok_or("outcome is not an object")?;
        let status = m
            .get("status")
            .and_then(Value::as_str)
            .and_then(Status::parse)
            .ok_or("outcome has no valid `status`")?;
        let generation = match m.get("generation") {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Null) | None => None,
            Some(_) => return Err("`generation` is not a string".into()),
        };
        Ok(SampleOutcome {
            status,
            generation,
            num_generated_tokens: m.get("num_generated_tokens").and_then(Value::as_u64),
            error: m.get("error").and_then(Value::as_str).map(str::to_string),
        })
    }
}

/// The output record of one sample: generation keys, the input fields not overwritten, then
/// `status`, `error` (failures only) and `seed` (seeded passes only).
pub fn build_record(
    input: &Map<String, Value>,
    outcome: &SampleOutcome,
    seed: Option<u64>,
    generation_key: &str,
) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert(
        "num_generated_tokens".into(),
        json!(outcome.num_generated_tokens.unwrap_or(0)),
    );
    out.insert(generation_key.into(), json!(outcome.generation));
    for (k, v) in input {
        if !out.contains_key(k) && !TALLY_KEYS.contains(&k.as_str()) {
            out.insert(k.clone(), v.clone());
        }
    }
    out.insert("status".into(), json!(outcome.status.as_str()));
    if let Some(e) = &outcome.error {
        out.insert("error".into(), json!(e));
    }
    if let Some(s) = seed {
        out.insert("seed".into(), json!(s));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use tally_core::pyjson;

    #[test]
    fn key_order_is_generation_then_input_then_tally_keys() {
        let input = json!({"id": "p1", "subset_for_metrics": "x", "problem": "1+1?",
                           "expected_answer": "2", "generation": "old", "status": "old"});
        let outcome = SampleOutcome {
            status: Status::Ok,
            generation: Some("\\boxed{2}".into()),
            num_generated_tokens: Some(7),
            error: None,
        };
        let rec = build_record(input.as_object().unwrap(), &outcome, Some(3), "generation");
        let keys: Vec<&str> = rec.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "num_generated_tokens",
                "generation",
                "id",
                "subset_for_metrics",
                "problem",
                "expected_answer",
                "status",
                "seed"
            ]
        );
        assert_eq!(
            pyjson::to_string(&Value::Object(rec)),
            "{\"num_generated_tokens\": 7, \"generation\": \"\\\\boxed{2}\", \"id\": \"p1\", \"subset_for_metrics\": \"x\", \
             \"problem\": \"1+1?\", \"expected_answer\": \"2\", \"status\": \"ok\", \"seed\": 3}"
        );
    }

    #[test]
    fn a_failed_sample_has_no_generation_and_says_why() {
        let input = json!({"problem": "p", "expected_answer": 1});
        let outcome = SampleOutcome {
            status: Status::Timeout,
            generation: None,
            num_generated_tokens: None,
            error: Some("http://x did not answer".into()),
        };
        let rec = build_record(input.as_object().unwrap(), &outcome, None, "generation");
        assert_eq!(rec["generation"], Value::Null);
        assert_eq!(rec["status"], "timeout");
        assert_eq!(rec["error"], "http://x did not answer");
        assert!(!rec.contains_key("seed"));
        let back = SampleOutcome::from_json(&outcome.to_json()).unwrap();
        assert_eq!(back, outcome);
    }
}
