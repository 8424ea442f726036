//! Model servers that Tally starts itself (`tally start-server`, `tally eval` without
//! `--server_address`): the flags of `ns eval`/`ns generate` → a `tally_launch::ServerSpec`.

use std::path::PathBuf;
use std::time::Duration;

use tally_launch::{llama_cache, LlamaCppOptions, ServerKind, ServerSpec};

use crate::AnyError;

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

/// `$TALLY_CACHE_DIR`, else `~/.cache/tally`.
pub fn cache_root() -> PathBuf {
    std::env::var_os("TALLY_CACHE_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/tally")))
        .unwrap_or_else(|| PathBuf::from("/var/cache/tally"))
}

/// The launch command for `server_type` serving `model`; llama.cpp's server is taken from
/// `scripts/llama-server.sh setup`'s cache when it is not on `PATH`.
pub fn server_spec(
    server_type: &str,
    model: Option<&str>,
    flags: &ServerFlags,
) -> Result<ServerSpec, AnyError> {
    let kind: ServerKind = server_type.parse().map_err(|_| {
        format!("--server_type={server_type}: Tally can host vllm, sglang, trtllm or llamacpp (or pass --server_address)")
    })?;
    let cache = cache_root();
    let model = match (model, kind) {
        (Some(m), _) => m.to_string(),
        (None, ServerKind::LlamaCpp) => llama_cache::smollm2_model(&cache).display().to_string(),
        (None, _) => return Err("--model is required to host a server".into()),
    };
    if kind != ServerKind::LlamaCpp && flags.server_gpus.is_none() {
        return Err(format!("--server_gpus is required to host a {kind} server").into());
    }
    let port = match flags.server_port {
        0 => tally_launch::free_port()?,
        p => p,
    };
    let mut spec = ServerSpec::new(kind, model, port)
        .with_gpus(flags.server_gpus.unwrap_or(1))
        .with_nodes(flags.server_nodes)
        .with_server_args(&flags.server_args)?;
    if kind == ServerKind::LlamaCpp {
        let cached = llama_cache::server_binary(&cache);
        if tally_launch::find_program("llama-server").is_none() && cached.exists() {
            spec = spec.with_program(cached.display().to_string());
        }
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get() as u32);
        spec = spec.with_llama_cpp(LlamaCppOptions {
            ctx_size: 4096,
            parallel: 4,
            threads,
        });
    }
    Ok(spec)
}

pub fn wait(flags: &ServerFlags) -> Duration {
    Duration::from_secs(flags.server_wait_s)
}
