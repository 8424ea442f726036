//! The crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong starting or talking to the sandbox. Snippet failures are not
/// errors: they are [`crate::ExecutionResult`]s with a non-`completed` status.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// Neither bubblewrap nor the Landlock fallback works here, and `unsafe_no_isolation` is off.
    #[error(
        "no sandbox isolation is available ({reason}); run scripts/sandbox-setup.sh to install \
         bubblewrap, or set unsafe_no_isolation for development only"
    )]
    NoIsolation { reason: String },
    /// The requested isolation mode is not available.
    #[error("isolation mode {mode} is not available: {reason}")]
    IsolationUnavailable { mode: &'static str, reason: String },
    /// The sandbox's Python interpreter is missing.
    #[error("sandbox python {path} not found; run scripts/sandbox-setup.sh")]
    PythonMissing { path: PathBuf },
    /// The configuration is inconsistent.
    #[error("invalid sandbox configuration: {0}")]
    Config(String),
    /// The seccomp filter could not be compiled.
    #[error("could not build the seccomp filter: {0}")]
    Seccomp(String),
    /// The Landlock ruleset could not be built.
    #[error("could not build the Landlock ruleset: {0}")]
    Landlock(String),
    /// A file or process operation failed.
    #[error("I/O error while {what}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    /// A worker did not come up.
    #[error("sandbox worker {slot} failed to start: {reason}")]
    WorkerStart { slot: usize, reason: String },
    /// The HTTP server failed.
    #[error("sandbox HTTP server failed on {addr}")]
    Serve {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    /// The client could not reach the service (NeMo-Skills lets these propagate, too).
    #[error("sandbox request to {url} failed")]
    Http {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    /// The service answered with an unexpected HTTP status.
    #[error("sandbox request to {url} failed with HTTP {status}: {body}")]
    Status {
        url: String,
        status: u16,
        body: String,
    },
    /// The service kept answering 503 busy for longer than the client's patience.
    #[error("sandbox at {url} stayed busy: {detail}")]
    Busy { url: String, detail: String },
}

impl SandboxError {
    pub(crate) fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        SandboxError::Io {
            what: what.into(),
            source,
        }
    }
}
