//! Content keys: what identifies one sample across runs.
//!
//! A sample is keyed by everything that shapes its request and its place in the output: the
//! filled prompt (text or messages), the sampling parameters (stop phrases and the seed sent
//! included), the model, the pass's seed and the problem's index. A resumed run skips exactly the
//! samples whose key is in the journal, so a changed prompt or parameter can never be mistaken
//! for work already done.

use serde_json::json;
use sha2::{Digest, Sha256};
use tally_backend::SamplingParams;
use tally_prompt::Filled;

/// sha256 (hex) of the canonical JSON of one sample's inputs.
///
/// `sampling` is [`params_json`] of the pass's parameters, plus the code-execution settings of a
/// TIR run (the engine's header form).
pub fn sample_key(
    prompt: &Filled,
    sampling: &serde_json::Value,
    model: &str,
    seed: Option<u64>,
    index: usize,
) -> String {
    let doc = json!({
        "format": "tally-sample/1",
        "prompt": prompt,
        "params": sampling,
        "model": model,
        "seed": seed,
        "index": index,
    });
    hex::encode(Sha256::digest(doc.to_string().as_bytes()))
}

/// The sampling parameters under their NeMo-Skills names (also the header's form).
pub fn params_json(p: &SamplingParams) -> serde_json::Value {
    json!({
        "temperature": p.temperature,
        "top_k": p.top_k,
        "top_p": p.top_p,
        "min_p": p.min_p,
        "repetition_penalty": p.repetition_penalty,
        "random_seed": p.seed,
        "tokens_to_generate": p.max_tokens,
        "top_logprobs": p.top_logprobs,
        "stop_phrases": p.stop,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tally_prompt::ChatMessage;

    #[test]
    fn every_input_of_a_sample_changes_its_key() {
        let p = Filled::Text("2+2=".into());
        let params = SamplingParams::default();
        let key = |p: &Filled, params: &SamplingParams, m: &str, seed: Option<u64>, i: usize| {
            sample_key(p, &params_json(params), m, seed, i)
        };
        let base = key(&p, &params, "m", Some(1), 0);
        assert_eq!(base, key(&p, &params, "m", Some(1), 0));
        assert_ne!(
            base,
            key(&Filled::Text("2+3=".into()), &params, "m", Some(1), 0)
        );
        let chat = Filled::Messages(vec![ChatMessage::new("user", "2+2=")]);
        assert_ne!(base, key(&chat, &params, "m", Some(1), 0));
        let hot = SamplingParams {
            temperature: 0.7,
            ..params.clone()
        };
        assert_ne!(base, key(&p, &hot, "m", Some(1), 0));
        let stop = SamplingParams {
            stop: vec!["</s>".into()],
            ..params.clone()
        };
        assert_ne!(base, key(&p, &stop, "m", Some(1), 0));
        assert_ne!(base, key(&p, &params, "m2", Some(1), 0));
        assert_ne!(base, key(&p, &params, "m", Some(2), 0));
        assert_ne!(base, key(&p, &params, "m", None, 0));
        assert_ne!(base, key(&p, &params, "m", Some(1), 1));
        let mut tir = params_json(&params);
        tir["code_execution"] = json!({"max_code_executions": 8});
        assert_ne!(base, sample_key(&p, &tir, "m", Some(1), 0));
    }
}
