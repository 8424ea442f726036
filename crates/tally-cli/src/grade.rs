//! `tally grade`'s flags (NeMo-Skills' `evaluate_results ++eval_type=math`): the grader's
//! policy and the file options; and its text: what each graded file holds.

use std::path::PathBuf;

use tally_grade::files::{FileGradeOptions, FileReport};
use tally_grade::{Grader, Policy};

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum PolicyArg {
    /// Tally's grader (see docs/grading.md).
    Tally,
    /// NeMo-Skills' seed `math_equal`, quirks included.
    #[value(name = "nemo-skills")]
    NemoSkills,
}

#[derive(clap::Args)]
pub struct Args {
    /// Sample files to grade in place (`output-rs*.jsonl`), or with --pairs one pair file.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Equivalence rules.
    #[arg(long, value_enum, default_value = "tally")]
    pub policy: PolicyArg,
    /// Shorthand for `--policy nemo-skills` (NeMo-Skills' extraction and `math_equal`).
    #[arg(long, value_parser = ["nemo-skills"])]
    pub compat: Option<String>,
    /// Re-grade records that already have `is_correct` (`++eval_config.ignore_cache=True`).
    #[arg(long = "ignore-cache")]
    pub ignore_cache: bool,
    /// Drop a leading `<think>…</think>` reasoning block before extracting.
    #[arg(long = "strip-think")]
    pub strip_think: bool,
    /// The file holds `{"gold", "pred"}` objects: write each back with `verdict` and `status`.
    #[arg(long)]
    pub pairs: bool,
    /// With --pairs: `pred` is a whole model response; extract its answer first.
    #[arg(long, requires = "pairs")]
    pub extract: bool,
    /// With --pairs: write here instead of stdout.
    #[arg(long, requires = "pairs")]
    pub output: Option<PathBuf>,
}

impl Args {
    /// The grader `--policy` / `--compat` ask for.
    pub fn grader(&self) -> Grader {
        let policy = match (self.policy, self.compat.is_some()) {
            (_, true) | (PolicyArg::NemoSkills, _) => Policy::NemoSkills,
            (PolicyArg::Tally, false) => Policy::Tally,
        };
        Grader::builder().policy(policy).build()
    }

    pub fn file_options(&self) -> FileGradeOptions {
        FileGradeOptions {
            ignore_cache: self.ignore_cache,
            strip_think: self.strip_think,
        }
    }
}

/// One graded file: its records, what was graded now, correct, without answer, failed,
/// undecided, unreadable and grader errors, and whether it was rewritten.
pub fn file_line(r: &FileReport) -> String {
    format!(
        "{}: {} records, {} graded now, {} correct, {} without answer{}{}{}{}{}",
        r.path.display(),
        r.records,
        r.graded,
        r.correct,
        r.no_answer,
        failed_part(&r.failed),
        if r.undecided > 0 {
            format!(", {} undecided (see grade_reason)", r.undecided)
        } else {
            String::new()
        },
        if r.unreadable_answers > 0 {
            format!(
                ", {} end inside an unclosed box (token budget?)",
                r.unreadable_answers
            )
        } else {
            String::new()
        },
        if r.grader_errors.is_empty() {
            String::new()
        } else {
            format!(", {} grader_error", r.grader_errors.len())
        },
        if r.rewritten { "" } else { " (unchanged)" },
    )
}

/// One graded file as `tally eval` shows it: records, correct, without answer, failed, grader
/// errors.
pub fn eval_file_line(r: &FileReport) -> String {
    format!(
        "{}: {} records, {} correct, {} without answer{}{}",
        r.path.display(),
        r.records,
        r.correct,
        r.no_answer,
        failed_part(&r.failed),
        if r.grader_errors.is_empty() {
            String::new()
        } else {
            format!(", {} grader_error", r.grader_errors.len())
        }
    )
}

/// `, 3 failed requests (request_error 2, timeout 1), not graded` — or nothing.
pub fn failed_part(failed: &std::collections::BTreeMap<tally_core::Status, usize>) -> String {
    let n: usize = failed.values().sum();
    if n == 0 {
        return String::new();
    }
    let parts: Vec<String> = failed.iter().map(|(s, n)| format!("{s} {n}")).collect();
    format!(", {n} failed requests ({}), not graded", parts.join(", "))
}
