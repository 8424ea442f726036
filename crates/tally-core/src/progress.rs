//! Progress reporting. Libraries call a [`Reporter`]; the binary decides how to draw it (a
//! progress bar on a terminal, log lines elsewhere). Libraries never print.

/// Receives progress from a long-running library call. All methods have empty defaults so an
/// implementation overrides only what it shows. Implementations must be cheap: they are called
/// from hot loops, possibly from several threads.
pub trait Reporter: Send + Sync {
    /// A unit of work with `total` steps begins (`None` when the total is unknown).
    fn start(&self, _stage: &str, _total: Option<u64>) {}
    /// `n` more steps are done.
    fn advance(&self, _n: u64) {}
    /// Something worth a person's attention that does not stop the work.
    fn warn(&self, _message: &str) {}
    /// The unit of work started last is finished.
    fn finish(&self) {}
}

/// A reporter that discards everything (tests, embedding).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoopReporter;

impl Reporter for NoopReporter {}

/// A reporter that keeps warnings, for callers that want to show them later.
#[derive(Debug, Default)]
pub struct CollectingReporter {
    warnings: std::sync::Mutex<Vec<String>>,
}

impl CollectingReporter {
    pub fn warnings(&self) -> Vec<String> {
        self.warnings.lock().map(|w| w.clone()).unwrap_or_default()
    }
}

impl Reporter for CollectingReporter {
    fn warn(&self, message: &str) {
        if let Ok(mut w) = self.warnings.lock() {
            w.push(message.to_string());
        }
    }
}
