//! `tally sandbox`: the isolated code-execution service (NeMo-Skills' `/execute`, plus sessions).

use std::process::ExitCode;

use tally_sandbox::SandboxService;

use crate::AnyError;

pub use tally_cli::sandbox::Args;

pub fn run(args: Args) -> Result<ExitCode, AnyError> {
    let config = args.config()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let service = SandboxService::start(config).await?;
        let listener = tokio::net::TcpListener::bind(args.listen).await?;
        eprintln!(
            "sandbox listening on http://{} ({} workers, isolation: {})",
            args.listen,
            service.config().workers,
            service.isolation().name()
        );
        // SIGINT or SIGTERM (Slurm's scancel, docker stop): stop serving, kill the workers and
        // remove the runtime directory before exiting.
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        let stop = async move {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        };
        tally_sandbox::serve(service, listener, stop).await?;
        Ok::<(), AnyError>(())
    })?;
    Ok(ExitCode::SUCCESS)
}
