//! `tally status`'s flags and text: where an evaluation (or a generation) stands, as lines
//! (also drawn live by `tally eval --cluster slurm --wait`).

use std::path::PathBuf;

use clap::Parser;
use tally_cluster::JobState;
use tally_eval::{EvalStatus, JobStatus, OutputStatus};

#[derive(Parser)]
pub struct Args {
    /// An `--output_dir` of `tally eval` (or of `tally generate`).
    pub output_dir: PathBuf,
    /// Where the Slurm submission was recorded (default: `<output_dir>/eval-logs`).
    #[arg(long = "log_dir")]
    pub log_dir: Option<PathBuf>,
}

impl Args {
    /// Where the Slurm submission was recorded: `--log_dir`, else `<output_dir>/eval-logs`.
    pub fn log_dir(&self) -> PathBuf {
        self.log_dir
            .clone()
            .unwrap_or_else(|| self.output_dir.join("eval-logs"))
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use tally_cluster::{JobInfo, StateSource};
    use tally_eval::{DirStatus, SubmissionStatus};
    use tally_generate::progress::PassState;
    use tally_generate::PassProgress;

    #[test]
    fn each_output_then_each_job_with_its_state() {
        let status = EvalStatus {
            dirs: vec![DirStatus {
                dir: PathBuf::from("o/eval-results/gsm8k"),
                outputs: vec![OutputStatus {
                    path: PathBuf::from("o/eval-results/gsm8k/output-rs0.jsonl"),
                    progress: PassProgress {
                        state: PassState::Retry,
                        done: 7,
                        total: None,
                        failures: 2,
                        writer: Some("pid 9 on n1".into()),
                    },
                }],
            }],
            submissions: vec![SubmissionStatus {
                record: PathBuf::from("o/eval-logs/eval-slurm-jobs.json"),
                jobs: vec![
                    JobStatus {
                        name: "eval-gsm8k".into(),
                        id: "12_0".into(),
                        info: Ok(JobInfo {
                            state: JobState::Failed(3),
                            restarts: 1,
                            nodes: Some("n1".into()),
                            source: StateSource::Sacct,
                        }),
                        log: PathBuf::from("l/a.log"),
                    },
                    JobStatus {
                        name: "eval-summarize".into(),
                        id: "13".into(),
                        info: Err("squeue: not found".into()),
                        log: PathBuf::from("l/s.log"),
                    },
                ],
            }],
            accounting: Some(true),
        };
        let lines = lines(&status);
        assert_eq!(lines[0], "o/eval-results/gsm8k");
        let out = &lines[1];
        assert!(out.starts_with("  output-rs0.jsonl "), "{out}");
        assert!(out.contains("needs rerun") && out.contains("7/?"), "{out}");
        assert!(
            out.ends_with("2 failed (retried by a rerun)  writer: pid 9 on n1"),
            "{out}"
        );
        assert_eq!(
            lines[2],
            "Slurm jobs (o/eval-logs/eval-slurm-jobs.json; states from sacct)"
        );
        let job = &lines[3];
        assert!(job.contains("12_0") && job.contains("failed (3)"), "{job}");
        assert!(
            job.contains("requeued 1x") && job.ends_with("l/a.log"),
            "{job}"
        );
        assert!(
            lines[4].contains("unknown (squeue: not found)"),
            "{}",
            lines[4]
        );
        assert_eq!(lines.len(), 5);
    }
}
