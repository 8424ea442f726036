//! `tally start-server`: host a model server the way `tally eval` would, until Ctrl-C.

use std::process::ExitCode;

use tally_launch::{stop_on_ctrl_c, RunningServer, StartOptions};

use crate::AnyError;

pub use tally_cli::start_server::Args;

pub fn run(args: Args) -> Result<ExitCode, AnyError> {
    let host = args.server.host_options();
    let spec = tally_eval::server_spec(args.server_type, args.model.as_deref(), &host)?;
    let command = spec.command()?;
    if args.dry_run {
        println!("{command}");
        return Ok(ExitCode::SUCCESS);
    }
    let log = args.log();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        eprintln!("starting: {command}\nlog: {}", log.display());
        let server = RunningServer::start_with(
            &spec,
            StartOptions::new(&log, std::time::Duration::from_secs(host.wait_s))
                .with_die_with_parent(true),
        )
        .await?;
        println!("{}", server.base_url());
        eprintln!("serving at {} (Ctrl-C stops it)", server.base_url());
        stop_on_ctrl_c(server.stopper()).await?;
        server.stop().await?;
        Ok::<(), AnyError>(())
    })?;
    Ok(ExitCode::from(130))
}
