//! `tally export`'s flags: one row per sample, as parquet.

use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Results directory (as `tally eval` writes it).
    pub results_dir: PathBuf,
    /// The parquet file to write.
    #[arg(short, long)]
    pub output: PathBuf,
}
