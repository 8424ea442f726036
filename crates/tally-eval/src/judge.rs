//! The LLM judge (NeMo-Skills' `llm_math_judge`): graded sample files in, the same records with a
//! `judgement` out, through the generation engine (bounded concurrency, crash-safe resume), with
//! prefilled verdicts that cost no call and a content-keyed cache that makes a rerun free.

use std::path::{Path, PathBuf};

use serde_json::json;
use tally_core::jsonl::read_jsonl;
use tally_core::overrides::Overrides;
use tally_generate::{
    load_prompt, output_file_name, sampling_params, Job, Pass, RunSummary, Settings,
};
use tally_grade::{extract_answer, ExtractMode};
use tally_judge::{CachedBackend, JudgeBatch, JudgeCache};

pub use tally_judge::JudgeWhen;

use crate::error::Result;
use crate::generation::run_job;
use crate::target::Target;
use crate::EvalReporter;

/// Keys of `llm_math_judge` that name files: they come from the judge's options, not `++`.
const FILE_KEYS: [&str; 5] = [
    "input_dir",
    "output_dir",
    "input_file",
    "output_file",
    "random_seed",
];

/// One judge run: which files, which records, where the judged copies and the cache go.
#[derive(Debug, Clone)]
pub struct JudgeJob {
    /// Graded `output.jsonl` / `output-rs<seed>.jsonl`.
    pub input_dir: PathBuf,
    /// Judged copies, same file names.
    pub output_dir: PathBuf,
    pub seeds: Vec<Option<u64>>,
    pub when: JudgeWhen,
    /// The judgement cache (`None`: no cache).
    pub cache: Option<PathBuf>,
    /// The judge's settings: `judge/math` and `judgement` first, then the user's `++` settings.
    pub overrides: Overrides,
}

impl JudgeJob {
    /// A job with NeMo-Skills' judge settings and `user`'s `++` settings after them (file keys
    /// left out); the cache at `<output_dir>/.tally-judge-cache.jsonl`.
    pub fn new(
        input_dir: PathBuf,
        output_dir: PathBuf,
        seeds: Vec<Option<u64>>,
        user: &Overrides,
    ) -> Result<JudgeJob> {
        let mut overrides = Overrides::default();
        overrides.push("prompt_config", json!("judge/math"));
        overrides.push("generation_key", json!("judgement"));
        for o in user.iter().filter(|o| !FILE_KEYS.contains(&o.key.as_str())) {
            overrides.push_arg(&o.raw)?;
        }
        Ok(JudgeJob {
            cache: Some(output_dir.join(".tally-judge-cache.jsonl")),
            input_dir,
            output_dir,
            seeds,
            when: JudgeWhen::Always,
            overrides,
        })
    }

    /// `tally judge`'s job (`ns generate --generation_type=math_judge`): the folders from the
    /// flags, else from `++input_dir` / `++output_dir`; one file per seed, so `++input_file` and
    /// `++output_file` are refused.
    pub fn from_args(
        input_dir: Option<PathBuf>,
        output_dir: Option<PathBuf>,
        seeds: Vec<Option<u64>>,
        all: &Overrides,
    ) -> Result<JudgeJob> {
        if all.get("input_file").is_some() || all.get("output_file").is_some() {
            return Err(
                "use ++input_dir / --output_dir (one file per seed) with `tally judge`".into(),
            );
        }
        let path_of = |key: &str| all.get_str(key).map(PathBuf::from);
        let input_dir = input_dir
            .or_else(|| path_of("input_dir"))
            .ok_or("no input: give ++input_dir=<dir with graded output*.jsonl>")?;
        let output_dir = output_dir
            .or_else(|| path_of("output_dir"))
            .ok_or("no output: give --output_dir=<dir>")?;
        JudgeJob::new(input_dir, output_dir, seeds, all)
    }

    /// The run's settings (checked before anything connects); the records come from the
    /// graded files, so there is no `input_file`.
    pub fn settings(&self) -> Result<Settings> {
        Ok(Settings::from_overrides(&self.overrides)?)
    }

