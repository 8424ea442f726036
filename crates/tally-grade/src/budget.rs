//! Limits that keep one comparison cheap whatever the input.

use thiserror::Error;

/// Per-pair resource limits. Past any of them the verdict is `Undecided`, never a hang.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// Longest answer (in bytes) that is parsed; longer ones are only compared as strings.
    pub max_answer_bytes: usize,
    /// Deepest bracket / operator nesting the parser accepts.
    pub max_depth: usize,
    /// Largest exact integer (in bits) built by powers, factorials and binomials.
    pub max_bits: u64,
    /// Abstract work units (tree nodes visited, sample evaluations) per comparison.
    pub max_work: u64,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            max_answer_bytes: 4_096,
            max_depth: 64,
            max_bits: 1 << 17,
            max_work: 200_000,
        }
    }
}

/// Why a comparison stopped early.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Limit {
    #[error("answer longer than the budget allows")]
    InputTooLong,
    #[error("nesting deeper than the budget allows")]
    TooDeep,
    #[error("number larger than the budget allows")]
    NumberTooLarge,
    #[error("work budget exhausted")]
    TooMuchWork,
    #[error("both sides are too large to evaluate numerically")]
    Overflow,
    #[error("an infinite series that does not converge fast enough to evaluate")]
    SlowSeries,
}

/// Counts work for one comparison; owned by the call, so there is no shared state.
pub(crate) struct Meter {
    pub budget: Budget,
    used: std::cell::Cell<u64>,
}

impl Meter {
    pub fn new(budget: Budget) -> Self {
        Meter {
            budget,
            used: std::cell::Cell::new(0),
        }
    }
    pub fn tick(&self, n: u64) -> Result<(), Limit> {
        let u = self.used.get() + n;
        self.used.set(u);
        if u > self.budget.max_work {
            Err(Limit::TooMuchWork)
        } else {
            Ok(())
        }
    }
}
