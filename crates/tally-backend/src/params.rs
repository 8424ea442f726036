//! Per-server request bodies (spec §8.2, trap T14).
//!
//! The same [`SamplingParams`] mean different JSON on different servers: greedy decoding is
//! `temperature 0` on the OpenAI API but `temperature 1, top_k 1, top_p 1` on vLLM/SGLang/TRT-LLM
//! (NeMo-Skills' `preprocess_request`), "no top-k" is `-1` on vLLM/SGLang and `0` elsewhere,
//! llama.cpp calls the repetition penalty `repeat_penalty` and defaults `min_p` to 0.05 unless told
//! otherwise. This module is the one place that knows.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::BackendError;
use crate::request::{Prompt, SamplingParams};

pub use tally_core::ServerType;

/// NeMo-Skills' greedy rewrite applies to all its servers but OpenAI; for llama.cpp it is
/// equivalent to temperature 0; an unknown server may not know `top_k`, so it gets raw values.
fn normalises_greedy(kind: ServerType) -> bool {
    matches!(
        kind,
        ServerType::Vllm | ServerType::Sglang | ServerType::Trtllm | ServerType::LlamaCpp
    )
}

/// Options that change the body beyond the sampling parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BodyOptions {
    /// Reproduce NeMo-Skills' OpenAI request exactly: `presence_penalty = repetition_penalty`
    /// (1.0 by default — a quirk, trap T14). Off: no `presence_penalty` is sent, and a
    /// repetition penalty other than 1.0 is an error, since OpenAI has none.
    pub nemo_skills_openai_presence_penalty: bool,
}

/// Builds the JSON body of one request. `url` is only used to name the endpoint in errors.
pub fn build_body(
    kind: ServerType,
    model: &str,
    prompt: &Prompt,
    p: &SamplingParams,
    opts: BodyOptions,
    url: &str,
) -> Result<Value, BackendError> {
    let mut b = Map::new();
    emit_body(&mut b, kind, model, prompt, p, opts, url)?;
    Ok(Value::Object(b))
}

/// Writes exactly the bytes of `serde_json::to_vec(&build_body(..))` into `out`, without the
/// intermediate `Value` (which copies the prompt and allocates every key): the client's hot path.
pub(crate) fn write_body(
    out: &mut Vec<u8>,
    kind: ServerType,
    model: &str,
    prompt: &Prompt,
    p: &SamplingParams,
    opts: BodyOptions,
    url: &str,
) -> Result<(), BackendError> {
    let start = out.len();
    out.push(b'{');
    let mut w = JsonWriter { out, first: true };
    let result = emit_body(&mut w, kind, model, prompt, p, opts, url);
    if result.is_err() {
        out.truncate(start);
    } else {
        out.push(b'}');
    }
    result
}

/// Where the body's fields go: a `serde_json::Map` ([`build_body`]) or straight into bytes
/// ([`write_body`]). One field-writing function serves both, so the two cannot drift apart.
trait BodySink {
    fn field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T);
}

impl BodySink for Map<String, Value> {
    fn field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) {
        let v = serde_json::to_value(value).expect("body fields always serialise");
        self.insert(key.into(), v);
    }
}

struct JsonWriter<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl BodySink for JsonWriter<'_> {
    fn field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        // Keys are fixed ASCII identifiers: nothing to escape.
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
        serde_json::to_writer(&mut *self.out, value).expect("body fields always serialise");
    }
}

