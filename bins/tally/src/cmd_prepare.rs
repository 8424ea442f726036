//! `tally prepare` (`python -m nemo_skills.dataset.prepare`).

use std::process::ExitCode;

use tally_data::HttpFetcher;

use crate::AnyError;

pub use tally_cli::prepare::Args;

pub fn run(args: Args) -> Result<ExitCode, AnyError> {
    if args.list {
        for line in tally_cli::prepare::list() {
            println!("{line}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let requests = args.requests()?;
    let fetcher = HttpFetcher::new(tally_eval::defaults::hf_token())?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    for req in &requests {
        let prepared = rt.block_on(tally_data::prepare(req, &fetcher))?;
        for p in prepared {
            println!("{}", tally_cli::prepare::prepared_line(&p));
        }
    }
    Ok(ExitCode::SUCCESS)
}
