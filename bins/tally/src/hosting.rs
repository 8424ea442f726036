//! The server flags of `ns eval`/`ns generate` (shared by `eval`, `generate`, `judge` and
//! `start-server`), as `tally_eval::HostOptions`.

use tally_eval::{HostOptions, ServerChoice};

/// The server flags shared by `tally eval` and `tally start-server`.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct ServerFlags {
    /// GPUs for the hosted server (tensor parallelism).
    #[arg(long = "server_gpus", alias = "server-gpus")]
    pub server_gpus: Option<u32>,
    #[arg(long = "server_nodes", alias = "server-nodes", default_value_t = 1)]
    pub server_nodes: u32,
    /// Extra arguments appended to the server's command line.
    #[arg(
        long = "server_args",
        alias = "server-args",
        default_value = "",
        allow_hyphen_values = true
    )]
    pub server_args: String,
    /// Port of the hosted server (NeMo-Skills: 5000); 0 picks a free one.
    #[arg(long = "server_port", alias = "server-port", default_value_t = 5000)]
    pub server_port: u16,
    /// How long to wait for the hosted server to answer its health check.
    #[arg(
        long = "server_wait_s",
        alias = "server-wait-s",
        default_value_t = 1800
    )]
    pub server_wait_s: u64,
}

impl ServerFlags {
    /// The server a command talks to: `address` when given, else one hosted with these flags.
    pub fn choice(
        &self,
        server_type: tally_core::ServerType,
        address: Option<&str>,
        model: Option<&str>,
    ) -> ServerChoice {
        ServerChoice {
            server_type,
            address: address.map(str::to_string),
            model: model.map(str::to_string),
            host: self.host_options(),
        }
    }

    pub fn host_options(&self) -> HostOptions {
        HostOptions {
            gpus: self.server_gpus,
            nodes: self.server_nodes,
            args: self.server_args.clone(),
            port: self.server_port,
            wait_s: self.server_wait_s,
        }
    }
}
