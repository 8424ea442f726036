//! `tally genselect`: GenSelect over a benchmark's seed files (newer NeMo-Skills' offline
//! GenSelect). Glue only: candidates, windows and choices are tally-genselect's; the requests go
//! through the generation engine (resume, concurrency) with the judge's cache in front.

use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::json;
use tally_core::overrides::Overrides;
use tally_core::Reporter;
use tally_generate::{load_prompt, sampling_params, Job, Pass, SeedPlan, Settings};
use tally_genselect::{CandidateOptions, WindowOptions};
use tally_judge::{CachedBackend, JudgeCache};

use crate::render::print_summary;
use crate::reporter::TerminalReporter;
use crate::AnyError;
use tally_eval::ClientOptions;

#[derive(clap::Args, Default)]
pub struct Args {
    /// `vllm`, `sglang`, `trtllm`, `openai`, `llamacpp` or `generic`.
    #[arg(long = "server_type", alias = "server-type")]
    pub server_type: String,
    /// A running server; without it Tally hosts `--model` (see --server_gpus).
    #[arg(long = "server_address", alias = "server-address")]
    pub server_address: Option<String>,
    #[command(flatten)]
    pub server: crate::hosting::ServerFlags,
    #[arg(long)]
    pub model: Option<String>,
    /// A benchmark folder with graded `output-rs<seed>.jsonl`; GenSelect writes
    /// `<input_dir>/genselect/output-rs<seed>.jsonl`.
    #[arg(long = "input_dir", alias = "input-dir")]
    pub input_dir: PathBuf,
    /// GenSelect seeds: one selection per problem per seed, each over its own window.
    #[arg(
        long = "num_random_seeds",
        alias = "num-random-seeds",
        default_value_t = 1
    )]
    pub num_random_seeds: u64,
    #[arg(long = "starting_seed", alias = "starting-seed", default_value_t = 0)]
    pub starting_seed: u64,
    /// Candidate solutions per selection request.
    #[arg(long = "window_size", alias = "window-size", default_value_t = 8)]
    pub window_size: usize,
    /// Solutions longer than this many characters are not candidates (0: no cap).
    #[arg(
        long = "solution_length_cap",
        alias = "solution-length-cap",
        default_value_t = 16_384
    )]
    pub solution_length_cap: usize,
    /// Keep failed, unfinished and empty solutions as candidates.
    #[arg(long = "keep-incomplete", alias = "keep_incomplete")]
    pub keep_incomplete: bool,
    /// The tag that ends a reasoning block in the solutions.
    #[arg(
        long = "end_reasoning_string",
        alias = "end-reasoning-string",
        default_value = "</think>"
    )]
    pub end_reasoning_string: String,
    /// The selection cache (default: <input_dir>/genselect/.tally-genselect-cache.jsonl).
    #[arg(long)]
    pub cache: Option<PathBuf>,
    #[arg(long = "no-cache", alias = "no_cache")]
    pub no_cache: bool,
    #[arg(long = "dry_run", alias = "dry-run")]
    pub dry_run: bool,
    #[arg(long = "override-resume", alias = "override_resume")]
    pub override_resume: bool,
    /// ++prompt_template=, ++prompt_config= (default genselect/math), ++inference.*=,
    /// ++max_concurrent_requests=, ++max_connection_failures=.
    #[arg(value_name = "++KEY=VALUE")]
    pub overrides: Vec<String>,
}

