//! Tally's code-execution sandbox: a NeMo-Skills-compatible `/execute` service that runs
//! model-written Python in isolated, pre-warmed workers, with real stateful sessions.
//!
//! # Model
//!
//! * A [`SandboxService`] owns `workers` **slots**. Each slot is one long-lived worker: a
//!   bubblewrap sandbox started under an unprivileged uid of its own (never root inside or
//!   outside), with no network, only `/usr`, the venv and the fork-server bound
//!   read-only, a size-limited private `/tmp`, a seccomp filter (no sockets, no namespaces, no
//!   ptrace/mount/bpf/…) and rlimits (address space, processes, file size, open files).
//! * Inside, `forkserver.py` has imported sympy, numpy, scipy and mpmath (and warmed sympy's
//!   caches) once. Each stateless snippet runs in a freshly **forked child** in its own process
//!   group with a CPU rlimit; the wall-clock timeout kills the whole group.
//! * The uids are the service's alone: it leases a block of [`UID_BLOCK`] uids from
//!   `base_uid` up with an `flock`ed file under `uid_lease_dir` (`uid_lease.rs`), so several
//!   services on one machine never kill or rlimit each other's processes; a crashed service's
//!   lease is free at once (the lock died with it).
//! * A **session** (`session_id` in the request, or NeMo-Skills' `X-Session-ID` header) is a
//!   holder process inside one worker that owns the namespace. Each snippet runs in a child
//!   forked from the holder; if the snippet succeeds the child becomes the holder, otherwise it
//!   is discarded — the state is exactly what NeMo-Skills' client gets by re-running the history
//!   without failed snippets, without the re-running.
//! * Sessions end by `DELETE /sessions/<id>` (the holder is killed at once), after
//!   `session_idle_timeout` idle, or by eviction: at most `max_sessions` exist, and a new one
//!   beyond that evicts the least recently used idle session. A session whose state is gone
//!   (deleted sessions excepted: evicted, expired, its worker restarted, its holder died) answers
//!   `session_lost` — the code is not run — until it is deleted; it never comes back silently
//!   empty.
//! * The runtime directory (fork-server, seccomp programs) is removed when the service shuts
//!   down or is dropped; one left by a service that died is removed by the next start.
//! * At most `max_queue` requests wait or run; beyond that the service answers HTTP 503
//!   `{"process_status": "busy", …}` at once instead of falling over.
//! * Where bubblewrap or user namespaces are missing, workers are confined in-process (uid drop,
//!   Landlock, the same seccomp filters, rlimits); with neither, [`SandboxService::start`]
//!   refuses unless [`IsolationPolicy::UnsafeNoIsolation`] is chosen explicitly.
//!
//! # Output
//!
//! The snippet runs in IPython's `InteractiveShell` in Plain traceback mode (as NeMo-Skills'
//! wrapper does) when IPython is installed in the venv; stdout and stderr then go through
//! [`format::format_output`]: `Out[1]: ` removed, `strip()`, a 1000-character cut plus
//! `<output cut>`, ANSI escapes and `File <ipython-…` lines removed, `"\n"` appended.
//! A timeout answers `{"process_status": "timeout", "stdout": "", "stderr": "Timed out\n"}`.
//!
//! Statuses (NeMo-Skills only ever says `completed`, `error` or `timeout`):
//! `completed` (ran without an exception), `error` (an exception; the traceback is on stdout, as
//! in IPython), `timeout`, `memory_limit` (`MemoryError`, the address-space limit was hit),
//! `killed` (the snippet's process died from a signal, or took its worker or session down),
//! `session_lost` (the session's state is gone; `stderr` says why; the response also says
//! `new_session_created: true`, on which NeMo-Skills' newest client deletes the session and
//! replays its history).
//!
//! Differences from NeMo-Skills, on purpose: snippets that raise get status `error` instead of
//! `completed` (their text is identical); captured output is capped at `output_capture_bytes`
//! before formatting (only matters for output with more leading whitespace than the cap);
//! without IPython in the venv, a small emulation prints `Out[1]: repr(value)` (no IPython
//! pretty-printing) and tracebacks built from Python's `traceback` module (`File path:line, in f`
//! lines instead of IPython's `File path:line, in f()`).
//!
//! # Example
//!
//! It runs as a test against `scripts/sandbox-setup.sh`'s Python environment (and passes with a
//! note without it, except under `CI`):
//!
//! ```
//! use std::time::Duration;
//! use tally_sandbox::{SandboxClient, SandboxConfig, SandboxService, ProcessStatus};
//!
//! # let cache = std::env::var_os("TALLY_CACHE_DIR").map(std::path::PathBuf::from).unwrap_or_else(
//! #     || std::path::Path::new(&std::env::var_os("HOME").unwrap()).join(".cache/tally"));
//! let venv = SandboxConfig::venv_in(&cache); // made by scripts/sandbox-setup.sh
//! # if !venv.join("bin/python").exists() {
//! #     assert!(std::env::var_os("CI").is_none(), "CI: no sandbox venv at {}", venv.display());
//! #     eprintln!("NOTE: example not run: no sandbox venv at {}", venv.display());
//! #     return Ok(());
//! # }
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let service = SandboxService::start(SandboxConfig::new(venv)).await?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
//! let url = format!("http://{}", listener.local_addr().unwrap());
//! tokio::spawn(tally_sandbox::serve(service, listener, std::future::pending()));
//!
//! let client = SandboxClient::new(&url);
//! let session = SandboxClient::new_session_id();
//! client.execute("x = 21", Duration::from_secs(10), Some(&session)).await?;
//! let r = client.execute("x * 2", Duration::from_secs(10), Some(&session)).await?;
//! assert_eq!(r.process_status, ProcessStatus::Completed);
//! assert_eq!(r.stdout, "42\n");
//! # Ok::<(), tally_sandbox::SandboxError>(())
//! # })?;
//! # Ok::<(), tally_sandbox::SandboxError>(())
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

