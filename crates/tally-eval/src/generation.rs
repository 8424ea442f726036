//! Generation as `generate`, `judge` and `eval` share it: the problems and the prompt resolved,
//! the engine run (with code execution when asked), and chunked runs marked `.done` and merged.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tally_core::overrides::Overrides;
use tally_core::ServerType;
use tally_generate::{
    load_inputs, load_prompt, passes, Generator, InputSpec, Job, ResumePolicy, RunSummary,
    SeedDefaults, SeedPlan, Settings, Stats, StatsObserver,
};

use crate::defaults::dataset_path;
use crate::error::Result;
use crate::sandbox::{sandbox_url, start_in_process, SandboxExecutor};
use crate::target::Target;
use crate::EvalReporter;

/// `--num_chunks` and the chunks one run generates (`--chunk_ids`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chunks {
    pub num_chunks: usize,
    pub ids: Vec<usize>,
}

impl Chunks {
    /// `--num_chunks` / `--chunk_ids` ("0,2", "0..3"; default all) checked.
    pub fn parse(num_chunks: Option<usize>, ids: Option<&str>) -> Result<Option<Chunks>> {
        Ok(match num_chunks {
            None => None,
            Some(0) => return Err("--num_chunks must be at least 1".into()),
            Some(c) => Some(Chunks {
                num_chunks: c,
                ids: tally_cluster::parse_chunk_ids(ids, c)?,
            }),
        })
    }
}

/// One `ns generate`-style run: problems × seeds into `output_dir`.
pub struct Spec<'a> {
    pub output_dir: PathBuf,
    pub output_prefix: String,
    pub seeds: SeedPlan,
    pub defaults: SeedDefaults,
    /// The `++` settings, in Hydra order (later wins).
    pub user: &'a Overrides,
    pub data_dir: PathBuf,
    /// Start a sandbox inside this process for code execution (`--with_sandbox`).
    pub with_sandbox: bool,
    /// `--num_chunks` and the chunk ids to generate here.
    pub chunks: Option<Chunks>,
}

/// The problems file of `++input_file` / `++dataset` (+ the dataset's default prompt config).
pub fn resolve_input(
    settings: &Settings,
    data_dir: &Path,
) -> Result<(PathBuf, Option<&'static str>)> {
    Ok(match settings.require_input()? {
        InputSpec::File(p) => (p.clone(), None),
        InputSpec::Dataset { name, split } => {
            let info = tally_data::registry::lookup(name).ok_or_else(|| {
                format!(
                    "unknown ++dataset={name} (known: {})",
                    tally_data::registry::names().join(", ")
                )
            })?;
            let split = split
                .clone()
                .unwrap_or_else(|| info.default_split.to_string());
            let path = dataset_path(data_dir, name, &split);
            if !path.exists() {
                return Err(format!(
                    "{} does not exist; run `tally prepare {name}` first",
                    path.display()
                )
                .into());
            }
            (path, Some(info.prompt_config))
        }
    })
}

/// Whether a pass still holds samples a rerun retries (its output is not final yet).
fn has_retryable(p: &tally_generate::PassSummary) -> bool {
    p.statuses.keys().any(|s| {
        matches!(
            s,
            tally_core::Status::RequestError | tally_core::Status::Timeout
        )
    })
}

/// What a generation run produced.
pub struct Generated {
    pub num_inputs: usize,
    pub input_sha256: String,
    pub prompt_sha256: String,
    pub summaries: Vec<RunSummary>,
    /// Outputs that are complete (merged, when chunked): ready to grade.
    pub complete: Vec<PathBuf>,
    /// Merged outputs still waiting for chunks other runs generate.
    pub waiting: Vec<PathBuf>,
    pub failures: u64,
}

/// Forwards the engine's live statistics to the reporter.
struct Live<'a>(&'a dyn EvalReporter);

impl StatsObserver for Live<'_> {
    fn stats(&self, s: &Stats) {
        self.0.stats(s);
    }
}

/// Runs `job` against `target` (with `executor` for code blocks), reporting live statistics.
pub fn run_job(
    rt: &tokio::runtime::Runtime,
    job: &Job,
    backend: &dyn tally_generate::tally_backend::Backend,
    executor: Option<&SandboxExecutor>,
    reporter: &dyn EvalReporter,
) -> Result<RunSummary> {
    let live = Live(reporter);
    let mut generator = Generator::new(job, backend, reporter).with_observer(&live);
    if let Some(e) = executor {
        generator = generator.with_code_executor(e);
    }
    Ok(rt.block_on(generator.run())?)
}

