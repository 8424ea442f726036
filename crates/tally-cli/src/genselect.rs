//! `tally genselect`'s flags (newer NeMo-Skills' offline GenSelect), as a
//! `tally_eval::GenselectJob`, and `tally eval --genselect`'s.

use std::path::PathBuf;

use tally_eval::{GenselectJob, GenselectOptions, Result};

use crate::hosting::TargetFlags;

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
    pub fn options(&self) -> Result<Option<GenselectOptions>> {
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

impl Args {
    /// The GenSelect run these flags describe.
    pub fn job(&self) -> Result<GenselectJob> {
        let options = self.select.options(
            self.num_random_seeds,
            self.starting_seed,
            self.overrides.clone(),
        );
        let extra = crate::overrides(&[], self.override_resume, self.dry_run)?;
        let mut job = GenselectJob::new(self.input_dir.clone(), options, &extra)?;
        job.cache = (!self.no_cache)
            .then(|| self.cache.clone().or(job.cache.take()))
            .flatten();
        Ok(job)
    }
}

/// What a GenSelect (or GenSynthesis) seed file holds, for the line after its summary.
pub fn counts_line(
    output: &std::path::Path,
    c: &tally_genselect::FinalizeCounts,
    mode: tally_genselect::Mode,
) -> String {
    match mode {
        tally_genselect::Mode::Select => format!(
            "{}: {} chosen by the model, {} with one candidate, {} without an index (a candidate drawn instead), {} without candidates, {} failed",
            output.display(),
            c.chosen,
            c.settled,
            c.fallback,
            c.no_candidate,
            c.failed
        ),
        tally_genselect::Mode::Synthesis => format!(
            "{}: {} solutions written by the model, {} without <NEW_SOLUTION> tags (a candidate's solution instead), {} without candidates, {} failed",
            output.display(),
            c.chosen,
            c.fallback,
            c.no_candidate,
            c.failed
        ),
    }
}

/// How many selections (or syntheses) the cache answered.
pub fn cache_line(hits: u64, mode: tally_genselect::Mode) -> String {
    let what = match mode {
        tally_genselect::Mode::Select => "selections",
        tally_genselect::Mode::Synthesis => "syntheses",
    };
    format!("{hits} {what} answered from the cache (no call)")
}
