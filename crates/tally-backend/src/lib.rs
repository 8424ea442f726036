//! Model backends for Tally: one [`Backend`] trait, and a client for OpenAI-compatible servers.
//!
//! The generation engine only sees [`Backend`]: give it a [`GenerationRequest`] (a text prompt
//! or chat messages plus NeMo-Skills' sampling parameters), get back a [`GenerationResponse`]
//! (text, token count, finish reason, reasoning fields, timing) or a [`BackendError`] whose
//! [`status`](BackendError::status) is the record status to write — `request_error`, `timeout` or
//! `context_exceeded`. A failure is never an empty generation.
//!
//! [`OpenAiCompatBackend`] talks to vLLM, SGLang, trtllm-serve, llama.cpp's `llama-server`, the
//! OpenAI API or any other OpenAI-compatible server. The [`ServerType`] decides how the sampling
//! parameters are written ([`params`]): NeMo-Skills' greedy rewrite (`temperature 0` →
//! `temperature 1, top_k 1, top_p 1`) for the self-hosted servers, raw values for OpenAI, vLLM's
//! `top_k = -1`, llama.cpp's `repeat_penalty`, and so on. The client retries connection errors,
//! HTTP 5xx, HTTP 429 (honouring `Retry-After`) and cut-off bodies with capped, jittered
//! exponential backoff ([`RetryPolicy`]); retries a "maximum context length" 400 once with the
//! `max_tokens` that fits; bounds the requests in flight; and times out connects and requests.
//! Plain `http://` servers (vLLM, SGLang, llama.cpp next to the evaluation) are reached through a
//! built-in keep-alive HTTP/1.1 client that costs a fraction of reqwest's CPU time per request;
//! `https://` URLs, and every URL when the caller says a proxy is configured
//! ([`OpenAiCompatBuilder::proxied`]), go through reqwest
//! ([`OpenAiCompatBuilder::force_reqwest`] sends everything there).
//!
//! Stop phrases are trimmed by the caller with [`trim_after_stop_phrases`], exactly as
//! NeMo-Skills does (spec §8.3), because tool-integrated reasoning needs the untrimmed text.
//!
//! The library reads no environment variable: API keys are passed in as [`ApiKey`], which never
//! appears in `Debug` output, logs or errors. (reqwest, which it uses, applies the standard
//! `HTTPS_PROXY`/`HTTP_PROXY`/`ALL_PROXY`/`NO_PROXY` variables to the requests it sends.)
//!
//! # Example
//!
//! ```
//! use tally_backend::{
//!     trim_after_stop_phrases, Backend, GenerationRequest, OpenAiCompatBackend,
//!     SamplingParams, ServerType,
//! };
//!
//! # // Runs against the llama-server of the tests (`TALLY_LLAMA_URL`); without one, a note,
//! # // or a failure under CI.
//! # let Ok(url) = std::env::var("TALLY_LLAMA_URL") else {
//! #     assert!(std::env::var_os("CI").is_none(), "CI is set but TALLY_LLAMA_URL is not");
//! #     eprintln!("note: TALLY_LLAMA_URL is not set; the example was not run");
//! #     return Ok(());
//! # };
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! // llama-server started by `scripts/llama-server.sh start` at `url`; the model is discovered.
//! let backend = OpenAiCompatBackend::builder(url, ServerType::LlamaCpp)
//!     .build()?;
//! let stop = vec!["<|im_end|>".to_string()];
//! let request = GenerationRequest::text("<|im_start|>user\n2+3?<|im_end|>\n<|im_start|>assistant\n")
//!     .with_params(SamplingParams { max_tokens: 32, stop: stop.clone(), ..SamplingParams::default() });
//! match backend.generate(&request).await {
//!     Ok(r) => println!("{} ({:?} tokens, {})", trim_after_stop_phrases(&r.text, &stop),
//!                       r.num_generated_tokens, r.status()),
//!     Err(e) => println!("failed as {}: {e}", e.status()),
//! }
//! # Ok::<(), tally_backend::BackendError>(())
//! # })?;
//! # Ok::<(), tally_backend::BackendError>(())
//! ```
//!
//! The parts that need no server are plain functions:
//!
//! ```
//! use serde_json::json;
//! use tally_backend::params::{build_body, BodyOptions};
//! use tally_backend::{trim_after_stop_phrases, Prompt, SamplingParams, ServerType};
//!
//! let greedy = SamplingParams::default(); // temperature 0
//! let body = build_body(ServerType::Vllm, "m", &Prompt::Text("1+1=".into()), &greedy,
//!                       BodyOptions::default(), "http://127.0.0.1:5000/v1/completions")?;
//! assert_eq!((&body["temperature"], &body["top_k"], &body["top_p"]), (&json!(1.0), &json!(1), &json!(1.0)));
//!
//! assert_eq!(trim_after_stop_phrases("2</s>junk", &["</s>"]), "2");
//! # Ok::<(), tally_backend::BackendError>(())
//! ```

mod backend;
mod breaker;
#[cfg(test)]
mod client_tests;
mod context;
mod error;
#[cfg(test)]
mod fail_fast_tests;
mod http1;
mod openai_compat;
pub mod params;
mod request;
mod retry;
mod secret;
mod stop;

pub use backend::Backend;
pub use breaker::{CircuitBreaker, Halted};
pub use error::{BackendError, ErrorKind};
pub use openai_compat::{OpenAiCompatBackend, OpenAiCompatBuilder};
pub use params::{BodyOptions, ServerType};
pub use request::{
    ChatMessage, FinishReason, GenerationRequest, GenerationResponse, Prompt, SamplingParams,
};
pub use retry::{parse_retry_after, RetryPolicy};
pub use secret::ApiKey;
pub use stop::trim_after_stop_phrases;
