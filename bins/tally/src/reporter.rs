//! The binary's side of progress reporting: a progress bar on a terminal, nothing otherwise;
//! warnings always go to stderr.

use std::io::IsTerminal;
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressStyle};
use tally_core::Reporter;

/// One line per panic instead of the default hook's message and backtrace hint: the grader
/// catches its panics and goes on (each one also becomes a `grader_error` warning naming the
/// file and line), so a bad file would otherwise bury the output. `RUST_BACKTRACE` set keeps
/// the default hook, for debugging.
pub fn init_panic_hook() {
    if std::env::var_os("RUST_BACKTRACE").is_some() {
        return;
    }
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| info.payload().downcast_ref::<String>().map(String::as_str))
            .unwrap_or("<non-string panic>");
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!("internal error (panic){at}: {message} (RUST_BACKTRACE=1 for a backtrace)");
    }));
}

pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TALLY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Draws a bar on an interactive stderr; prints warnings as `warning: …`.
pub struct TerminalReporter {
    bar: Mutex<Option<ProgressBar>>,
    interactive: bool,
}

impl Default for TerminalReporter {
    fn default() -> Self {
        Self::new()
    }
}

impl TerminalReporter {
    pub fn new() -> Self {
        TerminalReporter {
            bar: Mutex::new(None),
            interactive: std::io::stderr().is_terminal(),
        }
    }
}

impl TerminalReporter {
    /// A status text shown after the counter (e.g. requests in flight, tokens/s, errors).
    pub fn set_message(&self, message: String) {
        if let Ok(b) = self.bar.lock() {
            if let Some(b) = b.as_ref() {
                b.set_message(message);
            }
        }
    }
}

impl Reporter for TerminalReporter {
    fn start(&self, stage: &str, total: Option<u64>) {
        if !self.interactive {
            return;
        }
        let bar = match total {
            Some(t) => ProgressBar::new(t),
            None => ProgressBar::new_spinner(),
        };
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix} [{elapsed_precise}] {wide_bar} {pos}/{len} (eta {eta})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_prefix(stage.to_string());
        if let Ok(mut b) = self.bar.lock() {
            *b = Some(bar);
        }
    }
    fn advance(&self, n: u64) {
        if let Ok(b) = self.bar.lock() {
            if let Some(b) = b.as_ref() {
                b.inc(n);
            }
        }
    }
    fn warn(&self, message: &str) {
        self.line(&format!("warning: {message}"));
    }
    fn finish(&self) {
        if let Ok(mut b) = self.bar.lock() {
            if let Some(b) = b.take() {
                b.finish_and_clear();
            }
        }
    }
}

impl TerminalReporter {
    /// A line on stderr, above the bar.
    fn line(&self, line: &str) {
        match self.bar.lock().ok().and_then(|b| b.clone()) {
            Some(b) => b.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }
}

impl tally_eval::EvalReporter for TerminalReporter {
    fn note(&self, message: &str) {
        self.line(message);
    }
    /// Live details on the progress bar (requests in flight, tokens/s, failures) and in the log
    /// (`TALLY_LOG=info`) when stderr is not a terminal.
    fn stats(&self, s: &tally_generate::Stats) {
        self.set_message(format!(
            "{} in flight, {:.0} tok/s, {} failed",
            s.in_flight, s.tokens_per_s, s.failures
        ));
        tracing::info!(
            "generate: {}/{} done, {} in flight, {:.0} tokens/s, {} failed",
            s.done,
            s.total,
            s.in_flight,
            s.tokens_per_s,
            s.failures
        );
    }
    fn generated(&self, g: &tally_eval::Generated) {
        crate::render::print_generated(g);
    }
    fn graded(&self, r: &tally_grade::files::FileReport) {
        self.line(&tally_cli::grade::eval_file_line(r));
    }
    fn judged(&self, j: &tally_eval::Judged) {
        crate::render::print_judged(j);
    }
    fn genselected(&self, g: &tally_eval::Genselected) {
        crate::render::print_genselected(g);
    }
}
