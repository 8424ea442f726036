//! The HTTP client for OpenAI-compatible servers (`/v1/completions`, `/v1/chat/completions`,
//! `/v1/models`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use reqwest::header::{HeaderValue, CONTENT_TYPE, RETRY_AFTER};
use reqwest::StatusCode;
use serde_json::Value;
use tokio::sync::{OnceCell, Semaphore};

use crate::backend::Backend;
use crate::context::{error_message, is_context_error, reduced_max_tokens, snippet};
use crate::error::BackendError;
use crate::params::{build_body, BodyOptions, ServerKind};
use crate::request::{FinishReason, GenerationRequest, GenerationResponse, Prompt};
use crate::retry::{parse_retry_after, RetryPolicy};
use crate::secret::ApiKey;

const DISCOVERY_TIMEOUT: Duration = Duration::from_secs(60);

/// Configures an [`OpenAiCompatBackend`].
///
/// ```
/// use std::time::Duration;
/// use tally_backend::{ApiKey, OpenAiCompatBackend, RetryPolicy, ServerKind};
///
/// let backend = OpenAiCompatBackend::builder("http://127.0.0.1:8000", ServerKind::Vllm)
///     .model("Qwen/Qwen2.5-Math-7B-Instruct")
///     .request_timeout(Duration::from_secs(600))
///     .retry(RetryPolicy { max_retries: 5, ..RetryPolicy::default() })
///     .max_connections(1024)
///     .build()?;
/// # let _ = backend;
/// let openai = OpenAiCompatBackend::builder("https://api.openai.com/v1", ServerKind::OpenAi)
///     .model("gpt-4o-mini")
///     .api_key(ApiKey::new("sk-...")) // the caller reads it from wherever it keeps secrets
///     .build()?;
/// assert!(!format!("{openai:?}").contains("sk-..."));
/// # Ok::<(), tally_backend::BackendError>(())
/// ```
#[derive(Debug, Clone)]
pub struct OpenAiCompatBuilder {
    base_url: String,
    kind: ServerKind,
    model: Option<String>,
    api_key: Option<ApiKey>,
    connect_timeout: Duration,
    request_timeout: Option<Duration>,
    retry: RetryPolicy,
    max_connections: usize,
    body_options: BodyOptions,
}

impl OpenAiCompatBuilder {
    /// The model to request. Without it, `GET /v1/models` must list exactly one model.
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// Sent as `Authorization: Bearer …`; never logged or put in an error.
    pub fn api_key(mut self, key: ApiKey) -> Self {
        self.api_key = Some(key);
        self
    }

    /// Time allowed to open a TCP (and TLS) connection. Default 10 s.
    pub fn connect_timeout(mut self, t: Duration) -> Self {
        self.connect_timeout = t;
        self
    }