/// Runs the engine for `spec` against `target`; with chunks (`spec.chunks` or
/// `++num_chunks`/`++chunk_id`) each chunk is a job of its own writing `<output>_chunk_<id>.jsonl`,
/// marked `.done` once it holds no retryable failure, and merged into `<output>` once every
/// chunk is done (whichever run finishes last merges).
pub fn generate(
    rt: &tokio::runtime::Runtime,
    target: &Target,
    spec: &Spec,
    reporter: &dyn EvalReporter,
) -> Result<Generated> {
    let settings = Settings::from_overrides(spec.user)?;
    for ignored in &settings.ignored {
        reporter.warn(&format!(
            "{ignored} has no effect in Tally (it always resumes)"
        ));
    }
    let (input_path, dataset_prompt) = resolve_input(&settings, &spec.data_dir)?;
    let inputs = load_inputs(
        &input_path,
        settings.max_samples,
        settings.total_code_executions_in_prompt,
    )?;
    let prompt = load_prompt(&settings, dataset_prompt)?;
    if target.server_type == ServerType::OpenAi && settings.prompt_template.is_some() {
        return Err("++prompt_template cannot be used with --server_type=openai (chat API)".into());
    }
    let all_passes = passes(&spec.seeds, spec.defaults, spec.user)?;
    let job = Job::builder(&settings)
        .inputs(inputs)
        .prompt(prompt)
        .passes(all_passes.clone())
        .model(target.model.clone(), target.server_type)
        .output_dir(&spec.output_dir)
        .output_prefix(spec.output_prefix.clone())
        .build()?;
    if settings.resume_policy == ResumePolicy::Restart {
        reporter.warn("++resume_policy=restart: existing outputs of these seeds are discarded");
    }
    let executor = match &settings.code_execution {
        Some(c) if !settings.dry_run => {
            let url = if spec.with_sandbox {
                rt.block_on(start_in_process())?
            } else {
                sandbox_url(c)
            };
            tracing::info!("code execution through the sandbox at {url}");
            Some(SandboxExecutor::new(&url, c))
        }
        _ => None,
    };
    let run = |job: &Job| run_job(rt, job, &*target.backend, executor.as_ref(), reporter);
    let mut out = Generated {
        num_inputs: job.inputs.len(),
        input_sha256: job.input_sha256(),
        prompt_sha256: job.prompt.content_hash(),
        summaries: Vec::new(),
        complete: Vec::new(),
        waiting: Vec::new(),
        failures: 0,
    };
    let chunks = match (spec.chunks.clone(), settings.num_chunks) {
        (Some(c), _) => Some(c),
        (None, Some(c)) => Some(Chunks {
            num_chunks: c,
            ids: settings
                .chunk_id
                .map_or_else(|| (0..c).collect(), |i| vec![i]),
        }),
        (None, None) => None,
    };
    let Some(Chunks {
        num_chunks,
        ids: chunk_ids,
    }) = chunks
    else {
        let summary = run(&job)?;
        out.failures = summary.failures;
        if !summary.dry_run {
            out.complete = summary.passes.iter().map(|p| p.output.clone()).collect();
            // `ns generate` touches `<file>.done` after a successful job; scripts look for it.
            for p in &summary.passes {
                if !has_retryable(p) {
                    tally_cluster::mark_done(&p.output)?;
                }
            }
        }
        out.summaries.push(summary);
        return Ok(out);
    };

    // Seeds whose merged output is final are not generated again (as NeMo-Skills).
    let open: Vec<_> = all_passes
        .iter()
        .filter(|p| !tally_cluster::is_done(&job.output_path(p.seed)))
        .cloned()
        .collect();
    let n = job.inputs.len();
    for &id in &chunk_ids {
        if open.is_empty() {
            break;
        }
        let range = tally_cluster::chunk_range(n, num_chunks, id);
        let chunk = Job::builder(&settings)
            .inputs(job.inputs[range].to_vec())
            .prompt(job.prompt.clone())
            .passes(open.clone())
            .model(target.model.clone(), target.server_type)
            .output_dir(&spec.output_dir)
            .output_prefix(spec.output_prefix.clone())
            .output_suffix(format!("_chunk_{id}"))
            .build()?;
        let summary = run(&chunk)?;
        out.failures += summary.failures;
        if !summary.dry_run {
            for p in &summary.passes {
                if !has_retryable(p) {
                    tally_cluster::mark_done(&p.output)?;
                }
            }
        }
        out.summaries.push(summary);
    }
    if settings.dry_run {
        return Ok(out);
    }
    for pass in &all_passes {
        let merged = job.output_path(pass.seed);
        match tally_cluster::merge_chunks(
            &merged,
            &tally_cluster::chunk_paths(&merged, num_chunks),
        )? {
            tally_cluster::MergeOutcome::Waiting { .. }
            | tally_cluster::MergeOutcome::BeingMerged { .. } => out.waiting.push(merged),
            _ => out.complete.push(merged),
        }
    }
    Ok(out)
}
