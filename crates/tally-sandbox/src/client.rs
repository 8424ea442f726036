//! The client the TIR loop uses, with NeMo-Skills' client-side mappings.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::{ExecutionResult, ProcessStatus, SandboxError};

/// Talks to a running sandbox service over HTTP.
#[derive(Clone)]
pub struct SandboxClient {
    http: reqwest::Client,
    /// The service's base URL, without a trailing slash.
    base: String,
    /// `<base>/execute`.
    url: String,
    /// How long to keep retrying while the service answers 503 busy.
    busy_patience: Duration,
    /// Extra HTTP time beyond the snippet timeout (the service enforces the timeout itself).
    slack: Duration,
    /// Output cut asked of the service (its default, 1000, when unset).
    max_output_characters: Option<usize>,
}

impl SandboxClient {
    /// A client for the service at `base_url` (e.g. `http://127.0.0.1:6000`).
    pub fn new(base_url: &str) -> SandboxClient {
        let base = base_url.trim_end_matches('/').to_string();
        SandboxClient {
            http: reqwest::Client::new(),
            url: format!("{base}/execute"),
            base,
            busy_patience: Duration::from_secs(120),
            slack: Duration::from_secs(10),
            max_output_characters: None,
        }
    }

    /// Asks the service to cut outputs at `n` characters (NeMo-Skills'
    /// `max_code_output_characters`).
    pub fn with_max_output_characters(mut self, n: usize) -> SandboxClient {
        self.max_output_characters = Some(n);
        self
    }

    /// How long [`execute`](Self::execute) retries on 503 busy before giving up.
    pub fn with_busy_patience(mut self, patience: Duration) -> SandboxClient {
        self.busy_patience = patience;
        self
    }

    /// A new session id, unique within this process and very likely across processes.
    pub fn new_session_id() -> String {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        format!("{:x}-{:x}-{n:x}", std::process::id(), t)
    }

    /// Runs `code`, in `session` if given (its variables persist between calls; a failing
    /// snippet leaves the session as it was before it).
    ///
    /// Mappings as NeMo-Skills' client: HTTP 502 or an HTTP timeout → status `timeout` with
    /// stderr `"Timed out\n"`; an unparsable body → status `error` with stderr
    /// `"Unknown error"`. Connection errors are returned as `Err` (NeMo-Skills lets them
    /// propagate too). HTTP 503 (busy) is retried with backoff for the busy patience.
    pub async fn execute(
        &self,
        code: &str,
        timeout: Duration,
        session: Option<&str>,
    ) -> Result<ExecutionResult, SandboxError> {
        let mut body = serde_json::json!({
            "generated_code": code,
            "timeout": timeout.as_secs_f64(),
            "language": "python",
            "session_id": session,
        });
        if let Some(n) = self.max_output_characters {
            body["max_output_characters"] = n.into();
        }
        let started = std::time::Instant::now();
        let mut backoff = Duration::from_millis(50);
        loop {
            let sent = self
                .http
                .post(&self.url)
                .json(&body)
                .timeout(timeout + self.slack)
                .send()
                .await;
            let resp = match sent {
                Ok(r) => r,
                Err(e) if e.is_timeout() => return Ok(timed_out(session)),
                Err(source) => {
                    return Err(SandboxError::Http {
                        url: self.url.clone(),
                        source,
                    })
                }
            };
            let status = resp.status();
            if status == reqwest::StatusCode::BAD_GATEWAY {
                return Ok(timed_out(session));
            }
            let text = match resp.text().await {
                Ok(t) => t,
                Err(e) if e.is_timeout() => return Ok(timed_out(session)),
                Err(source) => {
                    return Err(SandboxError::Http {
                        url: self.url.clone(),
                        source,
                    })
                }
            };
            if status == reqwest::StatusCode::SERVICE_UNAVAILABLE {
                if started.elapsed() + backoff > self.busy_patience {
                    return Err(SandboxError::Busy {
                        url: self.url.clone(),
                        detail: text,
                    });
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(2));
                continue;
            }
            return Ok(match serde_json::from_str::<ExecutionResult>(&text) {
                Ok(mut r) => {
                    if r.session_id.is_none() {
                        r.session_id = session.map(str::to_string);
                    }
                    r
                }
                Err(_) => ExecutionResult {
                    process_status: ProcessStatus::Error,
                    stdout: String::new(),
                    stderr: "Unknown error".into(),
                    session_id: session.map(str::to_string),
                    new_session_created: false,
                },
            });
        }
    }
}

impl SandboxClient {
    /// Ends `session` now (`DELETE /sessions/<id>`), freeing its process on the service instead
    /// of leaving it to expire. `Ok(true)`: the service had it (live, or lost); `Ok(false)`: it
    /// did not (never created, already deleted or expired long ago) — for NeMo-Skills' client
    /// both mean done.
    pub async fn delete_session(&self, session: &str) -> Result<bool, SandboxError> {
        let mut url = reqwest::Url::parse(&self.base)
            .map_err(|e| SandboxError::Config(format!("sandbox URL {}: {e}", self.base)))?;
        url.path_segments_mut()
            .map_err(|()| SandboxError::Config(format!("sandbox URL {} has no path", self.base)))?
            .pop_if_empty()
            .extend(["sessions", session]);
        let shown = url.to_string();
        let resp = self
            .http
            .delete(url)
            .timeout(self.slack)
            .send()
            .await
            .map_err(|source| SandboxError::Http {
                url: shown.clone(),
                source,
            })?;
        match resp.status() {
            s if s.is_success() => Ok(true),
            reqwest::StatusCode::NOT_FOUND => Ok(false),
            s => Err(SandboxError::Status {
                url: shown,
                status: s.as_u16(),
                body: resp.text().await.unwrap_or_default(),
            }),
        }
    }
}

fn timed_out(session: Option<&str>) -> ExecutionResult {
    ExecutionResult {
        process_status: ProcessStatus::Timeout,
        stdout: String::new(),
        stderr: "Timed out\n".into(),
        session_id: session.map(str::to_string),
        new_session_created: false,
    }
}
