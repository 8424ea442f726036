//! `tally eval` (`ns eval`): prepare → generate (greedy + N seeds) → grade → judge → summarize,
//! per benchmark, against a running server or one this command hosts — the flags of `ns eval`
//! turned into a `tally_eval::EvalPlan` and run (or submitted to Slurm, one part per job). A rerun
//! finishes what is missing and redoes nothing.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use tally_eval::{Chunks, EvalOptions, EvalPlan, JudgeOptions, RunContext, ServerChoice};

use crate::hosting::ServerFlags;
use crate::reporter::TerminalReporter;
use crate::AnyError;

#[derive(clap::Args)]
pub struct Args {
    /// Run (a part of) a plan written by `--cluster slurm` instead of flags.
    #[arg(long, conflicts_with_all = ["output_dir", "benchmarks", "server_type"])]
    pub plan: Option<PathBuf>,
    /// With --plan: the part(s) to run (`0`, `1,5`, …: benchmarks or chunks) or `summary`.
    #[arg(long, requires = "plan")]
    pub part: Option<String>,
    /// With --plan, in a Slurm array task: each task's parts (`0,6/1,7/…`), this task's picked
    /// by `SLURM_ARRAY_TASK_ID`.
    #[arg(
        long = "task_parts",
        requires = "plan",
        conflicts_with = "part",
        hide = true
    )]
    pub task_parts: Option<String>,
    #[arg(long = "output_dir", required_unless_present = "plan")]
    pub output_dir: Option<PathBuf>,
    /// `name:N[,name:N]` — N seeds per benchmark (0: greedy only).
    #[arg(long, required_unless_present = "plan")]
    pub benchmarks: Option<String>,
    /// `vllm`, `sglang`, `trtllm`, `openai`, `llamacpp`, `generic`, or `local` (the embedded
    /// CPU model; `--model` a GGUF file, default the cached SmolLM2-135M).
    #[arg(long = "server_type", required_unless_present = "plan")]
    pub server_type: Option<tally_core::ServerType>,
    /// A running server; without it Tally hosts `--model` itself (vllm, sglang, trtllm, llamacpp).
    #[arg(long = "server_address")]
    pub server_address: Option<String>,
    #[arg(long)]
    pub model: Option<String>,
    #[command(flatten)]
    pub server: ServerFlags,
    #[arg(long = "starting_seed", default_value_t = 0)]
    pub starting_seed: u64,
    /// Dataset split (default: the benchmark's, e.g. `test`; `math` for hle).
    #[arg(long)]
    pub split: Option<String>,
    /// No greedy pass (`output.jsonl`), only the seeds.
    #[arg(long = "skip_greedy")]
    pub skip_greedy: bool,
    /// Where greedy goes beside seeds: `may` (`output.jsonl` beside `output-rs*.jsonl`, as May's
    /// `ns eval`) or `separate` (`<output_dir>/greedy/eval-results/<bench>/`, the layout newer
    /// NeMo-Skills' summarize_results reads).
    #[arg(long = "greedy_layout", default_value = "may")]
    pub greedy_layout: tally_eval::GreedyLayout,
    /// Where prepared datasets are (missing ones are prepared from their canonical source).
    #[arg(long = "data_dir")]
    pub data_dir: Option<PathBuf>,
    /// Print the plan (files, seeds, sampling, server command) and exit; nothing is written.
    #[arg(long = "dry_run")]
    pub dry_run: bool,
    #[arg(long = "override-resume")]
    pub override_resume: bool,
    /// The summary at the end: Tally's default, or NeMo-Skills' numbers byte for byte.
    #[arg(long, value_parser = ["nemo-skills"])]
    pub compat: Option<String>,
    /// With --cluster slurm: group the parts (benchmarks, chunks) into N jobs (N × num_chunks, as
    /// `ns eval`), or -1 for one job per benchmark; default one job per part. Locally one
    /// process runs everything, so it changes nothing.
    #[arg(long = "num_jobs", allow_negative_numbers = true)]
    pub num_jobs: Option<i64>,
    /// Split each benchmark's problems into N chunks (`<file>_chunk_<id>.jsonl`, merged when all
    /// are done); files are graded once merged.
    #[arg(long = "num_chunks")]
    pub num_chunks: Option<usize>,
    /// The chunks this run generates ("0,2" or "0..3"; default all).
    #[arg(long = "chunk_ids", requires = "num_chunks")]
    pub chunk_ids: Option<String>,
    #[arg(
        long = "extra_eval_args",
        default_value = "",
        allow_hyphen_values = true
    )]
    pub extra_eval_args: String,
    /// Server log and manifest folder (default `<output_dir>/eval-logs`).
    #[arg(long = "log_dir")]
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
    #[arg(long = "time_min")]
    pub time_min: Option<String>,
    /// With --cluster slurm: wait for the jobs and exit non-zero if one failed.
    #[arg(long)]
    pub wait: bool,
    /// Skip the summary at the end.
    #[arg(long = "no_summary", hide = true)]
    pub no_summary: bool,
    #[command(flatten)]
    pub judge: JudgeFlags,
    #[command(flatten)]
    pub genselect: crate::cmd_genselect::EvalFlags,
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
    #[arg(long = "not_exclusive")]
    pub not_exclusive: bool,
    /// `++key=value` generation settings, after the benchmark's defaults (later wins).
    #[arg(value_name = "++KEY=VALUE")]
    pub overrides: Vec<String>,
}

