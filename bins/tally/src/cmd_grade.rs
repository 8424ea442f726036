//! `tally grade` (NeMo-Skills' `evaluate_results ++eval_type=math`).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use tally_core::Reporter;
use tally_grade::files::{grade_files, grade_pair_file, FileGradeOptions};
use tally_grade::{Grader, Policy};

use crate::render::failed_part;
use crate::reporter::TerminalReporter;
use crate::AnyError;

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
    files: Vec<PathBuf>,
    /// Equivalence rules.
    #[arg(long, value_enum, default_value = "tally")]
    policy: PolicyArg,
    /// Shorthand for `--policy nemo-skills` (NeMo-Skills' extraction and `math_equal`).
    #[arg(long, value_parser = ["nemo-skills"])]
    compat: Option<String>,
    /// Re-grade records that already have `is_correct` (`++eval_config.ignore_cache=True`).
    #[arg(long = "ignore-cache")]
    ignore_cache: bool,
    /// Drop a leading `<think>…</think>` reasoning block before extracting.
    #[arg(long = "strip-think")]
    strip_think: bool,
    /// The file holds `{"gold", "pred"}` objects: write each back with `verdict` and `status`.
    #[arg(long)]
    pairs: bool,
    /// With --pairs: `pred` is a whole model response; extract its answer first.
    #[arg(long, requires = "pairs")]
    extract: bool,
    /// With --pairs: write here instead of stdout.
    #[arg(long, requires = "pairs")]
    output: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<ExitCode, AnyError> {
    let policy = match (args.policy, args.compat.is_some()) {
        (_, true) | (PolicyArg::NemoSkills, _) => Policy::NemoSkills,
        (PolicyArg::Tally, false) => Policy::Tally,
    };
    let grader = Grader::builder().policy(policy).build();
    if args.pairs {
        return pairs(&args, &grader);
    }
    let opts = FileGradeOptions {
        ignore_cache: args.ignore_cache,
        strip_think: args.strip_think,
    };
    let reporter = TerminalReporter::new();
    let results = grade_files(&args.files, &grader, &opts, &reporter);
    let mut failed = false;
    let mut grader_errors = 0;
    for r in results {
        match r {
            Ok(rep) => {
                grader_errors += rep.grader_errors.len();
                eprintln!(
                    "{}: {} records, {} graded now, {} correct, {} without answer{}{}{}{}{}",
                    rep.path.display(),
                    rep.records,
                    rep.graded,
                    rep.correct,
                    rep.no_answer,
                    failed_part(&rep.failed),
                    if rep.undecided > 0 {
                        format!(", {} undecided (see grade_reason)", rep.undecided)
                    } else {
                        String::new()
                    },
                    if rep.unreadable_answers > 0 {
                        format!(
                            ", {} end inside an unclosed box (token budget?)",
                            rep.unreadable_answers
                        )
                    } else {
                        String::new()
                    },
                    if rep.grader_errors.is_empty() {
                        String::new()
                    } else {
                        format!(", {} grader_error", rep.grader_errors.len())
                    },
                    if rep.rewritten { "" } else { " (unchanged)" },
                )
            }
            Err(e) => {
                failed = true;
                eprintln!("error: {e} (file left untouched)");
            }
        }
    }
    Ok(exit_code(failed, grader_errors))
}

/// 1 when a file could not be graded (it is untouched); else 2 when the grader panicked on
/// some records (they are written as `grader_error`, the rest is graded); else 0.
fn exit_code(failed: bool, grader_errors: usize) -> ExitCode {
    if failed {
        ExitCode::from(1)
    } else if grader_errors > 0 {
        eprintln!(
            "error: the grader failed on {grader_errors} record(s) (a bug in Tally; marked `grader_error`, \
             left out of the scores; the rest is graded)"
        );
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

fn pairs(args: &Args, grader: &Grader) -> Result<ExitCode, AnyError> {
    let [file] = args.files.as_slice() else {
        return Err("--pairs takes exactly one file".into());
    };
    let (out, errors) = grade_pair_file(file, grader, args.extract)?;
    let reporter = TerminalReporter::new();
    for e in &errors {
        reporter.warn(&format!(
            "{}:{}: {} (pair marked `grader_error`)",
            file.display(),
            e.line,
            e.error
        ));
    }
    match &args.output {
        Some(p) => tally_core::atomic::atomic_write_bytes(p, &out)?,
        None => std::io::stdout().lock().write_all(&out)?,
    }
    Ok(exit_code(false, errors.len()))
}
