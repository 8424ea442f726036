//! An evaluation as Slurm jobs: the plan is written to `<log_dir>/<expname>-plan-<hash>.json`;
//! its parts, grouped by `--num_jobs` ([`NumJobs`]), become the tasks of one job array (task
//! `k` runs `tally eval --plan F --task_parts …`, its group of parts in one process with one
//! server), and a last job runs the summary (`--part summary`) once every task ended
//! (`afterany`: the summary itself checks that every benchmark is final and fails naming the
//! ones that are not, instead of summarizing without them).
//!
//! Submitting the same evaluation again sends only what is unfinished. Each part's job (an
//! array task, `<array id>_<k>`) is recorded by part name in `<log_dir>/<expname>-slurm-jobs.json`;
//! a part whose job is still queued or running is kept (never a second writer on its outputs),
//! a part whose outputs are final is skipped, and the rest form the tasks of a new array.

use std::path::{Path, PathBuf};

use sha2::Digest;
use tally_cluster::{
    decide, sbatch_script, Decision, Executor, Job, JobId, JobState, SlurmConfig, SlurmExecutor,
    Submission, SubmittedJob,
};

use crate::error::Result;
use crate::jobs::{task_parts_arg, NumJobs};
use crate::plan::EvalPlan;
use crate::status::{status, EvalStatus, JobStatus};

/// How an evaluation is sent to Slurm.
#[derive(Debug, Clone)]
pub struct SlurmRun {
    pub config: SlurmConfig,
    /// Job name prefix (`--expname`).
    pub expname: String,
    /// The `tally` program the jobs run.
    pub exe: PathBuf,
    pub num_jobs: NumJobs,
}

/// What became of one part in a submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartOutcome {
    /// Its job from an earlier submission is still queued or running.
    Kept { id: JobId, state: JobState },
    /// Its outputs are final.
    Done,
    /// A task of this submission's array.
    Submitted { id: JobId },
}

/// What a submission did.
#[derive(Debug, Clone)]
pub struct SubmitReport {
    /// Per part (in plan order): its job name and outcome.
    pub parts: Vec<(String, PartOutcome)>,
    /// The new array job and its number of tasks, if any part was sent.
    pub array: Option<(JobId, u32)>,
    pub summary: JobId,
    /// An older summary, still waiting, cancelled for the new one.
    pub replaced_summary: Option<JobId>,
    /// Every job the summary waits for, and the summary last: what `--wait` waits for.
    pub all: Vec<JobId>,
    pub record: PathBuf,
}

impl SlurmRun {
    pub fn new(config: SlurmConfig, expname: impl Into<String>, exe: impl Into<PathBuf>) -> Self {
        SlurmRun {
            config,
            expname: expname.into(),
            exe: exe.into(),
            num_jobs: NumJobs::PerPart,
        }
    }

    /// Where the record of this evaluation's submissions is.
    pub fn record_path(&self, plan: &EvalPlan) -> PathBuf {
        plan.log_dir
            .join(format!("{}-slurm-jobs.json", self.expname))
    }

    fn plan_path(&self, plan: &EvalPlan) -> Result<(PathBuf, String)> {
        let json = plan.to_json()?;
        let hash = hex::encode(&sha2::Sha256::digest(json.as_bytes())[..6]);
        let path = plan
            .log_dir
            .join(format!("{}-plan-{hash}.json", self.expname));
        Ok((path, json))
    }

    fn argv(&self, plan_path: &Path, last: String) -> Vec<String> {
        vec![
            self.exe.display().to_string(),
            "eval".into(),
            format!("--plan={}", plan_path.display()),
            last,
        ]
    }

    fn part_job_name(&self, plan: &EvalPlan, i: usize) -> String {
        format!("{}-{}", self.expname, plan.part_name(plan.parts()[i]))
    }

    /// The array job of these groups of part indices (task `k` runs `groups[k]`).
    fn array_job(&self, plan: &EvalPlan, plan_path: &Path, groups: &[Vec<usize>]) -> Job {
        Job::new(
            format!("{}-parts", self.expname),
            self.argv(
                plan_path,
                format!("--task_parts={}", task_parts_arg(groups)),
            ),
            plan.log_dir
                .join(format!("{}-parts_%A_%a.log", self.expname)),
        )
        .array(groups.len() as u32)
    }

