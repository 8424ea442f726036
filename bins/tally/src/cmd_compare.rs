//! `tally compare`: two runs on their shared problems, with paired intervals.

use std::process::ExitCode;

use tally_view::compare::{compare, text, CompareOptions};
use tally_view::RunIndex;

use crate::AnyError;

pub use tally_cli::compare::{Args, CompareFormat};

pub fn run(args: Args) -> Result<ExitCode, AnyError> {
    let a = RunIndex::open(&args.run_a)?;
    let b = RunIndex::open(&args.run_b)?;
    let opts = CompareOptions {
        resamples: args.resamples,
        seed: args.seed,
        resample_seeds: !args.problems_only,
    };
    let c = compare(&a, &b, &opts)?;
    match args.format {
        CompareFormat::Text => print!("{}", text(&c)),
        CompareFormat::Json => println!("{}", serde_json::to_string_pretty(&c)?),
    }
    Ok(ExitCode::SUCCESS)
}
