//! `tally compare`'s flags: two runs on their shared problems, with paired intervals.

use std::path::PathBuf;

use clap::ValueEnum;

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum CompareFormat {
    Text,
    Json,
}

#[derive(clap::Args)]
pub struct Args {
    /// Run A (a results directory).
    pub run_a: PathBuf,
    /// Run B (a results directory).
    pub run_b: PathBuf,
    /// Bootstrap resamples.
    #[arg(long, default_value_t = 2000)]
    pub resamples: usize,
    /// Seed of the bootstrap's generator (the same seed gives the same interval).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Resample problems only (not each problem's seeds) for pass@1.
    #[arg(long = "problems-only")]
    pub problems_only: bool,
    #[arg(long, value_enum, default_value = "text")]
    pub format: CompareFormat,
}
