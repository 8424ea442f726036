//! The worker pool behind `/execute`: slot scheduling, the bounded queue, sessions, restarts.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use crate::format::format_output;
use crate::isolation::{self, IsolationMode, Launch};
use crate::session::SessionTable;
use crate::worker::{RawResult, Worker, WorkerFailure};
use crate::{ExecuteRequest, ExecutionResult, ProcessStatus, SandboxConfig, SandboxError};

/// Why a request was turned away (HTTP 503).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// More requests are queued than `max_queue`.
    QueueFull,
    /// `max_sessions` sessions exist and none has expired.
    TooManySessions,
}

impl Rejection {
    /// The text sent back in `stderr`.
    pub fn message(&self) -> &'static str {
        match self {
            Rejection::QueueFull => "Sandbox busy: request queue is full, retry later\n",
            Rejection::TooManySessions => "Sandbox busy: too many open sessions, retry later\n",
        }
    }
}

struct Slot {
    worker: Option<Worker>,
}

struct Inner {
    config: SandboxConfig,
    launch: Launch,
    slots: Vec<tokio::sync::Mutex<Slot>>,
    sessions: Mutex<SessionTable>,
    queue: Arc<Semaphore>,
    next: AtomicUsize,
    restarts: AtomicUsize,
}

/// A running pool of sandboxed workers. Cheap to clone; all clones share the pool.
#[derive(Clone)]
pub struct SandboxService {
    inner: Arc<Inner>,
}

/// A snapshot for `/health`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Health {
    pub status: &'static str,
    pub isolation: &'static str,
    pub workers: usize,
    pub sessions: usize,
    pub queued_or_running: usize,
    pub max_queue: usize,
    pub worker_restarts: usize,
}

impl SandboxService {
    /// Probes isolation, writes the fork-server and seccomp programs to `runtime_dir`, and starts
    /// every worker (each imports sympy/numpy/scipy/mpmath before it is ready).
    pub async fn start(config: SandboxConfig) -> Result<SandboxService, SandboxError> {
        if config.workers == 0 || config.max_queue == 0 {
            return Err(SandboxError::Config(
                "workers and max_queue must be at least 1".into(),
            ));
        }
        let python = config.venv.join("bin/python");
        if !python.exists() {
            return Err(SandboxError::PythonMissing { path: python });
        }
        let mode = isolation::probe(&config)?;
        if mode == IsolationMode::Unsafe {
            tracing::warn!("tally-sandbox runs WITHOUT isolation: model code can touch this host");
        }
        let launch = write_runtime(&config, mode, python)?;
        let slots = (0..config.workers)
            .map(|_| tokio::sync::Mutex::new(Slot { worker: None }))
            .collect();
        let inner = Arc::new(Inner {
            queue: Arc::new(Semaphore::new(config.max_queue)),
            config,
            launch,
            slots,
            sessions: Mutex::new(SessionTable::default()),
            next: AtomicUsize::new(0),
            restarts: AtomicUsize::new(0),
        });
        // Start the workers in parallel; any failure fails the start.
        let mut starts = Vec::new();
        for slot in 0..inner.slots.len() {
            let inner = inner.clone();
            starts.push(tokio::spawn(async move {
                let w = Worker::start(&inner.launch, &inner.config, slot).await?;
                inner.slots[slot].lock().await.worker = Some(w);
                Ok::<(), SandboxError>(())
            }));
        }
        for s in starts {
            s.await.map_err(|e| SandboxError::WorkerStart {
                slot: 0,
                reason: e.to_string(),
            })??;
        }
        tokio::spawn(expire_sessions(Arc::downgrade(&inner)));
        Ok(SandboxService { inner })
    }

    /// The isolation the workers run under.
    pub fn isolation(&self) -> &IsolationMode {
        &self.inner.launch.mode
    }

    /// The configuration the service was started with.
    pub fn config(&self) -> &SandboxConfig {
        &self.inner.config
    }

    /// Current counters.
    pub fn health(&self) -> Health {
        let inner = &self.inner;
        Health {
            status: "ok",
            isolation: inner.launch.mode.name(),
            workers: inner.slots.len(),
            sessions: inner.sessions.lock().expect("session lock").len(),
            queued_or_running: inner.config.max_queue - inner.queue.available_permits(),
            max_queue: inner.config.max_queue,
            worker_restarts: inner.restarts.load(Ordering::Relaxed),
        }
    }

