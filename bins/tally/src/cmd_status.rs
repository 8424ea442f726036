//! `tally status OUTPUT_DIR`: where an evaluation (or a generation) stands — the rendering of
//! `tally_eval::status`, also drawn live by `tally eval --cluster slurm --wait`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use tally_cluster::{JobState, SlurmConfig, SlurmExecutor};
use tally_eval::{EvalStatus, JobStatus, OutputStatus};

use crate::AnyError;

#[derive(Parser)]
pub struct Args {
    /// An `--output_dir` of `tally eval` (or of `tally generate`).
    pub output_dir: PathBuf,
    /// Where the Slurm submission was recorded (default: `<output_dir>/eval-logs`).
    #[arg(long = "log_dir")]
    pub log_dir: Option<PathBuf>,
}

fn output_line(o: &OutputStatus) -> String {
    let p = &o.progress;
    let total = p.total.map_or("?".to_string(), |t| t.to_string());
    let mut s = format!(
        "  {:<32} {:<12} {:>6}/{:<6}",
        o.path.file_name().unwrap_or_default().to_string_lossy(),
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

fn job_line(j: &JobStatus) -> String {
    let (state, nodes, restarts) = match &j.info {
        Ok(i) => {
            let state = match i.state {
                JobState::Failed(code) => format!("failed ({code})"),
                _ => i.label().to_string(),
            };
            let restarts = if i.restarts > 0 {
                format!("requeued {}x", i.restarts)
            } else {
                String::new()
            };
            (state, i.nodes.clone().unwrap_or_default(), restarts)
        }
        Err(e) => (format!("unknown ({e})"), String::new(), String::new()),
    };
    format!(
        "  {:<32} {:>10}  {:<10} {:<8} {:<12} {}",
        j.name,
        j.id,
        state,
        nodes,
        restarts,
        j.log.display()
    )
}

/// The status as lines: per benchmark each output (and chunk) with its progress, then each
/// recorded Slurm job with its id, state, node, requeues and log.
pub fn lines(status: &EvalStatus) -> Vec<String> {
    let mut out = Vec::new();
    for d in &status.dirs {
        out.push(d.dir.display().to_string());
        out.extend(d.outputs.iter().map(output_line));
    }
    let source = match status.accounting {
        Some(true) => "states from sacct",
        _ => "states from squeue/scontrol",
    };
    for s in &status.submissions {
        out.push(format!("Slurm jobs ({}; {source})", s.record.display()));
        out.extend(s.jobs.iter().map(job_line));
    }
    out
}

pub fn run(args: Args) -> Result<ExitCode, AnyError> {
    let log_dir = args
        .log_dir
        .clone()
        .unwrap_or_else(|| args.output_dir.join("eval-logs"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let executor = SlurmExecutor::new(SlurmConfig::new(log_dir.join("scripts")));
    let status = rt.block_on(tally_eval::status(
        &args.output_dir,
        Some(&log_dir),
        Some(&executor),
    ))?;
    if status.dirs.is_empty() {
        println!("{}: no outputs yet", args.output_dir.display());
    }
    for l in lines(&status) {
        println!("{l}");
    }
    Ok(ExitCode::SUCCESS)
}
