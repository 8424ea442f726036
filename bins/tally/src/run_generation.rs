//! Generation as `tally generate`, `tally judge` and `tally eval` share it: connecting to the
//! model, resolving the problems and the prompt, running the engine with a live progress line,
//! and printing what each pass did.

use std::path::{Path, PathBuf};

use tally_core::overrides::Overrides;
use tally_core::Reporter;
use tally_generate::tally_backend::{ApiKey, Backend, OpenAiCompatBackend, ServerKind};
use tally_generate::tally_prompt::Filled;
use tally_generate::{
    load_inputs, load_prompt, passes, Generator, InputSpec, Job, PassState, ResumePolicy,
    RunSummary, SeedDefaults, SeedPlan, Settings, Stats, StatsObserver,
};

use crate::cmd_prepare::default_data_dir;
use crate::reporter::TerminalReporter;
use crate::sandbox_exec::{sandbox_url, start_in_process, SandboxExecutor};
use crate::AnyError;

/// The model to generate with.
pub struct Target {
    /// How requests are shaped (the embedded model answers like llama.cpp's server).
    pub kind: ServerKind,
    /// `--server_type` as recorded with the outputs (`local` for the embedded model).
    pub server_type: &'static str,
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
    pub request_timeout: Option<std::time::Duration>,
    /// Nothing is sent: an unreachable server is a note, not an error.
    pub dry_run: bool,
    /// Check the server before the run (off only for a hosted server a dry run never starts).
    pub check: bool,
}

impl ClientOptions {
    pub fn new(settings: &Settings) -> ClientOptions {
        ClientOptions {
            max_connections: settings.max_concurrent_requests,
            max_connection_failures: settings.max_connection_failures,
            request_timeout: settings.request_timeout,
            dry_run: settings.dry_run,
            check: true,
        }
    }
}

/// The pre-flight check failed: the server at `address` cannot be used, and nothing was sent.
#[derive(Debug)]
pub struct ServerCheckFailed {
    pub address: String,
    pub source: tally_generate::tally_backend::BackendError,
}

impl std::fmt::Display for ServerCheckFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "no usable server at {}: checked before the run, nothing was sent (is the server running, and is the address right?)",
            self.address
        )
    }
}

