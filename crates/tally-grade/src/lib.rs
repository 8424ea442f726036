//! Answer extraction and math-equivalence checking for Tally.
//!
//! Grading a math response is two steps:
//!
//! 1. **Extraction** ([`extract_answer`]) finds the final answer in the model's text, by
//!    default the last `\boxed{…}`. The [`ExtractMode::NemoSkills`] mode reproduces
//!    NeMo-Skills' rules exactly (only the last `\boxed{`, malformed → no answer);
//!    [`ExtractMode::Tally`] also reads `\fbox{}` and `\boxed 5` and says when the text ends
//!    inside a box.
//! 2. **Equivalence** ([`Grader::equal`]) parses both answers into an expression tree and
//!    compares them: exact rational arithmetic where possible, high-precision numerics for
//!    radicals and π, evaluation at fixed pseudo-random points for expressions with
//!    variables, and structural rules for tuples, intervals, sets, matrices and equations.
//!    [`Policy::NemoSkills`] reproduces the seed's `math_equal` instead, quirks included.
//!
//! Every comparison runs under a [`Budget`]; past it the verdict is
//! [`Outcome::Undecided`] with a reason, never a hang or a panic. A [`Grader`] is immutable,
//! `Send + Sync` and cheap to share across threads; the same pair gets the same verdict on
//! any thread count.
//!
//! A bug in the grader must not take a whole run down, so every public entry point catches a
//! panic at its own boundary (one pair, one record, one file): [`Grader::try_equal`] and the
//! other `try_` methods return it as a [`GraderError`]; the infallible ones give
//! [`Outcome::GraderError`] / [`ExtractStatus::GraderError`] (never counted as right or
//! wrong); [`files`] marks the record `grader_error` and grades the rest of the file. (A
//! stack overflow cannot be caught: recursion is bounded by the budget's depth instead.)
//!
//! ```
//! use tally_grade::{extract_answer, ExtractMode, Grader, Outcome, Policy};
//!
//! let response = "… so the area is $\\boxed{\\frac{1}{2}}$.";
//! let answer = extract_answer(response, ExtractMode::Tally).answer.unwrap();
//! assert_eq!(answer, "\\frac{1}{2}");
//!
//! let grader = Grader::builder().policy(Policy::Tally).build();
//! assert_eq!(grader.equal(&answer, "0.5").outcome, Outcome::Equal);
//! assert_eq!(grader.equal("(1, 2)", "[1, 2]").outcome, Outcome::NotEqual);
//!
//! // The seed's quirks, on request: 700 vs 7 is "equal" there (×100 percent rule).
//! let seed = Grader::builder().policy(Policy::NemoSkills).build();
//! assert!(seed.equal("700", "7").is_equal());
//! assert!(!grader.equal("700", "7").is_equal());
//!
//! // Canonical forms cluster equivalent answers for majority votes.
//! assert_eq!(tally_grade::canonical("\\dfrac{1}{2}"), tally_grade::canonical("0.5"));
//! ```

mod angle_families;
mod antiderivatives;
mod budget;
mod canonical;
mod choice;
mod compare;
mod congruence;
mod counting_notation;
mod expr;
mod extract;
mod families;
pub mod files;
mod function_words;
mod guard;
mod index_range;
mod integer_rays;
mod lexer;
mod maps;
mod names;
mod normalize_nemo;
mod number_sets;
mod number_words;
mod numeric;
mod parse;
mod permutations;
mod piecewise;
mod plusminus;
mod points;
mod policy_nemo;
mod precision;
mod prose;
mod pyfloat;
mod ratios;
mod sets;
mod text;
mod unit_conversion;
mod unit_vectors;
mod words;

pub use budget::{Budget, Limit};
pub use canonical::canonical;
pub use extract::{
    extract_answer, extract_choice_letter, extract_fallback, ExtractMode, ExtractStatus, Extraction,
};
pub use guard::{catch_grader_panic, GraderError};

use budget::Meter;
use serde::Serialize;

/// Which equivalence rules to apply.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Policy {
    /// The most accurate rules (see `docs/grading.md`).
    #[default]
    Tally,
    /// NeMo-Skills' seed `math_equal(pred, gold)`, quirks included (asymmetric).
    NemoSkills,
}

/// The result of a comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Equal,
    NotEqual,
    /// The grader cannot decide; counts as not correct, and says why.
    Undecided(Reason),
    /// The grader panicked (a bug, caught): neither right nor wrong; files record the sample
    /// as `grader_error`, a failure that summaries count apart.
    GraderError,
}

/// Why a comparison ended [`Outcome::Undecided`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// A budget ran out before a decision.
    Budget(Limit),
    /// An answer is in words that the rules neither match nor find contradictory (a reader,
    /// such as the LLM judge, is needed).
    Prose,
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reason::Budget(l) => write!(f, "budget: {l}"),
            Reason::Prose => f.write_str("answers in words that the rules cannot compare"),
        }
    }
}

/// A verdict with the rule that produced it (for reports and debugging).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub outcome: Outcome,
    pub rule: &'static str,
}

impl Verdict {
    /// `true` only for [`Outcome::Equal`].
    pub fn is_equal(&self) -> bool {
        self.outcome == Outcome::Equal
    }

    /// The verdict of a comparison whose grader panicked.
    pub const GRADER_ERROR: Verdict = Verdict {
        outcome: Outcome::GraderError,
        rule: "grader error",
    };
}

/// Compares answers under one policy and budget. Build with [`Grader::builder`].
#[derive(Clone, Debug, Default)]
pub struct Grader {
    policy: Policy,
    budget: Budget,
}

/// Builder for [`Grader`].
#[derive(Clone, Debug, Default)]
pub struct GraderBuilder {
    policy: Policy,
    budget: Budget,
}

