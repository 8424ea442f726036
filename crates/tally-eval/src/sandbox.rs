//! Code execution for generation: a [`CodeExecutor`] over [`SandboxClient`], and the sandbox
//! service started inside this process (`--with_sandbox`).

use std::time::Duration;

use async_trait::async_trait;
use tally_core::Status;
use tally_generate::{CodeExecution, CodeExecutor, CodeResult, TirFailure};
use tally_sandbox::{ProcessStatus, SandboxClient, SandboxConfig, SandboxService};

use crate::defaults::{env_nonempty, sandbox_venv};
use crate::error::Result;

/// Runs each TIR code block in the sandbox, one session per sample.
pub struct SandboxExecutor {
    client: SandboxClient,
    timeout: Duration,
}

impl SandboxExecutor {
    pub fn new(base_url: &str, settings: &CodeExecution) -> SandboxExecutor {
        SandboxExecutor {
            client: SandboxClient::new(base_url)
                .with_max_output_characters(settings.max_code_output_characters),
            timeout: Duration::from_secs_f64(settings.code_execution_timeout),
        }
    }
}

#[async_trait]
impl CodeExecutor for SandboxExecutor {
    async fn execute(&self, code: &str, session: Option<&str>) -> Result<CodeResult, TirFailure> {
        let opened_here = session.is_none();
        let session = session
            .map(str::to_string)
            .unwrap_or_else(SandboxClient::new_session_id);
        let result = self
            .client
            .execute(code, self.timeout, Some(&session))
            .await;
        let failure = match result {
            Ok(r) if r.process_status == ProcessStatus::SessionLost => TirFailure {
                status: Status::SandboxError,
                message: format!("sandbox session lost: {}", r.stderr.trim_end()),
            },
            Ok(r) => {
                return Ok(CodeResult {
                    stdout: r.stdout,
                    stderr: r.stderr,
                    session: r.session_id.or(Some(session)),
                })
            }
            // The sample ends as `sandbox_error` (kept, retried by no one silently); the run goes on.
            Err(e) => TirFailure {
                status: Status::SandboxError,
                message: error_chain(&e),
            },
        };
        if opened_here {
            // The loop never learns this id, so it cannot end the session: do it here.
            self.end_session(&session).await;
        }
        Err(failure)
    }

    async fn end_session(&self, session: &str) {
        // Best effort: a session that is not deleted still expires on the service.
        if let Err(e) = self.client.delete_session(session).await {
            tracing::debug!("ending sandbox session {session}: {}", error_chain(&e));
        }
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(c) = source {
        s.push_str(": ");
        s.push_str(&c.to_string());
        source = c.source();
    }
    s
}

/// The sandbox's address: `++sandbox.host/port`, else NeMo-Skills' `NEMO_SKILLS_SANDBOX_HOST` /
/// `NEMO_SKILLS_SANDBOX_PORT`, else 127.0.0.1:6000.
pub fn sandbox_url(settings: &CodeExecution) -> String {
    let host = settings
        .sandbox_host
        .clone()
        .or_else(|| env_nonempty("NEMO_SKILLS_SANDBOX_HOST"))
        .unwrap_or_else(|| "127.0.0.1".into());
    let port = settings
        .sandbox_port
        .map(|p| p.to_string())
        .or_else(|| env_nonempty("NEMO_SKILLS_SANDBOX_PORT"))
        .unwrap_or_else(|| "6000".into());
    format!("http://{host}:{port}")
}

/// The `--with_sandbox` service, for [`stop_in_process`] (a weak handle: the service still ends
/// with the runtime on a normal exit).
static IN_PROCESS: std::sync::OnceLock<tally_sandbox::SandboxStopper> = std::sync::OnceLock::new();
/// Set while the `--with_sandbox` service is starting (its workers importing their libraries).
static STARTING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Starts the sandbox service on a free loopback port inside this process (`--with_sandbox`);
/// returns its base URL. It lives as long as the runtime (dropping it kills the workers and
/// removes its runtime files), or until [`stop_in_process`].
pub async fn start_in_process() -> Result<String> {
    let venv = sandbox_venv();
    if !venv.exists() {
        return Err(format!(
            "--with_sandbox: {}: no sandbox Python environment; create it with `bash scripts/sandbox-setup.sh`",
            venv.display()
        )
        .into());
    }
    let config = SandboxConfig::new(venv);
    STARTING.store(true, std::sync::atomic::Ordering::SeqCst);
    let started = SandboxService::start(config).await;
    if let Ok(service) = &started {
        let _ = IN_PROCESS.set(service.stopper());
    }
    STARTING.store(false, std::sync::atomic::Ordering::SeqCst);
    let service = started?;
    tracing::info!(
        "sandbox started in-process (isolation: {})",
        service.isolation().name()
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move {
        if let Err(e) = tally_sandbox::serve(service, listener, std::future::pending()).await {
            tracing::error!("in-process sandbox stopped: {e}");
        }
    });
    Ok(url)
}

/// Kills the `--with_sandbox` workers and removes the sandbox's runtime files, if one was
/// started: for exits that skip destructors (`std::process::exit` after a stop signal).
pub async fn stop_in_process() {
    // A signal during the start: let the start finish (it cannot be cut short without leaving
    // workers half-made), then stop what it started.
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while STARTING.load(std::sync::atomic::Ordering::SeqCst) && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if let Some(stopper) = IN_PROCESS.get() {
        stopper.stop().await;
    }
}

#[cfg(test)]
mod tests {
    //! The TIR loop with the REAL sandbox (a scripted model stands in for the LLM): every sample
    //! ends its session, and a session lost mid-sample ends the sample as `sandbox_error`.
    use std::sync::Mutex;

