//! `tally report`'s flags: one self-contained HTML file of a results directory.

use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Results directory (as `tally eval` writes it).
    pub results_dir: PathBuf,
    /// The HTML file to write.
    #[arg(short, long, default_value = "report.html")]
    pub output: PathBuf,
    /// Megabytes of sample text embedded (later samples are listed, not embedded).
    #[arg(long = "max-text-mb", default_value_t = 8)]
    pub max_text_mb: usize,
}
