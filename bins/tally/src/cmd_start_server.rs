//! `tally start-server`: host a model server the way `tally eval` would, until Ctrl-C.

use std::path::PathBuf;
use std::process::ExitCode;

use tally_launch::{stop_on_ctrl_c, RunningServer, StartOptions};

use crate::hosting::ServerFlags;
use crate::AnyError;

#[derive(clap::Args)]
pub struct Args {
    /// `vllm`, `sglang`, `trtllm` (trtllm-serve) or `llamacpp`.
    #[arg(long = "server_type")]
    server_type: tally_core::ServerType,
    /// Model path or name (llamacpp: a GGUF file; default: the cached SmolLM2-135M).
    #[arg(long)]
    model: Option<String>,
    #[command(flatten)]
    server: ServerFlags,
    /// The server's log (default: ./server-<type>.log).
    #[arg(long)]
    log: Option<PathBuf>,
    /// Print the command line and exit.
    #[arg(long = "dry_run")]
    dry_run: bool,
}

pub fn run(args: Args) -> Result<ExitCode, AnyError> {
    let host = args.server.host_options();
    let spec = tally_eval::server_spec(args.server_type, args.model.as_deref(), &host)?;
    let command = spec.command()?;
    if args.dry_run {
        println!("{command}");
        return Ok(ExitCode::SUCCESS);
    }
    let log = args
        .log
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("server-{}.log", args.server_type)));
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
