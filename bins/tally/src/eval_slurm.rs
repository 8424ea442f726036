//! `tally eval --cluster slurm`: the flags turned into a `tally_eval::SlurmRun` (one job array
//! of the plan's parts, grouped by `--num_jobs`, then a summary job), its report printed, and
//! with `--wait` the live status until every job ended.

use std::collections::HashSet;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use tally_cluster::{Executor, JobState, SlurmConfig, SlurmExecutor};
use tally_eval::{EvalPlan, NumJobs, PartOutcome, SlurmRun};

use crate::cmd_eval::Args;
use crate::AnyError;

/// Submits the jobs (or prints their scripts with `--dry-run`); with `--wait`, shows the status
/// as it changes until every job ended, and exits non-zero if one did not complete.
pub fn submit(args: &Args, plan: &EvalPlan) -> Result<ExitCode, AnyError> {
    let mut config = SlurmConfig::new(plan.log_dir.join("scripts"));
    config.partition = args.partition.clone();
    config.time_min = args.time_min.clone();
    let server = &plan.options.server;
    config.nodes = Some(server.host.nodes);
    config.gpus_per_node = server.host.gpus.filter(|_| server.address.is_none());
    config.exclusive = !args.not_exclusive;
    let expname = args.expname.clone().unwrap_or_else(|| "eval".into());
    let mut slurm = SlurmRun::new(config.clone(), expname, std::env::current_exe()?);
    slurm.num_jobs = NumJobs::from_flag(args.num_jobs)?;
    if args.dry_run {
        for script in slurm.scripts(plan)? {
            println!("{script}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let executor = SlurmExecutor::new(config);
    let report = rt.block_on(slurm.submit(plan, &executor))?;
    for (name, outcome) in &report.parts {
        match outcome {
            PartOutcome::Kept { id, state } => println!(
                "{name} is still {} as Slurm job {id}: not submitted again",
                if *state == JobState::Pending {
                    "queued"
                } else {
                    "running"
                }
            ),
            PartOutcome::Done => println!("{name}: outputs complete, nothing to submit"),
            PartOutcome::Submitted { id } => println!("submitted {name} as Slurm job {id}"),
        }
    }
    if let Some((id, tasks)) = &report.array {
        println!("(Slurm job array {id}, {tasks} tasks)");
    }
    if let Some(old) = &report.replaced_summary {
        println!("cancelled the earlier summary job {old}, which would not wait for the new jobs");
    }
    println!(
        "submitted {}-summarize as Slurm job {} (after the others)",
        slurm.expname, report.summary
    );
    if !args.wait {
        return Ok(ExitCode::SUCCESS);
    }

    // Live: redrawn in place on a terminal, a line per change otherwise.
    let tty = std::io::stdout().is_terminal();
    let mine: HashSet<&str> = report.all.iter().map(|id| id.as_str()).collect();
    let mut shown: Vec<String> = Vec::new();
    let status = loop {
        let status = rt.block_on(tally_eval::status(
            &plan.options.output_dir,
            Some(&plan.log_dir),
            Some(&executor),
        ))?;
        let lines = crate::cmd_status::lines(&status);
        let mut out = std::io::stdout().lock();
        if tty {
            if !shown.is_empty() {
                write!(out, "\x1b[{}A\x1b[J", shown.len())?;
            }
            for l in &lines {
                writeln!(out, "{l}")?;
            }
        } else {
            let before: HashSet<&String> = shown.iter().collect();
            for l in lines.iter().filter(|l| !before.contains(l)) {
                writeln!(out, "{l}")?;
            }
        }
        out.flush()?;
        shown = lines;
        // Only this submission's jobs (an array task `A_k` is its array `A`'s).
        let ours =
            |id: &str| mine.contains(id) || mine.contains(id.split('_').next().unwrap_or(id));
        let pending = status
            .submissions
            .iter()
            .flat_map(|s| &s.jobs)
            .any(|j| ours(&j.id) && !j.finished());
        if !pending {
            break status;
        }
        std::thread::sleep(executor.poll_interval());
    };
    let failed: Vec<String> = status
        .failed_jobs()
        .into_iter()
        .filter(|j| {
            mine.contains(j.id.as_str()) || mine.contains(j.id.split('_').next().unwrap_or(""))
        })
        .map(|j| format!("{} (Slurm job {}, log {})", j.name, j.id, j.log.display()))
        .collect();
    if failed.is_empty() {
        println!("every job completed");
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("error: did not complete: {}", failed.join("; "));
        Ok(ExitCode::from(2))
    }
}
