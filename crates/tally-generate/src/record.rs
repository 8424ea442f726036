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
    /// Set for tool-integrated reasoning samples.
    pub tir: Option<TirStats>,
    /// Decided without a model call (a judge's prefilled verdict): the record keeps the input's
    /// own `num_generated_tokens`.
    pub prefilled: bool,
    /// The server's separate reasoning text (`message.reasoning_content`, or `reasoning` where a
    /// server names it so), kept on the record as NeMo-Skills does.
    pub reasoning_content: Option<String>,
}

/// The names of the keys the engine writes into a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordKeys {
    /// `generation` (`++generation_key`; `judgement` for a judge).
    pub generation: String,
    /// `status` and `error`; a judge writes `judge_status` / `judge_error` so that the solver's
    /// `status` in its input survives.
    pub status: String,
    pub error: String,
    /// `++parse_reasoning=True`: the end-of-reasoning tag (`++end_reasoning_string`, default
    /// `</think>`); see [`parse_reasoning`].
    pub end_reasoning: Option<String>,
}

impl Default for RecordKeys {
    fn default() -> Self {
        RecordKeys {
            generation: "generation".into(),
            status: "status".into(),
            error: "error".into(),
            end_reasoning: None,
        }
    }
}

/// A generation split at the end of its reasoning, as NeMo-Skills' `parse_reasoning` does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedReasoning {
    /// What is graded: the text after the last end tag, trimmed; empty when the tag never came
    /// (so an unfinished reasoning is never read for an answer).
    pub answer: String,
    /// Whether the end tag came (`_<key>_finished_thinking`).
    pub finished_thinking: bool,
}

/// Splits `generation` at `end_tag`.
pub fn parse_reasoning(generation: &str, end_tag: &str) -> ParsedReasoning {
    match generation.rfind(end_tag) {
        Some(at) => ParsedReasoning {
            answer: generation[at + end_tag.len()..].trim().to_string(),
            finished_thinking: true,
        },
        None => ParsedReasoning {
            answer: String::new(),
            finished_thinking: false,
        },
    }
}

/// The code-execution figures of a TIR sample (NeMo-Skills' record keys).
#[derive(Debug, Clone, PartialEq)]
pub struct TirStats {
    pub code_rounds_executed: u32,
    /// Seconds in model calls / in the sandbox.
    pub generation_time: f64,
    pub code_execution_time: f64,
}

impl SampleOutcome {
    /// A finished generation, trimmed after the first stop phrase (spec §8.3). `truncated` when
    /// the token budget ran out.
    pub fn from_response(resp: &GenerationResponse, stops: &[String]) -> SampleOutcome {
        SampleOutcome {
            status: resp.status(),
            generation: Some(trim_after_stop_phrases(&resp.text, stops).to_string()),
            num_generated_tokens: resp.num_generated_tokens,
            error: None,
            tir: None,
            prefilled: false,
            reasoning_content: resp
                .reasoning_content
                .clone()
                .or_else(|| resp.reasoning.clone())
                .filter(|r| !r.is_empty()),
        }
    }

    /// A result decided without asking the model.
    pub fn prefilled(text: impl Into<String>) -> SampleOutcome {
        SampleOutcome {
            status: Status::Ok,
            generation: Some(text.into()),
            num_generated_tokens: None,
            error: None,
            tir: None,
            prefilled: true,
            reasoning_content: None,
        }
    }

    /// A finished tool-integrated-reasoning sample; a failure keeps its transcript so far (the
    /// status says it did not finish).
    pub fn from_tir(out: crate::tir::TirOutcome) -> SampleOutcome {
        SampleOutcome {
            status: out.status,
            generation: Some(out.generation),
            num_generated_tokens: Some(out.num_generated_tokens),
            error: out.error,
            tir: Some(TirStats {
                code_rounds_executed: out.code_rounds_executed,
                generation_time: round_ms(out.generation_time.as_secs_f64()),
                code_execution_time: round_ms(out.code_execution_time.as_secs_f64()),
            }),
            prefilled: false,
            reasoning_content: None,
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
            tir: None,
            prefilled: false,
            reasoning_content: None,
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
        if self.prefilled {
            m.insert("prefilled".into(), json!(true));
        }
        if let Some(r) = &self.reasoning_content {
            m.insert("reasoning_content".into(), json!(r));
        }
        if let Some(t) = &self.tir {
            m.insert(
                "tir".into(),
                json!({"code_rounds_executed": t.code_rounds_executed,
                       "generation_time": t.generation_time,
                       "code_execution_time": t.code_execution_time}),
            );
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
            prefilled: m.get("prefilled").and_then(Value::as_bool).unwrap_or(false),
            reasoning_content: m
                .get("reasoning_content")
                .and_then(Value::as_str)
                .map(str::to_string),
            tir: match m.get("tir") {
                None | Some(Value::Null) => None,
                Some(t) => Some(TirStats {
                    code_rounds_executed: t
                        .get("code_rounds_executed")
                        .and_then(Value::as_u64)
                        .ok_or("`tir` has no `code_rounds_executed`")?
                        as u32,
                    generation_time: t
                        .get("generation_time")
                        .and_then(Value::as_f64)
                        .unwrap_or(0.0),
                    code_execution_time: t
                        .get("code_execution_time")
                        .and_then(Value::as_f64)
                        .unwrap_or(0.0),
                }),
            },
        })
    }
}

