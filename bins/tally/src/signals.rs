//! How the binary ends on SIGINT, SIGTERM or SIGUSR1 (tally-eval's `stop` does the stopping):
//! its lines on stderr, then the signal's exit code.

use tally_eval::stop::StopHooks;

fn say(line: &str) {
    eprintln!("{line}");
}

fn exit(code: i32) {
    std::process::exit(code)
}

pub const HOOKS: StopHooks = StopHooks { say, exit };

/// Runs `f` against the model `server` names, hosted or connected, stopped on a signal.
pub fn with_target<T>(
    server: &tally_eval::ServerChoice,
    log_dir: &std::path::Path,
    opts: tally_eval::ClientOptions,
    reporter: &crate::reporter::TerminalReporter,
    f: impl FnOnce(&tokio::runtime::Runtime, &tally_eval::Target) -> tally_eval::Result<T>,
) -> tally_eval::Result<T> {
    tally_eval::stop::with_target(server, log_dir, opts, reporter, HOOKS, f)
}
