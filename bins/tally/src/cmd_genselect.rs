//! `tally genselect`: GenSelect over a benchmark's seed files (newer NeMo-Skills' offline
//! GenSelect); tally-eval's `genselect` stage does the work.

use std::process::ExitCode;

use tally_eval::ClientOptions;

use crate::reporter::TerminalReporter;
use crate::AnyError;

pub use tally_cli::genselect::Args;

pub fn run(args: Args) -> Result<ExitCode, AnyError> {
    let reporter = TerminalReporter::new();
    let job = args.job()?;
    let settings = job.settings()?;
    // Every input is read and checked before connecting: a bad record costs no server check.
    let problems = job.read_candidates()?;
    let selected = crate::signals::with_target(
        &args.target.choice()?,
        &job.output_dir().join("genselect-logs"),
        ClientOptions::new(&settings),
        &reporter,
        |rt, target| tally_eval::genselect(rt, target, &job, &problems, &reporter),
    )?;
    crate::render::print_genselected(&selected);
    Ok(crate::render::exit_code(selected.failures))
}
