//! `tally eval` (`ns eval`): prepare → generate (greedy + N seeds) → grade → summarize, per
//! benchmark, against a running server or one this command hosts. A rerun finishes what is
//! missing and redoes nothing (generation resumes; grading and the summary are deterministic).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use serde_json::json;
use tally_core::benchmarks::parse_benchmarks;
use tally_core::overrides::Overrides;
use tally_generate::{output_file_name, passes, SeedDefaults, SeedPlan, Settings};
use tally_grade::files::{grade_files, FileGradeOptions};
use tally_grade::{Grader, Policy};

use crate::cmd_grade::failed_part;
use crate::cmd_prepare::default_data_dir;
use crate::hosting::{server_spec, ServerFlags};
use crate::reporter::TerminalReporter;
use crate::run_generation::{
    chunks, connect, generate, host_or_connect, print_generated, ClientOptions, Connection, Spec,
};
use crate::AnyError;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long = "output_dir", alias = "output-dir")]
    pub output_dir: PathBuf,
    /// `name:N[,name:N]` — N seeds per benchmark (0: greedy only).
    #[arg(long)]
    pub benchmarks: String,
    /// `vllm`, `sglang`, `trtllm`, `openai`, `llamacpp`, `generic`, or `local` (the embedded
    /// CPU model; `--model` a GGUF file, default the cached SmolLM2-135M).
    #[arg(long = "server_type", alias = "server-type")]
    pub server_type: String,
    /// A running server; without it Tally hosts `--model` itself (vllm, sglang, trtllm, llamacpp).
    #[arg(long = "server_address", alias = "server-address")]
    pub server_address: Option<String>,
    #[arg(long)]
    pub model: Option<String>,
    #[command(flatten)]
    pub server: ServerFlags,
    #[arg(long = "starting_seed", alias = "starting-seed", default_value_t = 0)]
    pub starting_seed: u64,
    /// Dataset split (default: the benchmark's, e.g. `test`; `math` for hle).
    #[arg(long)]
    pub split: Option<String>,
    /// No greedy pass (`output.jsonl`), only the seeds.
    #[arg(long = "skip_greedy", alias = "skip-greedy")]
    pub skip_greedy: bool,
    /// Where prepared datasets are (missing ones are prepared from their canonical source).
    #[arg(long = "data_dir", alias = "data-dir")]
    pub data_dir: Option<PathBuf>,
    /// Print the plan (files, seeds, sampling, server command) and exit; nothing is written.
    #[arg(long = "dry_run", alias = "dry-run")]
    pub dry_run: bool,
    #[arg(long = "override-resume", alias = "override_resume")]
    pub override_resume: bool,
    /// The summary at the end: Tally's default, or NeMo-Skills' numbers byte for byte.
    #[arg(long, value_parser = ["nemo-skills"])]
    pub compat: Option<String>,
    /// `ns eval` job splitting: one process runs every command here, so it only changes nothing.
    #[arg(long = "num_jobs", alias = "num-jobs", allow_negative_numbers = true)]
    pub num_jobs: Option<i64>,
    /// Split each benchmark's problems into N chunks (`<file>_chunk_<id>.jsonl`, merged when all
    /// are done); files are graded once merged.
    #[arg(long = "num_chunks", alias = "num-chunks")]
    pub num_chunks: Option<usize>,
    /// The chunks this run generates ("0,2" or "0..3"; default all).
    #[arg(long = "chunk_ids", alias = "chunk-ids", requires = "num_chunks")]
    pub chunk_ids: Option<String>,
    #[arg(
        long = "extra_eval_args",
        alias = "extra-eval-args",
        default_value = "",
        allow_hyphen_values = true
    )]
    pub extra_eval_args: String,
    /// Server log and manifest folder (default `<output_dir>/eval-logs`).
    #[arg(long = "log_dir", alias = "log-dir")]
    pub log_dir: Option<PathBuf>,
    /// `local` (default) or `slurm`: one sbatch job per benchmark (and chunk), then a summary job.
    #[arg(long)]
    pub cluster: Option<String>,
    /// Job name prefix on Slurm (default `eval`).
    #[arg(long)]
    pub expname: Option<String>,
    /// Slurm partition.
    #[arg(long)]
    pub partition: Option<String>,
    /// Slurm `--time-min`.
    #[arg(long = "time_min", alias = "time-min")]
    pub time_min: Option<String>,
    /// With --cluster slurm: wait for the jobs and exit non-zero if one failed.
    #[arg(long)]
    pub wait: bool,
    /// Skip the summary at the end (the per-benchmark jobs of a Slurm run).
    #[arg(long = "no_summary", hide = true)]
    pub no_summary: bool,
    #[arg(long = "run_after", hide = true)]
    pub run_after: Option<String>,
    #[arg(long = "reuse_code", hide = true)]
    pub reuse_code: Option<String>,
    #[arg(long = "reuse_code_exp", hide = true)]
    pub reuse_code_exp: Option<String>,
    #[arg(long = "config_dir", hide = true)]
    pub config_dir: Option<String>,
    #[arg(long = "extra_datasets", hide = true)]
    pub extra_datasets: Option<String>,
    /// Slurm: do not ask for exclusive nodes.
    #[arg(long = "not_exclusive", alias = "not-exclusive")]
    pub not_exclusive: bool,
    /// `++key=value` generation settings, after the benchmark's defaults (later wins).
    #[arg(value_name = "++KEY=VALUE")]
    pub overrides: Vec<String>,
}

