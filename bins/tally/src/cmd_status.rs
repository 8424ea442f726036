//! `tally status OUTPUT_DIR`: where an evaluation (or a generation) stands, from its files and,
//! when it was submitted to Slurm, from the scheduler.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use tally_cluster::{Executor, SlurmConfig, SlurmExecutor, Submission};
use tally_generate::{pass_progress, PassProgress};

use crate::AnyError;

#[derive(Parser)]
pub struct Args {
    /// An `--output_dir` of `tally eval` (or of `tally generate`).
    pub output_dir: PathBuf,
    /// Where the Slurm submission was recorded (default: `<output_dir>/eval-logs`).
    #[arg(long = "log_dir")]
    pub log_dir: Option<PathBuf>,
}

/// The output files under `dir` (directly), by the names their side files share.
fn outputs_in(dir: &Path) -> Vec<PathBuf> {
    let mut names = BTreeSet::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let base = [".tally-journal", ".tally-run.json", ".tally-lock", ".done"]
            .iter()
            .fold(name.clone(), |n, s| {
                n.strip_suffix(s).unwrap_or(&n).to_string()
            });
        if base.starts_with("output") && base.ends_with(".jsonl") {
            names.insert(base);
        }
    }
    names.into_iter().map(|n| dir.join(n)).collect()
}

fn line(path: &Path, p: &PassProgress) -> String {
    let total = p.total.map_or("?".to_string(), |t| t.to_string());
    let mut s = format!(
        "  {:<32} {:<12} {:>6}/{:<6}",
        path.file_name().unwrap_or_default().to_string_lossy(),
        p.state.as_str(),
        p.done,
        total
    );
    if p.failures > 0 {
        s.push_str(&format!("  {} failed (retried by a rerun)", p.failures));
    }
    if let Some(w) = &p.writer {
        s.push_str(&format!("  writer: {w}"));
    }
    s
}

pub fn run(args: Args) -> Result<ExitCode, AnyError> {
    let results = args.output_dir.join("eval-results");
    let mut dirs: Vec<PathBuf> = match std::fs::read_dir(&results) {
        Ok(entries) => entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect(),
        Err(_) => vec![args.output_dir.clone()],
    };
    dirs.sort();
    let mut any = false;
    for dir in &dirs {
        let outputs = outputs_in(dir);
        if outputs.is_empty() {
            continue;
        }
        any = true;
        println!("{}", dir.display());
        for o in outputs {
            println!("{}", line(&o, &pass_progress(&o)?));
        }
    }
    if !any {
        println!("{}: no outputs yet", args.output_dir.display());
    }

    let log_dir = args
        .log_dir
        .clone()
        .unwrap_or_else(|| args.output_dir.join("eval-logs"));
    let mut records: Vec<PathBuf> = std::fs::read_dir(&log_dir)
        .map(|e| {
            e.flatten()
                .map(|e| e.path())
                .filter(|p| p.to_string_lossy().ends_with("-slurm-jobs.json"))
                .collect()
        })
        .unwrap_or_default();
    records.sort();
    if records.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let executor = SlurmExecutor::new(SlurmConfig::new(log_dir.join("scripts")));
    for r in records {
        let submission = Submission::read(&r)?;
        println!("\nSlurm jobs ({})", r.display());
        for (name, job) in &submission.jobs {
            let state = match rt.block_on(executor.state(&job.job_id())) {
                Ok(s) => format!("{s:?}").to_lowercase(),
                Err(e) => format!("unknown ({e})"),
            };
            println!(
                "  {:<32} {:>8}  {:<12} {}",
                name,
                job.id,
                state,
                job.log_file(name).display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
