//! The pre-flight check of [`Backend::check`](crate::Backend::check): is anything answering at
//! the server's URL? A few seconds at most when nothing is there, so a wrong `--server_address` is
//! one error naming the URL, not a run whose every request retries and fails. A server that takes
//! the connection but is too busy to answer within the first deadline (every HTTP worker held by
//! other clients' generations) is there: it gets a longer wait, not a failed run.

use std::time::Duration;

use serde_json::Value;

use super::{model_ids, AttemptError, Endpoint, OpenAiCompatBackend};
use crate::error::BackendError;
use crate::params::write_body;
use crate::request::{ChatMessage, Prompt, SamplingParams};
use crate::ServerType;

/// One attempt's deadline, connecting included (the configured connect timeout is longer).
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(4);
/// Attempts when the connection fails (a server that is just starting gets a second chance).
const ATTEMPTS: u32 = 2;
const PAUSE: Duration = Duration::from_millis(500);
// Worst case, nothing answering a connect: 2 × 4 s + 0.5 s, under 10 s.
/// The deadline of the one further attempt when a timed-out server still accepts connections
/// (shorter in unit tests, which wait it out).
const BUSY_TIMEOUT: Duration = if cfg!(test) {
    Duration::from_secs(8)
} else {
    Duration::from_secs(60)
};

impl OpenAiCompatBackend {
    /// `GET /v1/models`; where a server has no such endpoint (404/405) and the model is known,
    /// one completion of a single token instead. Any 2xx passes; no answer (refused, reset,
    /// timed out) or another HTTP error is returned as the error, naming the URL. A listing with
    /// exactly one model also settles the model name when none was configured.
    pub(super) async fn check_server(&self) -> Result<(), BackendError> {
        let inner = &*self.inner;
        let listing = self
            .check_attempts(&inner.models_url, None, &|b: &[u8], _| {
                serde_json::from_slice::<Value>(b)
            })
            .await;
        match listing {
            Ok(v) => {
                if let Ok([id]) = <[String; 1]>::try_from(model_ids(&v)) {
                    // Already set (configured or raced by discovery): keep that one.
                    let _ = inner.model.set(id);
                }
                Ok(())
            }
            Err(BackendError::Http {
                status: 404 | 405, ..
            }) => match inner.model.get() {
                Some(model) => self.check_with_one_token(model).await,
                // Without a model there is nothing to ask; model discovery reports it.
                None => Ok(()),
            },
            Err(e) => Err(e),
        }
    }

    async fn check_with_one_token(&self, model: &str) -> Result<(), BackendError> {
        let inner = &*self.inner;
        let (endpoint, prompt) = match inner.kind {
            ServerType::OpenAi => (
                &inner.chat_url,
                Prompt::Chat(vec![ChatMessage::user("1+1=")]),
            ),
            _ => (&inner.completions_url, Prompt::Text("1+1=".into())),
        };
        let params = SamplingParams {
            max_tokens: 1,
            ..SamplingParams::default()
        };
        let mut body = Vec::new();
        write_body(
            &mut body,
            inner.kind,
            model,
            &prompt,
            &params,
            inner.body_options,
            &endpoint.text,
        )?;
        self.check_attempts(endpoint, Some(&body), &|b: &[u8], _| {
            serde_json::from_slice::<serde::de::IgnoredAny>(b)
        })
        .await
        .map(|_| ())
    }

    /// Up to [`ATTEMPTS`] attempts, retrying a failed connection; a timed-out answer from a host
    /// that still accepts connections gets one more attempt with [`BUSY_TIMEOUT`].
    async fn check_attempts<T, P>(
        &self,
        endpoint: &Endpoint,
        body: Option<&[u8]>,
        parse: &P,
    ) -> Result<T, BackendError>
    where
        P: Fn(&[u8], u32) -> Result<T, serde_json::Error> + Sync,
    {
        let mut attempts = 0;
        let mut deadline = ATTEMPT_TIMEOUT;
        loop {
            attempts += 1;
            match self
                .attempt(endpoint, body, Some(deadline), attempts, parse)
                .await
            {
                Ok(v) => return Ok(v),
                Err(
                    AttemptError::Retryable {
                        error: BackendError::Timeout { .. },
                        ..
                    }
                    | AttemptError::Fatal(BackendError::Timeout { .. }),
                ) if deadline < BUSY_TIMEOUT && accepts_connections(endpoint).await => {
                    deadline = BUSY_TIMEOUT;
                }
                Err(AttemptError::Retryable {
                    error: BackendError::Connect { .. },
                    ..
                }) if attempts < ATTEMPTS => tokio::time::sleep(PAUSE).await,
                Err(AttemptError::Retryable { error, .. } | AttemptError::Fatal(error)) => {
                    return Err(error)
                }
                // A 4xx about the context length: the server is there and read the request.
                Err(AttemptError::ContextLength(_)) => {
                    return Err(BackendError::InvalidResponse {
                        url: endpoint.text.clone(),
                        attempts,
                        reason: "a one-token check request exceeded the context length".into(),
                    })
                }
            }
        }
    }
}

/// Whether a TCP connection to the endpoint's host and port opens within [`ATTEMPT_TIMEOUT`]:
/// tells a busy server (it listens, its answer is late) from an address where nothing answers.
async fn accepts_connections(endpoint: &Endpoint) -> bool {
    let url = &endpoint.parsed;
    let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) else {
        return false;
    };
    let connect = tokio::net::TcpStream::connect(format!("{host}:{port}"));
    matches!(
        tokio::time::timeout(ATTEMPT_TIMEOUT, connect).await,
        Ok(Ok(_))
    )
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use crate::{Backend, BackendError, OpenAiCompatBackend, ServerType};

    #[tokio::test]
    async fn nothing_listening_fails_fast_naming_the_url() {
        // A port that was free a moment ago: connections are refused.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("http://127.0.0.1:{port}/v1");
        let b = OpenAiCompatBackend::builder(&url, ServerType::Vllm)
            .build()
            .unwrap();
        let started = Instant::now();
        let err = b.check().await.unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(10));
        assert!(
            matches!(err, BackendError::Connect { attempts: 2, .. }),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .contains(&format!("http://127.0.0.1:{port}/v1/models")),
            "{err}"
        );
    }
}
