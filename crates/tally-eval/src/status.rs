//! Where an evaluation stands (`tally status`, `tally eval --cluster slurm --wait`): each
//! output's progress from its files, and each recorded Slurm job's state from the scheduler.
//! Plain data: the caller renders it.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use tally_cluster::{JobInfo, SlurmExecutor, Submission};
use tally_generate::progress::PassState;
use tally_generate::{pass_progress, PassProgress};

use crate::error::Result;

/// One output file (or chunk file) and its progress.
#[derive(Debug, Clone)]
pub struct OutputStatus {
    pub path: PathBuf,
    pub progress: PassProgress,
}

/// A benchmark's results folder and its outputs.
#[derive(Debug, Clone)]
pub struct DirStatus {
    pub dir: PathBuf,
    pub outputs: Vec<OutputStatus>,
}

/// One recorded job (a part's array task, or the summary).
#[derive(Debug, Clone)]
pub struct JobStatus {
    /// The part's job name (`<expname>-gsm8k-chunk0`) or `<expname>-summarize`.
    pub name: String,
    pub id: String,
    /// What Slurm says, or why it could not be asked.
    pub info: std::result::Result<JobInfo, String>,
    pub log: PathBuf,
}

impl JobStatus {
    pub fn finished(&self) -> bool {
        self.info.as_ref().is_ok_and(|i| i.state.is_finished())
    }
}

/// A submission record and its jobs.
#[derive(Debug, Clone)]
pub struct SubmissionStatus {
    pub record: PathBuf,
    pub jobs: Vec<JobStatus>,
}

#[derive(Debug, Clone, Default)]
pub struct EvalStatus {
    pub dirs: Vec<DirStatus>,
    pub submissions: Vec<SubmissionStatus>,
    /// Whether the states came from `sacct` (`Some(true)`), squeue/scontrol (`Some(false)`), or
    /// no job was asked about (`None`).
    pub accounting: Option<bool>,
}

impl EvalStatus {
    /// Every recorded job has ended (or there is none).
    pub fn jobs_finished(&self) -> bool {
        self.submissions
            .iter()
            .flat_map(|s| &s.jobs)
            .all(JobStatus::finished)
    }

    /// The recorded jobs that ended without completing.
    pub fn failed_jobs(&self) -> Vec<&JobStatus> {
        self.submissions
            .iter()
            .flat_map(|s| &s.jobs)
            .filter(|j| j.finished() && !j.info.as_ref().is_ok_and(|i| i.state.is_success()))
            .collect()
    }
}

/// The output files directly in `dir`, by the names their side files share.
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

/// A file merged from chunks has no run record or journal of its own (its chunks had them), only
/// its `.done` marker: it is done, with one sample per line.
fn merged_or(progress: PassProgress, path: &Path) -> PassProgress {
    if progress.state != PassState::Missing || !tally_cluster::is_done(path) {
        return progress;
    }
    let lines = std::fs::read(path)
        .map(|b| b.iter().filter(|&&c| c == b'\n').count())
        .unwrap_or(0);
    PassProgress {
        state: PassState::Done,
        done: lines,
        total: Some(lines),
        ..progress
    }
}

