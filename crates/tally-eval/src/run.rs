//! Running a plan (or one part of it): prepare missing data, host or connect the model, generate
//! with chunks and merging, grade, judge, write each benchmark's manifest; and the summary.

use std::collections::BTreeMap;
use std::path::PathBuf;

use tally_generate::{output_file_name, SeedDefaults};
use tally_grade::files::{grade_files, FileGradeOptions};
use tally_grade::{Grader, Policy};
use tally_metrics::{SummarizeOptions, Summary, SummaryMode};

use crate::error::Result;
use crate::generation::{generate, Generated, Spec};
use crate::genselect::{genselect, GenselectJob, GenselectOptions, Genselected};
use crate::judge::{judge, JudgeJob, Judged};
use crate::manifest::{JudgeManifest, Manifest};
use crate::plan::{BenchPlan, EvalPlan};
use crate::target::{host_or_connect, ClientOptions, Connection};
use crate::EvalReporter;

/// What the caller provides to a run besides the plan.
pub struct RunContext<'a> {
    pub rt: &'a tokio::runtime::Runtime,
    pub reporter: &'a dyn EvalReporter,
    /// Receives a hosted server's stopper as soon as it runs (to stop it on a signal).
    pub on_server_start: &'a dyn Fn(tally_launch::Stopper),
    /// The command line recorded in the manifests.
    pub command: Vec<String>,
}

/// A benchmark none of whose samples holds a result: nothing to summarize.
#[derive(Debug, Clone)]
pub struct AllFailed {
    pub name: String,
    pub records: usize,
    pub failed: BTreeMap<tally_core::Status, usize>,
}

/// What running a plan did.
#[derive(Debug, Default)]
pub struct EvalOutcome {
    /// Samples that failed in this run (generation, grading, judging).
    pub failures: u64,
    /// Outputs waiting for chunks other runs generate.
    pub waiting: usize,
    pub all_failed: Vec<AllFailed>,
    /// The model's address, for messages.
    pub address: Option<String>,
    /// The judge's runs, per benchmark judged.
    pub judged: Vec<(String, Judged)>,
    /// GenSelect's runs, per benchmark.
    pub genselected: Vec<(String, Genselected)>,
}

impl EvalOutcome {
    /// Every benchmark is ready for the summary (nothing waits for other chunks).
    pub fn complete(&self) -> bool {
        self.waiting == 0
    }
}

/// One benchmark after generation and grading.
struct Ran {
    generated: Generated,
    manifest: Manifest,
    /// No sample holds a result.
    all_failed: bool,
}

/// Prepares the benchmarks whose problems file is missing, from their canonical source.
pub fn prepare_missing(plan: &EvalPlan, ctx: &RunContext) -> Result<()> {
    for b in &plan.benchmarks {
        if b.input.exists() {
            continue;
        }
        ctx.reporter.note(&format!(
            "== preparing {}/{} (not found at {})",
            b.name,
            b.split,
            b.input.display()
        ));
        let fetcher = tally_data::HttpFetcher::new(crate::defaults::hf_token())?;
        let req = tally_data::PrepareRequest {
            benchmark: b.name.clone(),
            split: Some(b.split.clone()),
            source: tally_data::Source::Canonical,
            out_dir: plan.options.data_dir.clone(),
        };
        ctx.rt.block_on(tally_data::prepare(&req, &fetcher))?;
    }
    Ok(())
}

/// The server log folder of a run of these benchmarks (Slurm jobs of one evaluation share the
/// log directory, so each run of benchmarks has its own).
fn server_log_dir(plan: &EvalPlan) -> PathBuf {
    let names: Vec<&str> = plan.benchmarks.iter().map(|b| b.name.as_str()).collect();
    let label: String = names
        .join("_")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    plan.log_dir.join(format!("server-{label}"))
}