impl std::error::Error for ServerCheckFailed {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// Connects to a running server (`--server_address`) and checks, within seconds, that it
/// answers (`Backend::check`); the model name is discovered from `/v1/models` unless given. In a
/// dry run an unreachable server is a note, not an error.
pub fn connect(
    rt: &tokio::runtime::Runtime,
    server_type: &str,
    address: Option<&str>,
    model: Option<&str>,
    opts: ClientOptions,
) -> Result<Target, AnyError> {
    if server_type == "local" {
        // The embedded model: nothing to connect to, nothing to check.
        return local_target(model);
    }
    let kind: ServerKind = server_type.parse().map_err(|_| {
        format!("--server_type={server_type}: expected vllm, sglang, trtllm, openai, llamacpp or generic")
    })?;
    let address = address.ok_or(
        "--server_address is required here: give the URL of a running server (or use `tally eval`, which can start one)",
    )?;
    let mut builder = OpenAiCompatBackend::builder(address, kind)
        .max_connections(opts.max_connections)
        .max_connection_failures(opts.max_connection_failures);
    if let Some(t) = opts.request_timeout {
        builder = builder.request_timeout(t);
    }
    if let Some(m) = model {
        builder = builder.model(m.to_string());
    }
    if kind == ServerKind::OpenAi {
        if let Some(key) = std::env::var("OPENAI_API_KEY")
            .ok()
            .filter(|k| !k.is_empty())
        {
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
            eprintln!("note: the server at {address} does not answer ({e}); a dry run sends nothing, so it goes on");
            false
        }
        Err(source) => {
            return Err(ServerCheckFailed {
                address: address.to_string(),
                source,
            }
            .into())
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
        kind,
        server_type: kind.as_str(),
        backend: Box::new(backend),
        model,
        address: Some(address.to_string()),
    })
}

/// `--server_type local`: the embedded CPU model (`--model` a GGUF file; default the cached
/// SmolLM2-135M). Chat prompts use the GGUF's chat template; requests are batched in-process.
#[cfg(feature = "local")]
fn local_target(model: Option<&str>) -> Result<Target, AnyError> {
    let path = model
        .map(PathBuf::from)
        .unwrap_or_else(|| tally_launch::llama_cache::smollm2_model(&crate::hosting::cache_root()));
    if !path.exists() {
        return Err(format!(
            "{}: no such model file (fetch the default with `bash scripts/llama-server.sh setup`)",
            path.display()
        )
        .into());
    }
    // Every core by default (results do not depend on the thread count); TALLY_LOCAL_THREADS
    // caps it on a shared machine.
    let threads = std::env::var("TALLY_LOCAL_THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .or_else(|| std::thread::available_parallelism().ok().map(|n| n.get()))
        .unwrap_or(1);
    let options = tally_local::LocalOptions {
        threads,
        ..tally_local::LocalOptions::default()
    };
    let backend = tally_local::LocalBackend::load(&path, options)?;
    let name = path
        .file_stem()
        .map_or("local".into(), |s| s.to_string_lossy().into_owned());
    Ok(Target {
        kind: ServerKind::LlamaCpp,
        server_type: "local",
        backend: Box::new(backend),
        model: name,
        address: None,
    })
}

#[cfg(not(feature = "local"))]
fn local_target(_model: Option<&str>) -> Result<Target, AnyError> {
    Err("--server_type local needs the embedded model: build with `cargo build --workspace --features tally/local`".into())
}

/// A hosted server (if any) and the client for it. Drop order: the server stops last.
pub struct Connection {
    pub target: Target,
    pub server: Option<tally_launch::RunningServer>,
}

impl Connection {
    /// Stops the hosted server (and waits until its processes are gone).
    pub fn close(self, rt: &tokio::runtime::Runtime) -> Result<(), AnyError> {
        if let Some(s) = self.server {
            rt.block_on(s.stop())?;
        }
        Ok(())
    }
}

/// Connects to `--server_address`, or — as `ns generate` does without one — hosts `--model`
/// (`--server_gpus`, `--server_args`, …) and connects to that; Ctrl-C then stops the server
/// before the process exits. In a dry run the server command is printed instead.
#[allow(clippy::too_many_arguments)]
pub fn host_or_connect(
    rt: &tokio::runtime::Runtime,
    server_type: &str,
    address: Option<&str>,
    model: Option<&str>,
    flags: &crate::hosting::ServerFlags,
    log_dir: &Path,
    opts: ClientOptions,
) -> Result<Connection, AnyError> {
    let dry_run = opts.dry_run;
    let signals = (!dry_run).then(|| crate::signals::install(rt));
    if address.is_some() || server_type == "local" {
        let target = connect(rt, server_type, address, model, opts)?;
        return Ok(Connection {
            target,
            server: None,
        });
    }
    let spec = crate::hosting::server_spec(server_type, model, flags)?;
    if dry_run {
        println!(
            "server: would host {} → {}
  {}",
            spec.kind,
            spec.base_url(),
            spec.command()?
        );
        // Not started yet: nothing answers there, and nothing needs to.
        let target = connect(
            rt,
            server_type,
            Some(&spec.base_url()),
            model.or(Some("<hosted>")),
            ClientOptions {
                dry_run: true,
                check: false,
                ..opts
            },
        )?;
        return Ok(Connection {
            target,
            server: None,
        });
    }
    std::fs::create_dir_all(log_dir).map_err(|e| format!("{}: {e}", log_dir.display()))?;
    let log = log_dir.join(format!("server-{}.log", spec.kind));
    eprintln!(
        "== starting {} (log {})\n{}",
        spec.kind,
        log.display(),
        spec.command()?
    );
    let server = rt.block_on(tally_launch::RunningServer::start_with(
        &spec,
        // Started from block_on on the main thread, which outlives the server: a SIGKILLed
        // tally takes its server with it.
        tally_launch::StartOptions::new(&log, crate::hosting::wait(flags))
            .with_die_with_parent(true),
    ))?;
    // Ctrl-C, SIGTERM or SIGUSR1 stop the server (and its workers) first; the journals make a
    // rerun resume.
    if let Some(slot) = &signals {
        slot.set(server.stopper());
    }
    let target = connect(rt, server_type, Some(server.base_url()), model, opts)?;
    Ok(Connection {
        target,
        server: Some(server),
    })
}

/// One `ns generate`-style run: problems × seeds into `output_dir`.
pub struct Spec<'a> {
    pub output_dir: PathBuf,
    pub output_prefix: String,
    pub seeds: SeedPlan,
    pub defaults: SeedDefaults,
    /// The `++` settings, in Hydra order (later wins).
    pub user: &'a Overrides,
    pub data_dir: Option<PathBuf>,
    /// Start a sandbox inside this process for code execution (`--with_sandbox`).
    pub with_sandbox: bool,
    /// `--num_chunks` and the chunk ids to generate here (`--chunk_ids`, default all).
    pub chunks: Option<(usize, Vec<usize>)>,
}

/// The problems file of `++input_file` / `++dataset` (+ the dataset's default prompt config).
pub fn resolve_input(
    settings: &Settings,
    data_dir: Option<&Path>,
) -> Result<(PathBuf, Option<&'static str>), AnyError> {
    Ok(match &settings.input {
        InputSpec::File(p) => (p.clone(), None),
        InputSpec::Dataset { name, split } => {
            let info = tally_data::registry::lookup(name).ok_or_else(|| {
                format!(
                    "unknown ++dataset={name} (known: {})",
                    tally_data::registry::names().join(", ")
                )
            })?;
            let split = split
                .clone()
                .unwrap_or_else(|| info.default_split.to_string());
            let dir = data_dir
                .map(Path::to_path_buf)
                .unwrap_or_else(default_data_dir);
            let path = dir.join(name).join(format!("{split}.jsonl"));
            if !path.exists() {
                return Err(format!(
                    "{} does not exist; run `tally prepare {name}` first",
                    path.display()
                )
                .into());
            }
            (path, Some(info.prompt_config))
        }
    })
}

/// Whether a pass still holds samples a rerun retries (its output is not final yet).
fn has_retryable(p: &tally_generate::PassSummary) -> bool {
    p.statuses.keys().any(|s| {
        matches!(
            s,
            tally_core::Status::RequestError | tally_core::Status::Timeout
        )
    })
}

/// `--num_chunks` / `--chunk_ids` as the chunks to generate here.
pub fn chunks(
    num_chunks: Option<usize>,
    ids: Option<&str>,
) -> Result<Option<(usize, Vec<usize>)>, AnyError> {
    Ok(match num_chunks {
        None => None,
        Some(0) => return Err("--num_chunks must be at least 1".into()),
        Some(c) => Some((c, tally_cluster::parse_chunk_ids(ids, c)?)),
    })
}

/// What a generation run produced.
pub struct Generated {
    pub num_inputs: usize,
    pub input_sha256: String,
    pub prompt_sha256: String,
    pub summaries: Vec<RunSummary>,
    /// Outputs that are complete (merged, when chunked): ready to grade.
    pub complete: Vec<PathBuf>,
    /// Merged outputs still waiting for chunks other runs generate.
    pub waiting: Vec<PathBuf>,
    pub failures: u64,
}

/// Runs the engine for `spec` against `target`; with chunks (`--num_chunks`/`--chunk_ids` or
/// `++num_chunks`/`++chunk_id`) each chunk is a job of its own writing `<output>_chunk_<id>.jsonl`,
/// marked `.done` once it holds no retryable failure, and merged into `<output>` once every
/// chunk is done (whichever run finishes last merges).
pub fn generate(
    rt: &tokio::runtime::Runtime,
    target: &Target,
    spec: &Spec,
    reporter: &TerminalReporter,
) -> Result<Generated, AnyError> {
    let settings = Settings::from_overrides(spec.user)?;
    for ignored in &settings.ignored {
        reporter.warn(&format!(
            "{ignored} has no effect in Tally (it always resumes)"
        ));
    }
    let (input_path, dataset_prompt) = resolve_input(&settings, spec.data_dir.as_deref())?;
    let inputs = load_inputs(
        &input_path,
        settings.max_samples,
        settings.total_code_executions_in_prompt,
    )?;
    let prompt = load_prompt(&settings, dataset_prompt)?;
    if target.kind == ServerKind::OpenAi && settings.prompt_template.is_some() {
        return Err("++prompt_template cannot be used with --server_type=openai (chat API)".into());
    }
    let all_passes = passes(&spec.seeds, spec.defaults, spec.user)?;
    let mut job = Job::new(
        &settings,
        inputs,
        prompt,
        all_passes.clone(),
        target.model.clone(),
        target.server_type,
        &spec.output_dir,
    );
    job.output_prefix = spec.output_prefix.clone();
    if settings.resume_policy == ResumePolicy::Restart {
        reporter.warn("++resume_policy=restart: existing outputs of these seeds are discarded");
    }
    let executor = match &settings.code_execution {
        Some(c) if !settings.dry_run => {
            let url = if spec.with_sandbox {
                rt.block_on(start_in_process())?
            } else {
                sandbox_url(c)
            };
            tracing::info!("code execution through the sandbox at {url}");
            Some(SandboxExecutor::new(&url, c))
        }
        _ => None,
    };
    let run = |job: &Job| -> Result<RunSummary, AnyError> {
        let live = LiveStats(reporter);
        let mut generator = Generator::new(job, &*target.backend, reporter).with_observer(&live);
        if let Some(e) = &executor {
            generator = generator.with_code_executor(e);
        }
        Ok(rt.block_on(generator.run())?)
    };
    let mut out = Generated {
        num_inputs: job.inputs.len(),
        input_sha256: job.input_sha256(),
        prompt_sha256: job.prompt.content_hash(),
        summaries: Vec::new(),
        complete: Vec::new(),
        waiting: Vec::new(),
        failures: 0,
    };
    let chunks = match (spec.chunks.clone(), settings.num_chunks) {
        (Some(c), _) => Some(c),
        (None, Some(c)) => Some((
            c,
            settings
                .chunk_id
                .map_or_else(|| (0..c).collect(), |i| vec![i]),
        )),
        (None, None) => None,
    };
    let Some((num_chunks, chunk_ids)) = chunks else {
        let summary = run(&job)?;
        out.failures = summary.failures;
        if !summary.dry_run {
            out.complete = summary.passes.iter().map(|p| p.output.clone()).collect();
            // `ns generate` touches `<file>.done` after a successful job; scripts look for it.
            for p in &summary.passes {
                if !has_retryable(p) {
                    tally_cluster::mark_done(&p.output)?;
                }
            }
        }
        out.summaries.push(summary);
        return Ok(out);
    };

    // Seeds whose merged output is final are not generated again (as NeMo-Skills).
    let open: Vec<_> = all_passes
        .iter()
        .filter(|p| !tally_cluster::is_done(&job.output_path(p.seed)))
        .cloned()
        .collect();
    let n = job.inputs.len();
    for &id in &chunk_ids {
        if open.is_empty() {
            break;
        }
        let range = tally_cluster::chunk_range(n, num_chunks, id);
        let mut chunk = Job::new(
            &settings,
            job.inputs[range].to_vec(),
            job.prompt.clone(),
            open.clone(),
            target.model.clone(),
            target.server_type,
            &spec.output_dir,
        );
        chunk.output_prefix = spec.output_prefix.clone();
        chunk.output_suffix = format!("_chunk_{id}");
        let summary = run(&chunk)?;
        out.failures += summary.failures;
        if !summary.dry_run {
            for p in &summary.passes {
                if !has_retryable(p) {
                    tally_cluster::mark_done(&p.output)?;
                }
            }
        }
        out.summaries.push(summary);
    }
    if settings.dry_run {
        return Ok(out);
    }
    for pass in &all_passes {
        let merged = job.output_path(pass.seed);
        match tally_cluster::merge_chunks(
            &merged,
            &tally_cluster::chunk_paths(&merged, num_chunks),
        )? {
            tally_cluster::MergeOutcome::Waiting { .. }
            | tally_cluster::MergeOutcome::BeingMerged { .. } => out.waiting.push(merged),
            _ => out.complete.push(merged),
        }
    }
    Ok(out)
}

/// Live details on the progress bar (requests in flight, tokens/s, failures) and in the log
/// (`TALLY_LOG=info`) when stderr is not a terminal.
pub struct LiveStats<'a>(pub &'a TerminalReporter);

