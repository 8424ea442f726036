//! A server Tally started: healthy on return, stopped (with everything it spawned) on `stop()`
//! or on drop.

use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::process::Child;

use crate::command_line::CommandLine;
use crate::error::{LaunchError, Result};
use crate::health::{self, Probe};
use crate::install::{self, display_name};
use crate::log_tail::log_tail;
use crate::port::{port_is_free, port_is_listened};
use crate::process_group::Group;
use crate::server_spec::{ServerSpec, ServerType};

/// How long a stop waits after SIGTERM before SIGKILL: vLLM and SGLang shut their workers down
/// in a few seconds; a wedged GPU process never does.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(15);
/// How long a server's start waits for its port to be free before refusing a port in use.
pub const PORT_WAIT: Duration = Duration::from_secs(15);

/// How a server is started and waited for.
#[derive(Debug, Clone)]
pub struct StartOptions {
    /// Where the server's stdout and stderr go (truncated; parent directories are created).
    pub log_path: PathBuf,
    /// How long to wait for the health check to pass; model loading can take many minutes.
    pub health_timeout: Duration,
    /// SIGTERM → SIGKILL delay when stopping.
    pub grace: Duration,
    /// Pause between health probes.
    pub poll_interval: Duration,
    /// Ask the kernel to SIGTERM the server when the thread that started it dies — so a
    /// SIGKILLed Tally leaves no server behind. Linux ties this to the spawning *thread*, so
    /// only set it when that thread lives as long as the server (a `block_on` on the main
    /// thread does; a pooled worker thread may not).
    pub die_with_parent: bool,
}

impl StartOptions {
    pub fn new(log_path: impl Into<PathBuf>, health_timeout: Duration) -> Self {
        StartOptions {
            log_path: log_path.into(),
            health_timeout,
            grace: DEFAULT_GRACE,
            poll_interval: Duration::from_millis(500),
            die_with_parent: false,
        }
    }

    /// See [`StartOptions::die_with_parent`].
    pub fn with_die_with_parent(mut self, on: bool) -> Self {
        self.die_with_parent = on;
        self
    }

    pub fn with_grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    pub fn with_poll_interval(mut self, poll_interval: Duration) -> Self {
        self.poll_interval = poll_interval;
        self
    }
}

/// A healthy server process group owned by this value.
///
/// Dropping it stops the server (blocking the thread for up to the grace period); prefer
/// [`RunningServer::stop`] in async code. A binary that must also stop it on Ctrl-C takes a
/// [`Stopper`] first (see [`stop_on_ctrl_c`]).
#[derive(Debug)]
pub struct RunningServer {
    /// `None` once stopped, so that `Drop` has nothing left to do.
    child: Option<Child>,
    group: Arc<Group>,
    command: CommandLine,
    port: u16,
    base_url: String,
    log_path: PathBuf,
    grace: Duration,
}

impl RunningServer {
    /// Starts the server `spec` describes and waits until it is healthy.
    ///
    /// Checks first that the program (and, for vLLM/SGLang, the Python package) is installed and
    /// that the port is free.
    pub async fn start(
        spec: &ServerSpec,
        log_path: impl Into<PathBuf>,
        health_timeout: Duration,
    ) -> Result<Self> {
        Self::start_with(spec, StartOptions::new(log_path, health_timeout)).await
    }

    /// [`RunningServer::start`] with every option.
    pub async fn start_with(spec: &ServerSpec, options: StartOptions) -> Result<Self> {
        let command = spec.command()?;
        check_installed(spec).await?;
        Self::start_command(
            command,
            spec.port,
            crate::server_spec::require_hosting(spec.kind)?.install_hint,
            options,
        )
        .await
    }

