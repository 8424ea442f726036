//! `tally view`: a local web viewer over results directories.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use tally_view::compare::CompareOptions;
use tally_view::server::{self, ServedRun, ViewState};

use crate::AnyError;

pub use tally_cli::view::Args;

pub fn run(args: Args) -> Result<ExitCode, AnyError> {
    let started = Instant::now();
    let runs = args
        .results_dirs
        .iter()
        .map(|d| ServedRun::open(d))
        .collect::<Result<Vec<_>, _>>()?;
    let samples: usize = runs.iter().map(|r| r.index.num_samples()).sum();
    let took = started.elapsed();
    let state = Arc::new(ViewState {
        runs,
        compare: CompareOptions::default(),
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = server::bind(&format!("{}:{}", args.host, args.port)).await?;
        let addr = listener.local_addr()?;
        println!(
            "tally view: http://{addr}/ ({} runs, {samples} samples, indexed in {} ms); Ctrl-C stops it",
            state.runs.len(),
            took.as_millis()
        );
        tokio::select! {
            r = server::serve(listener, state) => r?,
            _ = tokio::signal::ctrl_c() => {}
        }
        Ok::<_, AnyError>(())
    })?;
    Ok(ExitCode::SUCCESS)
}
