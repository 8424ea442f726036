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
    #[command(flatten)]
    pub target: crate::hosting::TargetFlags,
    /// Graded sample files: `output.jsonl` / `output-rs<seed>.jsonl` (or ++input_dir=).
    #[arg(long = "input_dir")]
    pub input_dir: Option<PathBuf>,
    /// Judged copies are written here, same file names.
    #[arg(long = "output_dir")]
    pub output_dir: Option<PathBuf>,
    #[arg(long = "num_random_seeds")]
    pub num_random_seeds: Option<u64>,
    #[arg(long = "random_seeds")]
    pub random_seeds: Option<String>,
    #[arg(long = "starting_seed", default_value_t = 0)]
    pub starting_seed: u64,
    /// Ask the judge only where it can change the outcome (default: always, as NeMo-Skills).
    #[arg(long = "judge-only-when", value_enum, default_value = "always")]
    pub judge_only_when: WhenArg,
    /// The judgement cache (default: <output_dir>/.tally-judge-cache.jsonl).
    #[arg(long)]
    pub cache: Option<PathBuf>,
    #[arg(long = "no-cache")]
    pub no_cache: bool,
    #[arg(long = "dry_run")]
    pub dry_run: bool,
    #[arg(long = "override-resume")]
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
    let mut job = JudgeJob::from_args(args.input_dir, args.output_dir, seeds.seeds, &all)?;
    job.when = args.judge_only_when.into();
    job.cache = match (args.no_cache, args.cache) {
        (true, _) => None,
        (false, Some(c)) => Some(c),
        (false, None) => job.cache,
    };
    let settings = job.settings()?;
    // Every input is read and checked before connecting: a bad record costs no server check.
    let inputs = job.read_inputs()?;
    let log_dir = job.output_dir.join("generation-logs");
    let judged = crate::signals::with_target(
        &args.target.choice()?,
        &log_dir,
        ClientOptions::new(&settings),
        &reporter,
        |rt, target| judge(rt, target, &job, inputs, &reporter),
    )?;
    crate::render::print_judged(&judged);
    Ok(crate::render::exit_code(judged.failures))
}
