//! `tally eval` (`ns eval`): prepare → generate (greedy + N seeds) → grade → judge → summarize,
//! per benchmark, against a running server or one this command hosts — the flags (tally-cli's
//! `eval::Args`) turned into a `tally_eval::EvalPlan` and run (or submitted to Slurm, one part
//! per job). A rerun finishes what is missing and redoes nothing.

use std::path::Path;
use std::process::ExitCode;

use tally_eval::{EvalPlan, RunContext};

use crate::reporter::TerminalReporter;
use crate::AnyError;

pub use tally_cli::eval::Args;

pub fn run(args: Args) -> Result<ExitCode, AnyError> {
    if let Some(path) = &args.plan {
        let task = std::env::var("SLURM_ARRAY_TASK_ID")
            .ok()
            .and_then(|t| t.parse().ok());
        return run_plan_file(path, args.plan_part(task)?.as_deref());
    }
    let slurm = args.slurm()?;
    let plan = tally_eval::plan(&args.options()?)?;
    if slurm {
        return crate::eval_slurm::submit(&args, &plan);
    }
    if args.dry_run {
        print!("{}", tally_eval::describe(&plan)?);
        return Ok(ExitCode::SUCCESS);
    }
    execute(
        &plan,
        !args.no_summary,
        args.output_dir
            .as_deref()
            .unwrap_or(&plan.options.output_dir),
    )
}

/// `--plan F --part P`: one part of a plan (a Slurm job), or its summary.
fn run_plan_file(path: &Path, part: Option<&str>) -> Result<ExitCode, AnyError> {
    let plan = EvalPlan::read(path)?;
    let given = &plan.options.output_dir;
    match part {
        None => execute(&plan, true, given),
        Some("summary") => {
            // Run after every part ended, however it ended: one that did not finish is named
            // here rather than left out of the numbers.
            let missing = plan.unfinished();
            if !missing.is_empty() {
                return Err(format!(
                    "not summarized: {} did not finish (a job failed or was cancelled); \
                     run the same `tally eval --cluster slurm` command again to finish it",
                    missing.join(", ")
                )
                .into());
            }
            match tally_eval::summarize(&plan, &[], &TerminalReporter::new())? {
                Some(s) => show(&s, given),
                None => Ok(ExitCode::SUCCESS),
            }
        }
        Some(p) => {
            let parts = tally_eval::parse_part_list(p)
                .and_then(|i| plan.parts_at(&i))
                .map_err(|e| format!("--part {p} of {}: {e} (or `summary`)", path.display()))?;
            execute(&plan.group(&parts)?, false, given)
        }
    }
}

/// The summary table of an evaluation, with metrics.json beside it.
fn show(s: &tally_metrics::Summary, given: &Path) -> Result<ExitCode, AnyError> {
    use tally_metrics::render::{Format, Spread};
    crate::cmd_summarize::show(
        s,
        &given.display().to_string(),
        Format::Table,
        Spread::Ci95,
        None,
    )
}

/// Runs `plan` here; then the summary and the report unless `summary` is false (`given`: the
/// output folder as the user wrote it, for messages and the report).
fn execute(plan: &EvalPlan, summary: bool, given: &Path) -> Result<ExitCode, AnyError> {
    let reporter = TerminalReporter::new();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let slot = tally_eval::stop::install(&rt, crate::signals::HOOKS);
    let ctx = RunContext {
        rt: &rt,
        reporter: &reporter,
        on_server_start: &|s| slot.set(s),
        command: std::env::args().collect(),
    };
    let outcome = tally_eval::run_plan(plan, &ctx)?;
    let every_benchmark_failed = outcome.all_failed.len() == plan.benchmarks.len();
    let mut code = ExitCode::SUCCESS;
    if !summary {
        // A part of a larger run: its summary comes after every part.
    } else if !outcome.complete() {
        println!("{} outputs wait for chunks other runs generate; the summary comes with the run that completes them", outcome.waiting);
    } else if every_benchmark_failed {
        // No table: every number in it would come from no data.
    } else {
        let skip: Vec<&str> = outcome.all_failed.iter().map(|d| d.name.as_str()).collect();
        if let Some(s) = tally_eval::summarize(plan, &skip, &reporter)? {
            println!();
            code = show(&s, given)?;
            crate::cmd_report::after_eval(given);
        }
    }
    for d in &outcome.all_failed {
        let counts: Vec<String> = d.failed.iter().map(|(s, n)| format!("{s} {n}")).collect();
        eprintln!(
            "error: {}: all {} samples failed ({}){}; it has no summary. Rerun the same command to retry them.",
            d.name,
            d.records,
            counts.join(", "),
            outcome
                .address
                .as_deref()
                .map(|a| format!(" against {a}"))
                .unwrap_or_default(),
        );
    }
    Ok(if outcome.failures > 0 || !outcome.all_failed.is_empty() {
        ExitCode::from(2)
    } else {
        code
    })
}
