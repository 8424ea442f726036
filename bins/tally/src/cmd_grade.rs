//! `tally grade` (NeMo-Skills' `evaluate_results ++eval_type=math`).

use std::io::Write;
use std::process::ExitCode;

use tally_core::Reporter;
use tally_grade::files::{grade_files, grade_pair_file};
use tally_grade::Grader;

use crate::reporter::TerminalReporter;
use crate::AnyError;

pub use tally_cli::grade::Args;

pub fn run(args: Args) -> Result<ExitCode, AnyError> {
    let grader = args.grader();
    if args.pairs {
        return pairs(&args, &grader);
    }
    let opts = args.file_options();
    let reporter = TerminalReporter::new();
    let results = grade_files(&args.files, &grader, &opts, &reporter);
    let mut failed = false;
    let mut grader_errors = 0;
    for r in results {
        match r {
            Ok(rep) => {
                grader_errors += rep.grader_errors.len();
                eprintln!("{}", tally_cli::grade::file_line(&rep));
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