/// The judge stage (newer `ns eval`): after grading, each benchmark's files are judged and the
/// summary has judge columns.
#[derive(clap::Args, Default)]
pub struct JudgeFlags {
    /// The judge model (a running server's name, or the model to host).
    #[arg(long = "judge_model")]
    pub judge_model: Option<String>,
    /// The judge's server type (as --server_type); turns the judge stage on.
    #[arg(long = "judge_server_type")]
    pub judge_server_type: Option<tally_core::ServerType>,
    /// A running judge server; without it Tally hosts --judge_model.
    #[arg(long = "judge_server_address")]
    pub judge_server_address: Option<String>,
    #[arg(long = "judge_server_gpus")]
    pub judge_server_gpus: Option<u32>,
    /// Only `math_judge`.
    #[arg(long = "judge_generation_type", value_parser = ["math_judge"])]
    pub judge_generation_type: Option<String>,
    /// Ask the judge only where it can change the outcome (default: always, as NeMo-Skills).
    #[arg(long = "judge-only-when", value_enum, default_value = "always")]
    pub judge_only_when: crate::cmd_judge::WhenArg,
    /// The judge's `++` settings, shell-quoted: "++prompt_template=qwen-instruct ++inference.…".
    #[arg(
        long = "extra_judge_args",
        default_value = "",
        allow_hyphen_values = true
    )]
    pub extra_judge_args: String,
    /// Do not answer judgements from the cache.
    #[arg(long = "judge-no-cache")]
    pub judge_no_cache: bool,
}

impl JudgeFlags {
    fn options(&self) -> Result<Option<JudgeOptions>, AnyError> {
        let Some(server_type) = self.judge_server_type else {
            if self.judge_model.is_some() || self.judge_server_address.is_some() {
                return Err(
                    "--judge_server_type is required with --judge_model / --judge_server_address"
                        .into(),
                );
            }
            return Ok(None);
        };
        let overrides = tally_core::shell::split(&self.extra_judge_args)
            .map_err(|e| format!("--extra_judge_args: {e}"))?;
        Ok(Some(JudgeOptions {
            server: ServerChoice {
                server_type,
                address: self.judge_server_address.clone(),
                model: self.judge_model.clone(),
                host: tally_eval::HostOptions {
                    gpus: self.judge_server_gpus,
                    port: 0,
                    ..Default::default()
                },
            },
            when: self.judge_only_when.into(),
            overrides,
            cache: !self.judge_no_cache,
        }))
    }
}

/// The typed options of these flags.
fn options(args: &Args) -> Result<EvalOptions, AnyError> {
    let (Some(output_dir), Some(benchmarks), Some(server_type)) =
        (&args.output_dir, &args.benchmarks, &args.server_type)
    else {
        return Err("--output_dir, --benchmarks and --server_type are required".into());
    };
    Ok(EvalOptions {
        output_dir: output_dir.clone(),
        benchmarks: benchmarks.clone(),
        server: ServerChoice {
            server_type: *server_type,
            address: args.server_address.clone(),
            model: args.model.clone(),
            host: args.server.host_options(),
        },
        starting_seed: args.starting_seed,
        split: args.split.clone(),
        skip_greedy: args.skip_greedy,
        data_dir: args
            .data_dir
            .clone()
            .unwrap_or_else(tally_eval::defaults::data_dir),
        log_dir: args.log_dir.clone(),
        nemo_skills: args.compat.is_some(),
        override_resume: args.override_resume,
        chunks: Chunks::parse(args.num_chunks, args.chunk_ids.as_deref())?,
        overrides: args.overrides.clone(),
        judge: args.judge.options()?,
        genselect: args.genselect.options()?,
        greedy_layout: args.greedy_layout,
    })
}

