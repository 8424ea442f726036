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
use crate::breaker::{CircuitBreaker, Halted};
use crate::context::{error_message, is_context_error, reduced_max_tokens, snippet};
use crate::error::BackendError;
use crate::http1::{self, Http1};
use crate::params::{write_body, BodyOptions, ServerType};
use crate::request::{FinishReason, GenerationRequest, GenerationResponse, Prompt};
use crate::retry::{parse_retry_after, RetryPolicy};
use crate::secret::ApiKey;

const DISCOVERY_TIMEOUT: Duration = Duration::from_secs(60);

mod check;

/// Configures an [`OpenAiCompatBackend`].
///
/// ```
/// use std::time::Duration;
/// use tally_backend::{ApiKey, OpenAiCompatBackend, RetryPolicy, ServerType};
///
/// let backend = OpenAiCompatBackend::builder("http://127.0.0.1:8000", ServerType::Vllm)
///     .model("Qwen/Qwen2.5-Math-7B-Instruct")
///     .request_timeout(Duration::from_secs(600))
///     .retry(RetryPolicy { max_retries: 5, ..RetryPolicy::default() })
///     .max_connections(1024)
///     .build()?;
/// # let _ = backend;
/// let openai = OpenAiCompatBackend::builder("https://api.openai.com/v1", ServerType::OpenAi)
///     .model("gpt-4o-mini")
///     .api_key(ApiKey::new("sk-...")) // the caller reads it from wherever it keeps secrets
///     .build()?;
/// assert!(!format!("{openai:?}").contains("sk-..."));
/// # Ok::<(), tally_backend::BackendError>(())
/// ```
#[derive(Debug, Clone)]
pub struct OpenAiCompatBuilder {
    base_url: String,
    kind: ServerType,
    model: Option<String>,
    api_key: Option<ApiKey>,
    connect_timeout: Duration,
    request_timeout: Option<Duration>,
    retry: RetryPolicy,
    max_connections: usize,
    body_options: BodyOptions,
    force_reqwest: bool,
    proxied: bool,
    max_connection_failures: u32,
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

    /// Stop sending after this many consecutive connection failures (refused, reset, closed
    /// before an answer), counted over every attempt of every request; 0 never stops. Default 0.
    /// Once tripped, requests fail with [`BackendError::Halted`] without being sent, requests
    /// waiting to retry give up, and [`Backend::halted`] says why.
    pub fn max_connection_failures(mut self, n: u32) -> Self {
        self.max_connection_failures = n;
        self
    }

    pub fn body_options(mut self, opts: BodyOptions) -> Self {
        self.body_options = opts;
        self
    }

    /// Sends every request through reqwest, even to a plain `http://` server that the built-in
    /// HTTP/1.1 client would take (https and proxied URLs always use reqwest). The built-in client
    /// costs a fraction of reqwest's CPU time per request; this is the escape hatch.
    pub fn force_reqwest(mut self, on: bool) -> Self {
        self.force_reqwest = on;
        self
    }

    /// Says that the process environment configures an HTTP proxy (`HTTP_PROXY`/`ALL_PROXY`):
    /// then plain `http://` requests also go through reqwest, which applies it (with its
    /// `NO_PROXY` rules). The crate reads no environment variable itself, so the caller says so;
    /// without it, plain `http://` goes direct. Default false.
    pub fn proxied(mut self, on: bool) -> Self {
        self.proxied = on;
        self
    }

