//! `tally genselect`: GenSelect over a benchmark's seed files (newer NeMo-Skills' offline
//! GenSelect); tally-eval's `genselect` stage does the work.

use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::json;
use tally_core::overrides::Overrides;
use tally_eval::{ClientOptions, GenselectJob, GenselectOptions};

use crate::hosting::TargetFlags;
use crate::reporter::TerminalReporter;
use crate::AnyError;

#[derive(clap::Args, Default)]
pub struct Args {
    #[command(flatten)]
    pub target: TargetFlags,
    /// A benchmark folder with graded `output-rs<seed>.jsonl`; GenSelect writes
    /// `<input_dir>/genselect/output-rs<seed>.jsonl`.
    #[arg(long = "input_dir")]
    pub input_dir: PathBuf,
    /// GenSelect seeds: one selection per problem per seed, each over its own window.
    #[arg(long = "num_random_seeds", default_value_t = 1)]
    pub num_random_seeds: u64,
    #[arg(long = "starting_seed", default_value_t = 0)]
    pub starting_seed: u64,
    #[command(flatten)]
    pub select: SelectFlags,
    /// The selection cache (default: <input_dir>/genselect/.tally-genselect-cache.jsonl).
    #[arg(long)]
    pub cache: Option<PathBuf>,
    #[arg(long = "no-cache")]
    pub no_cache: bool,
    #[arg(long = "dry_run")]
    pub dry_run: bool,
    #[arg(long = "override-resume")]
    pub override_resume: bool,
    /// ++parallel_thinking.mode=gensynthesis (a new solution from the window, graded, in
    /// <input_dir>/gensynthesis/; default genselect), ++prompt_template=, ++prompt_config=
    /// (default genselect/math or gensynthesis/math), ++inference.*=, ++max_concurrent_requests=,
    /// ++max_connection_failures=.
    #[arg(value_name = "++KEY=VALUE")]
    pub overrides: Vec<String>,
}

/// Which solutions are candidates, and how many a request shows (also `tally eval --genselect`).
#[derive(clap::Args, Clone, Default)]
pub struct SelectFlags {
    /// Candidate solutions per selection request.
    #[arg(long = "window_size", default_value_t = 8)]
    pub window_size: usize,
    /// Solutions longer than this many characters are not candidates (0: no cap).
    #[arg(long = "solution_length_cap", default_value_t = 16_384)]
    pub solution_length_cap: usize,
    /// Keep failed, unfinished and empty solutions as candidates.
    #[arg(long = "keep-incomplete")]
    pub keep_incomplete: bool,
    /// The tag that ends a reasoning block in the solutions.
    #[arg(long = "end_reasoning_string", default_value = "</think>")]
    pub end_reasoning_string: String,
}

impl SelectFlags {
    pub fn options(
        &self,
        num_seeds: u64,
        starting_seed: u64,
        overrides: Vec<String>,
    ) -> GenselectOptions {
        GenselectOptions {
            num_seeds,
            starting_seed,
            window_size: self.window_size,
            solution_length_cap: (self.solution_length_cap > 0).then_some(self.solution_length_cap),
            filter_incomplete: !self.keep_incomplete,
            end_reasoning_string: self.end_reasoning_string.clone(),
            overrides,
            cache: true,
            mode: Default::default(),
        }
    }
}

pub fn run(args: Args) -> Result<ExitCode, AnyError> {
    let reporter = TerminalReporter::new();
    let options = args
        .select
        .options(args.num_random_seeds, args.starting_seed, args.overrides);
    let mut extra = Overrides::default();
    if args.override_resume {
        extra.push("resume_policy", json!("override"));
    }
    if args.dry_run {
        extra.push("dry_run", json!(true));
    }
    let mut job = GenselectJob::new(args.input_dir, options, &extra)?;
    job.cache = (!args.no_cache)
        .then(|| args.cache.or(job.cache.take()))
        .flatten();
    let settings = job.settings()?;
    // Every input is read and checked before connecting: a bad record costs no server check.
    let problems = job.read_candidates()?;
    let selected = crate::signals::with_target(
        &args.target.choice()?,
        &job.output_dir().join("genselect-logs"),
        ClientOptions::new(&settings),
        &reporter,
        |rt, target| tally_eval::genselect(rt, target, &job, &problems, &reporter),
    )?;
    crate::render::print_genselected(&selected);
    Ok(crate::render::exit_code(selected.failures))
}

/// `tally eval --genselect`: GenSelect over each benchmark's seeds after grading (and the judge),
/// with the evaluated model; the summary gets its `genselect@k` row.
#[derive(clap::Args, Clone, Default)]
pub struct EvalFlags {
    /// Run GenSelect after grading (and judging): windows of solutions (incomplete ones and ones
    /// over the cap left out) → `<bench>/genselect/`, a `genselect@k` row in the summary.
    #[arg(long)]
    pub genselect: bool,
    /// Selections per problem, each with its own seed and window.
    #[arg(long = "genselect_seeds", default_value_t = 1, requires = "genselect")]
    pub genselect_seeds: u64,
    #[arg(
        long = "genselect_window_size",
        default_value_t = 8,
        requires = "genselect"
    )]
    pub genselect_window_size: usize,
    /// Longer solutions are not candidates (0: no cap).
    #[arg(
        long = "genselect_solution_length_cap",
        default_value_t = 16_384,
        requires = "genselect"
    )]
    pub genselect_solution_length_cap: usize,
    /// GenSelect's `++` settings, shell-quoted: "++prompt_template=qwen-instruct ++inference.…";
    /// `++parallel_thinking.mode=gensynthesis` synthesizes a new solution instead (a
    /// `gensynthesis@k` row).
    #[arg(
        long = "extra_genselect_args",
        default_value = "",
        allow_hyphen_values = true,
        requires = "genselect"
    )]
    pub extra_genselect_args: String,
}

impl EvalFlags {
    pub fn options(&self) -> Result<Option<GenselectOptions>, AnyError> {
        if !self.genselect {
            return Ok(None);
        }
        let overrides = tally_core::shell::split(&self.extra_genselect_args)
            .map_err(|e| format!("--extra_genselect_args: {e}"))?;
        let select = SelectFlags {
            window_size: self.genselect_window_size,
            solution_length_cap: self.genselect_solution_length_cap,
            keep_incomplete: false,
            end_reasoning_string: "</think>".into(),
        };
        Ok(Some(select.options(self.genselect_seeds, 0, overrides)))
    }
}