    /// Time allowed for one whole HTTP attempt, body included. Default: none (like NeMo-Skills:
    /// long reasoning generations take many minutes); a request may override it.
    pub fn request_timeout(mut self, t: Duration) -> Self {
        self.request_timeout = Some(t);
        self
    }

    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// At most this many HTTP requests in flight (and so open connections) at once; further
    /// calls wait for a slot. Default 1024 (NeMo-Skills' `max_concurrent_requests`).
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = n.max(1);
        self
    }

    pub fn body_options(mut self, opts: BodyOptions) -> Self {
        self.body_options = opts;
        self
    }

    pub fn build(self) -> Result<OpenAiCompatBackend, BackendError> {
        let base = normalise_base_url(&self.base_url)?;
        let client = reqwest::Client::builder()
            .connect_timeout(self.connect_timeout)
            .pool_max_idle_per_host(self.max_connections)
            .pool_idle_timeout(Duration::from_secs(90))
            .tcp_nodelay(true)
            .user_agent(concat!("tally-backend/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| BackendError::Config(format!("cannot build the HTTP client: {e}")))?;
        let model = OnceCell::new();
        if let Some(m) = self.model {
            model.set(m).expect("a fresh OnceCell accepts one value");
        }
        Ok(OpenAiCompatBackend {
            inner: Arc::new(Inner {
                client,
                completions_url: Endpoint::new(format!("{base}/v1/completions"))?,
                chat_url: Endpoint::new(format!("{base}/v1/chat/completions"))?,
                models_url: Endpoint::new(format!("{base}/v1/models"))?,
                base,
                kind: self.kind,
                model,
                api_key: self.api_key,
                request_timeout: self.request_timeout,
                retry: self.retry,
                slots: Semaphore::new(self.max_connections),
                body_options: self.body_options,
            }),
        })
    }
}

/// Accepts `http://host:port`, `http://host:port/`, `…/v1` and `…/v1/`.
fn normalise_base_url(url: &str) -> Result<String, BackendError> {
    let trimmed = url.trim().trim_end_matches('/');
    let trimmed = trimmed.strip_suffix("/v1").unwrap_or(trimmed);
    if !(trimmed.starts_with("http://") || trimmed.starts_with("https://")) {
        return Err(BackendError::Config(format!(
            "base URL {url:?} must start with http:// or https://"
        )));
    }
    reqwest::Url::parse(trimmed)
        .map_err(|e| BackendError::Config(format!("base URL {url:?} is not a URL: {e}")))?;
    Ok(trimmed.to_string())
}

/// An endpoint URL, parsed once: reqwest would otherwise re-parse (and IDNA-normalise) the string
/// on every request, a measurable share of the per-request cost.
#[derive(Debug)]
struct Endpoint {
    text: String,
    parsed: reqwest::Url,
}

impl Endpoint {
    fn new(text: String) -> Result<Endpoint, BackendError> {
        let parsed = reqwest::Url::parse(&text)
            .map_err(|e| BackendError::Config(format!("{text:?} is not a URL: {e}")))?;
        Ok(Endpoint { text, parsed })
    }
}

/// A client for one OpenAI-compatible server. Cheap to clone (an `Arc`); share one per server.
#[derive(Debug, Clone)]
pub struct OpenAiCompatBackend {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    client: reqwest::Client,
    base: String,
    completions_url: Endpoint,
    chat_url: Endpoint,
    models_url: Endpoint,
    kind: ServerKind,
    model: OnceCell<String>,
    /// `ApiKey`'s `Debug` is redacted, so deriving `Debug` here is safe.
    api_key: Option<ApiKey>,
    request_timeout: Option<Duration>,
    retry: RetryPolicy,
    slots: Semaphore,
    body_options: BodyOptions,
}

/// How a request ended before any retry decision was final.
enum Failure {
    /// A 4xx saying the context is too small; the raw body is kept for the numbers in it.
    ContextLength(String),
    Final(BackendError),
}

/// One attempt's outcome.
enum AttemptError {
    Retryable {
        error: BackendError,
        retry_after: Option<Duration>,
    },
    ContextLength(String),
    Fatal(BackendError),
}

impl OpenAiCompatBackend {
    pub fn builder(base_url: impl Into<String>, kind: ServerKind) -> OpenAiCompatBuilder {
        OpenAiCompatBuilder {
            base_url: base_url.into(),
            kind,
            model: None,
            api_key: None,
            connect_timeout: Duration::from_secs(10),
            request_timeout: None,
            retry: RetryPolicy::default(),
            max_connections: 1024,
            body_options: BodyOptions::default(),
        }
    }

    /// The server's base URL (without `/v1`).
    pub fn base_url(&self) -> &str {
        &self.inner.base
    }

    pub fn server_kind(&self) -> ServerKind {
        self.inner.kind
    }

    async fn discover_model(&self) -> Result<String, BackendError> {
        let endpoint = &self.inner.models_url;
        let url = &endpoint.text;
        let mut attempts = 0;
        // A model listing is instant; without a request timeout, still do not wait forever.
        let timeout = Some(self.inner.request_timeout.unwrap_or(DISCOVERY_TIMEOUT));
        let v = match self
            .request_json(endpoint, None, timeout, &mut attempts)
            .await
        {
            Ok(v) => v,
            Err(Failure::Final(e)) => return Err(e),
            Err(Failure::ContextLength(body)) => {
                return Err(BackendError::InvalidResponse {
                    url: url.clone(),
                    attempts,
                    reason: self.scrub(&snippet(&body)),
                })
            }
        };
        let ids: Vec<String> = v
            .get("data")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|m| m.get("id").and_then(Value::as_str).map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        match <[String; 1]>::try_from(ids) {
            Ok([id]) => Ok(id),
            Err(found) => Err(BackendError::ModelDiscovery {
                url: url.clone(),
                found,
            }),
        }
    }

    fn scrub(&self, text: &str) -> String {
        match &self.inner.api_key {
            Some(k) => k.scrub(text),
            None => text.to_string(),
        }
    }

    /// Sends one request with retries; returns the parsed JSON of a 2xx answer.
    async fn request_json(
        &self,
        endpoint: &Endpoint,
        body: Option<&[u8]>,
        timeout: Option<Duration>,
        attempts: &mut u32,
    ) -> Result<Value, Failure> {
        let mut retries = 0;
        loop {
            *attempts += 1;
            let outcome = {
                // The slot bounds open connections; it is not held while backing off.
                let _slot = self
                    .inner
                    .slots
                    .acquire()
                    .await
                    .expect("the semaphore is never closed");
                self.attempt(endpoint, body, timeout, *attempts).await
            };
            match outcome {
                Ok(v) => return Ok(v),
                Err(AttemptError::ContextLength(b)) => return Err(Failure::ContextLength(b)),
                Err(AttemptError::Fatal(e)) => return Err(Failure::Final(e)),
                Err(AttemptError::Retryable { error, retry_after }) => {
                    if retries >= self.inner.retry.max_retries {
                        return Err(Failure::Final(error));
                    }
                    let wait = self.inner.retry.delay(retries, retry_after);
                    tracing::debug!(url = %endpoint.text, attempt = *attempts, ?wait, error = %error, "retrying");
                    retries += 1;
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    async fn attempt(
        &self,
        endpoint: &Endpoint,
        body: Option<&[u8]>,
        timeout: Option<Duration>,
        attempts: u32,
    ) -> Result<Value, AttemptError> {
        let inner = &*self.inner;
        let url = endpoint.text.as_str();
        let mut rb = match body {
            Some(b) => inner
                .client
                .post(endpoint.parsed.clone())
                .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                .body(b.to_vec()),
            None => inner.client.get(endpoint.parsed.clone()),
        };
        if let Some(t) = timeout {
            rb = rb.timeout(t);
        }
        if let Some(k) = &inner.api_key {
            // bearer_auth marks the header sensitive, so reqwest's own Debug hides it too.
            rb = rb.bearer_auth(k.expose());
        }
        let timeout_error = || BackendError::Timeout {
            url: url.to_string(),
            timeout: timeout.unwrap_or_default(),
            attempts,
        };
        let timed_out = |error: BackendError| {
            if inner.retry.retry_timeouts {
                AttemptError::Retryable {
                    error,
                    retry_after: None,
                }
            } else {
                AttemptError::Fatal(error)
            }
        };

        let resp = match rb.send().await {
            Ok(r) => r,
            // A connect timeout falls through to the connection-error arm: retried, not a slow model.
            Err(e) if e.is_timeout() && !e.is_connect() => return Err(timed_out(timeout_error())),
            Err(e) if e.is_builder() => {
                return Err(AttemptError::Fatal(BackendError::Config(format!(
                    "cannot build a request to {url}: {e}"
                ))))
            }
            // Connection refused/reset, TLS failure, server closed the connection early.
            Err(e) => {
                return Err(AttemptError::Retryable {
                    error: BackendError::Connect {
                        url: url.to_string(),
                        attempts,
                        source: e.without_url(),
                    },
                    retry_after: None,
                })
            }
        };
        let status = resp.status();
        let retry_after = resp
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let bytes = match resp.bytes().await {
            Ok(b) => b,
            Err(e) if e.is_timeout() => return Err(timed_out(timeout_error())),
            // A body cut short (connection dropped mid-body): transient, send again.
            Err(e) => {
                return Err(AttemptError::Retryable {
                    error: BackendError::InvalidResponse {
                        url: url.to_string(),
                        attempts,
                        reason: format!("HTTP {status}, body cut short: {}", e.without_url()),
                    },
                    retry_after: None,
                })
            }
        };
        if status.is_success() {
            return serde_json::from_slice(&bytes).map_err(|e| AttemptError::Retryable {
                error: BackendError::InvalidResponse {
                    url: url.to_string(),
                    attempts,
                    reason: format!("HTTP {status} with a body that is not JSON: {e}"),
                },
                retry_after: None,
            });
        }
        let text = String::from_utf8_lossy(&bytes);
        let http_error = || BackendError::Http {
            url: url.to_string(),
            status: status.as_u16(),
            attempts,
            body: self.scrub(&snippet(&text)),
        };
        if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
            return Err(AttemptError::Retryable {
                error: http_error(),
                retry_after,
            });
        }
        if status.is_client_error() && is_context_error(&text) {
            return Err(AttemptError::ContextLength(text.into_owned()));
        }
        Err(AttemptError::Fatal(http_error()))
    }
}

#[async_trait]
impl Backend for OpenAiCompatBackend {
    async fn model_name(&self) -> Result<String, BackendError> {
        self.inner
            .model
            .get_or_try_init(|| self.discover_model())
            .await
            .cloned()
    }

    async fn generate(&self, req: &GenerationRequest) -> Result<GenerationResponse, BackendError> {
        let started = Instant::now();
        let model = self.model_name().await?;
        let inner = &*self.inner;
        let endpoint = match req.prompt {
            Prompt::Text(_) => &inner.completions_url,
            Prompt::Chat(_) => &inner.chat_url,
        };
        let url = &endpoint.text;
        let timeout = req.timeout.or(inner.request_timeout);
        let mut params = std::borrow::Cow::Borrowed(&req.params);
        let mut attempts = 0;
        let mut context_retry_used = false;
        loop {
            let body = build_body(
                inner.kind,
                &model,
                &req.prompt,
                &params,
                inner.body_options,
                url,
            )?;
            let body = serde_json::to_vec(&body).expect("a serde_json::Value always serialises");
            match self
                .request_json(endpoint, Some(&body), timeout, &mut attempts)
                .await
            {
                Ok(v) => {
                    return parse_response(&v, url, attempts).map(|mut r| {
                        r.model = model;
                        r.elapsed = started.elapsed();
                        r.max_tokens = params.max_tokens;
                        r
                    })
                }
                Err(Failure::Final(e)) => return Err(e),
                Err(Failure::ContextLength(text)) => {
                    let reduced = reduced_max_tokens(&text, params.max_tokens);
                    match reduced {
                        Some(n) if !context_retry_used => {
                            tracing::debug!(%url, from = params.max_tokens, to = n, "context exceeded; retrying with fewer max_tokens");
                            context_retry_used = true;
                            params.to_mut().max_tokens = n;
                        }
                        _ => {
                            return Err(BackendError::ContextExceeded {
                                url: url.clone(),
                                message: self.scrub(&snippet(&error_message(&text))),
                            })
                        }
                    }
                }
            }
        }
    }
}

/// Reads a completions or chat-completions answer.
fn parse_response(v: &Value, url: &str, attempts: u32) -> Result<GenerationResponse, BackendError> {
    let invalid = |reason: String| BackendError::InvalidResponse {
        url: url.to_string(),
        attempts,
        reason,
    };
    if let Some(err) = v.get("error") {
        return Err(invalid(format!(
            "error object in a 2xx answer: {}",
            snippet(&err.to_string())
        )));
    }
    let choice = v
        .get("choices")
        .and_then(Value::as_array)
        .and_then(|c| c.first())
        .ok_or_else(|| invalid("no choices in the answer".to_string()))?;
    let message = choice.get("message");
    let text = match message {
        // Chat: `content` may be null (e.g. everything went to `reasoning_content`).
        Some(m) => m.get("content").and_then(Value::as_str).unwrap_or_default(),
        None => choice
            .get("text")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("choice has neither `text` nor `message`".to_string()))?,
    }
    .to_string();
    let string_field = |name: &str| {
        message
            .and_then(|m| m.get(name))
            .or_else(|| choice.get(name))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let stop_reason = choice
        .get("stop_reason")
        .or_else(|| choice.get("matched_stop"))
        .filter(|s| !s.is_null())
        .cloned();
    let usage = |name: &str| v.pointer(&format!("/usage/{name}")).and_then(Value::as_u64);
    Ok(GenerationResponse {
        text,
        num_generated_tokens: usage("completion_tokens"),
        num_prompt_tokens: usage("prompt_tokens"),
        finish_reason: FinishReason::parse(choice.get("finish_reason").and_then(Value::as_str)),
        stop_reason,
        reasoning_content: string_field("reasoning_content"),
        reasoning: string_field("reasoning"),
        model: String::new(),
        elapsed: Duration::ZERO,
        attempts,
        max_tokens: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn base_url_forms() {
        for u in [
            "http://h:1",
            "http://h:1/",
            "http://h:1/v1",
            "http://h:1/v1/",
        ] {
            assert_eq!(normalise_base_url(u).unwrap(), "http://h:1");
        }
        assert!(normalise_base_url("h:1").is_err());
    }

    #[test]
    fn parses_vllm_completion_with_stop_reason() {
        let v = json!({"choices":[{"text":"x = 2\n","finish_reason":"stop","stop_reason":"```output"}],
                       "usage":{"prompt_tokens":5,"completion_tokens":4}});
        let r = parse_response(&v, "u", 1).unwrap();
        assert_eq!(r.text, "x = 2\n");
        assert_eq!(r.num_generated_tokens, Some(4));
        assert_eq!(r.num_prompt_tokens, Some(5));
        assert_eq!(r.finish_reason, FinishReason::Stop);
        assert_eq!(r.text_with_stop(), "x = 2\n```output");
        assert_eq!(r.status(), tally_core::Status::Ok);
    }

    #[test]
    fn parses_chat_with_reasoning_and_length() {
        let v = json!({"choices":[{"message":{"role":"assistant","content":null,
                        "reasoning_content":"think","reasoning":"think2"},"finish_reason":"length"}],
                       "usage":{"completion_tokens":8}});
        let r = parse_response(&v, "u", 1).unwrap();
        assert_eq!(r.text, "");
        assert_eq!(r.reasoning_content.as_deref(), Some("think"));
        assert_eq!(r.reasoning.as_deref(), Some("think2"));
        assert!(r.is_truncated());
        assert_eq!(r.status(), tally_core::Status::Truncated);
        assert_eq!(r.text_with_stop(), "");
    }

    #[test]
    fn sglang_matched_stop_and_token_id_stop_reason() {
        let v = json!({"choices":[{"text":"a","finish_reason":"stop","matched_stop":"</s>"}]});
        assert_eq!(
            parse_response(&v, "u", 1).unwrap().text_with_stop(),
            "a</s>"
        );
        let v = json!({"choices":[{"text":"a","finish_reason":"stop","stop_reason":151645}]});
        assert_eq!(parse_response(&v, "u", 1).unwrap().text_with_stop(), "a");
    }

    #[test]
    fn answers_without_choices_are_invalid() {
        let e = parse_response(&json!({"choices":[]}), "http://h/v1/completions", 2).unwrap_err();
        assert!(matches!(
            e,
            BackendError::InvalidResponse { attempts: 2, .. }
        ));
        assert!(e.to_string().contains("http://h/v1/completions"));
        assert!(parse_response(&json!({"error":{"message":"x"}}), "u", 1).is_err());
    }
}
