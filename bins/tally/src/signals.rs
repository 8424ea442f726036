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

/// `tally_eval::host_or_connect` with the stop handler installed first (not in a dry run).
pub fn host_or_connect(
    rt: &tokio::runtime::Runtime,
    server: &tally_eval::ServerChoice,
    log_dir: &std::path::Path,
    opts: tally_eval::ClientOptions,
    reporter: &crate::reporter::TerminalReporter,
) -> Result<tally_eval::Connection, tally_eval::EvalError> {
    tally_eval::stop::host_or_connect_stoppable(rt, server, log_dir, opts, reporter, HOOKS)
}
