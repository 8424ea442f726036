//! `tally judge` (= `tally generate --generation_type=math_judge`, NeMo-Skills' `llm_math_judge`):
//! graded sample files in, the same records with a `judgement` out, through the generation engine
//! (bounded concurrency, crash-safe resume) with prefilled verdicts that cost no call and a
//! content-keyed cache that makes a rerun free.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::json;
use tally_core::jsonl::read_jsonl;
use tally_core::overrides::Overrides;
use tally_core::Reporter;
use tally_generate::{
    load_prompt, output_file_name, sampling_params, Generator, Job, Pass, SeedPlan, Settings,
};
use tally_grade::{extract_answer, ExtractMode};
use tally_judge::{CachedBackend, JudgeBatch, JudgeCache, JudgeWhen};

use crate::reporter::TerminalReporter;
use crate::run_generation::{host_or_connect, print_summary, ClientOptions, LiveStats};
use crate::AnyError;

#[derive(Clone, Copy, Debug, Default, clap::ValueEnum)]
pub enum WhenArg {
    /// Every record that prefill does not settle (NeMo-Skills).
    #[default]
    Always,
    /// Only where the symbolic grader said not equal (or could not decide) and there is an answer.
    #[value(name = "symbolic-false")]
    SymbolicFalse,
    /// Only where the symbolic grader could not decide (`grade_status: undecided`); its other
    /// verdicts stand.
    Undecided,
}

#[derive(clap::Args, Default)]
pub struct Args {
    /// `vllm`, `sglang`, `trtllm`, `openai`, `llamacpp` or `generic`.
    #[arg(long = "server_type", alias = "server-type")]
    pub server_type: String,
    /// A running judge server; without it Tally hosts `--model` (see --server_gpus).
    #[arg(long = "server_address", alias = "server-address")]
    pub server_address: Option<String>,
    #[command(flatten)]
    pub server: crate::hosting::ServerFlags,
    #[arg(long)]
    pub model: Option<String>,
    /// Graded sample files: `output.jsonl` / `output-rs<seed>.jsonl` (or ++input_dir=).
    #[arg(long = "input_dir", alias = "input-dir")]
    pub input_dir: Option<PathBuf>,
    /// Judged copies are written here, same file names.
    #[arg(long = "output_dir", alias = "output-dir")]
    pub output_dir: Option<PathBuf>,
    #[arg(long = "num_random_seeds", alias = "num-random-seeds")]
    pub num_random_seeds: Option<u64>,
    #[arg(long = "random_seeds", alias = "random-seeds")]
    pub random_seeds: Option<String>,
    #[arg(long = "starting_seed", alias = "starting-seed", default_value_t = 0)]
    pub starting_seed: u64,
    /// Ask the judge only where it can change the outcome (default: always, as NeMo-Skills).
    #[arg(
        long = "judge-only-when",
        alias = "judge_only_when",
        value_enum,
        default_value = "always"
    )]
    pub judge_only_when: WhenArg,
    /// The judgement cache (default: <output_dir>/.tally-judge-cache.jsonl).
    #[arg(long)]
    pub cache: Option<PathBuf>,
    #[arg(long = "no-cache", alias = "no_cache")]
    pub no_cache: bool,
    #[arg(long = "dry_run", alias = "dry-run")]
    pub dry_run: bool,
    #[arg(long = "override-resume", alias = "override_resume")]
    pub override_resume: bool,
    #[arg(long, hide = true)]
    pub cluster: Option<String>,
    /// ++prompt_template=, ++prompt_config= (default judge/math), ++inference.*=,
    /// ++max_concurrent_requests=, ++max_connection_failures=, ++input_dir=, ++output_dir=.
    #[arg(value_name = "++KEY=VALUE")]
    pub overrides: Vec<String>,
}

pub fn run(args: Args) -> Result<ExitCode, AnyError> {
    run_from_generate(args)
}

/// Keys of `llm_math_judge` that name files, taken out of the `++` list.
const FILE_KEYS: [&str; 5] = [
    "input_dir",
    "output_dir",
    "input_file",
    "output_file",
    "random_seed",
];