    pub fn build(self) -> Result<OpenAiCompatBackend, BackendError> {
        if !self.kind.is_remote() {
            return Err(BackendError::Config(format!(
                "{}: server type `{}` is the embedded model, which has no HTTP API",
                self.base_url, self.kind
            )));
        }
        let base = normalise_base_url(&self.base_url)?;
        let base_url = reqwest::Url::parse(&base)
            .map_err(|e| BackendError::Config(format!("base URL {base:?} is not a URL: {e}")))?;
        let bearer = self.api_key.as_ref().map(ApiKey::expose);
        // A key that is no valid header value stays with reqwest, which refuses it per request
        // (a configuration error) instead of writing it into the request head.
        let key_ok = bearer.is_none_or(|k| HeaderValue::from_str(&format!("Bearer {k}")).is_ok());
        let lean = !self.force_reqwest && !self.proxied && key_ok && lean_http_applies(&base_url);
        let transport = if lean {
            let host = base_url.host_str().unwrap_or_default();
            let port = base_url.port_or_known_default().unwrap_or(80);
            Transport::Lean(Http1::new(
                format!("{host}:{port}"),
                self.connect_timeout,
                self.max_connections,
            ))
        } else {
            let client = reqwest::Client::builder()
                .connect_timeout(self.connect_timeout)
                .pool_max_idle_per_host(self.max_connections)
                .pool_idle_timeout(Duration::from_secs(90))
                .tcp_nodelay(true)
                .user_agent(USER_AGENT)
                .build()
                .map_err(|e| BackendError::Config(format!("cannot build the HTTP client: {e}")))?;
            Transport::Reqwest(client)
        };
        let endpoint = |path: &str, method: &str, json_body: bool| {
            Endpoint::new(format!("{base}{path}"), method, json_body, bearer)
        };
        let model = OnceCell::new();
        if let Some(m) = self.model {
            model.set(m).expect("a fresh OnceCell accepts one value");
        }
        Ok(OpenAiCompatBackend {
            inner: Arc::new(Inner {
                transport,
                completions_url: endpoint("/v1/completions", "POST", true)?,
                chat_url: endpoint("/v1/chat/completions", "POST", true)?,
                models_url: endpoint("/v1/models", "GET", false)?,
                base,
                kind: self.kind,
                model,
                api_key: self.api_key,
                request_timeout: self.request_timeout,
                retry: self.retry,
                slots: Semaphore::new(self.max_connections),
                body_options: self.body_options,
                breaker: CircuitBreaker::new(self.max_connection_failures),
            }),
        })
    }
}

const USER_AGENT: &str = concat!("tally-backend/", env!("CARGO_PKG_VERSION"));