/// Runs every benchmark of `plan` (prepare, generate, grade, judge, manifest); the summary is
/// [`summarize`]'s. A rerun finishes what is missing and redoes nothing.
pub fn run_plan(plan: &EvalPlan, ctx: &RunContext) -> Result<EvalOutcome> {
    let first = plan.benchmarks.first().ok_or("the plan has no benchmark")?;
    let client = ClientOptions::new(&first.settings()?);
    let server = &plan.options.server;
    // A running server is checked first (seconds), before any download; a hosted one is
    // started after the data is ready.
    let connect = || {
        host_or_connect(
            ctx.rt,
            server,
            &server_log_dir(plan),
            client,
            ctx.reporter,
            ctx.on_server_start,
        )
    };
    let early = if server.is_hosted() {
        None
    } else {
        Some(connect()?)
    };
    prepare_missing(plan, ctx)?;
    let conn = match early {
        Some(c) => c,
        None => connect()?,
    };
    let mut outcome = EvalOutcome {
        address: conn.target.address.clone(),
        ..EvalOutcome::default()
    };
    let ran = generate_and_grade(plan, &conn, ctx, &mut outcome);
    let genselect_options = plan.options.genselect.as_ref();
    // Without a judge GenSelect reads the graded files at once, with the model still up; with
    // one it reads the judged copies, so the model is connected again after the judge.
    let selected = match (&ran, genselect_options, &plan.options.judge) {
        (Ok(r), Some(g), None) => genselect_stage(plan, g, r, &conn, ctx, &mut outcome),
        _ => Ok(()),
    };
    conn.close(ctx.rt)?;
    let mut ran = ran?;
    selected?;
    if let Some(j) = &plan.options.judge {
        judge_stage(plan, j, &mut ran, ctx, &mut outcome)?;
        if let Some(g) = genselect_options {
            let conn = host_or_connect(
                ctx.rt,
                server,
                &server_log_dir(plan),
                client,
                ctx.reporter,
                ctx.on_server_start,
            )?;
            let selected = genselect_stage(plan, g, &ran, &conn, ctx, &mut outcome);
            conn.close(ctx.rt)?;
            selected?;
        }
    }
    for (b, r) in plan.benchmarks.iter().zip(&ran) {
        r.manifest.write(&b.out_dir)?;
    }
    Ok(outcome)
}

fn generate_and_grade(
    plan: &EvalPlan,
    conn: &Connection,
    ctx: &RunContext,
    outcome: &mut EvalOutcome,
) -> Result<Vec<Ran>> {
    let target = &conn.target;
    let options = &plan.options;
    let grader = Grader::builder()
        .policy(if options.nemo_skills {
            Policy::NemoSkills
        } else {
            Policy::Tally
        })
        .build();
    let mut out = Vec::new();
    for b in &plan.benchmarks {
        ctx.reporter.note(&format!(
            "== {}: {} passes → {}",
            b.label(),
            b.seeds.len(),
            b.generated_dir.display()
        ));
        let overrides = b.overrides()?;
        let settings = b.settings()?;
        let with_sandbox = settings
            .code_execution
            .as_ref()
            .is_some_and(|c| c.sandbox_host.is_none() && c.sandbox_port.is_none());
        let spec = Spec {
            output_dir: b.generated_dir.clone(),
            output_prefix: "output".into(),
            seeds: b.seed_plan(),
            defaults: SeedDefaults::Eval,
            user: &overrides,
            data_dir: options.data_dir.clone(),
            with_sandbox,
            chunks: b.chunks(&options.chunks),
        };
        let generated = generate(ctx.rt, target, &spec, ctx.reporter)?;
        ctx.reporter.generated(&generated);
        outcome.failures += generated.failures;
        outcome.waiting += generated.waiting.len();
        let mut records = 0;
        let mut failed: BTreeMap<tally_core::Status, usize> = BTreeMap::new();
        for r in grade_files(
            &generated.complete,
            &grader,
            &FileGradeOptions::default(),
            ctx.reporter,
        ) {
            let r = r?;
            ctx.reporter.graded(&r);
            // Samples the grader failed on are failures of the run, like failed requests.
            outcome.failures += r.grader_errors.len() as u64;
            records += r.records;
            for (s, n) in r.failed {
                *failed.entry(s).or_insert(0) += n;
            }
        }
        let all_failed = records > 0 && failed.values().sum::<usize>() == records;
        if all_failed {
            outcome.all_failed.push(AllFailed {
                name: b.label(),
                records,
                failed,
            });
        }
        let manifest = Manifest {
            tool: format!("tally {}", env!("CARGO_PKG_VERSION")),
            command: ctx.command.clone(),
            benchmark: b.name.clone(),
            split: b.split.clone(),
            input: b.input.clone(),
            input_sha256: generated.input_sha256.clone(),
            prompt_sha256: generated.prompt_sha256.clone(),
            model: target.model.clone(),
            server_type: options.server.server_type,
            server: conn
                .hosted_command()
                .or_else(|| options.server.address.clone()),
            seeds: b.seeds.clone(),
            overrides: b.overrides.clone(),
            grader: if options.nemo_skills {
                "nemo-skills"
            } else {
                "tally"
            }
            .into(),
            outputs: generated.complete.clone(),
            waiting_for_chunks: generated.waiting.clone(),
            judge: None,
        };
        out.push(Ran {
            generated,
            manifest,
            all_failed,
        });
    }
    Ok(out)
}

/// Whether a benchmark's files are all generated, merged and hold results (ready for the judge
/// and GenSelect).
fn ready(r: &Ran) -> bool {
    r.generated.waiting.is_empty() && !r.generated.complete.is_empty() && !r.all_failed
}

