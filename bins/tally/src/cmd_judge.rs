//! `tally judge` (= `tally generate --generation_type=math_judge`, NeMo-Skills' `llm_math_judge`):
//! graded sample files in, the same records with a `judgement` out, through the generation engine
//! (bounded concurrency, crash-safe resume) with prefilled verdicts that cost no call and a
//! content-keyed cache that makes a rerun free.

use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::json;
use tally_core::overrides::Overrides;
use tally_eval::{judge, ClientOptions, JudgeJob, JudgeWhen};
use tally_generate::SeedPlan;

use crate::reporter::TerminalReporter;
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

impl From<WhenArg> for JudgeWhen {
    fn from(w: WhenArg) -> JudgeWhen {
        match w {
            WhenArg::Always => JudgeWhen::Always,
            WhenArg::SymbolicFalse => JudgeWhen::SymbolicFalse,
            WhenArg::Undecided => JudgeWhen::Undecided,
        }
    }
}

pub fn run(args: Args) -> Result<ExitCode, AnyError> {
    if let Some(c) = args.cluster.as_deref().filter(|c| *c != "local") {
        return Err(format!("--cluster={c}: only local runs are supported").into());
    }
    let reporter = TerminalReporter::new();
    let mut all = Overrides::parse(&args.overrides)?;
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
    if args.override_resume {
        all.push("resume_policy", json!("override"));
    }
    if args.dry_run {
        all.push("dry_run", json!(true));
    }
    let seeds = SeedPlan::from_flags(
        args.num_random_seeds,
        args.random_seeds.as_deref(),
        args.starting_seed,
    )?;
    let mut job = JudgeJob::new(input_dir, output_dir.clone(), seeds.seeds, &all)?;
    job.when = args.judge_only_when.into();
    job.cache = match (args.no_cache, &args.cache) {
        (true, _) => None,
        (false, Some(c)) => Some(c.clone()),
        (false, None) => job.cache,
    };
    let settings = job.settings()?;
    // Every input is read and checked before connecting: a bad record costs no server check.
    let inputs = job.read_inputs()?;
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
        &output_dir.join("generation-logs"),
        ClientOptions::new(&settings),
        &reporter,
    )?;
    let result = judge(&rt, &conn.target, &job, inputs, &reporter);
    conn.close(&rt)?;
    let judged = result?;
    crate::render::print_judged(&judged);
    Ok(if judged.failures > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}