/// The progress of every output under `output_dir` (its `eval-results/*`, or the folder itself
/// for `tally generate`), and — when `executor` is given and `log_dir` (default
/// `<output_dir>/eval-logs`) holds submission records — the state of each recorded job.
pub async fn status(
    output_dir: &Path,
    log_dir: Option<&Path>,
    executor: Option<&SlurmExecutor>,
) -> Result<EvalStatus> {
    let mut out = EvalStatus::default();
    let results = output_dir.join("eval-results");
    let mut dirs: Vec<PathBuf> = match std::fs::read_dir(&results) {
        Ok(entries) => entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect(),
        Err(_) => vec![output_dir.to_path_buf()],
    };
    // With a judge, generation writes to tmp-eval-results first; greedy apart from the seeds
    // is the evaluation `greedy/` (`--greedy_layout separate`).
    let greedy = output_dir.join(tally_metrics::greedy_layout::GREEDY_RUN_DIR);
    for sub in [
        output_dir.join("tmp-eval-results"),
        greedy.join("eval-results"),
        greedy.join("tmp-eval-results"),
    ] {
        if let Ok(entries) = std::fs::read_dir(sub) {
            dirs.extend(entries.flatten().map(|e| e.path()).filter(|p| p.is_dir()));
        }
    }
    dirs.sort();
    for dir in dirs {
        let mut outputs = Vec::new();
        for path in outputs_in(&dir) {
            let progress = merged_or(pass_progress(&path)?, &path);
            outputs.push(OutputStatus { path, progress });
        }
        if !outputs.is_empty() {
            out.dirs.push(DirStatus { dir, outputs });
        }
    }

    let log_dir = log_dir
        .map(Path::to_path_buf)
        .unwrap_or_else(|| output_dir.join("eval-logs"));
    let mut records: Vec<PathBuf> = std::fs::read_dir(&log_dir)
        .map(|e| {
            e.flatten()
                .map(|e| e.path())
                .filter(|p| p.to_string_lossy().ends_with("-slurm-jobs.json"))
                .collect()
        })
        .unwrap_or_default();
    records.sort();
    let Some(executor) = executor else {
        return Ok(out);
    };
    // Parts of one array task share its id: ask once.
    let mut asked: HashMap<String, std::result::Result<JobInfo, String>> = HashMap::new();
    for record in records {
        let submission = Submission::read(&record)?;
        let mut jobs = Vec::new();
        for (name, job) in &submission.jobs {
            if !asked.contains_key(&job.id) {
                let info = executor
                    .describe(&job.job_id())
                    .await
                    .map_err(|e| e.to_string());
                asked.insert(job.id.clone(), info);
            }
            jobs.push(JobStatus {
                name: name.clone(),
                id: job.id.clone(),
                info: asked[&job.id].clone(),
                log: job.log_file(name),
            });
        }
        out.submissions.push(SubmissionStatus { record, jobs });
    }
    out.accounting = executor.has_accounting();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_file_merged_from_chunks_reads_done() {
        let dir = tempfile::tempdir().unwrap();
        let bench = dir.path().join("eval-results/gsm8k");
        std::fs::create_dir_all(&bench).unwrap();
        let merged = bench.join("output.jsonl");
        std::fs::write(&merged, "{}\n{}\n{}\n").unwrap();
        let pending = bench.join("output-rs0.jsonl");
        std::fs::write(&pending, "{}\n").unwrap();
        tally_cluster::mark_done(&merged).unwrap();
        let st = status(dir.path(), None, None).await.unwrap();
        let outputs = &st.dirs[0].outputs;
        assert_eq!(outputs[0].path, pending);
        assert_eq!(outputs[0].progress.state, PassState::Missing);
        assert_eq!(outputs[1].path, merged);
        assert_eq!(outputs[1].progress.state, PassState::Done);
        assert_eq!(
            (outputs[1].progress.done, outputs[1].progress.total),
            (3, Some(3))
        );
        assert!(st.submissions.is_empty() && st.jobs_finished());
    }

    #[tokio::test]
    async fn greedy_in_its_own_evaluation_is_listed() {
        let dir = tempfile::tempdir().unwrap();
        let seeds = dir.path().join("eval-results/gsm8k");
        let greedy = dir.path().join("greedy/tmp-eval-results/gsm8k");
        for d in [&seeds, &greedy] {
            std::fs::create_dir_all(d).unwrap();
        }
        std::fs::write(seeds.join("output-rs0.jsonl"), "{}\n").unwrap();
        std::fs::write(greedy.join("output.jsonl"), "{}\n").unwrap();
        let st = status(dir.path(), None, None).await.unwrap();
        let dirs: Vec<&Path> = st.dirs.iter().map(|d| d.dir.as_path()).collect();
        assert_eq!(dirs, [seeds.as_path(), greedy.as_path()]);
    }
}