mod client;
mod error;
pub mod format;
mod isolation;
mod landlock_rules;
mod runtime_dir;
mod seccomp;
mod server;
mod service;
mod session;
mod uid_lease;
mod worker;

pub use client::SandboxClient;
pub use error::SandboxError;
pub use isolation::{probe, IsolationMode, IsolationPolicy};
pub use server::{router, serve};
pub use service::{Deleted, Health, Rejection, SandboxService, SandboxStopper};
pub use uid_lease::{UID_BLOCK, UID_BLOCKS};

/// The fork-server that runs inside each worker (written to `runtime_dir` at start).
pub const FORKSERVER_PY: &str = include_str!("forkserver.py");

/// The default address NeMo-Skills' sandbox listens on.
pub const DEFAULT_ADDR: &str = "127.0.0.1:6000";

/// How a snippet ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProcessStatus {
    /// Ran to the end without an exception.
    Completed,
    /// Raised an exception (or failed to parse); the traceback is in stdout.
    Error,
    /// Passed its wall-clock (or CPU) limit and was killed.
    Timeout,
    /// Ran out of address space (`MemoryError`).
    MemoryLimit,
    /// Died from a signal, or killed its worker or session holder.
    Killed,
    /// The service was too busy to take the request (HTTP 503).
    Busy,
    /// The session's state is gone (its worker restarted, it was evicted or expired, or its
    /// holder died); the code was not run. `stderr` says why. The session id keeps answering
    /// this until `DELETE /sessions/<id>`, after which it starts afresh.
    SessionLost,
}

/// A `/execute` request: NeMo-Skills' fields plus Tally's optional ones.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExecuteRequest {
    /// The Python code.
    pub generated_code: String,
    /// Wall-clock limit in seconds (default `default_timeout`, capped at `max_timeout`).
    #[serde(default)]
    pub timeout: Option<f64>,
    /// `"python"` (NeMo-Skills also knows `"lean4"`, which this service refuses).
    #[serde(default)]
    pub language: Option<String>,
    /// Keep Python state between calls with the same id.
    #[serde(default)]
    pub session_id: Option<String>,
    /// The output cut (default 1000 characters, as NeMo-Skills).
    #[serde(default)]
    pub max_output_characters: Option<usize>,
}