fn round_ms(secs: f64) -> f64 {
    (secs * 1000.0).round() / 1000.0
}

/// The output record of one sample: generation keys, the input fields not overwritten, then
/// `status`, `error` (failures only) and `seed` (seeded passes only). A TIR sample starts with
/// NeMo-Skills' TIR keys: `code_rounds_executed, num_generated_tokens, generation_time,
/// code_execution_time, generation`. A prefilled one (a judge's verdict without a call) is
/// `{generation: …, **input}` as NeMo-Skills writes it.
///
/// With `keys.end_reasoning` set (`++parse_reasoning=True`), the generation key holds the text
/// after the reasoning, and `_<key>_finished_thinking` and `_full_<key>` follow the input fields
/// (NeMo-Skills adds them last); a generation whose reasoning never ended is written empty with
/// status `reasoning_unfinished`, unless the request itself failed.
pub fn build_record(
    input: &Map<String, Value>,
    outcome: &SampleOutcome,
    seed: Option<u64>,
    keys: &RecordKeys,
) -> Map<String, Value> {
    let mut out = Map::new();
    if let Some(t) = &outcome.tir {
        out.insert("code_rounds_executed".into(), json!(t.code_rounds_executed));
    }
    if !outcome.prefilled {
        out.insert(
            "num_generated_tokens".into(),
            json!(outcome.num_generated_tokens.unwrap_or(0)),
        );
    }
    if let Some(t) = &outcome.tir {
        out.insert("generation_time".into(), json!(t.generation_time));
        out.insert("code_execution_time".into(), json!(t.code_execution_time));
    }
    let parsed = keys
        .end_reasoning
        .as_deref()
        .zip(outcome.generation.as_deref())
        .map(|(end, g)| parse_reasoning(g, end));
    match &parsed {
        Some(p) => out.insert(keys.generation.clone(), json!(p.answer)),
        None => out.insert(keys.generation.clone(), json!(outcome.generation)),
    };
    if let Some(r) = &outcome.reasoning_content {
        out.insert("reasoning_content".into(), json!(r));
    }
    let ours = [keys.status.as_str(), keys.error.as_str(), "seed"];
    for (k, v) in input {
        if !out.contains_key(k) && !ours.contains(&k.as_str()) {
            out.insert(k.clone(), v.clone());
        }
    }
    let mut status = outcome.status;
    if let Some(p) = &parsed {
        out.insert(
            format!("_{}_finished_thinking", keys.generation),
            json!(p.finished_thinking),
        );
        out.insert(
            format!("_full_{}", keys.generation),
            json!(outcome.generation),
        );
        if !p.finished_thinking && !status.is_failure() {
            status = Status::ReasoningUnfinished;
        }
    }
    out.insert(keys.status.clone(), json!(status.as_str()));
    if let Some(e) = &outcome.error {
        out.insert(keys.error.clone(), json!(e));
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
            tir: None,
            prefilled: false,
            reasoning_content: None,
        };
        let rec = build_record(
            input.as_object().unwrap(),
            &outcome,
            Some(3),
            &RecordKeys::default(),
        );
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
            tir: None,
            prefilled: false,
            reasoning_content: None,
        };
        let rec = build_record(
            input.as_object().unwrap(),
            &outcome,
            None,
            &RecordKeys::default(),
        );
        assert_eq!(rec["generation"], Value::Null);
        assert_eq!(rec["status"], "timeout");
        assert_eq!(rec["error"], "http://x did not answer");
        assert!(!rec.contains_key("seed"));
        let back = SampleOutcome::from_json(&outcome.to_json()).unwrap();
        assert_eq!(back, outcome);
    }

    #[test]
    fn a_tir_record_leads_with_nemo_skills_tir_keys_and_round_trips_the_journal() {
        let input = json!({"id": "p1", "problem": "p", "total_code_executions": 8});
        let outcome = SampleOutcome {
            status: Status::Ok,
            generation: Some("x".into()),
            num_generated_tokens: Some(9),
            error: None,
            tir: Some(TirStats {
                code_rounds_executed: 2,
                generation_time: 1.5,
                code_execution_time: 0.25,
            }),
            prefilled: false,
            reasoning_content: None,
        };
        let rec = build_record(
            input.as_object().unwrap(),
            &outcome,
            Some(0),
            &RecordKeys::default(),
        );
        let keys: Vec<&str> = rec.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "code_rounds_executed",
                "num_generated_tokens",
                "generation_time",
                "code_execution_time",
                "generation",
                "id",
                "problem",
                "total_code_executions",
                "status",
                "seed"
            ]
        );
        assert_eq!(
            SampleOutcome::from_json(&outcome.to_json()).unwrap(),
            outcome
        );
    }

    #[test]
    fn a_judge_record_keeps_the_solvers_status_and_a_prefilled_one_its_tokens() {
        let input = json!({"num_generated_tokens": 300, "generation": "g", "predicted_answer": null,
                           "status": "no_answer", "seed": 2});
        let keys = RecordKeys {
            generation: "judgement".into(),
            status: "judge_status".into(),
            error: "judge_error".into(),
            end_reasoning: None,
        };
        let rec = build_record(
            input.as_object().unwrap(),
            &SampleOutcome::prefilled("Judgement: No"),
            Some(2),
            &keys,
        );
        assert_eq!(
            pyjson::to_string(&Value::Object(rec)),
            "{\"judgement\": \"Judgement: No\", \"num_generated_tokens\": 300, \"generation\": \"g\", \
             \"predicted_answer\": null, \"status\": \"no_answer\", \"judge_status\": \"ok\", \"seed\": 2}"
        );
        let asked = SampleOutcome {
            num_generated_tokens: Some(12),
            prefilled: false,
            ..SampleOutcome::prefilled("Judgement: Yes")
        };
        let rec = build_record(input.as_object().unwrap(), &asked, Some(2), &keys);
        let order: Vec<&str> = rec.keys().map(String::as_str).collect();
        assert_eq!(
            order,
            [
                "num_generated_tokens",
                "judgement",
                "generation",
                "predicted_answer",
                "status",
                "judge_status",
                "seed"
            ]
        );
        assert_eq!(rec["num_generated_tokens"], 12);
    }

    #[test]
    fn parse_reasoning_splits_at_the_last_end_tag() {
        let p = parse_reasoning("<think>a</think>b</think>\n  \\boxed{3} \n", "</think>");
        assert_eq!(p.answer, "\\boxed{3}");
        assert!(p.finished_thinking);
        let p = parse_reasoning("<think>still going \\boxed{3}", "</think>");
        assert_eq!(p.answer, "");
        assert!(!p.finished_thinking);
        let p = parse_reasoning("x◁/think▷ 12", "◁/think▷");
        assert_eq!(p.answer, "12");
    }

    #[test]
    fn a_failed_request_under_parse_reasoning_keeps_its_failure() {
        let keys = RecordKeys {
            end_reasoning: Some("</think>".into()),
            ..RecordKeys::default()
        };
        let failed = SampleOutcome {
            status: Status::Timeout,
            generation: None,
            num_generated_tokens: None,
            error: Some("slow".into()),
            tir: None,
            prefilled: false,
            reasoning_content: None,
        };
        let input = json!({"problem": "p"});
        let rec = build_record(input.as_object().unwrap(), &failed, None, &keys);
        assert_eq!(rec["status"], "timeout");
        assert_eq!(rec["generation"], Value::Null);
        assert!(!rec.contains_key("_full_generation"));
        let with_reasoning = SampleOutcome {
            reasoning_content: Some("r".into()),
            ..failed
        };
        assert_eq!(
            SampleOutcome::from_json(&with_reasoning.to_json()).unwrap(),
            with_reasoning
        );
    }
}
