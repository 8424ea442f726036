//! A [`Backend`] that answers repeated judge calls from the [`JudgeCache`]: a rerun, a resumed
//! run or another benchmark with the same (model, prompt, parameters) pays for no judgement twice.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{json, Map, Value};
use tally_backend::{
    Backend, BackendError, FinishReason, GenerationRequest, GenerationResponse, Halted, Prompt,
    SamplingParams,
};
use tally_prompt::{ChatMessage, Filled};

use crate::cache::{cache_key, JudgeCache};

/// Wraps `inner`; successful answers are appended to the cache before they are returned.
pub struct CachedBackend<B> {
    inner: B,
    model: String,
    cache: Mutex<JudgeCache>,
    hits: AtomicU64,
    /// Answers that could not be cached (the cache file failed); the run goes on without it.
    write_errors: AtomicU64,
}

impl<B: Backend> CachedBackend<B> {
    /// `model` is the judge model's name (part of every key).
    pub fn new(inner: B, model: impl Into<String>, cache: JudgeCache) -> Self {
        CachedBackend {
            inner,
            model: model.into(),
            cache: Mutex::new(cache),
            hits: AtomicU64::new(0),
            write_errors: AtomicU64::new(0),
        }
    }

    /// Calls answered from the cache so far.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    pub fn write_errors(&self) -> u64 {
        self.write_errors.load(Ordering::Relaxed)
    }

    /// fsyncs the cache file.
    pub fn sync(&self) -> Result<(), crate::JudgeError> {
        self.cache.lock().expect("cache lock").sync()
    }

    fn key(&self, req: &GenerationRequest) -> String {
        let prompt = match &req.prompt {
            Prompt::Text(t) => Filled::Text(t.clone()),
            Prompt::Chat(ms) => Filled::Messages(
                ms.iter()
                    .map(|m| ChatMessage::new(m.role.clone(), m.content.clone()))
                    .collect(),
            ),
        };
        cache_key(&self.model, &prompt, &params_value(&req.params))
    }
}

fn params_value(p: &SamplingParams) -> Value {
    json!({
        "temperature": p.temperature, "top_k": p.top_k, "top_p": p.top_p, "min_p": p.min_p,
        "repetition_penalty": p.repetition_penalty, "random_seed": p.seed,
        "tokens_to_generate": p.max_tokens, "stop_phrases": p.stop, "top_logprobs": p.top_logprobs,
    })
}

fn from_cache(
    output: &Map<String, Value>,
    model: &str,
    max_tokens: u32,
) -> Option<GenerationResponse> {
    Some(GenerationResponse {
        text: output.get("generation")?.as_str()?.to_string(),
        num_generated_tokens: output.get("num_generated_tokens").and_then(Value::as_u64),
        num_prompt_tokens: None,
        finish_reason: match output.get("finish_reason").and_then(Value::as_str) {
            Some("length") => FinishReason::Length,
            _ => FinishReason::Stop,
        },
        stop_reason: None,
        reasoning_content: None,
        reasoning: None,
        model: model.to_string(),
        elapsed: Duration::ZERO,
        attempts: 0,
        max_tokens,
    })
}

#[async_trait]
impl<B: Backend> Backend for CachedBackend<B> {
    async fn generate(&self, req: &GenerationRequest) -> Result<GenerationResponse, BackendError> {
        let key = self.key(req);
        let cached = {
            let cache = self.cache.lock().expect("cache lock");
            cache
                .get(&key)
                .and_then(|o| from_cache(o, &self.model, req.params.max_tokens))
        };
        if let Some(resp) = cached {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(resp);
        }
        let resp = self.inner.generate(req).await?;
        let mut output = Map::new();
        output.insert("generation".into(), json!(resp.text_with_stop()));
        output.insert(
            "num_generated_tokens".into(),
            json!(resp.num_generated_tokens),
        );
        output.insert(
            "finish_reason".into(),
            json!(if resp.is_truncated() {
                "length"
            } else {
                "stop"
            }),
        );
        if self
            .cache
            .lock()
            .expect("cache lock")
            .insert(key, output)
            .is_err()
        {
            self.write_errors.fetch_add(1, Ordering::Relaxed);
        }
        Ok(resp)
    }

    async fn model_name(&self) -> Result<String, BackendError> {
        Ok(self.model.clone())
    }

    async fn check(&self) -> Result<(), BackendError> {
        self.inner.check().await
    }

    /// The inner backend's: a judge whose server went away stops the run, cache or not.
    fn halted(&self) -> Option<Halted> {
        self.inner.halted()
    }
}