impl GraderBuilder {
    pub fn policy(mut self, p: Policy) -> Self {
        self.policy = p;
        self
    }
    pub fn budget(mut self, b: Budget) -> Self {
        self.budget = b;
        self
    }
    pub fn build(self) -> Grader {
        Grader {
            policy: self.policy,
            budget: self.budget,
        }
    }
}

impl Grader {
    pub fn builder() -> GraderBuilder {
        GraderBuilder::default()
    }

    pub fn policy(&self) -> Policy {
        self.policy
    }

    /// Compares a predicted answer with the reference answer (both already extracted). A
    /// panic inside the grader gives [`Verdict::GRADER_ERROR`]; [`Grader::try_equal`] says why.
    pub fn equal(&self, pred: &str, gold: &str) -> Verdict {
        self.try_equal(pred, gold).unwrap_or(Verdict::GRADER_ERROR)
    }

    /// As [`Grader::equal`], with a panic inside the grader returned as an error.
    pub fn try_equal(&self, pred: &str, gold: &str) -> Result<Verdict, GraderError> {
        catch_grader_panic(|| self.equal_unguarded(pred, gold))
    }

    fn equal_unguarded(&self, pred: &str, gold: &str) -> Verdict {
        #[cfg(test)]
        guard::test_trigger(pred);
        let m = Meter::new(self.budget);
        match self.policy {
            Policy::NemoSkills => {
                let (p, g) = (
                    policy_nemo::client_prep(pred),
                    policy_nemo::client_prep(gold),
                );
                let max = self.budget.max_answer_bytes.saturating_mul(16);
                if p.len() > max || g.len() > max {
                    return Verdict {
                        outcome: Outcome::Undecided(Reason::Budget(Limit::InputTooLong)),
                        rule: "budget",
                    };
                }
                match policy_nemo::math_equal(&p, &g, &m) {
                    Ok(true) => Verdict {
                        outcome: Outcome::Equal,
                        rule: "nemo-skills math_equal",
                    },
                    Ok(false) => Verdict {
                        outcome: Outcome::NotEqual,
                        rule: "nemo-skills math_equal",
                    },
                    Err(l) => Verdict {
                        outcome: Outcome::Undecided(Reason::Budget(l)),
                        rule: "budget",
                    },
                }
            }
            Policy::Tally => match compare::tally_equal(pred, gold, &m) {
                Ok((Some(true), rule)) => Verdict {
                    outcome: Outcome::Equal,
                    rule,
                },
                Ok((Some(false), rule)) => Verdict {
                    outcome: Outcome::NotEqual,
                    rule,
                },
                Ok((None, rule)) => Verdict {
                    outcome: Outcome::Undecided(Reason::Prose),
                    rule,
                },
                Err(l) => Verdict {
                    outcome: Outcome::Undecided(Reason::Budget(l)),
                    rule: "budget",
                },
            },
        }
    }

    /// As [`Grader::equal`] for an extraction result: no answer is never correct under the
    /// Tally policy; the seed policy compares the string `"None"`, as the seed does (T10).
    pub fn equal_extracted(&self, pred: Option<&str>, gold: &str) -> Verdict {
        self.try_equal_extracted(pred, gold)
            .unwrap_or(Verdict::GRADER_ERROR)
    }

    /// As [`Grader::equal_extracted`], with a panic inside the grader returned as an error.
    pub fn try_equal_extracted(
        &self,
        pred: Option<&str>,
        gold: &str,
    ) -> Result<Verdict, GraderError> {
        match (pred, self.policy) {
            (Some(p), _) => self.try_equal(p, gold),
            (None, Policy::NemoSkills) => self.try_equal("None", gold),
            (None, Policy::Tally) => Ok(Verdict {
                outcome: Outcome::NotEqual,
                rule: "no answer",
            }),
        }
    }

    /// Pair mode with extraction (`tally grade --pairs --extract`): the answer is pulled out
    /// of `response` with [`extract_fallback`] (and out of `gold` when it is a boxed or
    /// `$…$` text), then compared. A panic gives [`Verdict::GRADER_ERROR`] (and, when the
    /// extraction panicked, an extraction with [`ExtractStatus::GraderError`]).
    pub fn grade_pair_extracting(&self, response: &str, gold: &str) -> (Extraction, Verdict) {
        let (ex, g) = match catch_grader_panic(|| {
            (
                extract::extract_fallback_unguarded(response),
                extract::extract_gold(gold),
            )
        }) {
            Ok(x) => x,
            Err(e) => return (Extraction::grader_error(&e), Verdict::GRADER_ERROR),
        };
        let v = self.equal_extracted(ex.answer.as_deref(), &g);
        (ex, v)
    }

    /// As [`Grader::grade_pair_extracting`], with a panic inside the grader returned as an
    /// error.
    pub fn try_grade_pair_extracting(
        &self,
        response: &str,
        gold: &str,
    ) -> Result<(Extraction, Verdict), GraderError> {
        let (ex, g) = catch_grader_panic(|| {
            (
                extract::extract_fallback_unguarded(response),
                extract::extract_gold(gold),
            )
        })?;
        let v = self.try_equal_extracted(ex.answer.as_deref(), &g)?;
        Ok((ex, v))
    }
}

/// Convenience: [`Grader::grade_pair_extracting`] with the default grader.
pub fn grade_pair_extracting(response: &str, gold: &str) -> (Extraction, Verdict) {
    Grader::default().grade_pair_extracting(response, gold)
}

#[cfg(test)]
fn _assert_send_sync() {
    fn is<T: Send + Sync>() {}
    is::<Grader>();
    is::<Verdict>();
}
