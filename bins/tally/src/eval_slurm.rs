//! `tally eval --cluster slurm`: the flags' `tally_eval::SlurmRun` (one job array of the plan's
//! parts, grouped by `--num_jobs`, then a summary job) submitted, its report printed, and with
//! `--wait` the live status until every job ended.

use std::collections::HashSet;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use tally_cluster::SlurmExecutor;
use tally_eval::EvalPlan;

use crate::cmd_eval::Args;
use crate::AnyError;

/// Submits the jobs (or prints their scripts with `--dry-run`); with `--wait`, shows the status
/// as it changes until every job ended, and exits non-zero if one did not complete.
pub fn submit(args: &Args, plan: &EvalPlan) -> Result<ExitCode, AnyError> {
    let slurm = args.slurm_run(plan, std::env::current_exe()?)?;
    if args.dry_run {
        for script in slurm.scripts(plan)? {
            println!("{script}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let executor = SlurmExecutor::new(slurm.config.clone());
    let report = rt.block_on(slurm.submit(plan, &executor))?;
    for line in tally_cli::eval::submitted_lines(&report, &slurm.expname) {
        println!("{line}");
    }
    if !args.wait {
        return Ok(ExitCode::SUCCESS);
    }

    // Live: redrawn in place on a terminal, a line per change otherwise.
    let tty = std::io::stdout().is_terminal();
    let mut shown: Vec<String> = Vec::new();
    let status = rt.block_on(report.wait(plan, &executor, |status| {
        let lines = tally_cli::status::lines(status);
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
        Ok(())
    }))?;
    let failed: Vec<String> = report
        .failed(&status)
        .into_iter()
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
