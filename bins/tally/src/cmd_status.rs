//! `tally status OUTPUT_DIR`: where an evaluation (or a generation) stands — `tally_eval::status`
//! as tally-cli's `status::lines` (also drawn live by `tally eval --cluster slurm --wait`).

use std::process::ExitCode;

use tally_cli::status::lines;
use tally_cluster::{SlurmConfig, SlurmExecutor};

use crate::AnyError;

pub use tally_cli::status::Args;

pub fn run(args: Args) -> Result<ExitCode, AnyError> {
    let log_dir = args.log_dir();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let executor = SlurmExecutor::new(SlurmConfig::new(log_dir.join("scripts")));
    let status = rt.block_on(tally_eval::status(
        &args.output_dir,
        Some(&log_dir),
        Some(&executor),
    ))?;
    if status.dirs.is_empty() {
        println!("{}: no outputs yet", args.output_dir.display());
    }
    for l in lines(&status) {
        println!("{l}");
    }
    Ok(ExitCode::SUCCESS)
}
