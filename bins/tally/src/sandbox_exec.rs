//! Glue between the TIR loop and the sandbox: a [`CodeExecutor`] over [`SandboxClient`], and the
//! sandbox service started inside this process for `--with_sandbox`.

use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use tally_core::Status;
use tally_generate::{CodeExecution, CodeExecutor, CodeResult, TirFailure};
use tally_sandbox::{SandboxClient, SandboxConfig, SandboxService};

use crate::AnyError;

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
        let session = session
            .map(str::to_string)
            .unwrap_or_else(SandboxClient::new_session_id);
        match self
            .client
            .execute(code, self.timeout, Some(&session))
            .await
        {
            Ok(r) => Ok(CodeResult {
                stdout: r.stdout,
                stderr: r.stderr,
                session: r.session_id.or(Some(session)),
            }),
            // The sample ends as `sandbox_error` (kept, retried by no one silently); the run goes on.
            Err(e) => Err(TirFailure {
                status: Status::SandboxError,
                message: error_chain(&e),
            }),
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
        .or_else(|| std::env::var("NEMO_SKILLS_SANDBOX_HOST").ok())
        .unwrap_or_else(|| "127.0.0.1".into());
    let port = settings
        .sandbox_port
        .map(|p| p.to_string())
        .or_else(|| std::env::var("NEMO_SKILLS_SANDBOX_PORT").ok())
        .unwrap_or_else(|| "6000".into());
    format!("http://{host}:{port}")
}

/// Where `scripts/sandbox-setup.sh` puts the sandbox's Python environment.
pub fn default_venv() -> PathBuf {
    let cache = std::env::var_os("TALLY_CACHE_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/tally")))
        .unwrap_or_else(|| PathBuf::from("/var/cache/tally"));
    SandboxConfig::venv_in(&cache)
}

/// Starts the sandbox service on a free loopback port inside this process (`--with_sandbox`);
/// returns its base URL. It lives as long as the runtime.
pub async fn start_in_process() -> Result<String, AnyError> {
    let venv = default_venv();
    if !venv.exists() {
        return Err(format!(
            "--with_sandbox: {}: no sandbox Python environment; create it with `bash scripts/sandbox-setup.sh`",
            venv.display()
        )
        .into());
    }
    let config = SandboxConfig::new(venv);
    let service = SandboxService::start(config).await?;
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
