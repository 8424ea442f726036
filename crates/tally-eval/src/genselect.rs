//! GenSelect as a stage (newer NeMo-Skills' offline parallel thinking): tally-genselect's
//! candidates and windows sent through the generation engine (resume, concurrency) with the
//! judge's cache in front, each answer turned into a choice in
//! `<input_dir>/genselect/output-rs<seed>.jsonl` — or, in GenSynthesis mode, into a new solution
//! graded like any generation in `<input_dir>/gensynthesis/output-rs<seed>.jsonl`.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::json;
use tally_core::overrides::Overrides;
use tally_generate::{load_prompt, sampling_params, Job, Pass, RunSummary, SeedPlan, Settings};
use tally_genselect::{CandidateOptions, FinalizeCounts, Mode, ProblemCandidates, WindowOptions};
use tally_grade::files::{grade_files, FileGradeOptions};
use tally_grade::{Grader, Policy};
use tally_judge::{CachedBackend, JudgeCache};

use crate::error::Result;
use crate::generation::run_job;
use crate::target::Target;
use crate::EvalReporter;

/// GenSelect's settings (NeMo-Skills' defaults: a window of 8, solutions over 16,384 characters
/// and incomplete ones left out, one selection seed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenselectOptions {
    /// Selections per problem, each with its own seed and window.
    pub num_seeds: u64,
    pub starting_seed: u64,
    /// Candidate solutions per selection request.
    pub window_size: usize,
    /// Longer solutions are not candidates (`None`: no cap).
    pub solution_length_cap: Option<usize>,
    /// Leave out failed, unfinished-reasoning and empty solutions.
    pub filter_incomplete: bool,
    pub end_reasoning_string: String,
    /// `++` settings of the selection requests (prompt, `++inference.*`, concurrency).
    pub overrides: Vec<String>,
    /// Answer selections from the cache (`<input_dir>/<mode>/.tally-<mode>-cache.jsonl`).
    pub cache: bool,
    /// Select a candidate, or synthesize a new solution (`++parallel_thinking.mode=` among
    /// `overrides` sets it too, as in NeMo-Skills).
    #[serde(default)]
    pub mode: Mode,
}

impl Default for GenselectOptions {
    fn default() -> Self {
        GenselectOptions {
            num_seeds: 1,
            starting_seed: 0,
            window_size: 8,
            solution_length_cap: Some(16_384),
            filter_incomplete: true,
            end_reasoning_string: "</think>".into(),
            overrides: Vec::new(),
            cache: true,
            mode: Mode::Select,
        }
    }
}

impl GenselectOptions {
    /// Sets `mode` from `++parallel_thinking.mode=` among the `++` settings, if given there;
    /// returns those settings parsed.
    pub fn resolve_mode(&mut self) -> Result<Overrides> {
        let user = Overrides::parse(&self.overrides)?;
        if let Some(v) = user.get(MODE_KEY) {
            let name = v.as_str().unwrap_or_default();
            self.mode = name.parse().map_err(|e| format!("++{MODE_KEY}={v}: {e}"))?;
        }
        Ok(user)
    }
}

/// One GenSelect run over a benchmark folder of graded seed files.
#[derive(Debug, Clone)]
pub struct GenselectJob {
    /// Graded `output-rs<seed>.jsonl`.
    pub input_dir: PathBuf,
    pub options: GenselectOptions,
    /// The selection cache; `None` with `options.cache` off.
    pub cache: Option<PathBuf>,
    /// The mode's prompt config and generation key first, then the user's `++` settings.
    pub overrides: Overrides,
    /// Grade synthesized solutions as NeMo-Skills does (`--compat nemo-skills`).
    pub nemo_skills_grader: bool,
}

impl GenselectJob {
    /// The job for `input_dir`; `extra` (`resume_policy`, `dry_run`) after the user's settings.
    pub fn new(
        input_dir: PathBuf,
        mut options: GenselectOptions,
        extra: &Overrides,
    ) -> Result<Self> {
        let user = options.resolve_mode()?;
        let mode = options.mode;
        let mut overrides = Overrides::default();
        overrides.push("prompt_config", json!(mode.default_prompt_config()));
        overrides.push("generation_key", json!(mode.generation_key()));
        for o in user
            .iter()
            .chain(extra.iter())
            .filter(|o| o.key != MODE_KEY)
        {
            overrides.push_arg(&o.raw)?;
        }
        let cache = options.cache.then(|| {
            out_dir(&input_dir, mode).join(format!(".tally-{}-cache.jsonl", mode.as_str()))
        });
        Ok(GenselectJob {
            input_dir,
            options,
            cache,
            overrides,
            nemo_skills_grader: false,
        })
    }

    /// The run's settings (checked before anything connects).
    pub fn settings(&self) -> Result<Settings> {
        let mut probe = self.overrides.clone();
        probe.push("input_file", json!("-"));
        Ok(Settings::from_overrides(&probe)?)
    }

    /// Every seed file read and checked, before any server is asked.
    pub fn read_candidates(&self) -> Result<Vec<ProblemCandidates>> {
        let o = &self.options;
        let opts = CandidateOptions {
            solution_length_cap: o.solution_length_cap,
            filter_incomplete: o.filter_incomplete,
            end_reasoning_string: o.end_reasoning_string.clone(),
        };
        Ok(tally_genselect::read_candidates(&self.input_dir, &opts)?)
    }

