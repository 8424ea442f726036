//! How one sample ended, as one colour of the grid.

use tally_core::judgement::{parse_verdict, ParseMode, Verdict};
use tally_core::Status;

/// The outcome of one sample, settled from its status and verdicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Outcome {
    Correct,
    Wrong,
    NoAnswer,
    Truncated,
    /// The grader could not decide (`grade_status: undecided`).
    Undecided,
    /// The rule verdict and the judge's verdict differ.
    JudgeDisagrees,
    /// The grader failed on this sample (`grader_error`).
    GraderError,
    /// The request, its deadline or the sandbox failed: no answer to grade, never "wrong".
    RequestError,
    /// No verdict was written.
    Ungraded,
}

impl Outcome {
    pub const ALL: [Outcome; 9] = [
        Outcome::Correct,
        Outcome::Wrong,
        Outcome::NoAnswer,
        Outcome::Truncated,
        Outcome::Undecided,
        Outcome::JudgeDisagrees,
        Outcome::GraderError,
        Outcome::RequestError,
        Outcome::Ungraded,
    ];

    /// Machine name: CSS class suffix and `?status=` value.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Correct => "correct",
            Outcome::Wrong => "wrong",
            Outcome::NoAnswer => "no_answer",
            Outcome::Truncated => "truncated",
            Outcome::Undecided => "undecided",
            Outcome::JudgeDisagrees => "judge_disagrees",
            Outcome::GraderError => "grader_error",
            Outcome::RequestError => "request_error",
            Outcome::Ungraded => "ungraded",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Outcome::Correct => "correct",
            Outcome::Wrong => "wrong",
            Outcome::NoAnswer => "no answer",
            Outcome::Truncated => "truncated",
            Outcome::Undecided => "undecided",
            Outcome::JudgeDisagrees => "judge disagrees",
            Outcome::GraderError => "grader error",
            Outcome::RequestError => "request failed",
            Outcome::Ungraded => "not graded",
        }
    }

    pub fn parse(s: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.name() == s)
    }

    /// Counts as an answer that was judged (for difficulty: correct / judged).
    pub fn is_judged(self) -> bool {
        !matches!(
            self,
            Outcome::RequestError | Outcome::GraderError | Outcome::Ungraded
        )
    }
}

/// The verdict fields of a record that settle its outcome.
#[derive(Debug, Clone, Default)]
pub struct Verdicts<'a> {
    pub status: Option<&'a str>,
    pub judge_status: Option<&'a str>,
    pub grade_status: Option<&'a str>,
    /// `is_correct`, else `symbolic_correct`.
    pub rule: Option<bool>,
    pub judgement: Option<&'a str>,
    pub has_answer: bool,
}

/// Settles a sample's outcome. A failure is never a wrong answer; a judge that contradicts the
/// rule is shown as such whichever way it went.
pub fn classify(v: &Verdicts<'_>) -> Outcome {
    let status = v.status.and_then(Status::parse);
    if status == Some(Status::GraderError) {
        return Outcome::GraderError;
    }
    let judge_failed = v
        .judge_status
        .and_then(Status::parse)
        .is_some_and(Status::is_failure);
    if status.is_some_and(Status::is_failure) || judge_failed {
        return Outcome::RequestError;
    }
    let judge = v
        .judgement
        .map(|j| parse_verdict(j, ParseMode::Default))
        .and_then(|j| match j {
            Verdict::Yes => Some(true),
            Verdict::No => Some(false),
            _ => None,
        });
    if let (Some(r), Some(j)) = (v.rule, judge) {
        if r != j {
            return Outcome::JudgeDisagrees;
        }
    }
    let correct = v.rule.or(judge);
    if correct == Some(true) {
        return Outcome::Correct;
    }
    if status == Some(Status::Truncated) {
        return Outcome::Truncated;
    }
    if v.grade_status == Some("undecided") {
        return Outcome::Undecided;
    }
    if !v.has_answer || matches!(status, Some(Status::NoAnswer | Status::ReasoningUnfinished)) {
        return Outcome::NoAnswer;
    }
    match correct {
        Some(false) => Outcome::Wrong,
        _ => Outcome::Ungraded,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v<'a>() -> Verdicts<'a> {
        Verdicts {
            has_answer: true,
            ..Default::default()
        }
    }

    #[test]
    fn failures_are_never_wrong_and_judges_that_disagree_show() {
        let failed = Verdicts {
            status: Some("timeout"),
            rule: Some(false),
            ..v()
        };
        assert_eq!(classify(&failed), Outcome::RequestError);
        let disagree = Verdicts {
            rule: Some(false),
            judgement: Some("Judgement: Yes"),
            ..v()
        };
        assert_eq!(classify(&disagree), Outcome::JudgeDisagrees);
        let agree = Verdicts {
            rule: Some(true),
            judgement: Some("Judgement: Yes"),
            ..v()
        };
        assert_eq!(classify(&agree), Outcome::Correct);
        let none = Verdicts {
            rule: Some(false),
            has_answer: false,
            status: Some("no_answer"),
            ..v()
        };
        assert_eq!(classify(&none), Outcome::NoAnswer);
        let undecided = Verdicts {
            rule: Some(false),
            grade_status: Some("undecided"),
            ..v()
        };
        assert_eq!(classify(&undecided), Outcome::Undecided);
        for o in Outcome::ALL {
            assert_eq!(Outcome::parse(o.name()), Some(o));
        }
    }
}
