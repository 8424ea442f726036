//! Model servers Tally starts, and the commands that convert a Hugging Face checkpoint into a
//! TensorRT-LLM engine.
//!
//! When `tally eval` is not given `--server_address`, it hosts the model itself, as `ns eval`
//! does: a [`ServerSpec`] (NeMo-Skills' `--server_type`, `--model`, `--server_gpus`,
//! `--server_nodes`, `--server_args`) becomes the exact command the seed runs
//! ([`ServerSpec::command`], spec §8.1), and [`RunningServer::start`] runs it and returns once it
//! answers its health check. The server runs in its own process group with its output in a log
//! file; [`RunningServer::stop`], or dropping the value, stops that whole group, worker processes
//! included (SIGTERM, then SIGKILL after a grace period). Startup failures carry the tail of the
//! log, and a missing program is reported with how to install it.
//!
//! Supported servers: vLLM and SGLang (their OpenAI servers, as NeMo-Skills launches them),
//! TensorRT-LLM through `trtllm-serve`, and llama.cpp's `llama-server`, Tally's CPU stand-in for
//! tests and demos.
//!
//! [`ConvertSpec`] is `ns convert --convert_from hf --convert_to trtllm` (spec §1.4): it plans
//! TensorRT-LLM's `convert_checkpoint.py` and `trtllm-build` with the seed's arguments
//! ([`ConvertSpec::plan`]), and [`run_plan`] runs the steps with a log each. Every command prints
//! as a shell line that runs exactly the same argument vector (for `--dry-run`).
//!
//! The crate never prints, exits, reads configuration from the environment or installs signal
//! handlers on its own; [`stop_on_ctrl_c`] is the explicit opt-in for a binary. (The one variable
//! it reads is `PATH`, in [`find_program`]: the lookup the spawn itself is about to do, done first
//! so that a missing program is an error saying what to install.)
//!
//! # Example
//!
//! The command line is planned without the program or the model (this part runs as a test);
//! starting it needs both, so `serve` is only compiled here.
//!
//! ```
//! use std::time::Duration;
//! use tally_launch::{free_port, LlamaCppOptions, RunningServer, ServerType, ServerSpec};
//!
//! let port = free_port().expect("a free port");
//! let spec = ServerSpec::new(ServerType::LlamaCpp, "/models/SmolLM2-135M-Instruct.Q4_1.gguf", port)
//!     .with_program("/opt/llama.cpp/bin/llama-server")
//!     .with_llama_cpp(LlamaCppOptions { ctx_size: 4096, parallel: 4, threads: 2 });
//! let command = spec.command()?; // what `--dry_run` prints, shell-quoted
//! assert_eq!(command.program, "/opt/llama.cpp/bin/llama-server");
//! let port_arg = command.args.iter().position(|a| a == "--port").expect("a --port");
//! assert_eq!(command.args[port_arg + 1], port.to_string());
//! assert_eq!(spec.base_url(), format!("http://127.0.0.1:{port}"));
//!
//! async fn serve(spec: &ServerSpec) -> Result<(), tally_launch::LaunchError> {
//!     let server = RunningServer::start(spec, "logs/server.log", Duration::from_secs(300)).await?;
//!     let url = format!("{}/v1/completions", server.base_url());
//!     // … send requests to `url` …
//!     # let _ = url;
//!     server.stop().await
//! }
//! # let _ = serve;
//! # Ok::<(), tally_launch::LaunchError>(())
//! ```
//!
//! A vLLM server on 8 GPUs with extra arguments is
//! `ServerSpec::new(ServerType::Vllm, "/models/m", 5000).with_gpus(8).with_server_args("--max-model-len 32768")?`.

mod command_line;
mod convert;
mod convert_run;
mod error;
mod health;
mod install;
mod log_tail;
mod port;
mod process_group;
mod running;
mod server_spec;
mod spawn;

pub mod shell_words;

pub use command_line::CommandLine;
pub use convert::{
    ConvertPlan, ConvertSpec, ConvertStep, Dtype, ModelType, TrtllmTools, CONTAINER_EXAMPLES_DIR,
};
pub use convert_run::{run_plan, StepOutcome};
pub use error::{LaunchError, Result};
pub use install::{find_program, LLAMA_SERVER_HINT, SGLANG_HINT, TRTLLM_HINT, VLLM_HINT};
pub use log_tail::log_tail;
pub use port::{free_port, port_is_free, port_is_listened};
pub use process_group::live_members;
pub use running::{
    check_installed, stop_on_ctrl_c, RunningServer, StartOptions, StopSignal, StopSignals, Stopper,
    DEFAULT_GRACE,
};
pub use server_spec::{
    hosting, require_hosting, Hosting, LlamaCppOptions, MultiNode, ServerSpec, ServerType,
};

/// Where `scripts/llama-server.sh setup` puts llama-server and its model under a cache root
/// (`$TALLY_CACHE_DIR`, by default `~/.cache/tally`; the caller resolves it).
pub mod llama_cache {
    use std::path::{Path, PathBuf};

    /// `<cache_root>/llama-server/bin/llama-server`.
    pub fn server_binary(cache_root: &Path) -> PathBuf {
        cache_root.join("llama-server/bin/llama-server")
    }

    /// `<cache_root>/llama-server/models/SmolLM2-135M-Instruct.Q4_1.gguf`.
    pub fn smollm2_model(cache_root: &Path) -> PathBuf {
        cache_root.join("llama-server/models/SmolLM2-135M-Instruct.Q4_1.gguf")
    }
}