pub fn run(args: Args) -> Result<ExitCode, AnyError> {
    let reporter = TerminalReporter::new();
    let candidate_opts = CandidateOptions {
        solution_length_cap: (args.solution_length_cap > 0).then_some(args.solution_length_cap),
        filter_incomplete: !args.keep_incomplete,
        end_reasoning_string: args.end_reasoning_string.clone(),
    };
    let window = WindowOptions {
        window_size: args.window_size.max(1),
    };
    // Every input is read and checked before connecting: a bad record costs no server check.
    let problems = tally_genselect::read_candidates(&args.input_dir, &candidate_opts)?;
    let left_out: usize = problems.iter().map(|p| p.left_out).sum();
    eprintln!(
        "{}: {} problems, {} candidates, {left_out} samples left out (incomplete or over {} characters)",
        args.input_dir.display(),
        problems.len(),
        problems.iter().map(|p| p.candidates.len()).sum::<usize>(),
        args.solution_length_cap
    );

    let mut user = Overrides::default();
    user.push(
        "prompt_config",
        json!(tally_genselect::DEFAULT_PROMPT_CONFIG),
    );
    user.push("generation_key", json!(tally_genselect::GENERATION_KEY));
    for o in Overrides::parse(&args.overrides)?.iter() {
        user.push_arg(&o.raw)?;
    }
    if args.override_resume {
        user.push("resume_policy", json!("override"));
    }
    if args.dry_run {
        user.push("dry_run", json!(true));
    }
    let settings = Settings::from_overrides(&user)?;
    let seeds = SeedPlan::from_flags(Some(args.num_random_seeds), None, args.starting_seed)?;

    let out_dir = args.input_dir.join(tally_genselect::OUTPUT_DIR);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let server = args.server.choice(
        args.server_type.parse()?,
        args.server_address.as_deref(),
        args.model.as_deref(),
    );
    let conn = crate::signals::host_or_connect(
        &rt,
        &server,
        &out_dir.join("genselect-logs"),
        ClientOptions::new(&settings),
        &reporter,
    )?;
    let target = &conn.target;
    let backend = if args.no_cache || settings.dry_run {
        None
    } else {
        let path = args
            .cache
            .clone()
            .unwrap_or_else(|| out_dir.join(".tally-genselect-cache.jsonl"));
        std::fs::create_dir_all(&out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
        Some(CachedBackend::new(
            &*target.backend,
            target.model.clone(),
            JudgeCache::open(&path)?,
        ))
    };
    let mut failures = 0;
    for seed in seeds.seeds.iter().map(|s| s.unwrap_or(0)) {
        let inputs = tally_genselect::build_inputs(&problems, seed, window);
        let prefilled: Vec<Option<String>> =
            inputs.iter().map(|i| i.settled.then(String::new)).collect();
        let records: Vec<_> = inputs.into_iter().map(|i| i.record).collect();
        let asked = prefilled.iter().filter(|p| p.is_none()).count();
        // NeMo-Skills' GenSelect samples at temperature 0.6 with the run's seed; the user's
        // `++inference.*` come after and win.
        let mut ov = Overrides::default();
        ov.push("inference.random_seed", json!(seed));
        ov.push("inference.temperature", json!(0.6));
        ov.extend(&user);
        let prompt = load_prompt(&settings, None)?;
        let pass = Pass {
            seed: Some(seed),
            params: sampling_params(&ov)?,
        };
        let job = Job::builder(&settings)
            .inputs(records)
            .prompt(prompt)
            .passes(vec![pass])
            .model(target.model.clone(), target.server_type)
            .output_dir(&out_dir)
            .prefilled(prefilled)
            .build()?;
        let n = job.inputs.len();
        eprintln!("genselect seed {seed}: {n} problems, {asked} selection requests");
        let summary = match &backend {
            Some(b) => tally_eval::generation::run_job(&rt, &job, b, None, &reporter)?,
            None => tally_eval::generation::run_job(&rt, &job, &*target.backend, None, &reporter)?,
        };
        print_summary(&summary, n);
        failures += summary.failures;
        if !settings.dry_run {
            let path = job.output_path(Some(seed));
            let c = tally_genselect::finalize_file(&path, seed)?;
            println!(
                "{}: {} chosen by the model, {} with one candidate, {} without an index (a candidate drawn instead), {} without candidates, {} failed",
                path.display(),
                c.chosen,
                c.settled,
                c.fallback,
                c.no_candidate,
                c.failed
            );
        }
    }
    if let Some(b) = &backend {
        b.sync()?;
        if b.hits() > 0 {
            println!("{} selections answered from the cache (no call)", b.hits());
        }
        if b.write_errors() > 0 {
            reporter.warn(&format!(
                "{} selections could not be written to the cache",
                b.write_errors()
            ));
        }
    }
    conn.close(&rt)?;
    Ok(if failures > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}
