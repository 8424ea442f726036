//! `tally judge` (= `tally generate --generation_type=math_judge`, NeMo-Skills' `llm_math_judge`):
//! graded sample files in, the same records with a `judgement` out, through the generation engine
//! (bounded concurrency, crash-safe resume) with prefilled verdicts that cost no call and a
//! content-keyed cache that makes a rerun free.

use std::process::ExitCode;

use tally_eval::{judge, ClientOptions};

use crate::reporter::TerminalReporter;
use crate::AnyError;

pub use tally_cli::judge::Args;

pub fn run(args: Args) -> Result<ExitCode, AnyError> {
    let job = args.job()?;
    let reporter = TerminalReporter::new();
    let settings = job.settings()?;
    // Every input is read and checked before connecting: a bad record costs no server check.
    let inputs = job.read_inputs()?;
    let log_dir = job.output_dir.join("generation-logs");
    let judged = crate::signals::with_target(
        &args.target.choice()?,
        &log_dir,
        ClientOptions::new(&settings),
        &reporter,
        |rt, target| judge(rt, target, &job, inputs, &reporter),
    )?;
    crate::render::print_judged(&judged);
    Ok(crate::render::exit_code(judged.failures))
}