pub fn run_from_generate(args: Args) -> Result<ExitCode, AnyError> {
    if let Some(c) = args.cluster.as_deref().filter(|c| *c != "local") {
        return Err(format!("--cluster={c}: only local runs are supported").into());
    }
    let reporter = TerminalReporter::new();
    let all = Overrides::parse(&args.overrides)?;
    let path_of = |key: &str| all.get_str(key).map(PathBuf::from);
    if all.get("input_file").is_some() || all.get("output_file").is_some() {
        return Err("use ++input_dir / --output_dir (one file per seed) with `tally judge`".into());
    }
    let input_dir = args
        .input_dir
        .clone()
        .or_else(|| path_of("input_dir"))
        .ok_or("no input: give ++input_dir=<dir with graded output*.jsonl>")?;
    let output_dir = args
        .output_dir
        .clone()
        .or_else(|| path_of("output_dir"))
        .ok_or("no output: give --output_dir=<dir>")?;
    if input_dir.canonicalize().ok() == output_dir.canonicalize().ok() {
        return Err(
            "--output_dir must differ from the input directory (judged copies are new files)"
                .into(),
        );
    }
    let mut user = Overrides::default();
    user.push("prompt_config", json!("judge/math"));
    user.push("generation_key", json!("judgement"));
    for o in all.iter().filter(|o| !FILE_KEYS.contains(&o.key.as_str())) {
        user.push_arg(&o.raw)?;
    }
    if args.override_resume {
        user.push("resume_policy", json!("override"));
    }
    if args.dry_run {
        user.push("dry_run", json!(true));
    }
    let seeds = SeedPlan::from_flags(
        args.num_random_seeds,
        args.random_seeds.as_deref(),
        args.starting_seed,
    )?;
    let when = match args.judge_only_when {
        WhenArg::Always => JudgeWhen::Always,
        WhenArg::SymbolicFalse => JudgeWhen::SymbolicFalse,
        WhenArg::Undecided => JudgeWhen::Undecided,
    };

    // Checked before connecting (needs an input to parse; the real one is set per seed).
    let mut probe = user.clone();
    probe.push("input_file", json!("-"));
    let settings = Settings::from_overrides(&probe)?;
    // Every input is read and checked before connecting: a bad record costs no server check.
    let batches = seeds
        .seeds
        .iter()
        .map(|seed| {
            let input = input_dir.join(output_file_name("output", *seed));
            let batch = judge_inputs(&input, settings.max_samples, when)?;
            Ok((*seed, input, batch))
        })
        .collect::<Result<Vec<_>, AnyError>>()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let conn = host_or_connect(
        &rt,
        &args.server_type,
        args.server_address.as_deref(),
        args.model.as_deref(),
        &args.server,
        &output_dir.join("generation-logs"),
        ClientOptions::new(&settings),
    )?;
    let result = judge_all(
        &args,
        &rt,
        &conn.target,
        &user,
        batches,
        &output_dir,
        &settings,
        &reporter,
    );
    conn.close(&rt)?;
    result
}

#[allow(clippy::too_many_arguments)]
fn judge_all(
    args: &Args,
    rt: &tokio::runtime::Runtime,
    target: &crate::run_generation::Target,
    user: &Overrides,
    batches: Vec<(Option<u64>, PathBuf, JudgeBatch)>,
    output_dir: &Path,
    settings: &Settings,
    reporter: &TerminalReporter,
) -> Result<ExitCode, AnyError> {
    if !settings.dry_run {
        std::fs::create_dir_all(output_dir)
            .map_err(|e| format!("{}: {e}", output_dir.display()))?;
    }
    let backend = if args.no_cache || settings.dry_run {
        None
    } else {
        let path = args
            .cache
            .clone()
            .unwrap_or_else(|| output_dir.join(".tally-judge-cache.jsonl"));
        let cache = JudgeCache::open(&path)?;
        if cache.repaired_bytes() > 0 {
            reporter.warn(&format!(
                "{}: cut a torn last line left by an interrupted run",
                path.display()
            ));
        }
        Some(CachedBackend::new(
            &*target.backend,
            target.model.clone(),
            cache,
        ))
    };

    let mut failures = 0;
    for (seed, input, batch) in batches {
        let mut ov = user.clone();
        ov.push("input_file", json!(input.display().to_string()));
        let settings = Settings::from_overrides(&ov)?;
        let asked = batch.asked();
        let JudgeBatch { records, prefilled } = batch;
        let prompt = load_prompt(&settings, None)?;
        let pass = Pass {
            seed,
            params: sampling_params(&ov)?,
        };
        let mut job = Job::new(
            &settings,
            records,
            prompt,
            vec![pass],
            target.model.clone(),
            target.server_type,
            output_dir,
        );
        job.prefilled = prefilled;
        job.status_key = "judge_status".into();
        job.error_key = "judge_error".into();
        let n = job.inputs.len();
        eprintln!(
            "{}: {n} records, {asked} for the judge, {} settled without a call",
            input.display(),
            n - asked
        );
        let live = LiveStats(reporter);
        let summary = match &backend {
            Some(b) => rt.block_on(Generator::new(&job, b, reporter).with_observer(&live).run())?,
            None => rt.block_on(
                Generator::new(&job, &*target.backend, reporter)
                    .with_observer(&live)
                    .run(),
            )?,
        };
        print_summary(&summary, n);
        failures += summary.failures;
    }
    if let Some(b) = &backend {
        b.sync()?;
        if b.hits() > 0 {
            println!("{} judgements answered from the cache (no call)", b.hits());
        }
        if b.write_errors() > 0 {
            reporter.warn(&format!(
                "{} judgements could not be written to the cache",
                b.write_errors()
            ));
        }
    }
    Ok(if failures > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// The records of one graded file made ready for the judge (see [`JudgeBatch`]).
fn judge_inputs(
    path: &Path,
    max_samples: Option<usize>,
    when: JudgeWhen,
) -> Result<JudgeBatch, AnyError> {
    if !path.exists() {
        return Err(format!("{} does not exist (judge the seeds that were generated: --num_random_seeds / --random_seeds)", path.display()).into());
    }
    let read = read_jsonl(path)?;
    if let Some(t) = read.torn_tail {
        return Err(format!(
            "{}:{}: the last line is incomplete (was the file still being written?)",
            path.display(),
            t.line
        )
        .into());
    }
    let extract = |g: &str| extract_answer(g, ExtractMode::NemoSkills).answer;
    let lines = read
        .lines
        .into_iter()
        .take(max_samples.unwrap_or(usize::MAX))
        .map(|l| (l.number, l.record));
    JudgeBatch::prepare(lines, when, &extract)
        .map_err(|e| format!("{}: {e}", path.display()).into())
}