fn emit_body(
    b: &mut impl BodySink,
    kind: ServerType,
    model: &str,
    prompt: &Prompt,
    p: &SamplingParams,
    opts: BodyOptions,
    url: &str,
) -> Result<(), BackendError> {
    let unsupported = |parameter: String| BackendError::UnsupportedParameter {
        url: url.to_string(),
        server: kind.as_str(),
        parameter,
    };
    // Checked before anything is written, so a failed `write_body` leaves nothing behind.
    if kind == ServerType::Local {
        return Err(BackendError::Config(format!(
            "{url}: server type `local` is the embedded model, which has no HTTP API"
        )));
    }
    if kind == ServerType::OpenAi {
        if p.top_k != 0 {
            return Err(unsupported(format!("top_k={} (must be 0)", p.top_k)));
        }
        if p.min_p > 0.0 {
            return Err(unsupported(format!("min_p={} (must be 0)", p.min_p)));
        }
        if !opts.nemo_skills_openai_presence_penalty && p.repetition_penalty != 1.0 {
            return Err(unsupported(format!(
                "repetition_penalty={} (must be 1.0)",
                p.repetition_penalty
            )));
        }
    }

    b.field("model", model);
    match prompt {
        Prompt::Text(text) => {
            // vLLM's NeMo-Skills client sends `prompt=[prompt]`; a bare string is equivalent on
            // every server and is what llama.cpp and OpenAI document.
            b.field("prompt", text);
        }
        Prompt::Chat(messages) => {
            b.field("messages", messages);
        }
    }
    b.field("max_tokens", &p.max_tokens);

    let greedy = p.temperature == 0.0 && normalises_greedy(kind);
    let (temperature, top_k, top_p) = if greedy {
        (1.0, 1, 1.0)
    } else {
        (p.temperature, p.top_k, p.top_p)
    };
    b.field("temperature", &temperature);
    b.field("top_p", &top_p);
    if let Some(seed) = p.seed {
        b.field("seed", &seed);
    }
    if !p.stop.is_empty() {
        b.field("stop", &p.stop);
    }
    b.field("n", &1);

    match kind {
        ServerType::Vllm | ServerType::Sglang => {
            // NeMo-Skills' VLLMModel (used for both): extra_body fields flattened into the body.
            b.field("top_k", &if top_k == 0 { -1 } else { top_k });
            b.field("min_p", &p.min_p);
            b.field("repetition_penalty", &p.repetition_penalty);
            b.field("frequency_penalty", &0.0);
            b.field("presence_penalty", &0.0);
            b.field("spaces_between_special_tokens", &false);
        }
        ServerType::Trtllm => {
            // trtllm-serve: top_k 0 means "no top-k" (NeMo-Skills sent None); min_p 0 is off.
            if top_k != 0 {
                b.field("top_k", &top_k);
            }
            if p.min_p > 0.0 {
                b.field("min_p", &p.min_p);
            }
            b.field("repetition_penalty", &p.repetition_penalty);
        }
        ServerType::LlamaCpp => {
            // llama.cpp: top_k <= 0 disables it; min_p must be sent, its default is 0.05.
            b.field("top_k", &top_k.max(0));
            b.field("min_p", &p.min_p);
            b.field("repeat_penalty", &p.repetition_penalty);
        }
        ServerType::OpenAi => {
            if opts.nemo_skills_openai_presence_penalty {
                b.field("presence_penalty", &p.repetition_penalty);
            }
        }
        // Rejected above; listed so that a new kind must decide here.
        ServerType::Local => {}
        ServerType::Generic => {
            // Only non-default extras, so a strict server is not confused by fields it lacks.
            if p.top_k != 0 {
                b.field("top_k", &p.top_k);
            }
            if p.min_p > 0.0 {
                b.field("min_p", &p.min_p);
            }
            if p.repetition_penalty != 1.0 {
                b.field("repetition_penalty", &p.repetition_penalty);
            }
        }
    }
    add_logprobs(b, prompt, p.top_logprobs);
    Ok(())
}

