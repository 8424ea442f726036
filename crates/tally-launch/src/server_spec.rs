//! Which server to start and the exact command line for it (spec §8.1).
//!
//! vLLM and SGLang get the command NeMo-Skills' `serve_vllm.py` / `serve_sglang.py` wrappers run at
//! the seed, without the wrappers: the same module, flags, spellings and order, with
//! `--server_args` appended. TensorRT-LLM is served through its own OpenAI server, `trtllm-serve`,
//! with the command NeMo-Skills adopted for it (2b444ea1): `trtllm-serve MODEL --port P --tp_size
//! G×N <args>`. llama.cpp's `llama-server` is Tally's CPU stand-in for tests and demos.

use crate::command_line::CommandLine;
use crate::error::{LaunchError, Result};
use crate::install;
use crate::shell_words;

pub use tally_core::ServerType;

/// What it takes to start a server of one [`ServerType`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hosting {
    /// The program run when the spec names none. vLLM and SGLang run as `python3 -m …` (the
    /// seed's wrappers do); a venv's interpreter can be given instead.
    pub default_program: &'static str,
    /// The Python package the program must be able to import, for the Python-module servers.
    pub python_module: Option<&'static str>,
    /// How to install this server, for error messages.
    pub install_hint: &'static str,
}

/// How Tally starts `kind`: vLLM, SGLang, TensorRT-LLM (`trtllm-serve`, which serves a Hugging
/// Face checkpoint directly, PyTorch backend, or an engine built by
/// [`ConvertSpec`](crate::ConvertSpec) with `--backend tensorrt` in the server arguments on 1.x)
/// and llama.cpp's `llama-server` (CPU, GGUF). `None` for the kinds Tally cannot start: the
/// OpenAI API, a generic server and the embedded model.
pub fn hosting(kind: ServerType) -> Option<Hosting> {
    let (default_program, python_module, install_hint) = match kind {
        ServerType::Vllm => ("python3", Some("vllm"), install::VLLM_HINT),
        ServerType::Sglang => ("python3", Some("sglang"), install::SGLANG_HINT),
        ServerType::Trtllm => ("trtllm-serve", None, install::TRTLLM_HINT),
        ServerType::LlamaCpp => ("llama-server", None, install::LLAMA_SERVER_HINT),
        ServerType::OpenAi | ServerType::Generic | ServerType::Local => return None,
    };
    Some(Hosting {
        default_program,
        python_module,
        install_hint,
    })
}

/// [`hosting`], or an error naming what Tally can host.
pub fn require_hosting(kind: ServerType) -> Result<Hosting> {
    hosting(kind).ok_or_else(|| {
        LaunchError::InvalidSpec(format!(
            "cannot host server type `{kind}` (Tally hosts vllm, sglang, trtllm or llamacpp; \
             for a running server pass --server_address)"
        ))
    })
}

/// Where this process sits in a multi-node SGLang deployment (`--server_nodes` > 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultiNode {
    /// This node's rank, 0 for the head (`$SLURM_PROCID` in the seed).
    pub node_rank: u32,
    /// The head node's address; SGLang's init port 20000 is appended as the seed does.
    pub dist_init_addr: String,
}

/// llama.cpp's knobs; the defaults are `scripts/llama-server.sh`'s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LlamaCppOptions {
    /// `-c`: context size in tokens, shared by all slots.
    pub ctx_size: u32,
    /// `--parallel`: concurrent request slots.
    pub parallel: u32,
    /// `-t`: CPU threads.
    pub threads: u32,
}

impl Default for LlamaCppOptions {
    fn default() -> Self {
        LlamaCppOptions {
            ctx_size: 4096,
            parallel: 4,
            threads: 2,
        }
    }
}

