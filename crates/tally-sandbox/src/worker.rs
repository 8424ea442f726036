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
        // The worker's stderr (bwrap or Python complaints) goes to tracing, line by line.
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                tracing::debug!(slot, "sandbox worker: {line}");
            }
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
                let status = worker.child.try_wait().ok().flatten();
                worker.kill();
                Err(SandboxError::WorkerStart {
                    slot,
                    reason: format!(
                        "unexpected first line {other:?} (exit status {status:?}); run with \
                         RUST_LOG=tally_sandbox=debug to see the worker's stderr"
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

    /// Runs one snippet, stateless or in `session`.
    pub(crate) async fn run(
        &mut self,
        code: &str,
        timeout: Duration,
        session: Option<&str>,
    ) -> Result<RawResult, WorkerFailure> {
        self.served += 1;
        let msg = serde_json::json!({
            "op": "run",
            "code": code,
            "timeout": timeout.as_secs_f64(),
            "session": session,
        });
        // Sessions may need a few seconds more: after a timeout the fork-server waits for the
        // holder to confirm the child is gone.
        let value = self.roundtrip(msg, timeout + GRACE).await?;
        serde_json::from_value(value).map_err(|e| WorkerFailure::Died(format!("bad result: {e}")))
    }

    /// Drops a session's state.
    pub(crate) async fn close_session(&mut self, session: &str) -> Result<(), WorkerFailure> {
        let msg = serde_json::json!({"op": "close", "session": session});
        self.roundtrip(msg, GRACE).await.map(|_| ())
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