/// The built-in HTTP/1.1 client takes plain `http://` URLs without credentials in them (unless a
/// proxy is configured: [`OpenAiCompatBuilder::proxied`]).
fn lean_http_applies(url: &reqwest::Url) -> bool {
    url.scheme() == "http"
        && url.username().is_empty()
        && url.password().is_none()
        && url.host_str().is_some()
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

/// An endpoint, prepared once: the URL parsed (reqwest would otherwise re-parse and
/// IDNA-normalise the string on every request) and the built-in client's request head.
struct Endpoint {
    text: String,
    parsed: reqwest::Url,
    /// Holds the `Authorization` header when there is a key: never printed.
    head: Vec<u8>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl Endpoint {
    fn new(
        text: String,
        method: &str,
        json_body: bool,
        bearer: Option<&str>,
    ) -> Result<Endpoint, BackendError> {
        let parsed = reqwest::Url::parse(&text)
            .map_err(|e| BackendError::Config(format!("{text:?} is not a URL: {e}")))?;
        let mut target = parsed.path().to_string();
        if let Some(q) = parsed.query() {
            target.push('?');
            target.push_str(q);
        }
        // `host[:port]` as reqwest writes it: the port only when it is not the scheme's default.
        let host = match (parsed.host_str(), parsed.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            (None, _) => String::new(),
        };
        let head = http1::request_head(method, &target, &host, USER_AGENT, bearer, json_body);
        Ok(Endpoint { text, parsed, head })
    }
}

/// A client for one OpenAI-compatible server. Cheap to clone (an `Arc`); share one per server.
#[derive(Debug, Clone)]
pub struct OpenAiCompatBackend {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    transport: Transport,
    base: String,
    completions_url: Endpoint,
    chat_url: Endpoint,
    models_url: Endpoint,
    kind: ServerType,
    model: OnceCell<String>,
    /// `ApiKey`'s `Debug` is redacted, so deriving `Debug` here is safe.
    api_key: Option<ApiKey>,
    request_timeout: Option<Duration>,
    retry: RetryPolicy,
    slots: Semaphore,
    body_options: BodyOptions,
    breaker: CircuitBreaker,
}

#[derive(Debug)]
enum Transport {
    /// Plain `http://`: the built-in HTTP/1.1 client (`http1.rs`).
    Lean(Http1),
    /// Everything else (https, proxies, `force_reqwest`).
    Reqwest(reqwest::Client),
}

/// An HTTP answer, whatever the transport.
struct RawResponse {
    status: StatusCode,
    retry_after: Option<Duration>,
    body: Vec<u8>,
}

/// How one exchange failed, whatever the transport.
enum ExchangeError {
    /// The transport's own deadline passed (the attempt's deadline is applied around it).
    Timeout,
    Builder(String),
    /// No answer: connection refused or reset, TLS failure, not HTTP, closed early.
    Connect(Box<dyn std::error::Error + Send + Sync>),
    /// The head arrived but the body was cut short.
    BodyCut {
        status: StatusCode,
        reason: String,
    },
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
    pub fn builder(base_url: impl Into<String>, kind: ServerType) -> OpenAiCompatBuilder {
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
            force_reqwest: false,
            proxied: false,
            max_connection_failures: 0,
        }
    }

    /// The server's base URL (without `/v1`).
    pub fn base_url(&self) -> &str {
        &self.inner.base
    }

    pub fn server_kind(&self) -> ServerType {
        self.inner.kind
    }

    async fn discover_model(&self) -> Result<String, BackendError> {
        let endpoint = &self.inner.models_url;
        let url = &endpoint.text;
        let mut attempts = 0;
        // A model listing is instant; without a request timeout, still do not wait forever.
        let timeout = Some(self.inner.request_timeout.unwrap_or(DISCOVERY_TIMEOUT));
        let parse = |bytes: &[u8], _attempts: u32| serde_json::from_slice::<Value>(bytes);
        let v = match self
            .request_json(endpoint, None, timeout, &mut attempts, &parse)
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
        match <[String; 1]>::try_from(model_ids(&v)) {
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

    /// Sends one request with retries; returns `parse` of a 2xx answer. A body `parse` rejects
    /// is retried like a broken connection.
    async fn request_json<T, P>(
        &self,
        endpoint: &Endpoint,
        body: Option<&[u8]>,
        timeout: Option<Duration>,
        attempts: &mut u32,
        parse: &P,
    ) -> Result<T, Failure>
    where
        P: Fn(&[u8], u32) -> Result<T, serde_json::Error> + Sync,
    {
        let mut retries = 0;
        loop {
            if let Some(h) = self.inner.breaker.halted() {
                return Err(Failure::Final(BackendError::Halted(h.clone())));
            }
            *attempts += 1;
            let outcome = {
                // The slot bounds open connections; it is not held while backing off.
                let _slot = self
                    .inner
                    .slots
                    .acquire()
                    .await
                    .expect("the semaphore is never closed");
                self.attempt(endpoint, body, timeout, *attempts, parse)
                    .await
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
                    // A tripped breaker ends the wait: the next attempt would not be sent.
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = self.inner.breaker.wait_tripped() => {}
                    }
                }
            }
        }
    }

    /// One HTTP exchange, no retries, no deadline.
    async fn exchange(
        &self,
        endpoint: &Endpoint,
        body: Option<&[u8]>,
    ) -> Result<RawResponse, ExchangeError> {
        let inner = &*self.inner;
        match &inner.transport {
            Transport::Lean(http) => match http.send(&endpoint.head, body).await {
                Ok(r) => Ok(RawResponse {
                    status: r.status,
                    retry_after: r.retry_after.as_deref().and_then(parse_retry_after),
                    body: r.body,
                }),
                Err(http1::Error::Connect(e) | http1::Error::Exchange(e)) => {
                    Err(ExchangeError::Connect(Box::new(e)))
                }
                Err(http1::Error::Body { status, error }) => Err(ExchangeError::BodyCut {
                    status,
                    reason: error.to_string(),
                }),
            },
            Transport::Reqwest(client) => {
                let mut rb = match body {
                    Some(b) => client
                        .post(endpoint.parsed.clone())
                        .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                        .body(b.to_vec()),
                    None => client.get(endpoint.parsed.clone()),
                };
                if let Some(k) = &inner.api_key {
                    // bearer_auth marks the header sensitive, so reqwest's own Debug hides it too.
                    rb = rb.bearer_auth(k.expose());
                }
                let resp = match rb.send().await {
                    Ok(r) => r,
                    // A connect timeout is a connection error: retried, not a slow model.
                    Err(e) if e.is_timeout() && !e.is_connect() => {
                        return Err(ExchangeError::Timeout)
                    }
                    Err(e) if e.is_builder() => return Err(ExchangeError::Builder(e.to_string())),
                    Err(e) => return Err(ExchangeError::Connect(Box::new(e.without_url()))),
                };
                let status = resp.status();
                let retry_after = resp
                    .headers()
                    .get(RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(parse_retry_after);
                match resp.bytes().await {
                    Ok(b) => Ok(RawResponse {
                        status,
                        retry_after,
                        body: b.into(),
                    }),
                    Err(e) if e.is_timeout() => Err(ExchangeError::Timeout),
                    Err(e) => Err(ExchangeError::BodyCut {
                        status,
                        reason: e.without_url().to_string(),
                    }),
                }
            }
        }
    }

    async fn attempt<T, P>(
        &self,
        endpoint: &Endpoint,
        body: Option<&[u8]>,
        timeout: Option<Duration>,
        attempts: u32,
        parse: &P,
    ) -> Result<T, AttemptError>
    where
        P: Fn(&[u8], u32) -> Result<T, serde_json::Error> + Sync,
    {
        let inner = &*self.inner;
        let url = endpoint.text.as_str();
        let timed_out = || {
            let error = BackendError::Timeout {
                url: url.to_string(),
                timeout: timeout.unwrap_or_default(),
                attempts,
            };
            if inner.retry.retry_timeouts {
                AttemptError::Retryable {
                    error,
                    retry_after: None,
                }
            } else {
                AttemptError::Fatal(error)
            }
        };
        // One deadline for the whole attempt, connecting and reading the body included.
        let exchanged = match timeout {
            Some(t) => match tokio::time::timeout(t, self.exchange(endpoint, body)).await {
                Ok(r) => r,
                Err(_) => return Err(timed_out()),
            },
            None => self.exchange(endpoint, body).await,
        };
        match &exchanged {
            Ok(_) => inner.breaker.answered(),
            Err(ExchangeError::Connect(e)) => {
                inner.breaker.connection_failed(url, e);
            }
            Err(ExchangeError::BodyCut { reason, .. }) => {
                inner.breaker.connection_failed(url, reason);
            }
            Err(ExchangeError::Timeout | ExchangeError::Builder(_)) => {}
        }
        let resp = match exchanged {
            Ok(r) => r,
            Err(ExchangeError::Timeout) => return Err(timed_out()),
            Err(ExchangeError::Builder(e)) => {
                return Err(AttemptError::Fatal(BackendError::Config(format!(
                    "cannot build a request to {url}: {e}"
                ))))
            }
            // Connection refused/reset, TLS failure, server closed the connection early.
            Err(ExchangeError::Connect(source)) => {
                return Err(AttemptError::Retryable {
                    error: BackendError::Connect {
                        url: url.to_string(),
                        attempts,
                        source,
                    },
                    retry_after: None,
                })
            }
            // A body cut short (connection dropped mid-body): transient, send again.
            Err(ExchangeError::BodyCut { status, reason }) => {
                return Err(AttemptError::Retryable {
                    error: BackendError::InvalidResponse {
                        url: url.to_string(),
                        attempts,
                        reason: format!("HTTP {status}, body cut short: {reason}"),
                    },
                    retry_after: None,
                })
            }
        };
        let RawResponse {
            status,
            retry_after,
            body: bytes,
        } = resp;
        if status.is_success() {
            return parse(&bytes, attempts).map_err(|e| AttemptError::Retryable {
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

    async fn check(&self) -> Result<(), BackendError> {
        self.check_server().await
    }

    fn halted(&self) -> Option<Halted> {
        self.inner.breaker.halted().cloned()
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
        let parse = |bytes: &[u8], attempts: u32| parse_answer(bytes, url, attempts);
        let mut body = Vec::new();
        loop {
            body.clear();
            write_body(
                &mut body,
                inner.kind,
                &model,
                &req.prompt,
                &params,
                inner.body_options,
                url,
            )?;
            match self
                .request_json(endpoint, Some(&body), timeout, &mut attempts, &parse)
                .await
            {
                Ok(parsed) => {
                    return parsed.map(|mut r| {
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

/// The model ids of a `/v1/models` answer.
fn model_ids(v: &Value) -> Vec<String> {
    v.get("data")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|m| m.get("id").and_then(Value::as_str).map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Reads a 2xx answer's body. `Err` only when it is not JSON at all (the attempt is retried); an
/// answer that is JSON but unusable is the inner `Err`, final.
///
/// The usual answer is read straight into typed structs; anything they do not cover exactly
/// (an `error` field, unexpected types) is read again as a `Value` by [`parse_response`], so both
/// ways give the same result for every input.
fn parse_answer(
    bytes: &[u8],
    url: &str,
    attempts: u32,
) -> Result<Result<GenerationResponse, BackendError>, serde_json::Error> {
    if let Ok(Obj(a)) = serde_json::from_slice::<Obj<wire::Answer>>(bytes) {
        if let Some(r) = a.into_response(attempts) {
            return Ok(Ok(r));
        }
    }
    let v: Value = serde_json::from_slice(bytes)?;
    Ok(parse_response(&v, url, attempts))
}

/// Deserialises `T` from a JSON object only: serde's derived structs also accept arrays
/// (positionally), which the `Value` reading would not have read as fields.
struct Obj<T>(T);

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Obj<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit<T>(std::marker::PhantomData<T>);
        impl<'de, T: serde::Deserialize<'de>> serde::de::Visitor<'de> for Visit<T> {
            type Value = Obj<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Obj<T>, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(Obj)
            }
        }
        d.deserialize_map(Visit(std::marker::PhantomData))
    }
}

/// The answer's shape, for [`parse_answer`]. Each field mirrors how [`parse_response`] reads the
/// `Value`: where it tells a missing key from `null`, so does [`wire::Field`].
mod wire {
    use serde::de::IgnoredAny;
    use serde::Deserialize;
    use serde_json::Value;

    use super::Obj;
    use crate::request::{FinishReason, GenerationResponse};

    /// A key that may be missing, `null`, or set.
    #[derive(Default)]
    pub(super) enum Field<T> {
        #[default]
        Absent,
        Null,
        Set(T),
    }

    impl<'de, T: Deserialize<'de>> Deserialize<'de> for Field<T> {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            Ok(match Option::<T>::deserialize(d)? {
                None => Field::Null,
                Some(v) => Field::Set(v),
            })
        }
    }

    impl<T> Field<T> {
        fn is_absent(&self) -> bool {
            matches!(self, Field::Absent)
        }
        fn into_option(self) -> Option<T> {
            match self {
                Field::Set(v) => Some(v),
                _ => None,
            }
        }
    }

    #[derive(Deserialize)]
    pub(super) struct Answer<'a> {
        #[serde(default)]
        error: Field<IgnoredAny>,
        #[serde(default, borrow)]
        choices: Option<Vec<Obj<Choice<'a>>>>,
        #[serde(default)]
        usage: Option<Obj<Usage>>,
    }

    #[derive(Deserialize)]
    struct Choice<'a> {
        #[serde(default)]
        text: Option<String>,
        #[serde(default)]
        message: Field<Obj<Message>>,
        #[serde(default, borrow)]
        finish_reason: Option<&'a str>,
        #[serde(default)]
        stop_reason: Field<Value>,
        #[serde(default)]
        matched_stop: Field<Value>,
        #[serde(default)]
        reasoning_content: Field<String>,
        #[serde(default)]
        reasoning: Field<String>,
    }

    #[derive(Deserialize)]
    struct Message {
        #[serde(default)]
        content: Option<String>,
        #[serde(default)]
        reasoning_content: Field<String>,
        #[serde(default)]
        reasoning: Field<String>,
    }

    #[derive(Deserialize)]
    struct Usage {
        #[serde(default)]
        completion_tokens: Option<u64>,
        #[serde(default)]
        prompt_tokens: Option<u64>,
    }

    impl Answer<'_> {
        /// The response, or `None` where the `Value` reading must decide (errors included).
        pub(super) fn into_response(self, attempts: u32) -> Option<GenerationResponse> {
            if !self.error.is_absent() {
                return None;
            }
            let Obj(choice) = self.choices?.into_iter().next()?;
            // A key inside `message` wins over the same key on the choice, even when `null`.
            let pick =
                |in_message: Option<Field<String>>, on_choice: Field<String>| match in_message {
                    Some(f) if !f.is_absent() => f.into_option(),
                    _ => on_choice.into_option(),
                };
            let (text, reasoning_content, reasoning) = match choice.message {
                Field::Absent => (
                    choice.text?,
                    choice.reasoning_content.into_option(),
                    choice.reasoning.into_option(),
                ),
                Field::Null => (
                    String::new(),
                    choice.reasoning_content.into_option(),
                    choice.reasoning.into_option(),
                ),
                Field::Set(Obj(m)) => (
                    m.content.unwrap_or_default(),
                    pick(Some(m.reasoning_content), choice.reasoning_content),
                    pick(Some(m.reasoning), choice.reasoning),
                ),
            };
            let stop_reason = match choice.stop_reason {
                Field::Absent => choice.matched_stop.into_option(),
                other => other.into_option(),
            }
            .filter(|v| !v.is_null());
            let usage = self.usage.map(|Obj(u)| u);
            Some(GenerationResponse {
                text,
                num_generated_tokens: usage.as_ref().and_then(|u| u.completion_tokens),
                num_prompt_tokens: usage.as_ref().and_then(|u| u.prompt_tokens),
                finish_reason: FinishReason::parse(choice.finish_reason),
                stop_reason,
                reasoning_content,
                reasoning,
                model: String::new(),
                elapsed: std::time::Duration::ZERO,
                attempts,
                max_tokens: 0,
            })
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

    #[test]
    fn typed_answer_reading_equals_the_value_reading_on_every_shape() {
        let answers = [
            r#"{"choices":[{"text":"x = 2\n","finish_reason":"stop","stop_reason":"```output"}],"usage":{"prompt_tokens":5,"completion_tokens":4}}"#,
            r#"{"id":"c","choices":[{"index":0,"text":"a\"b\u00e9","finish_reason":"length","logprobs":{"x":[1,2]}}],"usage":{"completion_tokens":3,"completion_tokens_details":{"r":1}}}"#,
            r#"{"choices":[{"message":{"role":"assistant","content":null,"reasoning_content":"think","reasoning":"t2"},"finish_reason":"length"}],"usage":{"completion_tokens":8}}"#,
            r#"{"choices":[{"message":{"content":"hi","reasoning":null},"reasoning":"outer","reasoning_content":"rc","finish_reason":"stop"}]}"#,
            r#"{"choices":[{"message":null,"reasoning":"outer","finish_reason":"stop"}]}"#,
            r#"{"choices":[{"message":{"content":5},"finish_reason":"stop"}]}"#,
            r#"{"choices":[{"message":["x"],"finish_reason":"stop"}]}"#,
            r#"{"choices":[{"message":"str","finish_reason":"stop"}]}"#,
            r#"{"choices":[{"text":"a","finish_reason":"stop","matched_stop":"</s>"}]}"#,
            r#"{"choices":[{"text":"a","finish_reason":"stop","stop_reason":null,"matched_stop":"</s>"}]}"#,
            r#"{"choices":[{"text":"a","finish_reason":"stop","stop_reason":151645}]}"#,
            r#"{"choices":[{"text":"a","finish_reason":"st\u006fp"}]}"#,
            r#"{"choices":[{"text":"a","finish_reason":7}]}"#,
            r#"{"choices":[{"text":"a"}],"usage":{"completion_tokens":-1,"prompt_tokens":2.5}}"#,
            r#"{"choices":[{"text":"a"}],"usage":5}"#,
            r#"{"choices":[{"text":"a"}],"usage":null}"#,
            r#"{"choices":[{"text":null}]}"#,
            r#"{"choices":[{"text":1}]}"#,
            r#"{"choices":["x"]}"#,
            r#"{"choices":[]}"#,
            r#"{"choices":{}}"#,
            r#"{"choices":null}"#,
            r#"{"error":null,"choices":[{"text":"a"}]}"#,
            r#"{"error":{"message":"boom"}}"#,
            r#"{"choices":[{"text":"a"}],"choices":[{"text":"b"}]}"#,
            r#"[{"text":"a"}]"#,
            r#"[]"#,
            r#"{}"#,
            r#"null"#,
        ];
        for a in answers {
            let typed = parse_answer(a.as_bytes(), "u", 2).unwrap();
            let value = parse_response(&serde_json::from_str(a).unwrap(), "u", 2);
            match (typed, value) {
                (Ok(t), Ok(v)) => assert_eq!(t, v, "{a}"),
                (Err(t), Err(v)) => assert_eq!(t.to_string(), v.to_string(), "{a}"),
                (t, v) => panic!("{a}: typed {t:?} vs value {v:?}"),
            }
        }
        assert!(parse_answer(b"{\"choices\":[", "u", 1).is_err());
    }
}