    /// Starts any command that serves HTTP on `127.0.0.1:port` and answers `/health` or
    /// `/v1/models` with 200 when ready. `install_hint` is shown if the program is missing.
    pub async fn start_command(
        command: CommandLine,
        port: u16,
        install_hint: &str,
        options: StartOptions,
    ) -> Result<Self> {
        if !port_is_free(port) {
            // Something that listens would answer the health check in the server's place, so
            // it is refused — but only after waiting a little: the listener may be a server
            // that is going away (a killed run's server gets its parent-death signal a moment
            // after its parent dies; a preempted run restarts on the same port), and a port that
            // only cannot be bound yet frees itself too.
            let until = Instant::now() + PORT_WAIT;
            while !port_is_free(port) && Instant::now() < until {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            if port_is_listened(port) {
                return Err(LaunchError::PortInUse { port });
            }
        }
        let (child, group) = crate::spawn::spawn_logged(
            &command,
            &options.log_path,
            install_hint,
            options.die_with_parent,
        )?;
        // Owned from here on: an error below, or the caller dropping this future, stops it.
        let mut server = RunningServer {
            child: Some(child),
            group,
            command,
            port,
            base_url: format!("http://127.0.0.1:{port}"),
            log_path: options.log_path.clone(),
            grace: options.grace,
        };
        server.wait_healthy(&options).await?;
        Ok(server)
    }

    async fn wait_healthy(&mut self, options: &StartOptions) -> Result<()> {
        let started = Instant::now();
        let deadline = started + options.health_timeout;
        loop {
            if let Some(status) = self.try_exit_status() {
                // Its workers may outlive it; they go too.
                let _ = self.shutdown().await;
                return Err(LaunchError::ExitedEarly {
                    program: display_name(&self.command.program).to_string(),
                    status: describe(status),
                    log_path: self.log_path.clone(),
                    log_tail: log_tail(&self.log_path),
                });
            }
            let probe_timeout = options.poll_interval.max(Duration::from_secs(2));
            if health::probe(self.port, probe_timeout).await == Probe::Healthy {
                tracing::info!(url = %self.base_url, waited = ?started.elapsed(), "server healthy");
                return Ok(());
            }
            let now = Instant::now();
            if now >= deadline {
                let _ = self.shutdown().await;
                return Err(LaunchError::HealthTimeout {
                    program: display_name(&self.command.program).to_string(),
                    url: format!("{}/health", self.base_url),
                    waited: started.elapsed(),
                    log_path: self.log_path.clone(),
                    log_tail: log_tail(&self.log_path),
                });
            }
            tokio::time::sleep(options.poll_interval.min(deadline - now)).await;
        }
    }

    /// `http://127.0.0.1:<port>`, without a trailing slash or `/v1`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The process group of the server and everything it spawned (the first child's pid).
    pub fn pgid(&self) -> i32 {
        self.group.pgid()
    }

    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// The command that was run.
    pub fn command(&self) -> &CommandLine {
        &self.command
    }

    /// If the server's main process has exited, how it ended. A server that dies mid-run shows
    /// up here; its log is at [`RunningServer::log_path`].
    pub fn try_exit_status(&mut self) -> Option<ExitStatus> {
        self.child.as_mut()?.try_wait().ok().flatten()
    }

    /// A handle that stops this server from elsewhere, e.g. a Ctrl-C task.
    pub fn stopper(&self) -> Stopper {
        Stopper {
            group: Arc::clone(&self.group),
            grace: self.grace,
        }
    }

    /// Stops the server: SIGTERM to its process group, SIGKILL after the grace period, and
    /// returns once no process of the group is left.
    pub async fn stop(mut self) -> Result<()> {
        self.shutdown().await
    }

    async fn shutdown(&mut self) -> Result<()> {
        let result = self.group.terminate(self.grace).await;
        if let Some(mut child) = self.child.take() {
            if result.is_ok() {
                // Dead already; this only reaps it.
                let _ = child.wait().await;
            }
        }
        result
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if let Err(e) = self.group.terminate_blocking(self.grace) {
            tracing::error!(error = %e, "could not stop the server");
        }
        let _ = child.try_wait();
    }
}

/// Stops a [`RunningServer`]'s process group from another task; cheap to clone.
///
/// Stopping through it does not consume the server; the server's own `stop()` or drop then
/// finds nothing left to stop.
#[derive(Debug, Clone)]
pub struct Stopper {
    group: Arc<Group>,
    grace: Duration,
}

impl Stopper {
    /// SIGTERM, SIGKILL after the grace period, and wait until the group is gone.
    pub async fn stop(&self) -> Result<()> {
        self.group.terminate(self.grace).await
    }

