//! Stopping a run cleanly on SIGINT, SIGTERM or SIGUSR1: the hosted server (if any) is stopped
//! with its process group, and inside a Slurm job the time-limit warning (SIGUSR1, sent by
//! `--signal=B:USR1@…`) requeues the job so it resumes where it stopped. The journals need
//! nothing: every sample finished before the last sync is kept, and the rest is generated again
//! by the resumed run (the torture harness kills at any moment to prove it).

use std::sync::{Arc, Mutex};

use tally_launch::{StopSignal, StopSignals, Stopper};

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
pub fn install(rt: &tokio::runtime::Runtime) -> ServerSlot {
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
        eprintln!(
            "\n{}: stopping; rerun the same command to continue where it stopped",
            signal.name()
        );
        let stopper = server.0.lock().ok().and_then(|mut s| s.take());
        if let Some(s) = stopper {
            if s.stop().await.is_ok() {
                eprintln!("server stopped");
            }
        }
        if signal == StopSignal::User1 {
            requeue_slurm_job();
        }
        tally_eval::sandbox::stop_in_process().await;
        std::process::exit(signal.exit_code() as i32);
    });
    slot
}

/// `tally_eval::host_or_connect` with the stop handler installed first (not in a dry run):
/// Ctrl-C, SIGTERM or SIGUSR1 then stop the hosted server (and its workers) before the process
/// exits; the journals make a rerun resume.
pub fn host_or_connect(
    rt: &tokio::runtime::Runtime,
    server: &tally_eval::ServerChoice,
    log_dir: &std::path::Path,
    opts: tally_eval::ClientOptions,
    reporter: &crate::reporter::TerminalReporter,
) -> Result<tally_eval::Connection, tally_eval::EvalError> {
    let slot = (!opts.dry_run).then(|| install(rt));
    tally_eval::host_or_connect(rt, server, log_dir, opts, reporter, &|s| {
        if let Some(slot) = &slot {
            slot.set(s);
        }
    })
}

/// `scontrol requeue $SLURM_JOB_ID` when running as a Slurm job (submitted `--requeue`).
fn requeue_slurm_job() {
    let Some(id) = std::env::var("SLURM_JOB_ID").ok().filter(|s| !s.is_empty()) else {
        return;
    };
    match std::process::Command::new("scontrol")
        .args(["requeue", &id])
        .status()
    {
        Ok(s) if s.success() => {
            eprintln!("Slurm job {id} requeued: it will resume where it stopped")
        }
        Ok(s) => {
            eprintln!("warning: `scontrol requeue {id}` failed ({s}); resubmit the same command")
        }
        Err(e) => eprintln!("warning: `scontrol requeue {id}`: {e}; resubmit the same command"),
    }
}
