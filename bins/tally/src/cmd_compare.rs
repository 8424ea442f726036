//! `tally compare`: two runs on their shared problems, with paired intervals.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::ValueEnum;
use tally_view::compare::{compare, text, CompareOptions};
use tally_view::RunIndex;

use crate::AnyError;

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum CompareFormat {
    Text,
    Json,
}

#[derive(clap::Args)]
pub struct Args {
    /// Run A (a results directory).
    run_a: PathBuf,
    /// Run B (a results directory).
    run_b: PathBuf,
    /// Bootstrap resamples.
    #[arg(long, default_value_t = 2000)]
    resamples: usize,
    /// Seed of the bootstrap's generator (the same seed gives the same interval).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Resample problems only (not each problem's seeds) for pass@1.
    #[arg(long = "problems-only")]
    problems_only: bool,
    #[arg(long, value_enum, default_value = "text")]
    format: CompareFormat,
}

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