    /// [`Stopper::stop`] for synchronous contexts.
    pub fn stop_blocking(&self) -> Result<()> {
        self.group.terminate_blocking(self.grace)
    }
}

/// Waits for Ctrl-C (SIGINT), then stops the server and returns.
///
/// Servers run in their own process group, so the terminal's SIGINT reaches Tally but not them;
/// without this, a Ctrl-C that kills Tally would leave the server running. Calling this is the
/// opt-in: from then on SIGINT no longer ends the process by itself (tokio keeps its handler), so
/// the caller should exit once this returns, e.g.
///
/// ```no_run
/// # async fn run(server: tally_launch::RunningServer) -> Result<(), Box<dyn std::error::Error>> {
/// # async fn evaluate(_: &str) -> Result<(), Box<dyn std::error::Error>> { Ok(()) }
/// let url = server.base_url().to_string();
/// let on_ctrl_c = tally_launch::stop_on_ctrl_c(server.stopper());
/// tokio::select! {
///     result = evaluate(&url) => { server.stop().await?; result?; }
///     _ = on_ctrl_c => std::process::exit(130),
/// }
/// # Ok(()) }
/// ```
pub async fn stop_on_ctrl_c(stopper: Stopper) -> Result<()> {
    tokio::signal::ctrl_c()
        .await
        .map_err(|source| LaunchError::Stop {
            pgid: stopper.group.pgid(),
            source,
        })?;
    stopper.stop().await
}

/// The signals after which a run stops cleanly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopSignal {
    /// Ctrl-C.
    Interrupt,
    /// `kill`, or Slurm preempting or cancelling the job.
    Terminate,
    /// Slurm's warning before the time limit (`--signal=B:USR1@…`).
    User1,
}

impl StopSignal {
    /// The shell's exit code for a process ended by this signal (128 + its number).
    pub fn exit_code(self) -> u8 {
        128 + match self {
            StopSignal::Interrupt => libc::SIGINT,
            StopSignal::Terminate => libc::SIGTERM,
            StopSignal::User1 => libc::SIGUSR1,
        } as u8
    }

    pub fn name(self) -> &'static str {
        match self {
            StopSignal::Interrupt => "SIGINT",
            StopSignal::Terminate => "SIGTERM",
            StopSignal::User1 => "SIGUSR1",
        }
    }
}

/// Listeners for SIGINT, SIGTERM and SIGUSR1. From their creation on (inside a tokio runtime),
/// these signals no longer end the process by themselves: the caller stops what it must and
/// exits.
pub struct StopSignals {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
    usr1: tokio::signal::unix::Signal,
}

impl StopSignals {
    /// Registers the listeners (needs a runtime context: `Runtime::enter`).
    pub fn new() -> std::io::Result<StopSignals> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(StopSignals {
            int: signal(SignalKind::interrupt())?,
            term: signal(SignalKind::terminate())?,
            usr1: signal(SignalKind::user_defined1())?,
        })
    }

    /// The next of the three signals.
    pub async fn recv(&mut self) -> StopSignal {
        tokio::select! {
            _ = self.int.recv() => StopSignal::Interrupt,
            _ = self.term.recv() => StopSignal::Terminate,
            _ = self.usr1.recv() => StopSignal::User1,
        }
    }
}

/// Checks that `spec`'s program is installed, and for vLLM/SGLang that its Python can import
/// the package. [`RunningServer::start`] calls this first.
pub async fn check_installed(spec: &ServerSpec) -> Result<()> {
    let hosting = crate::server_spec::require_hosting(spec.kind)?;
    let hint = hosting.install_hint;
    match hosting.python_module {
        Some(module) => install::require_python_module(spec.program(), module, hint).await,
        None => install::require_program(spec.program(), hint).map(drop),
    }?;
    if spec.nodes > 1 && spec.kind == ServerType::Trtllm {
        install::require_program("trtllm-llmapi-launch", hint)?;
    }
    Ok(())
}

fn describe(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit code {code}"),
        (None, Some(sig)) => format!("killed by signal {sig}"),
        _ => status.to_string(),
    }
}