    use tally_generate::tir::{run_tir, TirConfig, TirModel, TirTurn};

    use std::path::PathBuf;

    use super::*;

    /// Returns the scripted turns in order, then an answer.
    struct Script(Mutex<Vec<&'static str>>);

    #[async_trait]
    impl TirModel for Script {
        async fn generate(&self, _: &str, _: u64, _: &[String]) -> Result<TirTurn, TirFailure> {
            let mut turns = self.0.lock().unwrap();
            let text = if turns.is_empty() {
                "The answer is 4.<|im_end|>"
            } else {
                turns.remove(0)
            };
            Ok(TirTurn::new(text, 5))
        }
    }

    fn tir_config() -> TirConfig {
        TirConfig {
            code_begin: "```python\n".into(),
            code_end: "```\n".into(),
            code_output_begin: "```output\n".into(),
            code_output_end: "```\n".into(),
            stop_phrases: vec!["<|im_end|>".into()],
            max_code_executions: 8,
            add_remaining_code_executions: false,
            tokens_to_generate: 10_000,
        }
    }

    fn settings() -> CodeExecution {
        CodeExecution {
            max_code_executions: 8,
            add_remaining_code_executions: false,
            code_execution_timeout: 20.0,
            max_code_output_characters: 1000,
            override_max_code_executions: false,
            sandbox_host: None,
            sandbox_port: None,
        }
    }

    /// The sandbox venv, or None with a note (a failure under CI).
    fn venv_or_skip() -> Option<PathBuf> {
        let venv = sandbox_venv();
        if venv.join("bin/python").exists() {
            return Some(venv);
        }
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but the sandbox venv {} is missing: run scripts/sandbox-setup.sh",
            venv.display()
        );
        eprintln!("note: no sandbox venv at {}; skipping", venv.display());
        None
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn samples_end_their_sessions_and_a_lost_session_is_a_sandbox_error() {
        let Some(venv) = venv_or_skip() else { return };
        let mut config = SandboxConfig::new(venv);
        config.workers = 1;
        let service = SandboxService::start(config).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(tally_sandbox::serve(service.clone(), listener, async {
            let _ = stopped.await;
        }));
        let executor = SandboxExecutor::new(&url, &settings());

        // 1. A sample that runs code twice in its session and answers: its session is deleted.
        let model = Script(Mutex::new(vec![
            "```python\nx = 2\n```\n",
            "```python\nprint(x + 2)\n```\n",
        ]));
        let out = run_tir("P", &tir_config(), &model, &executor).await;
        assert_eq!(out.status, Status::Ok, "{out:?}");
        assert!(out.generation.contains("```output\n4\n```\n"), "{out:?}");
        let h = service.health();
        assert_eq!((h.sessions, h.sessions_deleted), (0, 1), "{h:?}");

        // 2. The sandbox worker dies mid-sample (the block kills the fork-server: the holder's
        // parent): the next block's session is lost, and the sample says so.
        let model = Script(Mutex::new(vec![
            "```python\nx = 2\n```\n",
            "```python\nimport os, signal\nstat = open(f'/proc/{os.getppid()}/stat').read()\nos.kill(int(stat.rsplit(')', 1)[1].split()[1]), signal.SIGKILL)\n```\n",
            "```python\nprint(x + 2)\n```\n",
        ]));
        let out = run_tir("P", &tir_config(), &model, &executor).await;
        assert_eq!(out.status, Status::SandboxError, "{out:?}");
        assert!(out.status.is_failure());
        let error = out.error.clone().unwrap();
        assert!(error.starts_with("sandbox session lost: "), "{error}");
        assert!(error.contains("worker died and was restarted"), "{error}");
        assert_eq!(out.code_rounds_executed, 2, "{out:?}");
        assert!(out.generation.ends_with("print(x + 2)\n```\n"), "{out:?}");
        // The lost session's id was deleted too (no tombstone is left behind).
        let h = service.health();
        assert_eq!(
            (h.sessions, h.lost_sessions, h.worker_restarts),
            (0, 0, 1),
            "{h:?}"
        );

        let _ = stop.send(());
        server.await.unwrap().unwrap();
    }
}