/// One benchmark of the plan.
pub(crate) struct Bench {
    pub(crate) name: String,
    split: String,
    input: PathBuf,
    pub(crate) out_dir: PathBuf,
    pub(crate) seeds: SeedPlan,
    overrides: Overrides,
}

pub fn run(args: Args) -> Result<ExitCode, AnyError> {
    let slurm = match args.cluster.as_deref() {
        None | Some("local") => false,
        Some("slurm") => true,
        Some(c) => {
            return Err(
                format!("--cluster={c}: `local` (this machine) or `slurm` (sbatch jobs)").into(),
            )
        }
    };
    if !args.extra_eval_args.trim().is_empty() {
        return Err(format!(
            "--extra_eval_args={:?}: not supported (grading is built in; see `tally grade --help`)",
            args.extra_eval_args
        )
        .into());
    }
    let user = Overrides::parse(&args.overrides)?;
    let data_dir = args.data_dir.clone().unwrap_or_else(default_data_dir);
    let plan = plan(&args, &user, &data_dir)?;
    if slurm {
        let log_dir = args
            .log_dir
            .clone()
            .unwrap_or_else(|| args.output_dir.join("eval-logs"));
        let log_dir = std::path::absolute(&log_dir)?;
        let benches: Vec<(String, u32)> = parse_benchmarks(&args.benchmarks)?
            .into_iter()
            .map(|b| (b.name, b.samples))
            .collect();
        return crate::eval_slurm::submit(&args, &benches, &plan, &log_dir);
    }
    let hosted = match (&args.server_address, args.server_type.as_str()) {
        (Some(_), _) | (None, "local") => None,
        (None, _) => Some(server_spec(
            &args.server_type,
            args.model.as_deref(),
            &args.server,
        )?),
    };
    if args.dry_run {
        print_plan(&args, &plan, hosted.as_ref())?;
        return Ok(ExitCode::SUCCESS);
    }

    let reporter = TerminalReporter::new();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let client = ClientOptions::new(&Settings::from_overrides(&plan[0].overrides)?);
    // A running server is checked first (seconds), before any download; a hosted one is
    // started after the data is ready.
    let early = match &args.server_address {
        Some(address) => Some(Connection {
            // (host_or_connect installs the stop handler on the other path)
            server: {
                crate::signals::install(&rt);
                None
            },
            target: connect(
                &rt,
                &args.server_type,
                Some(address),
                args.model.as_deref(),
                client,
            )?,
        }),
        None => None,
    };
    for b in &plan {
        if !b.input.exists() {
            eprintln!(
                "== preparing {}/{} (not found at {})",
                b.name,
                b.split,
                b.input.display()
            );
            let fetcher = tally_data::HttpFetcher::new(
                std::env::var("HF_TOKEN").ok().filter(|t| !t.is_empty()),
            )?;
            let req = tally_data::PrepareRequest {
                benchmark: b.name.clone(),
                split: Some(b.split.clone()),
                source: tally_data::Source::Canonical,
                out_dir: data_dir.clone(),
            };
            rt.block_on(tally_data::prepare(&req, &fetcher))?;
        }
    }
    // One folder per run of benchmarks: Slurm jobs of one evaluation share the log directory.
    let label: String = args
        .benchmarks
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let log_dir = args
        .log_dir
        .clone()
        .unwrap_or_else(|| args.output_dir.join("eval-logs"))
        .join(format!("server-{label}"));
    let conn = match early {
        Some(c) => c,
        None => host_or_connect(
            &rt,
            &args.server_type,
            None,
            args.model.as_deref(),
            &args.server,
            &log_dir,
            client,
        )?,
    };
    let hosted_cmd = conn.server.as_ref().map(|s| s.command().to_string());
    let address = conn.target.address.clone();
    let result = run_benchmarks(
        &args,
        &plan,
        &rt,
        &conn.target,
        &reporter,
        &data_dir,
        hosted_cmd,
    );
    conn.close(&rt)?;
    let Ran {
        failures,
        waiting,
        all_failed,
    } = result?;
    let every_benchmark_failed = all_failed.len() == plan.len();
    if args.no_summary {
        // A Slurm job of a larger run: its summary job comes after every part.
    } else if waiting > 0 {
        println!("{waiting} outputs wait for chunks other runs generate; the summary comes with the run that completes them");
    } else if every_benchmark_failed {
        // No table: every number in it would come from no data.
    } else {
        let skip: Vec<&str> = all_failed.iter().map(|d| d.name.as_str()).collect();
        summarize(&args, &skip)?;
        crate::cmd_report::after_eval(&args.output_dir);
    }
    for d in &all_failed {
        let counts: Vec<String> = d.failed.iter().map(|(s, n)| format!("{s} {n}")).collect();
        eprintln!(
            "error: {}: all {} samples failed ({}){}; it has no summary. Rerun the same command to retry them.",
            d.name,
            d.records,
            counts.join(", "),
            address
                .as_deref()
                .map(|a| format!(" against {a}"))
                .unwrap_or_default(),
        );
    }
    Ok(if failures > 0 || !all_failed.is_empty() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

fn plan(args: &Args, user: &Overrides, data_dir: &Path) -> Result<Vec<Bench>, AnyError> {
    let mut out = Vec::new();
    if let Some(bare) = args.benchmarks.split(',').find(|b| !b.contains(':')) {
        return Err(format!("--benchmarks: `{bare}` needs a sample count, `{bare}:N` (N=0: greedy only), as `ns eval`").into());
    }
    for spec in parse_benchmarks(&args.benchmarks)? {
        let info = tally_data::registry::lookup(&spec.name).ok_or_else(|| {
            format!(
                "--benchmarks: unknown benchmark `{}` (known: {})",
                spec.name,
                tally_data::registry::names().join(", ")
            )
        })?;
        let split = args
            .split
            .clone()
            .unwrap_or_else(|| info.default_split.to_string());
        let mut seeds: Vec<Option<u64>> = Vec::new();
        if !args.skip_greedy {
            seeds.push(None);
        }
        seeds.extend((args.starting_seed..args.starting_seed + spec.samples as u64).map(Some));
        if seeds.is_empty() {
            return Err(format!(
                "{}:0 with --skip_greedy leaves nothing to generate",
                spec.name
            )
            .into());
        }
        // As `ns eval`: dataset and split, the benchmark's generation defaults, then the user's.
        let mut ov = Overrides::default();
        ov.push("dataset", json!(spec.name));
        ov.push("split", json!(split));
        for arg in info.generation_args.split_whitespace() {
            ov.push_arg(arg)?;
        }
        ov.extend(user);
        if args.override_resume {
            ov.push("resume_policy", json!("override"));
        }
        Settings::from_overrides(&ov)?;
        out.push(Bench {
            name: spec.name.clone(),
            input: data_dir.join(&spec.name).join(format!("{split}.jsonl")),
            split,
            out_dir: args.output_dir.join("eval-results").join(&spec.name),
            seeds: SeedPlan { seeds },
            overrides: ov,
        });
    }
    Ok(out)
}

fn print_plan(
    args: &Args,
    plan: &[Bench],
    hosted: Option<&tally_launch::ServerSpec>,
) -> Result<(), AnyError> {
    match (hosted, &args.server_address) {
        (Some(spec), _) => println!(
            "server: host {} → {}\n  {}",
            spec.kind,
            spec.base_url(),
            spec.command()?
        ),
        (None, Some(a)) => println!("server: {} at {a}", args.server_type),
        (None, None) => println!(
            "model: embedded (--server_type local), {}",
            args.model
                .as_deref()
                .unwrap_or("the cached SmolLM2-135M-Instruct Q4_1")
        ),
    }
    for b in plan {
        let settings = Settings::from_overrides(&b.overrides)?;
        println!(
            "{} (split {}): {}{}",
            b.name,
            b.split,
            b.input.display(),
            if b.input.exists() {
                ""
            } else {
                " (missing: would be prepared)"
            }
        );
        println!(
            "  prompt: config {}, template {}",
            settings.prompt_config.as_deref().unwrap_or(
                tally_data::registry::lookup(&b.name).map_or("generic/math", |i| i.prompt_config)
            ),
            settings.prompt_template.as_deref().unwrap_or("none (chat)")
        );
        for (seed, pass) in
            b.seeds
                .seeds
                .iter()
                .zip(passes(&b.seeds, SeedDefaults::Eval, &b.overrides)?)
        {
            let p = &pass.params;
            println!(
                "  {}: random_seed={} temperature={} top_p={} top_k={} tokens_to_generate={}",
                b.out_dir.join(output_file_name("output", *seed)).display(),
                p.seed.map_or("none".into(), |s| s.to_string()),
                p.temperature,
                p.top_p,
                p.top_k,
                p.max_tokens
            );
        }
    }
    println!(
        "then: grade every file in place, summarize {}",
        args.output_dir.join("eval-results").display()
    );
    Ok(())
}

/// A benchmark none of whose samples holds a result: nothing to summarize.
struct AllFailed {
    name: String,
    records: usize,
    failed: BTreeMap<tally_core::Status, usize>,
}

/// What generating and grading the plan did.
struct Ran {
    /// Samples that failed in this run's generation.
    failures: u64,
    /// Outputs waiting for chunks other runs generate.
    waiting: usize,
    all_failed: Vec<AllFailed>,
}

fn run_benchmarks(
    args: &Args,
    plan: &[Bench],
    rt: &tokio::runtime::Runtime,
    target: &crate::run_generation::Target,
    reporter: &TerminalReporter,
    data_dir: &Path,
    hosted: Option<String>,
) -> Result<Ran, AnyError> {
    let grader = Grader::builder()
        .policy(if args.compat.is_some() {
            Policy::NemoSkills
        } else {
            Policy::Tally
        })
        .build();
    let (mut failures, mut waiting, mut all_failed) = (0, 0, Vec::new());
    for b in plan {
        eprintln!(
            "== {}: {} passes → {}",
            b.name,
            b.seeds.seeds.len(),
            b.out_dir.display()
        );
        let settings = Settings::from_overrides(&b.overrides)?;
        let with_sandbox = settings
            .code_execution
            .as_ref()
            .is_some_and(|c| c.sandbox_host.is_none() && c.sandbox_port.is_none());
        let spec = Spec {
            output_dir: b.out_dir.clone(),
            output_prefix: "output".into(),
            seeds: b.seeds.clone(),
            defaults: SeedDefaults::Eval,
            user: &b.overrides,
            data_dir: Some(data_dir.to_path_buf()),
            with_sandbox,
            chunks: chunks(args.num_chunks, args.chunk_ids.as_deref())?,
        };
        let generated = generate(rt, target, &spec, reporter)?;
        print_generated(&generated);
        failures += generated.failures;
        let files = generated.complete.clone();
        waiting += generated.waiting.len();
        let mut records = 0;
        let mut failed: BTreeMap<tally_core::Status, usize> = BTreeMap::new();
        for r in grade_files(&files, &grader, &FileGradeOptions::default(), reporter) {
            let r = r?;
            eprintln!(
                "{}: {} records, {} correct, {} without answer{}{}",
                r.path.display(),
                r.records,
                r.correct,
                r.no_answer,
                failed_part(&r.failed),
                if r.grader_errors.is_empty() {
                    String::new()
                } else {
                    format!(", {} grader_error", r.grader_errors.len())
                }
            );
            // Samples the grader failed on are failures of the run, like failed requests.
            failures += r.grader_errors.len() as u64;
            records += r.records;
            for (s, n) in r.failed {
                *failed.entry(s).or_insert(0) += n;
            }
        }
        if records > 0 && failed.values().sum::<usize>() == records {
            all_failed.push(AllFailed {
                name: b.name.clone(),
                records,
                failed,
            });
        }
        let manifest = json!({
            "tool": format!("tally {}", env!("CARGO_PKG_VERSION")),
            "command": std::env::args().collect::<Vec<_>>(),
            "benchmark": b.name,
            "split": b.split,
            "input": b.input,
            "input_sha256": generated.input_sha256,
            "prompt_sha256": generated.prompt_sha256,
            "model": target.model,
            "server_type": args.server_type,
            "server": match &hosted { Some(cmd) => json!(cmd), None => json!(args.server_address) },
            "seeds": b.seeds.seeds,
            "overrides": b.overrides.iter().map(|o| o.raw.clone()).collect::<Vec<_>>(),
            "grader": if args.compat.is_some() { "nemo-skills" } else { "tally" },
            "outputs": files,
            "waiting_for_chunks": generated.waiting,
        });
        tally_core::atomic::atomic_write_bytes(
            &b.out_dir.join("tally-eval-manifest.json"),
            serde_json::to_string_pretty(&manifest)?.as_bytes(),
        )?;
    }
    Ok(Ran {
        failures,
        waiting,
        all_failed,
    })
}

/// `tally summarize-results <output_dir>` with this run's mode, leaving out `skip` (benchmarks
/// with no valid sample).
fn summarize(args: &Args, skip: &[&str]) -> Result<(), AnyError> {
    #[derive(Parser)]
    struct Summarize {
        #[command(flatten)]
        args: crate::cmd_summarize::Args,
    }
    let dir = args.output_dir.display().to_string();
    let mut argv = vec!["summarize-results".to_string(), dir];
    if let Some(c) = &args.compat {
        argv.push(format!("--compat={c}"));
    }
    if !skip.is_empty() {
        let layout = tally_metrics::layout::detect(&args.output_dir, None)?;
        let keep: Vec<String> = layout
            .benchmarks
            .iter()
            .map(|b| b.name.clone())
            .filter(|n| !skip.contains(&n.as_str()))
            .collect();
        if keep.is_empty() {
            return Ok(());
        }
        argv.push(format!("--benchmarks={}", keep.join(",")));
    }
    let s = Summarize::try_parse_from(argv)?;
    println!();
    crate::cmd_summarize::run(s.args)?;
    Ok(())
}
