//! `tally start-server`'s flags: host a model server the way `tally eval` would.

use std::path::PathBuf;

use crate::hosting::ServerFlags;

#[derive(clap::Args)]
pub struct Args {
    /// `vllm`, `sglang`, `trtllm` (trtllm-serve) or `llamacpp`.
    #[arg(long = "server_type")]
    pub server_type: tally_core::ServerType,
    /// Model path or name (llamacpp: a GGUF file; default: the cached SmolLM2-135M).
    #[arg(long)]
    pub model: Option<String>,
    #[command(flatten)]
    pub server: ServerFlags,
    /// The server's log (default: ./server-<type>.log).
    #[arg(long)]
    pub log: Option<PathBuf>,
    /// Print the command line and exit.
    #[arg(long = "dry_run")]
    pub dry_run: bool,
}

impl Args {
    /// The server's log: `--log`, else `./server-<type>.log`.
    pub fn log(&self) -> PathBuf {
        self.log
            .clone()
            .unwrap_or_else(|| PathBuf::from(format!("server-{}.log", self.server_type)))
    }
}