/// A server to host: `ns eval`'s `--server_type`, `--model`, `--server_gpus`, `--server_nodes`
/// and `--server_args`, plus the port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSpec {
    pub kind: ServerType,
    /// A path or a model name the server resolves (a Hugging Face id for vLLM/SGLang, an engine
    /// or checkpoint directory for `trtllm-serve`, a `.gguf` file for llama.cpp).
    pub model: String,
    /// `--server_gpus`: tensor-parallel size per node (unused by llama.cpp).
    pub gpus: u32,
    /// `--server_nodes`.
    pub nodes: u32,
    pub port: u16,
    /// `--server_args`, already split into words (see [`ServerSpec::with_server_args`]).
    pub extra_args: Vec<String>,
    /// Overrides [`Hosting::default_program`]: a venv's `python3`, a `llama-server` path.
    pub program: Option<String>,
    /// Extra environment for the server process.
    pub env: Vec<(String, String)>,
    /// Required for SGLang when `nodes > 1`.
    pub multi_node: Option<MultiNode>,
    pub llama_cpp: LlamaCppOptions,
}

impl ServerSpec {
    /// One node, one GPU, no extra arguments.
    pub fn new(kind: ServerType, model: impl Into<String>, port: u16) -> Self {
        ServerSpec {
            kind,
            model: model.into(),
            gpus: 1,
            nodes: 1,
            port,
            extra_args: Vec::new(),
            program: None,
            env: Vec::new(),
            multi_node: None,
            llama_cpp: LlamaCppOptions::default(),
        }
    }

    pub fn with_gpus(mut self, gpus: u32) -> Self {
        self.gpus = gpus;
        self
    }

    pub fn with_nodes(mut self, nodes: u32) -> Self {
        self.nodes = nodes;
        self
    }

    /// Appends `--server_args`, split into words as the seed's shell would (quotes honoured, no
    /// expansion).
    pub fn with_server_args(mut self, server_args: &str) -> Result<Self> {
        self.extra_args.extend(shell_words::split(server_args)?);
        Ok(self)
    }

    pub fn with_program(mut self, program: impl Into<String>) -> Self {
        self.program = Some(program.into());
        self
    }

    pub fn with_env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    pub fn with_multi_node(mut self, multi_node: MultiNode) -> Self {
        self.multi_node = Some(multi_node);
        self
    }

    pub fn with_llama_cpp(mut self, options: LlamaCppOptions) -> Self {
        self.llama_cpp = options;
        self
    }

    /// The program that will run.
    pub fn program(&self) -> &str {
        self.program
            .as_deref()
            .unwrap_or_else(|| hosting(self.kind).map_or("", |h| h.default_program))
    }

    /// Where clients reach the server on this machine.
    ///
    /// Always the IPv4 loopback: vLLM and SGLang bind `0.0.0.0`, llama.cpp `127.0.0.1` and
    /// `trtllm-serve` its default `localhost`, which uvicorn binds as IPv4.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The exact command that starts this server.
    pub fn command(&self) -> Result<CommandLine> {
        require_hosting(self.kind)?;
        if self.model.is_empty() {
            return Err(LaunchError::InvalidSpec("no model given".into()));
        }
        if self.nodes == 0 {
            return Err(LaunchError::InvalidSpec(
                "--server_nodes must be at least 1".into(),
            ));
        }
        if self.gpus == 0 && self.kind != ServerType::LlamaCpp {
            return Err(LaunchError::InvalidSpec(format!(
                "--server_gpus must be at least 1 to host {}",
                self.kind
            )));
        }
        let base = CommandLine {
            program: self.program().to_string(),
            args: Vec::new(),
            env: self.env.clone(),
        };
        Ok(match self.kind {
            ServerType::Vllm => self.vllm(base)?,
            ServerType::Sglang => self.sglang(base)?,
            ServerType::Trtllm => self.trtllm(base),
            ServerType::LlamaCpp => self.llama_cpp(base)?,
            ServerType::OpenAi | ServerType::Generic | ServerType::Local => {
                unreachable!("require_hosting refused it above")
            }
        })
    }

