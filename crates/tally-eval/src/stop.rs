//! Stopping a run cleanly on SIGINT, SIGTERM or SIGUSR1: the hosted server (if any) is stopped
//! with its process group, and inside a Slurm job the time-limit warning (SIGUSR1, sent by
//! `--signal=B:USR1@…`) requeues the job so it resumes where it stopped. The journals need
//! nothing: every sample finished before the last sync is kept, and the rest is generated again
//! by the resumed run (the torture harness kills at any moment to prove it).

use std::sync::{Arc, Mutex};

use tally_launch::{StopSignal, StopSignals, Stopper};

use crate::target::{host_or_connect, ClientOptions, Connection, ServerChoice};
use crate::EvalReporter;

/// What the front end does when a stop signal came: show the handler's lines, and end the
/// process with the signal's exit code once the server is stopped (a library never exits).
#[derive(Clone, Copy)]
pub struct StopHooks {
    pub say: fn(&str),
    pub exit: fn(i32),
}

/// Where the handler finds the hosted server once it runs.
#[derive(Clone, Default)]
pub struct ServerSlot(Arc<Mutex<Option<Stopper>>>);

impl ServerSlot {
    pub fn set(&self, stopper: Stopper) {
        if let Ok(mut s) = self.0.lock() {
            *s = Some(stopper);
        }
    }
}

/// Spawns the handler on `rt`; call once per process, as early as possible (a signal before it
/// ends the process without requeueing a Slurm job).
pub fn install(rt: &tokio::runtime::Runtime, hooks: StopHooks) -> ServerSlot {
    let slot = ServerSlot::default();
    let server = slot.clone();
    // Registered here, synchronously: from this line on a signal reaches the handler.
    let listeners = {
        let _context = rt.enter();
        StopSignals::new()
    };
    let Ok(mut listeners) = listeners else {
        return slot;
    };
    rt.spawn(async move {
        let signal = listeners.recv().await;
        (hooks.say)(&format!(
            "\n{}: stopping; rerun the same command to continue where it stopped",
            signal.name()
        ));
        let stopper = server.0.lock().ok().and_then(|mut s| s.take());
        if let Some(s) = stopper {
            if s.stop().await.is_ok() {
                (hooks.say)("server stopped");
            }
        }
        if signal == StopSignal::User1 {
            requeue_slurm_job(hooks);
        }
        crate::sandbox::stop_in_process().await;
        (hooks.exit)(signal.exit_code() as i32);
    });
    slot
}

/// [`host_or_connect`] with the stop handler installed first (not in a dry run): Ctrl-C,
/// SIGTERM or SIGUSR1 then stop the hosted server (and its workers) before the process exits;
/// the journals make a rerun resume.
pub fn host_or_connect_stoppable(
    rt: &tokio::runtime::Runtime,
    server: &ServerChoice,
    log_dir: &std::path::Path,
    opts: ClientOptions,
    reporter: &dyn EvalReporter,
    hooks: StopHooks,
) -> crate::Result<Connection> {
    let slot = (!opts.dry_run).then(|| install(rt, hooks));
    host_or_connect(rt, server, log_dir, opts, reporter, &|s| {
        if let Some(slot) = &slot {
            slot.set(s);
        }
    })
}

/// Hosts or connects `server` (the stop handler installed first), runs `f` against it on a new
/// runtime, and closes it whatever `f` returned.
pub fn with_target<T>(
    server: &ServerChoice,
    log_dir: &std::path::Path,
    opts: ClientOptions,
    reporter: &dyn EvalReporter,
    hooks: StopHooks,
    f: impl FnOnce(&tokio::runtime::Runtime, &crate::target::Target) -> crate::Result<T>,
) -> crate::Result<T> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let conn = host_or_connect_stoppable(&rt, server, log_dir, opts, reporter, hooks)?;
    let result = f(&rt, &conn.target);
    conn.close(&rt)?;
    result
}

/// `scontrol requeue $SLURM_JOB_ID` when running as a Slurm job (submitted `--requeue`).
fn requeue_slurm_job(hooks: StopHooks) {
    let Some(id) = crate::defaults::slurm_job_id() else {
        return;
    };
    match std::process::Command::new("scontrol")
        .args(["requeue", &id])
        .status()
    {
        Ok(s) if s.success() => (hooks.say)(&format!(
            "Slurm job {id} requeued: it will resume where it stopped"
        )),
        Ok(s) => (hooks.say)(&format!(
            "warning: `scontrol requeue {id}` failed ({s}); resubmit the same command"
        )),
        Err(e) => (hooks.say)(&format!(
            "warning: `scontrol requeue {id}`: {e}; resubmit the same command"
        )),
    }
}
