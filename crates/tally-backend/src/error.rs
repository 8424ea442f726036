//! Typed failures of a backend call.
//!
//! Every error names the URL involved and maps to one of three record statuses
//! ([`ErrorKind`]), so the engine can write `request_error` / `timeout` / `context_exceeded`
//! instead of an empty generation. No variant ever holds an API key: bodies quoted from a server
//! are scrubbed (see [`crate::ApiKey`]) and headers are never quoted.

use std::time::Duration;

use tally_core::Status;

use crate::breaker::Halted;

/// Which record status a failure becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// Connection errors, HTTP errors, unusable responses, bad configuration.
    RequestError,
    /// The request ran past its deadline.
    Timeout,
    /// The prompt does not fit the model's context, even with fewer new tokens.
    ContextExceeded,
}

impl ErrorKind {
    pub fn status(self) -> Status {
        match self {
            ErrorKind::RequestError => Status::RequestError,
            ErrorKind::Timeout => Status::Timeout,
            ErrorKind::ContextExceeded => Status::ContextExceeded,
        }
    }
}

/// A backend call that failed for good (after the retries the policy allows).
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error("cannot reach {url} after {attempts} attempt(s)")]
    Connect {
        url: String,
        attempts: u32,
        /// The transport's error: an I/O error from the built-in HTTP/1.1 client, or a
        /// `reqwest::Error` for URLs that go through reqwest (https, proxies).
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },

    #[error("{url} did not answer within {timeout:?} (attempt {attempts})")]
    Timeout {
        url: String,
        timeout: Duration,
        attempts: u32,
    },

    #[error("{url} answered HTTP {status} after {attempts} attempt(s): {body}")]
    Http {
        url: String,
        status: u16,
        attempts: u32,
        /// The start of the response body, API key scrubbed.
        body: String,
    },

    #[error("{url}: the prompt does not fit the model's context: {message}")]
    ContextExceeded { url: String, message: String },

    #[error("{url} sent an unusable response after {attempts} attempt(s): {reason}")]
    InvalidResponse {
        url: String,
        attempts: u32,
        reason: String,
    },

    #[error(
        "{url}: expected exactly one served model, found {found:?}; set the model name explicitly"
    )]
    ModelDiscovery { url: String, found: Vec<String> },

    #[error("{url}: {server} does not support {parameter}")]
    UnsupportedParameter {
        url: String,
        server: &'static str,
        parameter: String,
    },

    #[error("invalid backend configuration: {0}")]
    Config(String),

    /// Not sent, or given up between retries: the circuit breaker tripped (see
    /// [`crate::CircuitBreaker`]). The caller should not record it as the sample's result.
    #[error("not sent: {0}")]
    Halted(Halted),
}

impl BackendError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            BackendError::Timeout { .. } => ErrorKind::Timeout,
            BackendError::ContextExceeded { .. } => ErrorKind::ContextExceeded,
            _ => ErrorKind::RequestError,
        }
    }

    /// The record status this failure is written as.
    pub fn status(&self) -> Status {
        self.kind().status()
    }

    /// HTTP attempts made before giving up (0 when none was sent, e.g. a configuration error).
    pub fn attempts(&self) -> u32 {
        match self {
            BackendError::Connect { attempts, .. }
            | BackendError::Timeout { attempts, .. }
            | BackendError::Http { attempts, .. }
            | BackendError::InvalidResponse { attempts, .. } => *attempts,
            BackendError::ContextExceeded { .. } => 1,
            BackendError::ModelDiscovery { .. }
            | BackendError::UnsupportedParameter { .. }
            | BackendError::Config(_)
            | BackendError::Halted(_) => 0,
        }
    }

    /// The URL involved, if any.
    pub fn url(&self) -> Option<&str> {
        match self {
            BackendError::Connect { url, .. }
            | BackendError::Timeout { url, .. }
            | BackendError::Http { url, .. }
            | BackendError::ContextExceeded { url, .. }
            | BackendError::InvalidResponse { url, .. }
            | BackendError::ModelDiscovery { url, .. }
            | BackendError::UnsupportedParameter { url, .. } => Some(url),
            BackendError::Halted(h) => Some(&h.url),
            BackendError::Config(_) => None,
        }
    }

    /// Whether the request never got an answer because the backend stopped sending
    /// ([`BackendError::Halted`]): no result to record, a rerun sends it again.
    pub fn is_halted(&self) -> bool {
        matches!(self, BackendError::Halted(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map_to_record_statuses() {
        let t = BackendError::Timeout {
            url: "http://h/v1/completions".into(),
            timeout: Duration::from_secs(1),
            attempts: 1,
        };
        assert_eq!(t.status(), Status::Timeout);
        let c = BackendError::ContextExceeded {
            url: "u".into(),
            message: "m".into(),
        };
        assert_eq!(c.status(), Status::ContextExceeded);
        let h = BackendError::Http {
            url: "http://h/x".into(),
            status: 503,
            attempts: 4,
            body: "busy".into(),
        };
        assert_eq!(h.status(), Status::RequestError);
        assert!(h.to_string().contains("http://h/x"));
        assert!(h.to_string().contains("503"));
    }
}
