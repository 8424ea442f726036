//! `tally export`: one row per sample, as parquet.

use std::process::ExitCode;

use tally_view::export::write_parquet;
use tally_view::RunIndex;

use crate::AnyError;

pub use tally_cli::export::Args;

pub fn run(args: Args) -> Result<ExitCode, AnyError> {
    let run = RunIndex::open(&args.results_dir)?;
    let rows = write_parquet(&run, &args.output)?;
    eprintln!("{rows} samples written to {}", args.output.display());
    Ok(ExitCode::SUCCESS)
}