    fn summary_job(&self, plan: &EvalPlan, plan_path: &Path) -> Job {
        Job::new(
            format!("{}-summarize", self.expname),
            self.argv(plan_path, "--part=summary".into()),
            plan.log_dir
                .join(format!("{}-summarize_%j.log", self.expname)),
        )
        .after_any()
    }

    /// The batch scripts a first submission would send (`--dry-run`): the array, the summary.
    pub fn scripts(&self, plan: &EvalPlan) -> Result<Vec<String>> {
        let (plan_path, _) = self.plan_path(plan)?;
        let groups = plan.job_groups(self.num_jobs);
        Ok(vec![
            sbatch_script(&self.array_job(plan, &plan_path, &groups), &self.config)?,
            sbatch_script(&self.summary_job(plan, &plan_path), &self.config)?,
        ])
    }

    /// Writes the plan and submits what is unfinished (see the module's notes).
    pub async fn submit(&self, plan: &EvalPlan, executor: &dyn Executor) -> Result<SubmitReport> {
        let log_dir = &plan.log_dir;
        std::fs::create_dir_all(log_dir).map_err(|e| format!("{}: {e}", log_dir.display()))?;
        let (plan_path, json) = self.plan_path(plan)?;
        tally_core::atomic::atomic_write_bytes(&plan_path, json.as_bytes())?;
        let record_path = self.record_path(plan);
        let mut record = Submission::read(&record_path)?;

        let parts = plan.parts();
        let mut outcomes: Vec<Option<PartOutcome>> = vec![None; parts.len()];
        let mut waits: Vec<JobId> = Vec::new();
        for (i, part) in parts.iter().enumerate() {
            let name = self.part_job_name(plan, i);
            match decide(executor, record.jobs.get(&name), plan.part_final(*part)).await? {
                Decision::Keep { id, state } => {
                    if !waits.contains(&id) {
                        waits.push(id.clone());
                    }
                    outcomes[i] = Some(PartOutcome::Kept { id, state });
                }
                Decision::Done => outcomes[i] = Some(PartOutcome::Done),
                Decision::Submit => {}
            }
        }
        let to_run: Vec<Vec<usize>> = plan
            .job_groups(self.num_jobs)
            .into_iter()
            .map(|g| {
                g.into_iter()
                    .filter(|&i| outcomes[i].is_none())
                    .collect::<Vec<_>>()
            })
            .filter(|g| !g.is_empty())
            .collect();
        let mut array = None;
        if !to_run.is_empty() {
            let job = self.array_job(plan, &plan_path, &to_run);
            let id = executor.submit(&job).await?;
            for (k, group) in to_run.iter().enumerate() {
                let task = id.task(k as u32);
                for &i in group {
                    record.jobs.insert(
                        self.part_job_name(plan, i),
                        SubmittedJob {
                            id: task.to_string(),
                            log: job.log_path.clone(),
                        },
                    );
                    outcomes[i] = Some(PartOutcome::Submitted { id: task.clone() });
                }
            }
            // Recorded at once: an interrupted submission is not sent twice.
            record.write(&record_path)?;
            waits.push(id.clone());
            array = Some((id, to_run.len() as u32));
        }

        let mut summary = self.summary_job(plan, &plan_path);
        for id in &waits {
            summary = summary.after(id);
        }
        let mut replaced_summary = None;
        if let Decision::Keep { id, .. } =
            decide(executor, record.jobs.get(&summary.name), false).await?
        {
            // A summary still waiting on the earlier jobs would run before the new ones finish.
            executor.cancel(&id).await?;
            replaced_summary = Some(id);
        }
        let sid = executor.submit(&summary).await?;
        record.jobs.insert(
            summary.name.clone(),
            SubmittedJob {
                id: sid.to_string(),
                log: summary.log_path.clone(),
            },
        );
        record.write(&record_path)?;
        let mut all = waits;
        all.push(sid.clone());
        Ok(SubmitReport {
            parts: parts
                .iter()
                .enumerate()
                .map(|(i, _)| {
                    (
                        self.part_job_name(plan, i),
                        outcomes[i].clone().unwrap_or(PartOutcome::Done),
                    )
                })
                .collect(),
            array,
            summary: sid,
            replaced_summary,
            all,
            record: record_path,
        })
    }
}

