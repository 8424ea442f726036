//! `tally generate` (`ns generate --generation_type=generate`): glue over `tally_generate`.

use std::path::PathBuf;
use std::process::ExitCode;

use tally_core::overrides::Overrides;
use tally_core::Reporter;
use tally_generate::tally_backend::{ApiKey, Backend, OpenAiCompatBackend, ServerKind};
use tally_generate::tally_prompt::Filled;
use tally_generate::{
    load_inputs, load_prompt, passes, Generator, InputSpec, Job, PassState, ResumePolicy,
    SeedDefaults, SeedPlan, Settings, Stats, StatsObserver,
};

use crate::cmd_prepare::default_data_dir;
use crate::reporter::TerminalReporter;
use crate::AnyError;

#[derive(clap::Args)]
pub struct Args {
    /// `vllm`, `sglang`, `trtllm`, `openai`, `llamacpp` or `generic` (any OpenAI-compatible server).
    #[arg(long = "server_type", alias = "server-type")]
    server_type: String,
    /// Base URL of a running server (e.g. http://127.0.0.1:5000). Tally does not host servers.
    #[arg(long = "server_address", alias = "server-address")]
    server_address: Option<String>,
    /// Model name as the server knows it; discovered from /v1/models when omitted.
    #[arg(long)]
    model: Option<String>,
    #[arg(long = "output_dir", alias = "output-dir")]
    output_dir: PathBuf,
    /// Output files are `<prefix>-rs<seed>.jsonl` (`<prefix>.jsonl` without seeds).
    #[arg(
        long = "output_prefix",
        alias = "output-prefix",
        default_value = "output"
    )]
    output_prefix: String,
    /// Seeds starting_seed..starting_seed+N, one output file each.
    #[arg(long = "num_random_seeds", alias = "num-random-seeds")]
    num_random_seeds: Option<u64>,
    /// Explicit seeds: "0,1,5" or an inclusive range "0..63".
    #[arg(long = "random_seeds", alias = "random-seeds")]
    random_seeds: Option<String>,
    #[arg(long = "starting_seed", alias = "starting-seed", default_value_t = 0)]
    starting_seed: u64,
    /// `generate` (`math_judge` is not available yet).
    #[arg(
        long = "generation_type",
        alias = "generation-type",
        default_value = "generate"
    )]
    generation_type: String,
    /// Show what would be generated and the first prompt; send and write nothing.
    #[arg(long = "dry_run", alias = "dry-run")]
    dry_run: bool,
    /// Discard partial or finished outputs made with other settings instead of refusing.
    #[arg(long = "override-resume", alias = "override_resume")]
    override_resume: bool,
    /// Where `++dataset=` files are (`<dir>/<benchmark>/<split>.jsonl`). Default: $TALLY_DATA_DIR,
    /// else ~/.local/share/tally/datasets.
    #[arg(long = "data_dir", alias = "data-dir")]
    data_dir: Option<PathBuf>,
    /// `ns` infrastructure options, accepted for drop-in command lines (only `local` runs here).
    #[arg(long, hide = true)]
    cluster: Option<String>,
    #[arg(long, hide = true)]
    expname: Option<String>,
    /// Hydra-style settings: ++input_file= | ++dataset= ++split=, ++prompt_config=,
    /// ++prompt_template=, ++inference.{temperature,top_p,top_k,min_p,tokens_to_generate,
    /// random_seed,repetition_penalty}=, ++max_concurrent_requests=, ++max_samples=,
    /// ++extra_stop_phrases=, ++resume_policy=resume|override|restart.
    #[arg(value_name = "++KEY=VALUE")]
    overrides: Vec<String>,
}

/// Live details on the progress bar (requests in flight, tokens/s, failures) and in the log
/// (`TALLY_LOG=info`) when stderr is not a terminal.
struct LiveStats<'a>(&'a TerminalReporter);

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

pub fn run(args: Args) -> Result<ExitCode, AnyError> {
    match args.generation_type.as_str() {
        "generate" => {}
        "math_judge" => {
            return Err(
                "--generation_type=math_judge is not available in `tally generate` yet".into(),
            )
        }
        other => {
            return Err(
                format!("--generation_type={other} is not supported (use `generate`)").into(),
            )
        }
    }
    if let Some(c) = args.cluster.as_deref().filter(|c| *c != "local") {
        return Err(format!("--cluster={c}: only local runs are supported").into());
    }
    let reporter = TerminalReporter::new();
    let mut user = Overrides::parse(&args.overrides)?;
    if args.override_resume {
        user.push("resume_policy", serde_json::json!("override"));
    }
    if args.dry_run {
        user.push("dry_run", serde_json::json!(true));
    }
    let settings = Settings::from_overrides(&user)?;
    for ignored in &settings.ignored {
        reporter.warn(&format!(
            "{ignored} has no effect in `tally generate` (it always resumes)"
        ));
    }

    let (input_path, dataset_prompt) = match &settings.input {
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
            let dir = args.data_dir.clone().unwrap_or_else(default_data_dir);
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
    };
    let inputs = load_inputs(
        &input_path,
        settings.max_samples,
        settings.total_code_executions_in_prompt,
    )?;
    let prompt = load_prompt(&settings, dataset_prompt)?;

    let kind: ServerKind = args.server_type.parse().map_err(|_| {
        format!(
            "--server_type={}: expected vllm, sglang, trtllm, openai, llamacpp or generic",
            args.server_type
        )
    })?;
    if kind == ServerKind::OpenAi && settings.prompt_template.is_some() {
        return Err("++prompt_template cannot be used with --server_type=openai (chat API)".into());
    }
    let address = args
        .server_address
        .clone()
        .ok_or("--server_address is required: `tally generate` talks to a running server and does not host one")?;
    let seeds = SeedPlan::from_flags(
        args.num_random_seeds,
        args.random_seeds.as_deref(),
        args.starting_seed,
    )?;
    let passes = passes(&seeds, SeedDefaults::Generate, &user)?;

    let mut builder = OpenAiCompatBackend::builder(address, kind)
        .max_connections(settings.max_concurrent_requests);
    if let Some(m) = &args.model {
        builder = builder.model(m.clone());
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

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let model = match &args.model {
        Some(m) => m.clone(),
        None => match rt.block_on(backend.model_name()) {
            Ok(m) => m,
            Err(_) if settings.dry_run => "<model not discovered>".to_string(),
            Err(e) => return Err(tally_generate::GenerateError::ModelName(e).into()),
        },
    };
    let mut job = Job::new(
        &settings,
        inputs,
        prompt,
        passes,
        model,
        kind.as_str(),
        &args.output_dir,
    );
    job.output_prefix = args.output_prefix.clone();
    if settings.resume_policy == ResumePolicy::Restart {
        reporter.warn("++resume_policy=restart: existing outputs of these seeds are discarded");
    }

    let summary = rt.block_on(
        Generator::new(&job, &backend, &reporter)
            .with_observer(&LiveStats(&reporter))
            .run(),
    )?;
    for p in &summary.passes {
        let name = p.output.display();
        match (summary.dry_run, p.state) {
            (_, PassState::AlreadyDone) => println!("{name}: already complete"),
            (true, _) => println!(
                "{name}: would generate {}, reuse {}",
                job.inputs.len() - p.reused,
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
    Ok(if summary.failures > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}