pub fn run(args: Args) -> Result<ExitCode, AnyError> {
    if let Some(path) = &args.plan {
        let part = match &args.task_parts {
            Some(spec) => {
                let task = std::env::var("SLURM_ARRAY_TASK_ID")
                    .ok()
                    .and_then(|t| t.parse().ok())
                    .ok_or(
                        "--task_parts: SLURM_ARRAY_TASK_ID is not set (run as a Slurm array task)",
                    )?;
                let parts = tally_eval::task_parts(spec, task)?;
                Some(
                    parts
                        .iter()
                        .map(|p| p.to_string())
                        .collect::<Vec<_>>()
                        .join(","),
                )
            }
            None => args.part.clone(),
        };
        return run_plan_file(path, part.as_deref());
    }
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
    let plan = tally_eval::plan(&options(&args)?)?;
    if slurm {
        return crate::eval_slurm::submit(&args, &plan);
    }
    if args.dry_run {
        print!("{}", tally_eval::describe(&plan)?);
        return Ok(ExitCode::SUCCESS);
    }
    execute(
        &plan,
        !args.no_summary,
        args.output_dir
            .as_deref()
            .unwrap_or(&plan.options.output_dir),
    )
}

/// `--plan F --part P`: one part of a plan (a Slurm job), or its summary.
fn run_plan_file(path: &Path, part: Option<&str>) -> Result<ExitCode, AnyError> {
    let plan = EvalPlan::read(path)?;
    let given = &plan.options.output_dir;
    match part {
        None => execute(&plan, true, given),
        Some("summary") => {
            // Run after every part ended, however it ended: one that did not finish is named
            // here rather than left out of the numbers.
            let missing = plan.unfinished();
            if !missing.is_empty() {
                return Err(format!(
                    "not summarized: {} did not finish (a job failed or was cancelled); \
                     run the same `tally eval --cluster slurm` command again to finish it",
                    missing.join(", ")
                )
                .into());
            }
            match tally_eval::summarize(&plan, &[], &TerminalReporter::new())? {
                Some(s) => show(&s, given),
                None => Ok(ExitCode::SUCCESS),
            }
        }
        Some(p) => {
            let parts = tally_eval::parse_part_list(p)
                .and_then(|i| plan.parts_at(&i))
                .map_err(|e| format!("--part {p} of {}: {e} (or `summary`)", path.display()))?;
            execute(&plan.group(&parts)?, false, given)
        }
    }
}

/// The summary table of an evaluation, with metrics.json beside it.
fn show(s: &tally_metrics::Summary, given: &Path) -> Result<ExitCode, AnyError> {
    use tally_metrics::render::{Format, Spread};
    crate::cmd_summarize::show(
        s,
        &given.display().to_string(),
        Format::Table,
        Spread::Ci95,
        None,
    )
}

/// Runs `plan` here; then the summary and the report unless `summary` is false (`given`: the
/// output folder as the user wrote it, for messages and the report).
fn execute(plan: &EvalPlan, summary: bool, given: &Path) -> Result<ExitCode, AnyError> {
    let reporter = TerminalReporter::new();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let slot = tally_eval::stop::install(&rt, crate::signals::HOOKS);
    let ctx = RunContext {
        rt: &rt,
        reporter: &reporter,
        on_server_start: &|s| slot.set(s),
        command: std::env::args().collect(),
    };
    let outcome = tally_eval::run_plan(plan, &ctx)?;
    let every_benchmark_failed = outcome.all_failed.len() == plan.benchmarks.len();
    let mut code = ExitCode::SUCCESS;
    if !summary {
        // A part of a larger run: its summary comes after every part.
    } else if !outcome.complete() {
        println!("{} outputs wait for chunks other runs generate; the summary comes with the run that completes them", outcome.waiting);
    } else if every_benchmark_failed {
        // No table: every number in it would come from no data.
    } else {
        let skip: Vec<&str> = outcome.all_failed.iter().map(|d| d.name.as_str()).collect();
        if let Some(s) = tally_eval::summarize(plan, &skip, &reporter)? {
            println!();
            code = show(&s, given)?;
            crate::cmd_report::after_eval(given);
        }
    }
    for d in &outcome.all_failed {
        let counts: Vec<String> = d.failed.iter().map(|(s, n)| format!("{s} {n}")).collect();
        eprintln!(
            "error: {}: all {} samples failed ({}){}; it has no summary. Rerun the same command to retry them.",
            d.name,
            d.records,
            counts.join(", "),
            outcome
                .address
                .as_deref()
                .map(|a| format!(" against {a}"))
                .unwrap_or_default(),
        );
    }
    Ok(if outcome.failures > 0 || !outcome.all_failed.is_empty() {
        ExitCode::from(2)
    } else {
        code
    })
}
