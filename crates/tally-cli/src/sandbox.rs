//! `tally sandbox`'s flags: the isolated code-execution service's `tally_sandbox::SandboxConfig`.

use std::net::SocketAddr;
use std::path::PathBuf;

use tally_eval::Result;
use tally_sandbox::{IsolationPolicy, SandboxConfig};

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
    pub listen: SocketAddr,
    /// Worker sandboxes (each runs one snippet at a time). Default: the number of CPUs.
    #[arg(long)]
    pub workers: Option<usize>,
    /// How to isolate the workers.
    #[arg(long, value_enum, default_value = "auto")]
    pub isolation: IsolationArg,
    /// Same as `--isolation unsafe-none`.
    #[arg(long = "unsafe-no-isolation")]
    pub unsafe_no_isolation: bool,
    /// Requests waiting or running before the service answers "busy".
    #[arg(long)]
    pub queue: Option<usize>,
    /// Live sessions at most (each is one process, ~12 MiB); beyond that the least recently used
    /// idle session is evicted (it then answers `session_lost`). Set it to at least the number
    /// of samples in flight (`++max_concurrent_requests`). Default 1024.
    #[arg(long = "max-sessions")]
    pub max_sessions: Option<usize>,
    /// Seconds a session may stay idle before it is dropped (default 900).
    #[arg(long = "session-idle-timeout")]
    pub session_idle_timeout: Option<f64>,
    /// Where services lease their worker uids (as root). Must be shared by every sandbox service
    /// on the machine, containers included (default /run/tally-sandbox).
    #[arg(long = "uid-lease-dir")]
    pub uid_lease_dir: Option<PathBuf>,
    /// The Python environment made by `scripts/sandbox-setup.sh`
    /// (default: $TALLY_CACHE_DIR/sandbox-venv, TALLY_CACHE_DIR defaulting to ~/.cache/tally).
    #[arg(long)]
    pub venv: Option<PathBuf>,
}

impl Args {
    /// The service's configuration (the sandbox's Python environment must exist).
    pub fn config(&self) -> Result<SandboxConfig> {
        let venv = self
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
        config.listen = self.listen;
        if let Some(w) = self.workers {
            config.workers = w;
        }
        if let Some(q) = self.queue {
            config.max_queue = q;
        }
        if let Some(s) = self.max_sessions {
            config.max_sessions = s;
        }
        if let Some(d) = self.uid_lease_dir.clone() {
            config.uid_lease_dir = d;
        }
        if let Some(t) = self.session_idle_timeout {
            if !(t.is_finite() && t > 0.0) {
                return Err(format!(
                    "--session-idle-timeout {t}: must be a positive number of seconds"
                )
                .into());
            }
            config.session_idle_timeout = std::time::Duration::from_secs_f64(t);
        }
        config.isolation = match (self.unsafe_no_isolation, self.isolation) {
            (true, _) | (_, IsolationArg::UnsafeNone) => IsolationPolicy::UnsafeNoIsolation,
            (_, IsolationArg::Auto) => IsolationPolicy::Auto,
            (_, IsolationArg::Bubblewrap) => IsolationPolicy::Bubblewrap,
            (_, IsolationArg::Landlock) => IsolationPolicy::Landlock,
        };
        Ok(config)
    }
}