    fn vllm(&self, base: CommandLine) -> Result<CommandLine> {
        if self.nodes > 1 {
            // The seed starts a Ray cluster across the nodes first (its `get_ray_server_cmd`);
            // Tally's launcher runs one process on this machine.
            return Err(LaunchError::InvalidSpec(format!(
                "vLLM on {} nodes needs a Ray cluster, which Tally does not start; start the \
                 servers yourself and pass --server_address",
                self.nodes
            )));
        }
        // serve_vllm.py takes `--verbose` out of the extra arguments and then leaves the request
        // and stats logging on.
        let verbose = self.extra_args.iter().any(|a| a == "--verbose");
        let m = &self.model;
        let mut cmd = base.args([
            "-m".to_string(),
            "vllm.entrypoints.openai.api_server".to_string(),
            format!("--model={m}"),
            format!("--served-model-name={m}"),
            "--trust-remote-code".to_string(),
            "--host=0.0.0.0".to_string(),
            format!("--port={}", self.port),
            format!("--tensor-parallel-size={}", self.gpus),
            "--gpu-memory-utilization=0.9".to_string(),
            "--max-num-seqs=256".to_string(),
        ]);
        if !verbose {
            cmd = cmd.args(["--disable-log-requests", "--disable-log-stats"]);
        }
        Ok(cmd.args(
            self.extra_args
                .iter()
                .filter(|a| *a != "--verbose")
                .cloned(),
        ))
    }

    fn sglang(&self, base: CommandLine) -> Result<CommandLine> {
        let m = &self.model;
        let mut cmd = base.args([
            "-m".to_string(),
            "sglang.launch_server".to_string(),
            format!("--model={m}"),
            format!("--served-model-name={m}"),
            "--trust-remote-code".to_string(),
            "--host=0.0.0.0".to_string(),
            format!("--port={}", self.port),
            format!("--tensor-parallel-size={}", self.gpus * self.nodes),
        ]);
        if self.nodes > 1 {
            let mn = self.multi_node.as_ref().ok_or_else(|| {
                LaunchError::InvalidSpec(format!(
                    "SGLang on {} nodes needs this node's rank and the head node's address",
                    self.nodes
                ))
            })?;
            cmd = cmd.args([
                format!("--nnodes={}", self.nodes),
                format!("--node-rank={}", mn.node_rank),
                format!("--dist-init-addr={}:20000", mn.dist_init_addr),
            ]);
        }
        Ok(cmd.args(self.extra_args.iter().cloned()))
    }

    fn trtllm(&self, base: CommandLine) -> CommandLine {
        let serve_args = [
            self.model.clone(),
            "--port".to_string(),
            self.port.to_string(),
            "--tp_size".to_string(),
            (self.gpus * self.nodes).to_string(),
        ];
        if self.nodes > 1 {
            // TensorRT-LLM's launcher for one MPI world spanning nodes (one rank per GPU).
            let serve = base.program.clone();
            CommandLine {
                program: "trtllm-llmapi-launch".to_string(),
                ..base
            }
            .arg(serve)
            .args(serve_args)
            .args(self.extra_args.iter().cloned())
        } else {
            base.args(serve_args).args(self.extra_args.iter().cloned())
        }
    }

