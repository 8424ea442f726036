//! The panic boundary of every public grading path: a bug in the grader costs one pair, one
//! record or one file, never the process.

use std::panic::{catch_unwind, AssertUnwindSafe};

/// A panic inside the grader (a bug), caught at a grading boundary. Reported and counted as
/// the failure status `grader_error`, never as a right or wrong answer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the grader panicked: {message}")]
pub struct GraderError {
    /// The panic's message (`"<non-string panic>"` when it carried none).
    pub message: String,
}

/// Runs `f`, turning a panic into a [`GraderError`].
///
/// The grader keeps no shared mutable state (a comparison's work meter is local to the call;
/// the compiled regexes are read-only), so nothing observable is left half-updated by a caught
/// panic: asserting unwind safety is sound here. The process's panic hook still runs (the
/// `tally` binary prints one line per caught panic). A stack overflow aborts and cannot be
/// caught, which is why the lexer and parser bound their recursion.
pub fn catch_grader_panic<T>(f: impl FnOnce() -> T) -> Result<T, GraderError> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|payload| GraderError {
        message: payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "<non-string panic>".into()),
    })
}

/// The answer that makes the grader panic in this crate's own tests, so they can show what a
/// caught panic becomes (no such answer exists outside `cfg(test)`).
#[cfg(test)]
pub(crate) const TEST_PANIC: &str = "tally-test-panic";

#[cfg(test)]
pub(crate) fn test_trigger(answer: &str) {
    if answer == TEST_PANIC {
        panic!("forced by a test");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Grader, Outcome};

    #[test]
    fn a_panic_becomes_an_error_with_its_message() {
        assert_eq!(catch_grader_panic(|| 7), Ok(7));
        let e = catch_grader_panic(|| -> u8 { panic!("boom {}", 1) }).unwrap_err();
        assert_eq!(e.message, "boom 1");
        let e = catch_grader_panic(|| -> u8 { std::panic::panic_any(3u32) }).unwrap_err();
        assert_eq!(e.message, "<non-string panic>");
    }

    #[test]
    fn every_public_comparison_catches_the_panic() {
        let g = Grader::default();
        assert_eq!(g.equal(TEST_PANIC, "1").outcome, Outcome::GraderError);
        assert!(!g.equal(TEST_PANIC, "1").is_equal());
        assert_eq!(
            g.try_equal(TEST_PANIC, "1").unwrap_err().message,
            "forced by a test"
        );
        assert_eq!(
            g.equal_extracted(Some(TEST_PANIC), "1").outcome,
            Outcome::GraderError
        );
        let (ex, v) = g.grade_pair_extracting(&format!("so \\boxed{{{TEST_PANIC}}}"), "1");
        assert_eq!(v.outcome, Outcome::GraderError);
        // The extraction itself worked; only the comparison failed.
        assert_eq!(ex.answer.as_deref(), Some(TEST_PANIC));
        assert!(g
            .try_grade_pair_extracting(&format!("\\boxed{{{TEST_PANIC}}}"), "1")
            .is_err());
        // A pair that does not panic is unaffected.
        assert_eq!(g.equal("1/2", "0.5").outcome, Outcome::Equal);
    }
}