impl StatsObserver for LiveStats<'_> {
    fn stats(&self, s: &Stats) {
        self.0.set_message(format!(
            "{} in flight, {:.0} tok/s, {} failed",
            s.in_flight, s.tokens_per_s, s.failures
        ));
        tracing::info!(
            "generate: {}/{} done, {} in flight, {:.0} tokens/s, {} failed",
            s.done,
            s.total,
            s.in_flight,
            s.tokens_per_s,
            s.failures
        );
    }
}

/// Every run's lines, then the merged outputs still waiting for chunks.
pub fn print_generated(g: &Generated) {
    for s in &g.summaries {
        print_summary(s, g.num_inputs);
    }
    for w in &g.waiting {
        println!(
            "{}: waiting for other chunks (merged when every chunk is done)",
            w.display()
        );
    }
}

/// One line per pass, the first prompt of a dry run, and the totals.
pub fn print_summary(summary: &RunSummary, num_inputs: usize) {
    for p in &summary.passes {
        let name = p.output.display();
        match (summary.dry_run, p.state) {
            (_, PassState::AlreadyDone) => println!("{name}: already complete"),
            (true, _) => println!(
                "{name}: would generate {}, reuse {}",
                num_inputs - p.reused,
                p.reused
            ),
            (false, _) => {
                let counts: Vec<String> =
                    p.statuses.iter().map(|(s, n)| format!("{s} {n}")).collect();
                println!(
                    "{name}: {} generated, {} reused ({})",
                    p.generated,
                    p.reused,
                    counts.join(", ")
                );
            }
        }
    }
    match &summary.first_prompt {
        Some(Filled::Text(t)) => println!("first prompt:\n{t}"),
        Some(m) => println!(
            "first prompt:\n{}",
            serde_json::to_string_pretty(m).unwrap_or_default()
        ),
        None => {}
    }
    if !summary.dry_run && summary.generated > 0 {
        let secs = summary.elapsed.as_secs_f64().max(1e-9);
        println!(
            "{} samples in {:.1} s, {} tokens ({:.0} tokens/s), {} failed",
            summary.generated,
            secs,
            summary.tokens,
            summary.tokens as f64 / secs,
            summary.failures
        );
    }
}