    fn llama_cpp(&self, base: CommandLine) -> Result<CommandLine> {
        if self.nodes > 1 {
            return Err(LaunchError::InvalidSpec(
                "llama-server runs on one node".to_string(),
            ));
        }
        let o = &self.llama_cpp;
        Ok(base
            .args([
                "-m".to_string(),
                self.model.clone(),
                "--host".to_string(),
                "127.0.0.1".to_string(),
                "--port".to_string(),
                self.port.to_string(),
                "-c".to_string(),
                o.ctx_size.to_string(),
                "--parallel".to_string(),
                o.parallel.to_string(),
                "-t".to_string(),
                o.threads.to_string(),
            ])
            .args(self.extra_args.iter().cloned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn vllm_is_the_seeds_serve_vllm_command() {
        let spec = ServerSpec::new(ServerType::Vllm, "/models/qwen2.5-math-7b", 5000)
            .with_gpus(8)
            .with_server_args("--max-model-len 32768 --dtype 'bfloat16'")
            .unwrap();
        let cmd = spec.command().unwrap();
        assert_eq!(cmd.program, "python3");
        assert_eq!(
            cmd.args,
            words(
                "-m vllm.entrypoints.openai.api_server --model=/models/qwen2.5-math-7b \
                 --served-model-name=/models/qwen2.5-math-7b --trust-remote-code --host=0.0.0.0 \
                 --port=5000 --tensor-parallel-size=8 --gpu-memory-utilization=0.9 \
                 --max-num-seqs=256 --disable-log-requests --disable-log-stats \
                 --max-model-len 32768 --dtype bfloat16"
            )
        );
        assert!(cmd.env.is_empty());
        assert_eq!(
            cmd.to_string(),
            "python3 -m vllm.entrypoints.openai.api_server --model=/models/qwen2.5-math-7b \
             --served-model-name=/models/qwen2.5-math-7b --trust-remote-code --host=0.0.0.0 \
             --port=5000 --tensor-parallel-size=8 --gpu-memory-utilization=0.9 --max-num-seqs=256 \
             --disable-log-requests --disable-log-stats --max-model-len 32768 --dtype bfloat16"
        );
    }

    #[test]
    fn vllm_verbose_keeps_request_logging_and_is_consumed() {
        let spec = ServerSpec::new(ServerType::Vllm, "Qwen/Qwen2.5-1.5B-Instruct", 5001)
            .with_server_args("--verbose --enforce-eager")
            .unwrap();
        let cmd = spec.command().unwrap();
        assert_eq!(
            cmd.args,
            words(
                "-m vllm.entrypoints.openai.api_server --model=Qwen/Qwen2.5-1.5B-Instruct \
                 --served-model-name=Qwen/Qwen2.5-1.5B-Instruct --trust-remote-code \
                 --host=0.0.0.0 --port=5001 --tensor-parallel-size=1 \
                 --gpu-memory-utilization=0.9 --max-num-seqs=256 --enforce-eager"
            )
        );
    }

    #[test]
    fn vllm_model_with_spaces_stays_one_argument() {
        let spec = ServerSpec::new(ServerType::Vllm, "/my models/m", 5000);
        let cmd = spec.command().unwrap();
        assert_eq!(cmd.args[2], "--model=/my models/m");
        assert!(cmd.to_string().contains(" '--model=/my models/m' "));
    }

    #[test]
    fn vllm_multi_node_is_refused() {
        let spec = ServerSpec::new(ServerType::Vllm, "m", 5000).with_nodes(2);
        assert!(matches!(spec.command(), Err(LaunchError::InvalidSpec(_))));
    }

    #[test]
    fn sglang_is_the_seeds_serve_sglang_command() {
        let spec = ServerSpec::new(ServerType::Sglang, "/models/m", 5000)
            .with_gpus(4)
            .with_server_args("--mem-fraction-static 0.8")
            .unwrap();
        let cmd = spec.command().unwrap();
        assert_eq!(cmd.program, "python3");
        assert_eq!(
            cmd.args,
            words(
                "-m sglang.launch_server --model=/models/m --served-model-name=/models/m \
                 --trust-remote-code --host=0.0.0.0 --port=5000 --tensor-parallel-size=4 \
                 --mem-fraction-static 0.8"
            )
        );
    }

    #[test]
    fn sglang_multi_node_adds_rank_and_init_address() {
        let spec = ServerSpec::new(ServerType::Sglang, "/models/m", 5000)
            .with_gpus(8)
            .with_nodes(2)
            .with_multi_node(MultiNode {
                node_rank: 1,
                dist_init_addr: "node-001".into(),
            });
        assert_eq!(
            spec.command().unwrap().args,
            words(
                "-m sglang.launch_server --model=/models/m --served-model-name=/models/m \
                 --trust-remote-code --host=0.0.0.0 --port=5000 --tensor-parallel-size=16 \
                 --nnodes=2 --node-rank=1 --dist-init-addr=node-001:20000"
            )
        );
        let without = ServerSpec::new(ServerType::Sglang, "m", 5000).with_nodes(2);
        assert!(matches!(
            without.command(),
            Err(LaunchError::InvalidSpec(_))
        ));
    }

    #[test]
    fn trtllm_serve_command() {
        let spec = ServerSpec::new(ServerType::Trtllm, "/models/m-trtllm", 5000)
            .with_gpus(8)
            .with_server_args("--max_batch_size 512 --backend trt")
            .unwrap();
        let cmd = spec.command().unwrap();
        assert_eq!(cmd.program, "trtllm-serve");
        assert_eq!(
            cmd.args,
            words("/models/m-trtllm --port 5000 --tp_size 8 --max_batch_size 512 --backend trt")
        );
        assert_eq!(
            cmd.to_string(),
            "trtllm-serve /models/m-trtllm --port 5000 --tp_size 8 --max_batch_size 512 --backend trt"
        );
    }

    #[test]
    fn trtllm_multi_node_goes_through_llmapi_launch() {
        let spec = ServerSpec::new(ServerType::Trtllm, "/models/m", 6000)
            .with_gpus(8)
            .with_nodes(2);
        let cmd = spec.command().unwrap();
        assert_eq!(cmd.program, "trtllm-llmapi-launch");
        assert_eq!(
            cmd.args,
            words("trtllm-serve /models/m --port 6000 --tp_size 16")
        );
    }

    #[test]
    fn llama_server_command() {
        let spec = ServerSpec::new(ServerType::LlamaCpp, "/cache/SmolLM2.gguf", 8200)
            .with_program("/cache/bin/llama-server")
            .with_llama_cpp(LlamaCppOptions {
                ctx_size: 2048,
                parallel: 2,
                threads: 3,
            })
            .with_server_args("--no-webui")
            .unwrap()
            .with_env("LLAMA_ARG_FOO", "1");
        let cmd = spec.command().unwrap();
        assert_eq!(cmd.program, "/cache/bin/llama-server");
        assert_eq!(
            cmd.args,
            words(
                "-m /cache/SmolLM2.gguf --host 127.0.0.1 --port 8200 -c 2048 --parallel 2 -t 3 \
                 --no-webui"
            )
        );
        assert_eq!(cmd.env, [("LLAMA_ARG_FOO".to_string(), "1".to_string())]);
        assert_eq!(spec.base_url(), "http://127.0.0.1:8200");
    }

    #[test]
    fn only_servers_tally_can_start_are_hostable() {
        for k in [
            ServerType::Vllm,
            ServerType::Sglang,
            ServerType::Trtllm,
            ServerType::LlamaCpp,
        ] {
            assert!(hosting(k).is_some(), "{k}");
        }
        for k in [ServerType::OpenAi, ServerType::Generic, ServerType::Local] {
            let e = ServerSpec::new(k, "m", 1)
                .with_gpus(1)
                .command()
                .unwrap_err()
                .to_string();
            assert!(
                e.contains(&format!("`{k}`")) && e.contains("--server_address"),
                "{e}"
            );
        }
    }

    #[test]
    fn bad_specs_are_refused() {
        assert!(ServerSpec::new(ServerType::Vllm, "", 1).command().is_err());
        assert!(ServerSpec::new(ServerType::Vllm, "m", 1)
            .with_gpus(0)
            .command()
            .is_err());
        assert!(ServerSpec::new(ServerType::LlamaCpp, "m", 1)
            .with_gpus(0)
            .command()
            .is_ok());
        assert!(ServerSpec::new(ServerType::Sglang, "m", 1)
            .with_server_args("'x")
            .is_err());
    }
}
