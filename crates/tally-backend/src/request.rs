//! What a caller asks a backend for, and what comes back.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tally_core::Status;

/// The prompt: a finished text (sent to `/v1/completions`) or chat messages (sent to
/// `/v1/chat/completions`, where the server applies the model's chat template).
#[derive(Debug, Clone, PartialEq)]
pub enum Prompt {
    Text(String),
    Chat(Vec<ChatMessage>),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub role: String,
    pub content: String,
}

impl ChatMessage {
    pub fn new(role: impl Into<String>, content: impl Into<String>) -> Self {
        ChatMessage {
            role: role.into(),
            content: content.into(),
        }
    }
    pub fn system(content: impl Into<String>) -> Self {
        Self::new("system", content)
    }
    pub fn user(content: impl Into<String>) -> Self {
        Self::new("user", content)
    }
    pub fn assistant(content: impl Into<String>) -> Self {
        Self::new("assistant", content)
    }
}

/// Sampling parameters with NeMo-Skills' `inference.*` names and defaults (spec §1.6).
/// How each reaches a given server is decided in [`crate::params`].
#[derive(Debug, Clone, PartialEq)]
pub struct SamplingParams {
    /// `inference.temperature`; 0 means greedy.
    pub temperature: f64,
    /// `inference.top_k`; 0 means disabled.
    pub top_k: i64,
    pub top_p: f64,
    /// `inference.min_p`; 0 means disabled.
    pub min_p: f64,
    /// `inference.repetition_penalty`; 1.0 means none.
    pub repetition_penalty: f64,
    /// `inference.random_seed`; `None` sends no seed.
    pub seed: Option<u64>,
    /// `inference.tokens_to_generate`.
    pub max_tokens: u32,
    /// Stop phrases (the prompt config's `stop_phrases` plus `extra_stop_phrases`).
    pub stop: Vec<String>,
    /// `inference.top_logprobs`, passed through where the server takes it.
    pub top_logprobs: Option<u32>,
}

impl Default for SamplingParams {
    fn default() -> Self {
        SamplingParams {
            temperature: 0.0,
            top_k: 0,
            top_p: 0.95,
            min_p: 0.0,
            repetition_penalty: 1.0,
            seed: Some(0),
            max_tokens: 2048,
            stop: Vec::new(),
            top_logprobs: None,
        }
    }
}

/// One generation request.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerationRequest {
    pub prompt: Prompt,
    pub params: SamplingParams,
    /// Overrides the backend's per-request timeout for this request.
    pub timeout: Option<Duration>,
}

impl GenerationRequest {
    /// A text-completion request with default sampling parameters.
    pub fn text(prompt: impl Into<String>) -> Self {
        GenerationRequest {
            prompt: Prompt::Text(prompt.into()),
            params: SamplingParams::default(),
            timeout: None,
        }
    }

    /// A chat request with default sampling parameters.
    pub fn chat(messages: Vec<ChatMessage>) -> Self {
        GenerationRequest {
            prompt: Prompt::Chat(messages),
            params: SamplingParams::default(),
            timeout: None,
        }
    }

    pub fn with_params(mut self, params: SamplingParams) -> Self {
        self.params = params;
        self
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
}

/// Why the server stopped generating.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FinishReason {
    /// End of sequence or a stop phrase.
    Stop,
    /// The `max_tokens` budget ran out.
    Length,
    /// Anything else the server said (`abort`, `content_filter`, …), or nothing.
    Other(String),
}

impl FinishReason {
    pub(crate) fn parse(s: Option<&str>) -> FinishReason {
        match s {
            Some("stop") | Some("eos") => FinishReason::Stop,
            Some("length") => FinishReason::Length,
            Some(other) => FinishReason::Other(other.to_string()),
            None => FinishReason::Other(String::new()),
        }
    }
}

/// A finished generation.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerationResponse {
    /// The generated text as the server returned it (stop phrases not yet trimmed; see
    /// [`crate::trim_after_stop_phrases`]).
    pub text: String,
    /// `usage.completion_tokens`; `None` if the server sent no usage.
    pub num_generated_tokens: Option<u64>,
    /// `usage.prompt_tokens`.
    pub num_prompt_tokens: Option<u64>,
    pub finish_reason: FinishReason,
    /// What stopped it: vLLM's `stop_reason` (the stop string, or a token id), SGLang's
    /// `matched_stop`; `None` for end-of-sequence or when the server does not say.
    pub stop_reason: Option<serde_json::Value>,
    /// Reasoning text of reasoning models, from `reasoning_content` (vLLM/SGLang/DeepSeek)…
    pub reasoning_content: Option<String>,
    /// …or from `reasoning` (newer vLLM, OpenRouter, llama.cpp).
    pub reasoning: Option<String>,
    /// The model that answered (the request's `model`).
    pub model: String,
    /// Wall time of the whole call, retries and waits included.
    pub elapsed: Duration,
    /// HTTP attempts made (1 = no retry).
    pub attempts: u32,
    /// `max_tokens` actually granted: smaller than requested after a context-length retry.
    pub max_tokens: u32,
}

impl GenerationResponse {
    /// Whether the token budget ran out before the model finished.
    pub fn is_truncated(&self) -> bool {
        self.finish_reason == FinishReason::Length
    }

    /// The record status the finish reason implies: `truncated` for `length`, otherwise `ok`
    /// (answer extraction may still turn `ok` into `no_answer`).
    pub fn status(&self) -> Status {
        if self.is_truncated() {
            Status::Truncated
        } else {
            Status::Ok
        }
    }

    /// The text with the matched stop string appended, as NeMo-Skills' vLLM client returns it
    /// (spec §8.2: `+ stop_reason` if `finish_reason == "stop"` and it is a string). vLLM and
    /// SGLang leave the stop string out of `text`; TIR needs it to see that a code block ended.
    pub fn text_with_stop(&self) -> String {
        match (&self.finish_reason, &self.stop_reason) {
            (FinishReason::Stop, Some(serde_json::Value::String(s))) => {
                format!("{}{}", self.text, s)
            }
            _ => self.text.clone(),
        }
    }
}
