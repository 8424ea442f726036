//! What can go wrong when starting, checking or stopping a server or a conversion tool.

use std::path::PathBuf;
use std::time::Duration;

/// Every failure names the program, port, URL or file involved; failures of a started process
/// carry the tail of its log, because that is where the reason is (a CUDA error, a missing
/// module, a port already taken).
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    /// The spec cannot be turned into a command (e.g. multi-node vLLM, zero GPUs).
    #[error("invalid server or conversion settings: {0}")]
    InvalidSpec(String),

    #[error("cannot split {input:?} into shell words: {reason}")]
    ShellSyntax { input: String, reason: &'static str },

    /// The program is not on `PATH` (or the given path is not an executable file).
    #[error("`{program}` was not found; {hint}")]
    ProgramNotFound { program: String, hint: String },

    /// The Python interpreter runs but cannot import the server's package.
    #[error("the Python module `{module}` is not importable by `{python}`; {hint}")]
    PythonModuleMissing {
        python: String,
        module: String,
        hint: String,
    },

    /// A file the tools need (e.g. TensorRT-LLM's `convert_checkpoint.py`) does not exist.
    #[error("{what} not found at {}; {hint}", path.display())]
    FileNotFound {
        what: &'static str,
        path: PathBuf,
        hint: String,
    },

    /// Something already listens on the port: a health check would talk to it instead.
    #[error("port {port} is already in use; pick another port (or a free one with `free_port()`)")]
    PortInUse { port: u16 },

    #[error("cannot start `{program}`: {source}")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },

    #[error("cannot open the log file {}: {source}", path.display())]
    Log {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The process ended before it became healthy.
    #[error("`{program}` exited ({status}) before it became healthy; log {}:\n{log_tail}", log_path.display())]
    ExitedEarly {
        program: String,
        status: String,
        log_path: PathBuf,
        log_tail: String,
    },

    /// The server did not answer its health check in time; it has been stopped.
    #[error("`{program}` was not healthy at {url} after {waited:?} (stopped it); log {}:\n{log_tail}", log_path.display())]
    HealthTimeout {
        program: String,
        url: String,
        waited: Duration,
        log_path: PathBuf,
        log_tail: String,
    },

    /// A conversion step ran and failed.
    #[error("conversion step {step} (`{program}`) failed ({status}); log {}:\n{log_tail}", log_path.display())]
    StepFailed {
        step: String,
        program: String,
        status: String,
        log_path: PathBuf,
        log_tail: String,
    },

    /// Copying files (the tokenizer, after `trtllm-build`) failed.
    #[error("cannot copy {} to {}: {source}", from.display(), to.display())]
    Copy {
        from: PathBuf,
        to: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// Signalling or waiting on the process group failed.
    #[error("cannot stop process group {pgid}: {source}")]
    Stop {
        pgid: i32,
        #[source]
        source: std::io::Error,
    },
}

pub type Result<T, E = LaunchError> = std::result::Result<T, E>;