impl SubmitReport {
    /// Whether Slurm job `id` is one of this submission's (an array task `A_k` is its array
    /// `A`'s): a status also lists the jobs of earlier submissions.
    pub fn owns(&self, id: &str) -> bool {
        let array = id.split('_').next().unwrap_or(id);
        self.all
            .iter()
            .any(|j| j.as_str() == id || j.as_str() == array)
    }

    /// Whether one of this submission's jobs in `status` has not ended.
    pub fn running(&self, status: &EvalStatus) -> bool {
        status
            .submissions
            .iter()
            .flat_map(|s| &s.jobs)
            .any(|j| self.owns(&j.id) && !j.finished())
    }

    /// This submission's jobs in `status` that ended without completing.
    pub fn failed<'a>(&self, status: &'a EvalStatus) -> Vec<&'a JobStatus> {
        status
            .failed_jobs()
            .into_iter()
            .filter(|j| self.owns(&j.id))
            .collect()
    }

    /// `--wait`: asks for the status of `plan`'s outputs and jobs every poll interval, shows
    /// each to `seen`, and returns the first in which every job of this submission has ended.
    pub async fn wait(
        &self,
        plan: &EvalPlan,
        executor: &SlurmExecutor,
        mut seen: impl FnMut(&EvalStatus) -> std::io::Result<()>,
    ) -> Result<EvalStatus> {
        loop {
            let status = status(
                &plan.options.output_dir,
                Some(&plan.log_dir),
                Some(executor),
            )
            .await?;
            seen(&status)?;
            if !self.running(&status) {
                return Ok(status);
            }
            tokio::time::sleep(executor.poll_interval()).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::SubmissionStatus;
    use tally_cluster::{JobInfo, StateSource};

    fn job(id: &str, state: JobState) -> JobStatus {
        JobStatus {
            name: format!("eval-{id}"),
            id: id.into(),
            info: Ok(JobInfo {
                state,
                restarts: 0,
                nodes: None,
                source: StateSource::Sacct,
            }),
            log: PathBuf::from(format!("{id}.log")),
        }
    }

    fn report(all: &[&str]) -> SubmitReport {
        SubmitReport {
            parts: Vec::new(),
            array: None,
            summary: JobId::new(*all.last().unwrap()),
            replaced_summary: None,
            all: all.iter().map(|id| JobId::new(*id)).collect(),
            record: PathBuf::from("eval-slurm-jobs.json"),
        }
    }

    fn status_of(jobs: Vec<JobStatus>) -> EvalStatus {
        EvalStatus {
            submissions: vec![SubmissionStatus {
                record: PathBuf::from("eval-slurm-jobs.json"),
                jobs,
            }],
            ..Default::default()
        }
    }

    #[test]
    fn a_submission_owns_its_jobs_and_its_arrays_tasks_only() {
        let r = report(&["100", "101"]);
        assert!(r.owns("100") && r.owns("100_3") && r.owns("101"));
        assert!(!r.owns("99") && !r.owns("99_100") && !r.owns("1000"));
    }

    #[test]
    fn only_this_submissions_jobs_keep_the_wait_going_or_count_as_failed() {
        let r = report(&["100", "101"]);
        // An earlier submission's job still running, and one that failed, are not ours.
        let st = status_of(vec![
            job("90_0", JobState::Running),
            job("91", JobState::Failed(1)),
            job("100_0", JobState::Completed),
            job("100_1", JobState::Failed(2)),
            job("101", JobState::Completed),
        ]);
        assert!(!r.running(&st));
        let failed: Vec<&str> = r.failed(&st).iter().map(|j| j.id.as_str()).collect();
        assert_eq!(failed, ["100_1"]);
        let st = status_of(vec![
            job("100_0", JobState::Completed),
            job("101", JobState::Pending),
        ]);
        assert!(r.running(&st) && r.failed(&st).is_empty());
    }
}
