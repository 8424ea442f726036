//! The model to evaluate: a running server (checked before anything is sent), one this process
//! hosts (vLLM, SGLang, trtllm-serve, llama.cpp's server), or the embedded CPU model.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tally_core::ServerType;
use tally_generate::tally_backend::{ApiKey, Backend, OpenAiCompatBackend};
use tally_generate::Settings;
use tally_launch::{llama_cache, LlamaCppOptions, ServerSpec};

use crate::defaults::{cache_dir, env_nonempty, proxy_configured};
use crate::error::{EvalError, Result};
use crate::EvalReporter;

/// How to host a server (`--server_gpus`, `--server_nodes`, `--server_args`, `--server_port`,
/// `--server_wait_s`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostOptions {
    pub gpus: Option<u32>,
    pub nodes: u32,
    /// Extra arguments appended to the server's command line.
    pub args: String,
    /// 0 picks a free port.
    pub port: u16,
    /// How long to wait for the server's health check, in seconds.
    pub wait_s: u64,
}

impl Default for HostOptions {
    fn default() -> Self {
        HostOptions {
            gpus: None,
            nodes: 1,
            args: String::new(),
            port: 5000,
            wait_s: 1800,
        }
    }
}

/// Which model serves the requests: `server_type`, and a running server's `address` or the
/// options to host `model`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerChoice {
    /// `--server_type`; [`ServerType::Local`] is the embedded model.
    pub server_type: ServerType,
    pub address: Option<String>,
    /// The model as the server knows it (discovered when `None`), or the model to host.
    pub model: Option<String>,
    pub host: HostOptions,
}

impl ServerChoice {
    /// A running OpenAI-compatible server at `address`.
    pub fn remote(server_type: ServerType, address: &str) -> ServerChoice {
        ServerChoice {
            server_type,
            address: Some(address.to_string()),
            model: None,
            host: HostOptions::default(),
        }
    }

    /// Whether this process would start a server (no address, not the embedded model).
    pub fn is_hosted(&self) -> bool {
        self.address.is_none() && self.server_type.is_remote()
    }
}

/// The model to generate with.
pub struct Target {
    /// `--server_type`: how requests are shaped, recorded with the outputs.
    pub server_type: ServerType,
    pub backend: Box<dyn Backend>,
    /// The model name as the server knows it (part of every sample's key).
    pub model: String,
    /// The server's URL (`None` for the embedded model), for messages.
    pub address: Option<String>,
}

/// How the client treats the server: from the run's `++` settings.
#[derive(Debug, Clone, Copy)]
pub struct ClientOptions {
    /// `++max_concurrent_requests`: requests (and connections) in flight.
    pub max_connections: usize,
    /// `++max_connection_failures`: consecutive connection failures that stop the run.
    pub max_connection_failures: u32,
    /// `++request_timeout`: a request without an answer by then ends as `timeout`.
    pub request_timeout: Option<Duration>,
    /// Nothing is sent: an unreachable server is a note, not an error.
    pub dry_run: bool,
    /// Check the server before the run (off only for a hosted server a dry run never starts).
    pub check: bool,
    /// The environment configures an HTTP proxy: every request goes through reqwest, which
    /// applies it ([`crate::defaults::proxy_configured`]).
    pub proxied: bool,
}

impl ClientOptions {
    pub fn new(settings: &Settings) -> ClientOptions {
        ClientOptions {
            max_connections: settings.max_concurrent_requests,
            max_connection_failures: settings.max_connection_failures,
            request_timeout: settings.request_timeout,
            dry_run: settings.dry_run,
            check: true,
            proxied: proxy_configured(),
        }
    }
}

/// Connects to a running server and checks, within seconds, that it answers
/// (`Backend::check`); the model name is discovered from `/v1/models` unless given. In a dry run
/// an unreachable server is a note, not an error. `server_type` `local` loads the embedded model.
pub fn connect(
    rt: &tokio::runtime::Runtime,
    server_type: ServerType,
    address: Option<&str>,
    model: Option<&str>,
    opts: ClientOptions,
    reporter: &dyn EvalReporter,
) -> Result<Target> {
    if server_type == ServerType::Local {
        // The embedded model: nothing to connect to, nothing to check.
        return local_target(model);
    }
    let kind = server_type;
    let address = address.ok_or(
        "--server_address is required here: give the URL of a running server (or use `tally eval`, which can start one)",
    )?;
    let mut builder = OpenAiCompatBackend::builder(address, kind)
        .max_connections(opts.max_connections)
        .max_connection_failures(opts.max_connection_failures)
        .proxied(opts.proxied);
    if let Some(t) = opts.request_timeout {
        builder = builder.request_timeout(t);
    }
    if let Some(m) = model {
        builder = builder.model(m.to_string());
    }
    if kind == ServerType::OpenAi {
        if let Some(key) = env_nonempty("OPENAI_API_KEY") {
            builder = builder.api_key(ApiKey::new(key));
        }
    }
    let backend = builder.build()?;
    let checked = if opts.check {
        rt.block_on(backend.check())
    } else {
        Ok(())
    };
    let reachable = match checked {
        Ok(()) => true,
        Err(e) if opts.dry_run => {
            reporter.warn(&format!("the server at {address} does not answer ({e}); a dry run sends nothing, so it goes on"));
            false
        }
        Err(source) => {
            return Err(EvalError::ServerCheck {
                address: address.to_string(),
                source,
            })
        }
    };
    let model = match model {
        Some(m) => m.to_string(),
        None if !reachable => "<model not discovered>".to_string(),
        None => match rt.block_on(backend.model_name()) {
            Ok(m) => m,
            Err(_) if opts.dry_run => "<model not discovered>".to_string(),
            Err(e) => return Err(tally_generate::GenerateError::ModelName(e).into()),
        },
    };
    Ok(Target {
        server_type: kind,
        backend: Box::new(backend),
        model,
        address: Some(address.to_string()),
    })
}