    /// Every input read and checked, before any server is asked: a bad record costs no call.
    pub fn read_inputs(&self) -> Result<Vec<JudgeInputFile>> {
        let settings = self.settings()?;
        if self.input_dir.canonicalize().ok() == self.output_dir.canonicalize().ok() {
            return Err(
                "--output_dir must differ from the input directory (judged copies are new files)"
                    .into(),
            );
        }
        self.seeds
            .iter()
            .map(|seed| {
                let input = self.input_dir.join(output_file_name("output", *seed));
                let batch = judge_inputs(&input, settings.max_samples, self.when)?;
                Ok(JudgeInputFile {
                    seed: *seed,
                    input,
                    batch,
                })
            })
            .collect()
    }
}

/// One graded file made ready for the judge.
pub struct JudgeInputFile {
    pub seed: Option<u64>,
    pub input: PathBuf,
    pub batch: JudgeBatch,
}

/// What a judge run did.
#[derive(Debug, Default)]
pub struct Judged {
    /// Per file: the input, its records, how many went to the judge, and the engine's summary.
    pub files: Vec<(PathBuf, usize, usize, RunSummary)>,
    pub failures: u64,
    pub cache_hits: u64,
    pub cache_write_errors: u64,
}

/// Judges `inputs` with `target`'s model (through the cache when the job has one).
pub fn judge(
    rt: &tokio::runtime::Runtime,
    target: &Target,
    job: &JudgeJob,
    inputs: Vec<JudgeInputFile>,
    reporter: &dyn EvalReporter,
) -> Result<Judged> {
    let settings = job.settings()?;
    if !settings.dry_run {
        std::fs::create_dir_all(&job.output_dir)
            .map_err(|e| format!("{}: {e}", job.output_dir.display()))?;
    }
    let backend = match &job.cache {
        Some(path) if !settings.dry_run => {
            let cache = JudgeCache::open(path)?;
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
        }
        _ => None,
    };
    let mut out = Judged::default();
    for JudgeInputFile { seed, input, batch } in inputs {
        let ov = &job.overrides;
        let asked = batch.asked();
        let JudgeBatch { records, prefilled } = batch;
        let prompt = load_prompt(&settings, None)?;
        let pass = Pass {
            seed,
            params: sampling_params(ov)?,
        };
        let gen = Job::builder(&settings)
            .inputs(records)
            .prompt(prompt)
            .passes(vec![pass])
            .model(target.model.clone(), target.server_type)
            .output_dir(&job.output_dir)
            .prefilled(prefilled)
            .status_keys("judge_status", "judge_error")
            .build()?;
        let n = gen.inputs.len();
        reporter.note(&format!(
            "{}: {n} records, {asked} for the judge, {} settled without a call",
            input.display(),
            n - asked
        ));
        let summary = match &backend {
            Some(b) => run_job(rt, &gen, b, None, reporter)?,
            None => run_job(rt, &gen, &*target.backend, None, reporter)?,
        };
        out.failures += summary.failures;
        out.files.push((input, n, asked, summary));
    }
    if let Some(b) = &backend {
        (out.cache_hits, out.cache_write_errors) =
            crate::judge::close_cache(b, "judgements", reporter)?;
    }
    Ok(out)
}

/// Syncs a cached backend at the end of a run: (answers from the cache, answers that could not be
/// written to it, warned about as `what`).
pub(crate) fn close_cache<B: tally_generate::tally_backend::Backend>(
    b: &CachedBackend<B>,
    what: &str,
    reporter: &dyn EvalReporter,
) -> Result<(u64, u64)> {
    b.sync()?;
    if b.write_errors() > 0 {
        reporter.warn(&format!(
            "{} {what} could not be written to the cache",
            b.write_errors()
        ));
    }
    Ok((b.hits(), b.write_errors()))
}

/// The records of one graded file made ready for the judge (see [`JudgeBatch`]).
pub fn judge_inputs(
    path: &Path,
    max_samples: Option<usize>,
    when: JudgeWhen,
) -> Result<JudgeBatch> {
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
