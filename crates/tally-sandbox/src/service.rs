//! The worker pool behind `/execute`: slot scheduling, the bounded queue, sessions (placement,
//! eviction, expiry, deletion, loss), restarts, and the service's runtime files.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use crate::format::format_output;
use crate::isolation::{self, IsolationMode, Launch};
use crate::runtime_dir::RuntimeDir;
use crate::session::{Closed, LostReason, Placement, SessionTable};
use crate::uid_lease::UidLease;
use crate::worker::{RawResult, Worker, WorkerFailure, WorkerSession};
use crate::{ExecuteRequest, ExecutionResult, ProcessStatus, SandboxConfig, SandboxError};

/// Longest session id accepted (ids are kept in memory, also after their session is lost).
pub const MAX_SESSION_ID_BYTES: usize = 256;

/// Why a request was turned away (HTTP 503).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// More requests are queued than `max_queue`.
    QueueFull,
    /// `max_sessions` sessions exist and every one has a request in flight.
    TooManySessions,
}

impl Rejection {
    /// The text sent back in `stderr`.
    pub fn message(&self) -> &'static str {
        match self {
            Rejection::QueueFull => "Sandbox busy: request queue is full, retry later\n",
            Rejection::TooManySessions => {
                "Sandbox busy: every session slot has a request in flight, retry later\n"
            }
        }
    }
}

/// What [`SandboxService::delete_session`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deleted {
    /// A live session: its state is dropped (its holder process is killed as soon as its worker
    /// is free, normally at once).
    Closed,
    /// The session had already been lost; its `session_lost` answer is forgotten.
    WasLost,
    /// No such session.
    NotFound,
}

struct Slot {
    worker: Option<Worker>,
}

struct Inner {
    config: SandboxConfig,
    launch: Launch,
    slots: Vec<tokio::sync::Mutex<Slot>>,
    /// Each slot's worker pid (0 when none), readable without waiting for the slot.
    pids: Vec<AtomicU32>,
    sessions: Mutex<SessionTable>,
    queue: Arc<Semaphore>,
    next: AtomicUsize,
    restarts: AtomicUsize,
    stopping: AtomicBool,
    runtime: Mutex<RuntimeDir>,
}

/// A running pool of sandboxed workers. Cheap to clone; all clones share the pool.
#[derive(Clone)]
pub struct SandboxService {
    inner: Arc<Inner>,
}

/// Stops a service without keeping it alive ([`SandboxService::stopper`]): for a process that
/// must clean up before exiting without running destructors.
#[derive(Clone)]
pub struct SandboxStopper {
    inner: Weak<Inner>,
}

impl SandboxStopper {
    /// [`SandboxService::shutdown`], if the service still exists.
    pub async fn stop(&self) {
        if let Some(inner) = self.inner.upgrade() {
            SandboxService { inner }.shutdown().await;
        }
    }
}

/// A snapshot for `/health`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Health {
    pub status: &'static str,
    pub isolation: &'static str,
    pub workers: usize,
    /// Live sessions (each is one holder process in a worker).
    pub sessions: usize,
    pub max_sessions: usize,
    /// Lost sessions still answered `session_lost` (until deleted).
    pub lost_sessions: usize,
    pub sessions_deleted: u64,
    pub sessions_evicted: u64,
    pub sessions_expired: u64,
    /// Sessions lost because their worker died or hung and was restarted.
    pub sessions_lost_to_restarts: u64,
    /// Sessions lost because their holder process died.
    pub sessions_lost_holders: u64,
    pub queued_or_running: usize,
    pub max_queue: usize,
    pub worker_restarts: usize,
    /// The uids this instance's workers run as (`[first, last]`), when it switches uids.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worker_uids: Option<[u32; 2]>,
}