    /// Runs one request; `Err` means it was rejected (busy) without running.
    pub async fn execute(&self, req: &ExecuteRequest) -> Result<ExecutionResult, Rejection> {
        let inner = &self.inner;
        let _permit = inner
            .queue
            .clone()
            .try_acquire_owned()
            .map_err(|_| Rejection::QueueFull)?;
        if let Some(lang) = req.language.as_deref() {
            if lang != "python" && lang != "ipython" {
                return Ok(ExecutionResult {
                    process_status: ProcessStatus::Error,
                    stdout: String::new(),
                    stderr: format!("Unsupported language: {lang}\n"),
                    session_id: req.session_id.clone(),
                });
            }
        }
        let timeout = req
            .timeout
            .filter(|t| t.is_finite() && *t > 0.0)
            .map(Duration::from_secs_f64)
            .unwrap_or(inner.config.default_timeout)
            .min(inner.config.max_timeout);
        let max_chars = req
            .max_output_characters
            .unwrap_or(inner.config.max_output_characters);
        let session = req.session_id.as_deref().filter(|s| !s.is_empty());

        let slot = match session {
            Some(id) => {
                let mut table = inner.sessions.lock().expect("session lock");
                let now = Instant::now();
                match table.place(id, inner.slots.len(), inner.config.max_sessions, now) {
                    Ok(s) => s,
                    Err(_) => {
                        drop(table);
                        return Err(Rejection::TooManySessions);
                    }
                }
            }
            None => self.pick_free_slot(),
        };
        let raw = self
            .run_on(slot, &req.generated_code, timeout, session)
            .await;
        if let Some(id) = session {
            inner
                .sessions
                .lock()
                .expect("session lock")
                .touch(id, Instant::now());
        }
        Ok(finish(
            raw,
            max_chars,
            session.is_none(),
            req.session_id.clone(),
        ))
    }

    /// Drops a session's state now (instead of waiting for it to expire).
    pub async fn close_session(&self, id: &str) {
        let slot = self.inner.sessions.lock().expect("session lock").remove(id);
        if let Some(slot) = slot {
            let mut guard = self.inner.slots[slot].lock().await;
            if let Some(w) = guard.worker.as_mut() {
                if w.close_session(id).await.is_err() {
                    guard.worker = None;
                }
            }
        }
    }

    /// Kills every worker. Also happens when the last clone is dropped.
    pub async fn shutdown(&self) {
        for slot in &self.inner.slots {
            slot.lock().await.worker = None;
        }
    }

    fn pick_free_slot(&self) -> usize {
        let n = self.inner.slots.len();
        let start = self.inner.next.fetch_add(1, Ordering::Relaxed) % n;
        (0..n)
            .map(|i| (start + i) % n)
            .find(|&s| self.inner.slots[s].try_lock().is_ok())
            .unwrap_or(start)
    }

    async fn run_on(
        &self,
        slot: usize,
        code: &str,
        timeout: Duration,
        session: Option<&str>,
    ) -> RawResult {
        let inner = &self.inner;
        let mut guard = inner.slots[slot].lock().await;
        if guard.worker.is_none() {
            match Worker::start(&inner.launch, &inner.config, slot).await {
                Ok(w) => guard.worker = Some(w),
                Err(e) => {
                    tracing::error!("restarting sandbox worker {slot}: {e}");
                    return RawResult {
                        status: ProcessStatus::Error,
                        stdout: String::new(),
                        stderr: format!("Sandbox worker unavailable: {e}\n"),
                    };
                }
            }
        }
        let worker = guard.worker.as_mut().expect("worker present");
        let result = worker.run(code, timeout, session).await;
        let recycle = worker.served >= inner.config.recycle_after;
        match result {
            Ok(raw) => {
                if recycle && self.slot_has_no_sessions(slot) {
                    guard.worker = None; // restarted lazily by the next request
                }
                raw
            }
            Err(failure) => {
                // The worker is in an unknown state: kill it (and its sessions) and start afresh.
                guard.worker = None;
                inner.restarts.fetch_add(1, Ordering::Relaxed);
                let lost = inner
                    .sessions
                    .lock()
                    .expect("session lock")
                    .forget_slot(slot);
                tracing::warn!(
                    slot,
                    lost_sessions = lost,
                    "sandbox worker failed: {failure:?}"
                );
                match failure {
                    WorkerFailure::Hung => RawResult {
                        status: ProcessStatus::Timeout,
                        stdout: String::new(),
                        stderr: "Timed out\n".into(),
                    },
                    WorkerFailure::Died(_) => RawResult {
                        status: ProcessStatus::Killed,
                        stdout: String::new(),
                        stderr: "Sandbox process was killed; its state is lost\n".into(),
                    },
                }
            }
        }
    }