/// GenSelect over every ready benchmark's results (graded, or judged with a judge), with the
/// run's model; its files go to `<bench>/genselect/`, where the summary finds them.
fn genselect_stage(
    plan: &EvalPlan,
    options: &GenselectOptions,
    ran: &[Ran],
    conn: &Connection,
    ctx: &RunContext,
    outcome: &mut EvalOutcome,
) -> Result<()> {
    let mut extra = tally_core::overrides::Overrides::default();
    if plan.options.override_resume {
        extra.push("resume_policy", serde_json::json!("override"));
    }
    // Greedy apart from the seeds has nothing to select among.
    for (b, r) in plan.benchmarks.iter().zip(ran) {
        if !ready(r) || b.greedy_apart {
            continue;
        }
        let mut job = GenselectJob::new(b.out_dir.clone(), options.clone(), &extra)?;
        job.nemo_skills_grader = plan.options.nemo_skills;
        ctx.reporter.note(&format!(
            "== {}: {} → {}",
            b.name,
            options.mode,
            job.output_dir().display()
        ));
        let problems = job.read_candidates()?;
        let selected = genselect(ctx.rt, &conn.target, &job, &problems, ctx.reporter)?;
        ctx.reporter.genselected(&selected);
        outcome.failures += selected.failures;
        outcome.genselected.push((b.name.clone(), selected));
    }
    Ok(())
}

/// Judges every benchmark whose generated files are all complete and hold results.
fn judge_stage(
    plan: &EvalPlan,
    options: &crate::plan::JudgeOptions,
    ran: &mut [Ran],
    ctx: &RunContext,
    outcome: &mut EvalOutcome,
) -> Result<()> {
    let user = tally_core::overrides::Overrides::parse(&options.overrides)?;
    let mut jobs = Vec::new();
    for (i, (b, r)) in plan.benchmarks.iter().zip(ran.iter()).enumerate() {
        if ready(r) {
            jobs.push((i, b, judge_job(b, options, &user)?));
        }
    }
    let Some((_, _, first)) = jobs.first() else {
        return Ok(());
    };
    let settings = first.settings()?;
    // Every input is read and checked before a judge server is started.
    let inputs = jobs
        .iter()
        .map(|(_, _, j)| j.read_inputs())
        .collect::<Result<Vec<_>>>()?;
    let log_dir = server_log_dir(plan).with_extension("judge");
    let conn = host_or_connect(
        ctx.rt,
        &options.server,
        &log_dir,
        ClientOptions::new(&settings),
        ctx.reporter,
        ctx.on_server_start,
    )?;
    let mut result = Ok(());
    for ((i, b, job), inputs) in jobs.iter().zip(inputs) {
        ctx.reporter.note(&format!(
            "== {}: judge → {}",
            b.label(),
            job.output_dir.display()
        ));
        let judged = match judge(ctx.rt, &conn.target, job, inputs, ctx.reporter) {
            Ok(j) => j,
            Err(e) => {
                result = Err(e);
                break;
            }
        };
        ctx.reporter.judged(&judged);
        outcome.failures += judged.failures;
        if let Some(r) = ran.get_mut(*i) {
            r.manifest.judge = Some(JudgeManifest {
                model: conn.target.model.clone(),
                server_type: options.server.server_type,
                server: conn
                    .hosted_command()
                    .or_else(|| options.server.address.clone()),
                overrides: job.overrides.iter().map(|o| o.raw.clone()).collect(),
                outputs: b
                    .seeds
                    .iter()
                    .map(|s| job.output_dir.join(output_file_name("output", *s)))
                    .collect(),
            });
        }
        outcome.judged.push((b.label(), judged));
    }
    conn.close(ctx.rt)?;
    result
}

/// The judge's job for one benchmark: its graded files in, judged copies where the summary reads.
pub fn judge_job(
    b: &BenchPlan,
    options: &crate::plan::JudgeOptions,
    user: &tally_core::overrides::Overrides,
) -> Result<JudgeJob> {
    let mut job = JudgeJob::new(
        b.generated_dir.clone(),
        b.out_dir.clone(),
        b.seeds.clone(),
        user,
    )?;
    job.when = options.when;
    if !options.cache {
        job.cache = None;
    }
    Ok(job)
}

/// Summarizes the plan's results with `tally-metrics` (the run's mode), leaving out `skip`
/// (benchmarks with no valid sample); `None` when nothing is left to summarize.
pub fn summarize(
    plan: &EvalPlan,
    skip: &[&str],
    reporter: &dyn EvalReporter,
) -> Result<Option<Summary>> {
    let dir = plan.results_dir();
    let benchmarks = if skip.is_empty() {
        None
    } else {
        let layout = tally_metrics::layout::detect(dir, None)?;
        let keep: Vec<String> = layout
            .benchmarks
            .iter()
            .map(|b| b.name.clone())
            .filter(|n| !skip.contains(&n.as_str()))
            .collect();
        if keep.is_empty() {
            return Ok(None);
        }
        Some(keep)
    };
    let options = SummarizeOptions {
        benchmarks,
        max_samples: None,
        metric_type: None,
        mode: if plan.options.nemo_skills {
            SummaryMode::NemoSkills
        } else {
            SummaryMode::Tally
        },
    };
    Ok(Some(tally_metrics::summarize(dir, &options, reporter)?))
}