    pub fn output_dir(&self) -> PathBuf {
        out_dir(&self.input_dir, self.options.mode)
    }
}

/// NeMo-Skills' switch between selection and synthesis.
const MODE_KEY: &str = "parallel_thinking.mode";

fn out_dir(input_dir: &std::path::Path, mode: Mode) -> PathBuf {
    input_dir.join(mode.output_dir())
}

/// One GenSelect seed: the engine's summary and, unless a dry run, what the choices were.
#[derive(Debug)]
pub struct GenselectSeed {
    pub seed: u64,
    pub problems: usize,
    pub summary: RunSummary,
    pub output: PathBuf,
    pub counts: Option<FinalizeCounts>,
}

/// What a GenSelect run did.
#[derive(Debug, Default)]
pub struct Genselected {
    pub mode: Mode,
    pub seeds: Vec<GenselectSeed>,
    pub failures: u64,
    pub cache_hits: u64,
    pub cache_write_errors: u64,
}

/// Runs `job` over `problems` (from [`GenselectJob::read_candidates`]) with `target`'s model.
pub fn genselect(
    rt: &tokio::runtime::Runtime,
    target: &Target,
    job: &GenselectJob,
    problems: &[ProblemCandidates],
    reporter: &dyn EvalReporter,
) -> Result<Genselected> {
    let settings = job.settings()?;
    let out_dir = job.output_dir();
    reporter.note(&format!(
        "{}: {} problems, {} candidates, {} samples left out (incomplete or over {} characters)",
        job.input_dir.display(),
        problems.len(),
        problems.iter().map(|p| p.candidates.len()).sum::<usize>(),
        problems.iter().map(|p| p.left_out).sum::<usize>(),
        job.options.solution_length_cap.unwrap_or(0)
    ));
    let backend = match &job.cache {
        Some(path) if !settings.dry_run => {
            std::fs::create_dir_all(&out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
            Some(CachedBackend::new(
                &*target.backend,
                target.model.clone(),
                JudgeCache::open(path)?,
            ))
        }
        _ => None,
    };
    let o = &job.options;
    let window = WindowOptions {
        window_size: o.window_size.max(1),
        mode: o.mode,
    };
    let grader = Grader::builder()
        .policy(if job.nemo_skills_grader {
            Policy::NemoSkills
        } else {
            Policy::Tally
        })
        .build();
    let seeds = SeedPlan::from_flags(Some(o.num_seeds), None, o.starting_seed)?;
    let mut out = Genselected {
        mode: o.mode,
        ..Genselected::default()
    };
    for seed in seeds.seeds.iter().map(|s| s.unwrap_or(0)) {
        let inputs = tally_genselect::build_inputs(problems, seed, window);
        let prefilled: Vec<Option<String>> =
            inputs.iter().map(|i| i.settled.then(String::new)).collect();
        let records: Vec<_> = inputs.into_iter().map(|i| i.record).collect();
        let asked = prefilled.iter().filter(|p| p.is_none()).count();
        // NeMo-Skills' GenSelect samples at temperature 0.6 with the run's seed; the user's
        // `++inference.*` come after and win.
        let mut ov = Overrides::default();
        ov.push("inference.random_seed", json!(seed));
        ov.push("inference.temperature", json!(0.6));
        ov.extend(&job.overrides);
        let pass = Pass {
            seed: Some(seed),
            params: sampling_params(&ov)?,
        };
        let gen = Job::builder(&settings)
            .inputs(records)
            .prompt(load_prompt(&settings, None)?)
            .passes(vec![pass])
            .model(target.model.clone(), target.server_type)
            .output_dir(&out_dir)
            .prefilled(prefilled)
            .build()?;
        let n = gen.inputs.len();
        reporter.note(&format!(
            "{} seed {seed}: {n} problems, {asked} requests",
            o.mode
        ));
        let summary = match &backend {
            Some(b) => run_job(rt, &gen, b, None, reporter)?,
            None => run_job(rt, &gen, &*target.backend, None, reporter)?,
        };
        out.failures += summary.failures;
        let output = gen.output_path(Some(seed));
        let counts = match o.mode {
            _ if settings.dry_run => None,
            Mode::Select => Some(tally_genselect::finalize_file(&output, seed)?),
            Mode::Synthesis => {
                let counts = tally_genselect::finalize_synthesis_file(&output, seed)?;
                // The new solution is graded like any generation.
                for r in grade_files(
                    std::slice::from_ref(&output),
                    &grader,
                    &FileGradeOptions::default(),
                    reporter,
                ) {
                    let r = r.map_err(|e| e.to_string())?;
                    out.failures += r.grader_errors.len() as u64;
                    reporter.graded(&r);
                }
                Some(counts)
            }
        };
        out.seeds.push(GenselectSeed {
            seed,
            problems: n,
            summary,
            output,
            counts,
        });
    }
    if let Some(b) = &backend {
        (out.cache_hits, out.cache_write_errors) = crate::judge::close_cache(
            b,
            match o.mode {
                Mode::Select => "selections",
                Mode::Synthesis => "syntheses",
            },
            reporter,
        )?;
    }
    Ok(out)
}
