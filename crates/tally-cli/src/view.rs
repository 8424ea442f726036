//! `tally view`'s flags: a local web viewer over results directories.

use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Results directories (as `tally eval` writes them); with two, /compare compares them.
    #[arg(required = true)]
    pub results_dirs: Vec<PathBuf>,
    /// Address to listen on (only this machine by default).
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Port to listen on (0: any free port; the URL is printed).
    #[arg(long, default_value_t = 8700)]
    pub port: u16,
}
