//! `tally sandbox`: the isolated code-execution service (NeMo-Skills' `/execute`, plus sessions).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use tally_sandbox::{IsolationPolicy, SandboxConfig, SandboxService};

use crate::AnyError;

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum IsolationArg {
    /// bubblewrap when available, else uid drop + Landlock + seccomp; refuse otherwise.
    Auto,
    Bubblewrap,
    Landlock,
    /// No isolation at all: model code runs on this host. Only for trusted code.
    #[value(name = "unsafe-none")]
    UnsafeNone,
}

#[derive(clap::Args)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, default_value = tally_sandbox::DEFAULT_ADDR)]
    listen: SocketAddr,
    /// Worker sandboxes (each runs one snippet at a time). Default: the number of CPUs.
    #[arg(long)]
    workers: Option<usize>,
    /// How to isolate the workers.
    #[arg(long, value_enum, default_value = "auto")]
    isolation: IsolationArg,
    /// Same as `--isolation unsafe-none`.
    #[arg(long = "unsafe-no-isolation")]
    unsafe_no_isolation: bool,
    /// Requests waiting or running before the service answers "busy".
    #[arg(long)]
    queue: Option<usize>,
    /// Live sessions at most (each is one process, ~12 MiB); beyond that the least recently used
    /// idle session is evicted (it then answers `session_lost`). Set it to at least the number
    /// of samples in flight (`++max_concurrent_requests`). Default 1024.
    #[arg(long = "max-sessions")]
    max_sessions: Option<usize>,
    /// Seconds a session may stay idle before it is dropped (default 900).
    #[arg(long = "session-idle-timeout")]
    session_idle_timeout: Option<f64>,
    /// Where services lease their worker uids (as root). Must be shared by every sandbox service
    /// on the machine, containers included (default /run/tally-sandbox).
    #[arg(long = "uid-lease-dir")]
    uid_lease_dir: Option<PathBuf>,
    /// The Python environment made by `scripts/sandbox-setup.sh`
    /// (default: $TALLY_CACHE_DIR/sandbox-venv, TALLY_CACHE_DIR defaulting to ~/.cache/tally).
    #[arg(long)]
    venv: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<ExitCode, AnyError> {
    let venv = args
        .venv
        .clone()
        .unwrap_or_else(tally_eval::defaults::sandbox_venv);
    if !venv.exists() {
        return Err(format!(
            "{}: no sandbox Python environment; create it with `bash scripts/sandbox-setup.sh` (or pass --venv)",
            venv.display()
        )
        .into());
    }
    let mut config = SandboxConfig::new(venv);
    config.listen = args.listen;
    if let Some(w) = args.workers {
        config.workers = w;
    }
    if let Some(q) = args.queue {
        config.max_queue = q;
    }
    if let Some(s) = args.max_sessions {
        config.max_sessions = s;
    }
    if let Some(d) = args.uid_lease_dir.clone() {
        config.uid_lease_dir = d;
    }
    if let Some(t) = args.session_idle_timeout {
        if !(t.is_finite() && t > 0.0) {
            return Err(format!(
                "--session-idle-timeout {t}: must be a positive number of seconds"
            )
            .into());
        }
        config.session_idle_timeout = std::time::Duration::from_secs_f64(t);
    }
    config.isolation = match (args.unsafe_no_isolation, args.isolation) {
        (true, _) | (_, IsolationArg::UnsafeNone) => IsolationPolicy::UnsafeNoIsolation,
        (_, IsolationArg::Auto) => IsolationPolicy::Auto,
        (_, IsolationArg::Bubblewrap) => IsolationPolicy::Bubblewrap,
        (_, IsolationArg::Landlock) => IsolationPolicy::Landlock,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let service = SandboxService::start(config).await?;
        let listener = tokio::net::TcpListener::bind(args.listen).await?;
        eprintln!(
            "sandbox listening on http://{} ({} workers, isolation: {})",
            args.listen,
            service.config().workers,
            service.isolation().name()
        );
        // SIGINT or SIGTERM (Slurm's scancel, docker stop): stop serving, kill the workers and
        // remove the runtime directory before exiting.
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        let stop = async move {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        };
        tally_sandbox::serve(service, listener, stop).await?;
        Ok::<(), AnyError>(())
    })?;
    Ok(ExitCode::SUCCESS)
}
