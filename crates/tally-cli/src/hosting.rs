//! The server flags of `ns eval`/`ns generate` (shared by `eval`, `generate`, `judge` and
//! `start-server`), as `tally_eval::HostOptions`.

use tally_eval::{HostOptions, ServerChoice};

/// The server flags shared by `tally eval` and `tally start-server`.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct ServerFlags {
    /// GPUs for the hosted server (tensor parallelism).
    #[arg(long = "server_gpus")]
    pub server_gpus: Option<u32>,
    #[arg(long = "server_nodes", default_value_t = 1)]
    pub server_nodes: u32,
    /// Extra arguments appended to the server's command line.
    #[arg(long = "server_args", default_value = "", allow_hyphen_values = true)]
    pub server_args: String,
    /// Port of the hosted server (NeMo-Skills: 5000); 0 picks a free one.
    #[arg(long = "server_port", default_value_t = 5000)]
    pub server_port: u16,
    /// How long to wait for the hosted server to answer its health check.
    #[arg(long = "server_wait_s", default_value_t = 1800)]
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

/// The model a stage talks to: `--server_type`, `--server_address`, `--model` and the hosting
/// flags (shared by `generate`, `judge` and `genselect`).
#[derive(clap::Args, Clone, Debug, Default)]
pub struct TargetFlags {
    /// `vllm`, `sglang`, `trtllm`, `openai`, `llamacpp` or `generic` (any OpenAI-compatible server).
    #[arg(long = "server_type")]
    pub server_type: String,
    /// Base URL of a running server (e.g. http://127.0.0.1:5000); without it Tally hosts
    /// `--model` itself (vllm, sglang, trtllm, llamacpp; see --server_gpus).
    #[arg(long = "server_address")]
    pub server_address: Option<String>,
    /// Model name as the server knows it; discovered from /v1/models when omitted.
    #[arg(long)]
    pub model: Option<String>,
    #[command(flatten)]
    pub server: ServerFlags,
}

impl TargetFlags {
    /// The server `--server_type` names (checked here: the stages' flag structs keep it a string
    /// so that they can be built with `Default`).
    pub fn choice(&self) -> Result<ServerChoice, tally_core::UnknownServerType> {
        Ok(self.server.choice(
            self.server_type.parse()?,
            self.server_address.as_deref(),
            self.model.as_deref(),
        ))
    }
}