    fn slot_has_no_sessions(&self, _slot: usize) -> bool {
        // Recycling a worker loses its sessions, so only idle-of-sessions workers are recycled.
        let table = self.inner.sessions.lock().expect("session lock");
        table.len() == 0
    }
}

/// Applies NeMo-Skills' formatting, or passes a NeMo-Skills wrapper program's own JSON through.
fn finish(
    raw: RawResult,
    max_chars: usize,
    stateless: bool,
    session_id: Option<String>,
) -> ExecutionResult {
    if stateless && raw.status == ProcessStatus::Completed && raw.stderr.is_empty() {
        // NeMo-Skills' own client sends a wrapper that prints its result as one JSON object;
        // its server returns that text as the body. Do the same so that client works unchanged.
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(raw.stdout.trim()) {
            if let (Some(status), Some(out), Some(err)) = (
                v.get("process_status").and_then(|s| s.as_str()),
                v.get("stdout").and_then(|s| s.as_str()),
                v.get("stderr").and_then(|s| s.as_str()),
            ) {
                if let Ok(process_status) =
                    serde_json::from_value(serde_json::Value::String(status.to_string()))
                {
                    return ExecutionResult {
                        process_status,
                        stdout: out.to_string(),
                        stderr: err.to_string(),
                        session_id,
                    };
                }
            }
        }
    }
    let (stdout, stderr) = match raw.status {
        ProcessStatus::Timeout => (String::new(), "Timed out\n".to_string()),
        _ => (
            format_output(&raw.stdout, max_chars),
            format_output(&raw.stderr, max_chars),
        ),
    };
    ExecutionResult {
        process_status: raw.status,
        stdout,
        stderr,
        session_id,
    }
}

async fn expire_sessions(inner: Weak<Inner>) {
    loop {
        let period = match inner.upgrade() {
            Some(i) => (i.config.session_idle_timeout / 4)
                .clamp(Duration::from_millis(100), Duration::from_secs(30)),
            None => return,
        };
        tokio::time::sleep(period).await;
        let Some(inner) = inner.upgrade() else {
            return;
        };
        let old = inner
            .sessions
            .lock()
            .expect("session lock")
            .expire(inner.config.session_idle_timeout, Instant::now());
        for (id, slot) in old {
            let mut guard = inner.slots[slot].lock().await;
            if let Some(w) = guard.worker.as_mut() {
                if w.close_session(&id).await.is_err() {
                    guard.worker = None;
                }
            }
        }
    }
}

/// Writes the fork-server and the seccomp programs where the sandbox uids can read them.
fn write_runtime(
    config: &SandboxConfig,
    mode: IsolationMode,
    python: std::path::PathBuf,
) -> Result<Launch, SandboxError> {
    use std::os::unix::fs::PermissionsExt;
    let dir = &config.runtime_dir;
    std::fs::create_dir_all(dir)
        .map_err(|e| SandboxError::io(format!("creating {}", dir.display()), e))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| SandboxError::io(format!("chmod {}", dir.display()), e))?;
    let write = |name: &str, bytes: &[u8]| -> Result<std::path::PathBuf, SandboxError> {
        let path = dir.join(name);
        std::fs::write(&path, bytes)
            .map_err(|e| SandboxError::io(format!("writing {}", path.display()), e))?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644))
            .map_err(|e| SandboxError::io(format!("chmod {}", path.display()), e))?;
        Ok(path)
    };
    let script = write("forkserver.py", crate::FORKSERVER_PY.as_bytes())?;
    let seccomp = crate::seccomp::build()?;
    let mut seccomp_files = Vec::new();
    for (i, bytes) in seccomp.as_bytes().iter().enumerate() {
        seccomp_files.push(write(&format!("seccomp-{i}.bpf"), bytes)?);
    }
    Ok(Launch {
        mode,
        venv: config.venv.clone(),
        python,
        script,
        runtime_dir: dir.clone(),
        seccomp_files,
        seccomp,
    })
}
