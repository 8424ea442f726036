//! One worker slot: a sandboxed fork-server process and the JSON-lines protocol to it
//! (described at the top of `forkserver.py`).

use std::time::Duration;

use serde::Deserialize;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{ChildStdin, ChildStdout};

use crate::isolation::{kill_uid, Launch};
use crate::{ProcessStatus, SandboxConfig, SandboxError};

/// The fork-server's answer before output formatting.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct RawResult {
    pub(crate) status: ProcessStatus,
    #[serde(default)]
    pub(crate) stdout: String,
    #[serde(default)]
    pub(crate) stderr: String,
}

/// A session as its worker knows it: the service's unique key, and whether it is new.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WorkerSession {
    pub(crate) key: u64,
    pub(crate) create: bool,
}

/// How a worker failed a request (it is then killed and restarted).
#[derive(Debug)]
pub(crate) enum WorkerFailure {
    /// No answer within the snippet timeout plus grace.
    Hung,
    /// The process died or spoke nonsense (e.g. the snippet killed the fork-server).
    /// The text is read through `Debug` in the log line.
    #[allow(dead_code)]
    Died(String),
}

pub(crate) struct Worker {
    child: tokio::process::Child,
    stdin: ChildStdin,
    stdout: Lines<BufReader<ChildStdout>>,
    slot_uid: Option<u32>,
    next_id: u64,
    /// Snippets served, to recycle the worker now and then.
    pub(crate) served: u64,
}

/// Lines of a worker's stderr kept for a start failure's error.
const STDERR_TAIL: usize = 8;

/// Extra time the fork-server gets beyond the snippet timeout before it counts as hung.
const GRACE: Duration = Duration::from_secs(5);

impl Worker {
    /// Starts the worker and waits for its `ready` line (imports and warm-up take ~1–3 s).
    pub(crate) async fn start(
        launch: &Launch,
        config: &SandboxConfig,
        slot: usize,
    ) -> Result<Worker, SandboxError> {
        let mut spawned = launch.spawn(config, slot)?;
        let stdin = spawned.child.stdin.take().expect("piped stdin");
        let stdout = spawned.child.stdout.take().expect("piped stdout");
        let stderr = spawned.child.stderr.take().expect("piped stderr");
        // The worker's stderr (bwrap or Python complaints) goes to tracing, line by line; the
        // last lines are kept for the error when the worker does not come up.
        let tail = std::sync::Arc::new(std::sync::Mutex::new(std::collections::VecDeque::new()));
        let (tail_w, stderr_done) = (
            tail.clone(),
            std::sync::Arc::new(tokio::sync::Notify::new()),
        );
        let done = stderr_done.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                tracing::debug!(slot, "sandbox worker: {line}");
                let mut t = tail_w.lock().expect("stderr tail");
                if t.len() == STDERR_TAIL {
                    t.pop_front();
                }
                t.push_back(line);
            }
            done.notify_one();
        });
        let mut worker = Worker {
            child: spawned.child,
            stdin,
            stdout: BufReader::new(stdout).lines(),
            slot_uid: spawned.slot_uid,
            next_id: 0,
            served: 0,
        };
        let ready = tokio::time::timeout(config.worker_start_timeout, worker.stdout.next_line())
            .await
            .map_err(|_| SandboxError::WorkerStart {
                slot,
                reason: format!("not ready after {:?}", config.worker_start_timeout),
            })?
            .map_err(|e| SandboxError::WorkerStart {
                slot,
                reason: e.to_string(),
            })?;
        match ready {
            Some(line) if line.contains("\"ready\": true") => Ok(worker),
            other => {
                // Give the process a moment to exit and its stderr to drain.
                let _ = tokio::time::timeout(Duration::from_secs(2), stderr_done.notified()).await;
                let status = worker.child.try_wait().ok().flatten();
                worker.kill();
                let said: Vec<String> = tail.lock().expect("stderr tail").drain(..).collect();
                Err(SandboxError::WorkerStart {
                    slot,
                    reason: format!(
                        "unexpected first line {other:?} (exit status {status:?}); its stderr \
                         ended with: {:?}",
                        said.join(" | ")
                    ),
                })
            }
        }
    }

    async fn roundtrip(
        &mut self,
        mut msg: serde_json::Value,
        wait: Duration,
    ) -> Result<serde_json::Value, WorkerFailure> {
        self.next_id += 1;
        let id = self.next_id;
        msg["id"] = id.into();
        let mut line = msg.to_string();
        line.push('\n');
        let io = async {
            self.stdin
                .write_all(line.as_bytes())
                .await
                .map_err(|e| WorkerFailure::Died(format!("write: {e}")))?;
            self.stdin
                .flush()
                .await
                .map_err(|e| WorkerFailure::Died(format!("flush: {e}")))?;
            let answer = self
                .stdout
                .next_line()
                .await
                .map_err(|e| WorkerFailure::Died(format!("read: {e}")))?
                .ok_or_else(|| WorkerFailure::Died("the fork-server exited".into()))?;
            let value: serde_json::Value = serde_json::from_str(&answer)
                .map_err(|e| WorkerFailure::Died(format!("bad answer {answer:?}: {e}")))?;
            if value.get("id").and_then(|v| v.as_u64()) != Some(id) {
                return Err(WorkerFailure::Died(format!(
                    "answer out of order: {answer:?}"
                )));
            }
            Ok(value)
        };
        match tokio::time::timeout(wait, io).await {
            Ok(r) => r,
            Err(_) => Err(WorkerFailure::Hung),
        }
    }

    /// Runs one snippet, stateless or in the worker's session `key`. `create`: the session is
    /// new; otherwise a key the worker does not know is answered `session_lost`.
    pub(crate) async fn run(
        &mut self,
        code: &str,
        timeout: Duration,
        session: Option<WorkerSession>,
    ) -> Result<RawResult, WorkerFailure> {
        self.served += 1;
        let msg = serde_json::json!({
            "op": "run",
            "code": code,
            "timeout": timeout.as_secs_f64(),
            "session": session.map(|s| s.key.to_string()),
            "create": session.is_some_and(|s| s.create),
        });
        // Sessions may need a few seconds more: after a timeout the fork-server waits for the
        // holder to confirm the child is gone.
        let value = self.roundtrip(msg, timeout + GRACE).await?;
        serde_json::from_value(value).map_err(|e| WorkerFailure::Died(format!("bad result: {e}")))
    }

    /// Kills a session's holder; true when the worker had it.
    pub(crate) async fn close_session(&mut self, key: u64) -> Result<bool, WorkerFailure> {
        let msg = serde_json::json!({"op": "close", "session": key.to_string()});
        let v = self.roundtrip(msg, GRACE).await?;
        Ok(v.get("closed").and_then(|c| c.as_bool()).unwrap_or(false))
    }

    /// The worker's process id (bubblewrap's, or the fork-server's in the fallback modes).
    pub(crate) fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Kills the worker and everything it started.
    pub(crate) fn kill(&mut self) {
        if let Some(pid) = self.child.id() {
            // The worker leads its own process group (bwrap, or the fork-server itself).
            unsafe {
                libc::killpg(pid as i32, libc::SIGKILL);
            }
        }
        let _ = self.child.start_kill();
        // Without a PID namespace, snippet processes live in other groups: kill the slot uid.
        if let Some(uid) = self.slot_uid {
            kill_uid(uid);
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.kill();
    }
}
