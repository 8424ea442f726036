//! `tally judge`'s flags (= `tally generate --generation_type=math_judge`, NeMo-Skills'
//! `llm_math_judge`), as a `tally_eval::JudgeJob`.

use std::path::PathBuf;

use tally_eval::{JudgeJob, JudgeWhen, Result};
use tally_generate::SeedPlan;

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

impl Args {
    /// The judge run these flags describe (only `--cluster local` runs here).
    pub fn job(&self) -> Result<JudgeJob> {
        if let Some(c) = self.cluster.as_deref().filter(|c| *c != "local") {
            return Err(format!("--cluster={c}: only local runs are supported").into());
        }
        let all = crate::overrides(&self.overrides, self.override_resume, self.dry_run)?;
        let seeds = SeedPlan::from_flags(
            self.num_random_seeds,
            self.random_seeds.as_deref(),
            self.starting_seed,
        )?;
        let mut job = JudgeJob::from_args(
            self.input_dir.clone(),
            self.output_dir.clone(),
            seeds.seeds,
            &all,
        )?;
        job.when = self.judge_only_when.into();
        job.cache = match (self.no_cache, &self.cache) {
            (true, _) => None,
            (false, Some(c)) => Some(c.clone()),
            (false, None) => job.cache,
        };
        Ok(job)
    }
}