impl SandboxService {
    /// Leases worker uids, probes isolation, writes the fork-server and seccomp programs to
    /// `runtime_dir` (removing runtime directories of dead services first), and starts every
    /// worker (each imports sympy/numpy/scipy/mpmath before it is ready).
    pub async fn start(config: SandboxConfig) -> Result<SandboxService, SandboxError> {
        if config.workers == 0 || config.max_queue == 0 || config.max_sessions == 0 {
            return Err(SandboxError::Config(
                "workers, max_queue and max_sessions must be at least 1".into(),
            ));
        }
        let python = config.venv.join("bin/python");
        if !python.exists() {
            return Err(SandboxError::PythonMissing { path: python });
        }
        let uids = if unsafe { libc::geteuid() } == 0 {
            Some(UidLease::acquire(
                &config.uid_lease_dir,
                config.base_uid,
                config.workers as u32,
            )?)
        } else {
            None
        };
        let mode = isolation::probe_as(&config, uids.as_ref().map(|l| l.uid(0)))?;
        if mode == IsolationMode::Unsafe {
            tracing::warn!("tally-sandbox runs WITHOUT isolation: model code can touch this host");
        }
        let runtime = RuntimeDir::create(&config.runtime_dir)?;
        let launch = write_runtime(&config, mode, python, uids, runtime.path())?;
        let slots = (0..config.workers)
            .map(|_| tokio::sync::Mutex::new(Slot { worker: None }))
            .collect();
        let inner = Arc::new(Inner {
            queue: Arc::new(Semaphore::new(config.max_queue)),
            sessions: Mutex::new(SessionTable::new(config.workers, config.max_sessions)),
            pids: (0..config.workers).map(|_| AtomicU32::new(0)).collect(),
            config,
            launch,
            slots,
            next: AtomicUsize::new(0),
            restarts: AtomicUsize::new(0),
            stopping: AtomicBool::new(false),
            runtime: Mutex::new(runtime),
        });
        // Start the workers in parallel; any failure fails the start (and `inner`'s drop kills
        // the ones that did start and removes the runtime directory).
        let mut starts = Vec::new();
        for slot in 0..inner.slots.len() {
            let inner = inner.clone();
            starts.push(tokio::spawn(async move {
                let w = Worker::start(&inner.launch, &inner.config, slot).await?;
                let mut guard = inner.slots[slot].lock().await;
                inner.set_worker(slot, &mut guard, Some(w));
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

    /// A handle that can shut the service down but does not keep it alive.
    pub fn stopper(&self) -> SandboxStopper {
        SandboxStopper {
            inner: Arc::downgrade(&self.inner),
        }
    }

    /// The isolation the workers run under.
    pub fn isolation(&self) -> &IsolationMode {
        &self.inner.launch.mode
    }

    /// The configuration the service was started with.
    pub fn config(&self) -> &SandboxConfig {
        &self.inner.config
    }

    /// The process id of each slot's worker (bubblewrap's, or the fork-server's), `None` while
    /// a slot has none. Every process a worker runs (session holders included) descends from it.
    pub fn worker_pids(&self) -> Vec<Option<u32>> {
        self.inner
            .pids
            .iter()
            .map(|p| Some(p.load(Ordering::Relaxed)).filter(|&p| p != 0))
            .collect()
    }

    /// Current counters.
    pub fn health(&self) -> Health {
        let inner = &self.inner;
        let table = inner.sessions.lock().expect("session lock");
        let c = table.counters;
        Health {
            status: "ok",
            isolation: inner.launch.mode.name(),
            workers: inner.slots.len(),
            sessions: table.len(),
            max_sessions: inner.config.max_sessions,
            lost_sessions: table.lost_len(),
            sessions_deleted: c.closed,
            sessions_evicted: c.evicted,
            sessions_expired: c.expired,
            sessions_lost_to_restarts: c.lost_to_restarts,
            sessions_lost_holders: c.holders_died,
            queued_or_running: inner.config.max_queue - inner.queue.available_permits(),
            max_queue: inner.config.max_queue,
            worker_restarts: inner.restarts.load(Ordering::Relaxed),
            worker_uids: inner.launch.uids.as_ref().map(|l| {
                let r = l.range();
                [r.start, r.end - 1]
            }),
        }
    }

    /// Runs one request; `Err` means it was rejected (busy) without running. The work runs in a
    /// task of its own, so a caller that gives up (an HTTP client that disconnects) never leaves
    /// a worker half-way through a request.
    pub async fn execute(&self, req: &ExecuteRequest) -> Result<ExecutionResult, Rejection> {
        let permit = self
            .inner
            .queue
            .clone()
            .try_acquire_owned()
            .map_err(|_| Rejection::QueueFull)?;
        let this = self.clone();
        let session_id = req.session_id.clone();
        let req = req.clone();
        let task = tokio::spawn(async move {
            let _permit = permit;
            this.execute_now(&req).await
        });
        match task.await {
            Ok(r) => r,
            Err(e) => Ok(ExecutionResult {
                process_status: ProcessStatus::Error,
                stdout: String::new(),
                stderr: format!("Sandbox internal error: {e}\n"),
                session_id,
                new_session_created: false,
            }),
        }
    }

    async fn execute_now(&self, req: &ExecuteRequest) -> Result<ExecutionResult, Rejection> {
        let inner = &self.inner;
        let session = req.session_id.as_deref().filter(|s| !s.is_empty());
        let refuse = |text: String| {
            Ok(ExecutionResult {
                process_status: ProcessStatus::Error,
                stdout: String::new(),
                stderr: text,
                session_id: req.session_id.clone(),
                new_session_created: false,
            })
        };
        if let Some(lang) = req.language.as_deref() {
            if lang != "python" && lang != "ipython" {
                return refuse(format!("Unsupported language: {lang}\n"));
            }
        }
        if session.is_some_and(|s| s.len() > MAX_SESSION_ID_BYTES) {
            return refuse(format!(
                "Session id longer than {MAX_SESSION_ID_BYTES} bytes\n"
            ));
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

        let Some(id) = session else {
            let slot = self.pick_free_slot();
            let raw = self.run_on(slot, &req.generated_code, timeout, None).await;
            return Ok(finish(raw, max_chars, true, None, false));
        };
        let placement = inner.sessions.lock().expect("session lock").begin(
            id,
            inner.config.max_sessions,
            Instant::now(),
        );
        let (slot, key, create) = match placement {
            Placement::Lost(reason) => return Ok(lost(id, reason)),
            Placement::Full => return Err(Rejection::TooManySessions),
            Placement::Run {
                slot,
                key,
                create,
                evicted,
            } => {
                if let Some((s, k)) = evicted {
                    tracing::warn!(
                        max_sessions = inner.config.max_sessions,
                        "sandbox session table full: evicted the least recently used session \
                         (raise --max-sessions to at least the number of samples in flight)"
                    );
                    self.close_later(s, k);
                }
                (slot, key, create)
            }
        };
        let raw = self
            .run_on(
                slot,
                &req.generated_code,
                timeout,
                Some(WorkerSession { key, create }),
            )
            .await;
        let mut table = inner.sessions.lock().expect("session lock");
        let live = table.end(id, key, Instant::now());
        if raw.status == ProcessStatus::SessionLost {
            let reason = table.lost_on_worker(id, key);
            return Ok(lost(id, reason));
        }
        drop(table);
        if !live {
            // Deleted, evicted or lost while this request ran: its holder must not linger.
            self.close_later(slot, key);
        }
        Ok(finish(raw, max_chars, false, Some(id.to_string()), create))
    }

    /// Ends a session now (`DELETE /sessions/<id>`): it is forgotten at once and its holder
    /// process is killed as soon as its worker is free.
    pub async fn delete_session(&self, id: &str) -> Deleted {
        let closed = self.inner.sessions.lock().expect("session lock").close(id);
        match closed {
            Closed::Live { slot, key } => {
                self.close_later(slot, key);
                Deleted::Closed
            }
            Closed::Lost(_) => Deleted::WasLost,
            Closed::Unknown => Deleted::NotFound,
        }
    }

    /// Same as [`delete_session`](Self::delete_session), ignoring what it found.
    pub async fn close_session(&self, id: &str) {
        self.delete_session(id).await;
    }

    /// Kills every worker and removes the runtime directory; later requests fail. Also happens
    /// when the last clone is dropped.
    pub async fn shutdown(&self) {
        let inner = &self.inner;
        inner.stopping.store(true, Ordering::SeqCst);
        // Kill first, without waiting for the slots: a running snippet then ends at once.
        for (slot, pid) in inner.pids.iter().enumerate() {
            let pid = pid.load(Ordering::Relaxed);
            if pid != 0 {
                unsafe {
                    libc::killpg(pid as i32, libc::SIGKILL);
                }
            }
            if let Some(l) = &inner.launch.uids {
                isolation::kill_uid(l.uid(slot));
            }
        }
        for slot in 0..inner.slots.len() {
            let mut guard = inner.slots[slot].lock().await;
            inner.set_worker(slot, &mut guard, None);
        }
        inner.runtime.lock().expect("runtime lock").remove();
    }

    fn pick_free_slot(&self) -> usize {
        let n = self.inner.slots.len();
        let start = self.inner.next.fetch_add(1, Ordering::Relaxed) % n;
        (0..n)
            .map(|i| (start + i) % n)
            .find(|&s| self.inner.slots[s].try_lock().is_ok())
            .unwrap_or(start)
    }

    /// Closes session `key` on `slot` in the background (the slot may be busy with a snippet).
    fn close_later(&self, slot: usize, key: u64) {
        let inner = self.inner.clone();
        tokio::spawn(async move {
            let mut guard = inner.slots[slot].lock().await;
            if let Some(w) = guard.worker.as_mut() {
                if let Err(failure) = w.close_session(key).await {
                    inner.lose_worker(slot, &mut guard, &failure);
                }
            }
        });
    }

    async fn run_on(
        &self,
        slot: usize,
        code: &str,
        timeout: Duration,
        session: Option<WorkerSession>,
    ) -> RawResult {
        let inner = &self.inner;
        let mut guard = inner.slots[slot].lock().await;
        if inner.stopping.load(Ordering::SeqCst) {
            return RawResult {
                status: ProcessStatus::Error,
                stdout: String::new(),
                stderr: "Sandbox is shutting down\n".into(),
            };
        }
        if guard.worker.is_none() {
            match Worker::start(&inner.launch, &inner.config, slot).await {
                Ok(w) => inner.set_worker(slot, &mut guard, Some(w)),
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
                // Recycling a worker would lose its sessions: only a worker holding none is.
                let holds_none = inner.sessions.lock().expect("session lock").load(slot) == 0;
                if recycle && holds_none {
                    inner.set_worker(slot, &mut guard, None); // restarted by the next request
                }
                raw
            }
            Err(failure) => {
                inner.lose_worker(slot, &mut guard, &failure);
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
}

impl Inner {
    fn set_worker(&self, slot: usize, guard: &mut Slot, worker: Option<Worker>) {
        let pid = worker.as_ref().and_then(Worker::pid).unwrap_or(0);
        guard.worker = worker; // dropping the old one kills it
        self.pids[slot].store(pid, Ordering::Relaxed);
    }

    /// The worker is in an unknown state: kill it (and with it every session it held; those
    /// answer `session_lost` from now on). The next request of the slot starts a fresh one.
    fn lose_worker(&self, slot: usize, guard: &mut Slot, failure: &WorkerFailure) {
        self.set_worker(slot, guard, None);
        self.restarts.fetch_add(1, Ordering::Relaxed);
        let lost = self
            .sessions
            .lock()
            .expect("session lock")
            .forget_slot(slot);
        tracing::warn!(
            slot,
            lost_sessions = lost,
            "sandbox worker failed: {failure:?}"
        );
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Workers first (their processes may still use the runtime files), then the files.
        for (slot, s) in self.slots.iter_mut().enumerate() {
            s.get_mut().worker = None;
            self.pids[slot].store(0, Ordering::Relaxed);
        }
        if let Ok(mut r) = self.runtime.lock() {
            r.remove();
        }
    }
}

/// The answer for a request on a lost session (the code was not run).
fn lost(id: &str, reason: LostReason) -> ExecutionResult {
    ExecutionResult {
        process_status: ProcessStatus::SessionLost,
        stdout: String::new(),
        stderr: format!(
            "Sandbox session {id} was lost: {}. Its variables and imports are gone and this code \
             was not run; start a new session (or DELETE /sessions/{id} and run its history \
             again).\n",
            reason.describe()
        ),
        session_id: Some(id.to_string()),
        new_session_created: true,
    }
}

/// Applies NeMo-Skills' formatting, or passes a NeMo-Skills wrapper program's own JSON through.
fn finish(
    raw: RawResult,
    max_chars: usize,
    stateless: bool,
    session_id: Option<String>,
    new_session_created: bool,
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
                        new_session_created,
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
        new_session_created,
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
        if inner.stopping.load(Ordering::SeqCst) {
            return;
        }
        let old = inner
            .sessions
            .lock()
            .expect("session lock")
            .expire(inner.config.session_idle_timeout, Instant::now());
        let service = SandboxService {
            inner: inner.clone(),
        };
        for (slot, key) in old {
            service.close_later(slot, key);
        }
    }
}

/// Writes the fork-server and the seccomp programs where the sandbox uids can read them.
fn write_runtime(
    config: &SandboxConfig,
    mode: IsolationMode,
    python: std::path::PathBuf,
    uids: Option<UidLease>,
    dir: &std::path::Path,
) -> Result<Launch, SandboxError> {
    use std::os::unix::fs::PermissionsExt;
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
        uids,
        venv: config.venv.clone(),
        python,
        script,
        runtime_dir: dir.to_path_buf(),
        seccomp_files,
        seccomp,
    })
}