impl ExecuteRequest {
    /// A stateless request with the default timeout.
    pub fn new(code: impl Into<String>) -> ExecuteRequest {
        ExecuteRequest {
            generated_code: code.into(),
            timeout: None,
            language: Some("python".into()),
            session_id: None,
            max_output_characters: None,
        }
    }
}

/// A `/execute` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionResult {
    pub process_status: ProcessStatus,
    pub stdout: String,
    pub stderr: String,
    /// Echoed when the request had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// The request found no state to continue from: a session's first request, or a lost
    /// session (as NeMo-Skills' newest server says; its client then deletes the session and
    /// replays its history).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub new_session_created: bool,
}

/// Everything the service needs; [`SandboxConfig::new`] gives the defaults.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Where `serve` callers usually bind (the library does not bind by itself).
    pub listen: SocketAddr,
    /// The venv made by `scripts/sandbox-setup.sh` (must contain `bin/python`).
    pub venv: PathBuf,
    /// Where the fork-server and the seccomp programs are written (world-readable). Removed when
    /// the service shuts down; a directory left by a service that died is removed by the next
    /// one that starts in the same parent directory.
    pub runtime_dir: PathBuf,
    /// Where the per-instance uid leases are kept (host-wide; only used when running as root).
    pub uid_lease_dir: PathBuf,
    /// Number of worker slots (one per core is the measured sweet spot).
    pub workers: usize,
    /// Isolation choice.
    pub isolation: IsolationPolicy,
    /// Worker uids come from blocks of [`UID_BLOCK`] uids starting here; each service leases a
    /// block of its own (no passwd entries needed). Slot `i` runs as `block start + i`.
    pub base_uid: u32,
    /// `RLIMIT_AS` of each worker and snippet.
    pub memory_limit_bytes: u64,
    /// `RLIMIT_NPROC` of each slot uid (threads count too).
    pub max_processes: u64,
    /// `RLIMIT_FSIZE`.
    pub max_file_size_bytes: u64,
    /// Size of each worker's private `/tmp` tmpfs.
    pub tmp_size_bytes: u64,
    /// Most sessions alive at once (over all workers); a new one beyond that evicts the least
    /// recently used idle session (which then answers `session_lost`).
    pub max_sessions: usize,
    /// Sessions idle this long are dropped.
    pub session_idle_timeout: Duration,
    /// Most requests waiting or running; more get 503 busy.
    pub max_queue: usize,
    /// Timeout when the request has none.
    pub default_timeout: Duration,
    /// Upper bound on any request's timeout.
    pub max_timeout: Duration,
    /// Default output cut, in characters.
    pub max_output_characters: usize,
    /// Characters of each stream kept by the worker before formatting.
    pub output_capture_bytes: usize,
    /// A worker is restarted after this many snippets (when it holds no sessions).
    pub recycle_after: u64,
    /// How long a worker may take to import its libraries.
    pub worker_start_timeout: Duration,
}

impl SandboxConfig {
    /// Defaults around the venv at `venv`.
    pub fn new(venv: PathBuf) -> SandboxConfig {
        let workers = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        SandboxConfig {
            listen: DEFAULT_ADDR.parse().expect("valid default address"),
            venv,
            runtime_dir: runtime_dir::default_path(),
            uid_lease_dir: PathBuf::from("/run/tally-sandbox"),
            workers,
            isolation: IsolationPolicy::Auto,
            base_uid: 61000,
            memory_limit_bytes: 2 << 30,
            max_processes: 128,
            max_file_size_bytes: 16 << 20,
            tmp_size_bytes: 64 << 20,
            max_sessions: 1024,
            session_idle_timeout: Duration::from_secs(900),
            max_queue: 1024,
            default_timeout: Duration::from_secs(10),
            max_timeout: Duration::from_secs(120),
            max_output_characters: 1000,
            output_capture_bytes: 1 << 20,
            recycle_after: 10_000,
            worker_start_timeout: Duration::from_secs(90),
        }
    }

    /// The venv `scripts/sandbox-setup.sh` creates under a cache directory
    /// (`${TALLY_CACHE_DIR:-$HOME/.cache/tally}`, which the caller resolves).
    pub fn venv_in(cache_dir: &Path) -> PathBuf {
        cache_dir.join("sandbox-venv")
    }
}