/// `local`: the embedded CPU model (`model` a GGUF file; default the cached SmolLM2-135M).
/// Chat prompts use the GGUF's chat template; requests are batched in-process.
#[cfg(feature = "local")]
fn local_target(model: Option<&str>) -> Result<Target> {
    let path = model
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| llama_cache::smollm2_model(&cache_dir()));
    if !path.exists() {
        return Err(format!(
            "{}: no such model file (fetch the default with `bash scripts/llama-server.sh setup`)",
            path.display()
        )
        .into());
    }
    let options = tally_local::LocalOptions {
        threads: crate::defaults::local_threads(),
        ..tally_local::LocalOptions::default()
    };
    let backend = tally_local::LocalBackend::load(&path, options)?;
    let name = path
        .file_stem()
        .map_or("local".into(), |s| s.to_string_lossy().into_owned());
    Ok(Target {
        server_type: ServerType::Local,
        backend: Box::new(backend),
        model: name,
        address: None,
    })
}

#[cfg(not(feature = "local"))]
fn local_target(_model: Option<&str>) -> Result<Target> {
    Err("--server_type local needs the embedded model: build with `cargo build --workspace --features tally/local`".into())
}

/// The launch command for `server_type` serving `model`; llama.cpp's server is taken from
/// `scripts/llama-server.sh setup`'s cache when it is not on `PATH`.
pub fn server_spec(
    server_type: ServerType,
    model: Option<&str>,
    host: &HostOptions,
) -> Result<ServerSpec> {
    let kind = server_type;
    tally_launch::require_hosting(kind)?;
    let cache = cache_dir();
    let model = match (model, kind) {
        (Some(m), _) => m.to_string(),
        (None, ServerType::LlamaCpp) => llama_cache::smollm2_model(&cache).display().to_string(),
        (None, _) => return Err("--model is required to host a server".into()),
    };
    if kind != ServerType::LlamaCpp && host.gpus.is_none() {
        return Err(format!("--server_gpus is required to host a {kind} server").into());
    }
    let port = match host.port {
        0 => tally_launch::free_port()?,
        p => p,
    };
    let mut spec = ServerSpec::new(kind, model, port)
        .with_gpus(host.gpus.unwrap_or(1))
        .with_nodes(host.nodes)
        .with_server_args(&host.args)?;
    if kind == ServerType::LlamaCpp {
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

/// A hosted server (if any) and the client for it. Drop order: the server stops last.
pub struct Connection {
    pub target: Target,
    pub server: Option<tally_launch::RunningServer>,
}

impl Connection {
    /// Stops the hosted server (and waits until its processes are gone).
    pub fn close(self, rt: &tokio::runtime::Runtime) -> Result<()> {
        if let Some(s) = self.server {
            rt.block_on(s.stop())?;
        }
        Ok(())
    }

    /// The hosted server's command line, if this connection started one.
    pub fn hosted_command(&self) -> Option<String> {
        self.server.as_ref().map(|s| s.command().to_string())
    }
}

/// Connects to `server.address`, or — as `ns generate` does without one — hosts `server.model`
/// and connects to that (its log in `log_dir`). `on_start` receives the hosted server's stopper
/// as soon as it runs (the binary's signal handler stops it). In a dry run nothing is started.
pub fn host_or_connect(
    rt: &tokio::runtime::Runtime,
    server: &ServerChoice,
    log_dir: &Path,
    opts: ClientOptions,
    reporter: &dyn EvalReporter,
    on_start: &dyn Fn(tally_launch::Stopper),
) -> Result<Connection> {
    let model = server.model.as_deref();
    if !server.is_hosted() {
        let target = connect(
            rt,
            server.server_type,
            server.address.as_deref(),
            model,
            opts,
            reporter,
        )?;
        return Ok(Connection {
            target,
            server: None,
        });
    }
    let spec = server_spec(server.server_type, model, &server.host)?;
    if opts.dry_run {
        reporter.note(&format!(
            "server: would host {} → {}\n  {}",
            spec.kind,
            spec.base_url(),
            spec.command()?
        ));
        // Not started yet: nothing answers there, and nothing needs to.
        let target = connect(
            rt,
            server.server_type,
            Some(&spec.base_url()),
            model.or(Some("<hosted>")),
            ClientOptions {
                dry_run: true,
                check: false,
                ..opts
            },
            reporter,
        )?;
        return Ok(Connection {
            target,
            server: None,
        });
    }
    std::fs::create_dir_all(log_dir)
        .map_err(|e| EvalError::Invalid(format!("{}: {e}", log_dir.display())))?;
    let log = log_dir.join(format!("server-{}.log", spec.kind));
    reporter.note(&format!(
        "== starting {} (log {})\n{}",
        spec.kind,
        log.display(),
        spec.command()?
    ));
    let running = rt.block_on(tally_launch::RunningServer::start_with(
        &spec,
        // Started from block_on on the caller's thread, which outlives the server: a SIGKILLed
        // caller takes its server with it.
        tally_launch::StartOptions::new(&log, Duration::from_secs(server.host.wait_s))
            .with_die_with_parent(true),
    ))?;
    on_start(running.stopper());
    let target = connect(
        rt,
        server.server_type,
        Some(running.base_url()),
        model,
        opts,
        reporter,
    )?;
    Ok(Connection {
        target,
        server: Some(running),
    })
}