/// Completions take `logprobs: N`; chat takes `logprobs: true, top_logprobs: N`.
fn add_logprobs(b: &mut impl BodySink, prompt: &Prompt, top_logprobs: Option<u32>) {
    let Some(n) = top_logprobs else { return };
    match prompt {
        Prompt::Text(_) => b.field("logprobs", &n),
        Prompt::Chat(_) => {
            b.field("logprobs", &true);
            b.field("top_logprobs", &n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::ChatMessage;
    use serde_json::json;

    fn body(kind: ServerType, p: &SamplingParams) -> Value {
        build_body(
            kind,
            "m",
            &Prompt::Text("hi".into()),
            p,
            BodyOptions::default(),
            "http://x/v1/completions",
        )
        .unwrap()
    }

    #[test]
    fn greedy_is_normalised_for_vllm_sglang_trtllm_llamacpp_but_not_openai() {
        let p = SamplingParams::default(); // temperature 0, top_p 0.95
        for kind in [
            ServerType::Vllm,
            ServerType::Sglang,
            ServerType::Trtllm,
            ServerType::LlamaCpp,
        ] {
            let b = body(kind, &p);
            assert_eq!(b["temperature"], json!(1.0), "{kind}");
            assert_eq!(b["top_k"], json!(1), "{kind}");
            assert_eq!(b["top_p"], json!(1.0), "{kind}");
        }
        for kind in [ServerType::OpenAi, ServerType::Generic] {
            let b = body(kind, &p);
            assert_eq!(b["temperature"], json!(0.0), "{kind}");
            assert_eq!(b["top_p"], json!(0.95), "{kind}");
            assert!(b.get("top_k").is_none(), "{kind}");
        }
    }

    #[test]
    fn sampling_top_k_zero_is_minus_one_on_vllm_and_absent_on_trtllm() {
        let p = SamplingParams {
            temperature: 0.7,
            ..SamplingParams::default()
        };
        assert_eq!(body(ServerType::Vllm, &p)["top_k"], json!(-1));
        assert_eq!(body(ServerType::Sglang, &p)["top_k"], json!(-1));
        assert!(body(ServerType::Trtllm, &p).get("top_k").is_none());
        assert_eq!(body(ServerType::LlamaCpp, &p)["top_k"], json!(0));
        assert_eq!(body(ServerType::Vllm, &p)["temperature"], json!(0.7));
        let p = SamplingParams { top_k: 20, ..p };
        assert_eq!(body(ServerType::Vllm, &p)["top_k"], json!(20));
        assert_eq!(body(ServerType::Trtllm, &p)["top_k"], json!(20));
    }

    #[test]
    fn vllm_body_matches_nemo_skills_fields() {
        let p = SamplingParams {
            temperature: 0.6,
            min_p: 0.05,
            repetition_penalty: 1.1,
            seed: Some(7),
            max_tokens: 99,
            stop: vec!["</s>".into()],
            ..SamplingParams::default()
        };
        let b = body(ServerType::Vllm, &p);
        assert_eq!(b["model"], json!("m"));
        assert_eq!(b["prompt"], json!("hi"));
        assert_eq!(b["max_tokens"], json!(99));
        assert_eq!(b["seed"], json!(7));
        assert_eq!(b["stop"], json!(["</s>"]));
        assert_eq!(b["min_p"], json!(0.05));
        assert_eq!(b["repetition_penalty"], json!(1.1));
        assert_eq!(b["frequency_penalty"], json!(0.0));
        assert_eq!(b["presence_penalty"], json!(0.0));
        assert_eq!(b["spaces_between_special_tokens"], json!(false));
        assert_eq!(b["n"], json!(1));
    }

    #[test]
    fn llamacpp_uses_its_own_names_and_always_sends_min_p() {
        let b = body(ServerType::LlamaCpp, &SamplingParams::default());
        assert_eq!(b["min_p"], json!(0.0));
        assert_eq!(b["repeat_penalty"], json!(1.0));
        assert!(b.get("repetition_penalty").is_none());
    }

    #[test]
    fn openai_rejects_top_k_and_min_p_and_keeps_presence_penalty_quirk_opt_in() {
        let url = "https://api.example/v1/chat/completions";
        let chat = Prompt::Chat(vec![ChatMessage::user("q")]);
        let p = SamplingParams {
            top_k: 5,
            ..SamplingParams::default()
        };
        let e = build_body(
            ServerType::OpenAi,
            "gpt",
            &chat,
            &p,
            BodyOptions::default(),
            url,
        )
        .unwrap_err();
        assert!(matches!(e, BackendError::UnsupportedParameter { .. }));
        assert!(e.to_string().contains(url));
        let p = SamplingParams {
            min_p: 0.1,
            ..SamplingParams::default()
        };
        assert!(build_body(
            ServerType::OpenAi,
            "gpt",
            &chat,
            &p,
            BodyOptions::default(),
            url
        )
        .is_err());

        let p = SamplingParams::default();
        let b = build_body(
            ServerType::OpenAi,
            "gpt",
            &chat,
            &p,
            BodyOptions::default(),
            url,
        )
        .unwrap();
        assert!(b.get("presence_penalty").is_none());
        assert_eq!(b["messages"], json!([{"role": "user", "content": "q"}]));
        let quirk = BodyOptions {
            nemo_skills_openai_presence_penalty: true,
        };
        let b = build_body(ServerType::OpenAi, "gpt", &chat, &p, quirk, url).unwrap();
        assert_eq!(b["presence_penalty"], json!(1.0));
    }

    #[test]
    fn no_seed_no_stop_fields_when_unset_and_logprobs_shape_follows_endpoint() {
        let p = SamplingParams {
            seed: None,
            top_logprobs: Some(3),
            ..SamplingParams::default()
        };
        let b = body(ServerType::Vllm, &p);
        assert!(b.get("seed").is_none());
        assert!(b.get("stop").is_none());
        assert_eq!(b["logprobs"], json!(3));
        let chat = Prompt::Chat(vec![ChatMessage::user("q")]);
        let b = build_body(
            ServerType::Vllm,
            "m",
            &chat,
            &p,
            BodyOptions::default(),
            "u",
        )
        .unwrap();
        assert_eq!(b["logprobs"], json!(true));
        assert_eq!(b["top_logprobs"], json!(3));
    }

    #[test]
    fn write_body_is_byte_identical_to_serialising_build_body() {
        let prompts = [
            Prompt::Text("Solve: \"x\" \\ y\n\u{1}é∎ <|im_end|>".into()),
            Prompt::Chat(vec![
                ChatMessage::system("s"),
                ChatMessage::user("q \"quoted\""),
            ]),
        ];
        let params = [
            SamplingParams::default(),
            SamplingParams {
                temperature: 0.7,
                top_k: 20,
                top_p: 0.8,
                min_p: 0.05,
                repetition_penalty: 1.1,
                seed: None,
                max_tokens: 7,
                stop: vec!["</s>".into(), "```output".into()],
                top_logprobs: Some(3),
            },
            SamplingParams {
                temperature: f64::NAN,
                top_k: -5,
                min_p: 0.0,
                repetition_penalty: 1.0,
                seed: Some(u64::MAX),
                top_logprobs: Some(0),
                ..SamplingParams::default()
            },
        ];
        let kinds = [
            ServerType::Vllm,
            ServerType::Sglang,
            ServerType::Trtllm,
            ServerType::LlamaCpp,
            ServerType::OpenAi,
            ServerType::Generic,
        ];
        let mut compared = 0;
        for kind in kinds {
            for prompt in &prompts {
                for p in &params {
                    for quirk in [false, true] {
                        let opts = BodyOptions {
                            nemo_skills_openai_presence_penalty: quirk,
                        };
                        let mut out = b"prefix".to_vec();
                        let direct = write_body(&mut out, kind, "m\"odel", prompt, p, opts, "u");
                        match build_body(kind, "m\"odel", prompt, p, opts, "u") {
                            Ok(v) => {
                                direct.unwrap();
                                let expected = serde_json::to_vec(&v).unwrap();
                                assert_eq!(
                                    String::from_utf8_lossy(&out[6..]),
                                    String::from_utf8_lossy(&expected),
                                    "{kind} {p:?}"
                                );
                                compared += 1;
                            }
                            Err(e) => {
                                assert_eq!(direct.unwrap_err().to_string(), e.to_string());
                                assert_eq!(out, b"prefix", "nothing written on error");
                            }
                        }
                    }
                }
            }
        }
        assert!(compared > 50, "{compared}");
    }
}
