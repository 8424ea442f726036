//! Reading job states from `sacct`, `squeue` and `scontrol show job`.
//!
//! `sacct` answers only where accounting (slurmdbd) runs; there it knows every job for good,
//! with each requeue as a record of its own. Elsewhere it fails ("Slurm accounting storage is
//! disabled") and the states come from squeue, which knows jobs while they are queued or
//! running, and `scontrol show job`, which still knows them for `MinJobAge` seconds (300 by
//! default) after they end, with their final state and exit code.

use crate::job::JobState;

/// One task's state as Slurm names it, e.g. `RUNNING`, `FAILED`, `CANCELLED`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct TaskState {
    pub state: String,
    /// `ExitCode=<status>:<signal>` from scontrol.
    pub exit: Option<(i32, i32)>,
    /// How often the task was requeued.
    pub restarts: u32,
    /// The nodes it runs (or ran) on; `None` before it started.
    pub nodes: Option<String>,
}

/// Which Slurm program a [`JobInfo`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateSource {
    Sacct,
    Scontrol,
}

/// What Slurm says about one job (or array task) beyond its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobInfo {
    pub state: JobState,
    /// How often it was requeued (preempted, or requeued itself before its time limit).
    pub restarts: u32,
    /// The node list it runs or ran on.
    pub nodes: Option<String>,
    pub source: StateSource,
}

impl JobInfo {
    /// One word for a status table: queued, requeued (queued again after a stop), running,
    /// done, failed, cancelled, unknown.
    pub fn label(&self) -> &'static str {
        match self.state {
            JobState::Pending if self.restarts > 0 => "requeued",
            JobState::Pending => "queued",
            JobState::Running => "running",
            JobState::Completed => "done",
            JobState::Failed(_) => "failed",
            JobState::Cancelled => "cancelled",
            JobState::Unknown => "unknown",
        }
    }

    pub(crate) fn from_tasks(tasks: &[TaskState], source: StateSource) -> JobInfo {
        let mut nodes: Vec<&str> = tasks.iter().filter_map(|t| t.nodes.as_deref()).collect();
        nodes.dedup();
        JobInfo {
            state: aggregate(tasks),
            restarts: tasks.iter().map(|t| t.restarts).max().unwrap_or(0),
            nodes: (!nodes.is_empty()).then(|| nodes.join(",")),
            source,
        }
    }
}

/// The tasks in `sacct -n -P -D -X -o JobID,State,ExitCode,NodeList` output: with `-D` a
/// requeued job has a record per run, the last one current; the earlier ones count as restarts.
pub(crate) fn parse_sacct(output: &str) -> Vec<TaskState> {
    let mut tasks: Vec<(String, TaskState)> = Vec::new();
    for line in output.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let mut fields = line.split('|');
        let (Some(id), Some(state)) = (fields.next(), fields.next()) else {
            continue;
        };
        // `CANCELLED by 0`: the state is the first word.
        let state = state
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string();
        let exit = fields.next().and_then(parse_exit);
        let nodes = fields
            .next()
            .map(str::trim)
            .filter(|n| !n.is_empty() && *n != "None assigned" && *n != "(null)")
            .map(str::to_string);
        let task = TaskState {
            state,
            exit,
            restarts: 0,
            nodes,
        };
        match tasks.iter_mut().find(|(i, _)| i == id) {
            Some((_, t)) => {
                let restarts = t.restarts + 1;
                *t = TaskState { restarts, ..task };
            }
            None => tasks.push((id.to_string(), task)),
        }
    }
    tasks.into_iter().map(|(_, t)| t).collect()
}

enum Kind {
    Pending,
    Running,
    Completed,
    Failed,
    Cancelled,
    Other,
}

fn kind(state: &str) -> Kind {
    // scontrol may append a reason with `+` (e.g. CANCELLED+ in some versions): use the base.
    match state.trim_end_matches('+') {
        "PENDING" | "REQUEUED" | "REQUEUE_HOLD" | "REQUEUE_FED" | "RESV_DEL_HOLD" => Kind::Pending,
        "RUNNING" | "COMPLETING" | "CONFIGURING" | "SUSPENDED" | "STOPPED" | "SIGNALING"
        | "STAGE_OUT" | "RESIZING" => Kind::Running,
        "COMPLETED" => Kind::Completed,
        "FAILED" | "TIMEOUT" | "NODE_FAIL" | "OUT_OF_MEMORY" | "BOOT_FAIL" | "DEADLINE"
        | "PREEMPTED" | "SPECIAL_EXIT" => Kind::Failed,
        "CANCELLED" | "REVOKED" => Kind::Cancelled,
        _ => Kind::Other,
    }
}

/// The states squeue printed (`-o %T`, one line per task), keeping only unfinished ones: squeue
/// may briefly list a finished job, whose exit code only scontrol gives.
pub(crate) fn active_from_squeue(output: &str) -> Option<JobState> {
    let mut pending = false;
    for line in output.lines().map(str::trim).filter(|l| !l.is_empty()) {
        match kind(line) {
            Kind::Running => return Some(JobState::Running),
            Kind::Pending => pending = true,
            _ => {}
        }
    }
    pending.then_some(JobState::Pending)
}

/// The tasks in `scontrol -o show job <id>` output (one line per job or array task).
pub(crate) fn parse_scontrol(output: &str) -> Vec<TaskState> {
    output
        .lines()
        .filter_map(|line| {
            // The first occurrence wins: JobState comes before any free-text field (Command,
            // Comment), and job names never contain spaces (Job::validate).
            let mut state = None;
            let mut exit = None;
            let mut restarts = 0;
            let mut nodes = None;
            for token in line.split_whitespace() {
                if let Some(r) = token.strip_prefix("Restarts=") {
                    restarts = r.parse().unwrap_or(0);
                }
                if let Some(n) = token.strip_prefix("NodeList=") {
                    if !n.is_empty() && n != "(null)" && nodes.is_none() {
                        nodes = Some(n.to_string());
                    }
                }
                if state.is_none() {
                    if let Some(s) = token.strip_prefix("JobState=") {
                        state = Some(s.to_string());
                    }
                }
                if exit.is_none() {
                    if let Some(e) = token.strip_prefix("ExitCode=") {
                        exit = parse_exit(e);
                    }
                }
            }
            Some(TaskState {
                state: state?,
                exit,
                restarts,
                nodes,
            })
        })
        .collect()
}

fn parse_exit(text: &str) -> Option<(i32, i32)> {
    let (status, signal) = text.split_once(':')?;
    Some((status.parse().ok()?, signal.parse().ok()?))
}

/// The state of a whole job from its tasks': running while any runs, failed if any failed (with
/// the first failed task's code), cancelled if any was cancelled, completed if all completed.
pub(crate) fn aggregate(tasks: &[TaskState]) -> JobState {
    if tasks.is_empty() {
        return JobState::Unknown;
    }
    let kinds: Vec<Kind> = tasks.iter().map(|t| kind(&t.state)).collect();
    if kinds.iter().any(|k| matches!(k, Kind::Running)) {
        return JobState::Running;
    }
    if kinds.iter().any(|k| matches!(k, Kind::Pending)) {
        return JobState::Pending;
    }
    if let Some(task) = tasks
        .iter()
        .zip(&kinds)
        .find(|(_, k)| matches!(k, Kind::Failed))
        .map(|(t, _)| t)
    {
        return JobState::Failed(failure_code(task.exit));
    }
    if kinds.iter().any(|k| matches!(k, Kind::Cancelled)) {
        return JobState::Cancelled;
    }
    if kinds.iter().all(|k| matches!(k, Kind::Completed)) {
        return JobState::Completed;
    }
    JobState::Unknown
}

fn failure_code(exit: Option<(i32, i32)>) -> i32 {
    match exit {
        Some((status, _)) if status != 0 => status,
        Some((_, signal)) if signal != 0 => 128 + signal,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAILED: &str = "JobId=1 JobName=wrap UserId=root(0) GroupId=root(0) MCS_label=N/A \
        Priority=4294901759 Nice=0 Account=(null) QOS=(null) JobState=FAILED Reason=NonZeroExitCode \
        Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=3:0 RunTime=00:00:00 \
        Command=/tmp/JobState=COMPLETED ExitCode=0:0";

    #[test]
    fn reads_state_and_exit_code() {
        let tasks = parse_scontrol(FAILED);
        assert_eq!(
            tasks,
            vec![TaskState {
                state: "FAILED".into(),
                exit: Some((3, 0)),
                ..TaskState::default()
            }]
        );
        assert_eq!(aggregate(&tasks), JobState::Failed(3));
    }

    fn task(state: &str, exit: (i32, i32)) -> TaskState {
        TaskState {
            state: state.into(),
            exit: Some(exit),
            ..TaskState::default()
        }
    }

    #[test]
    fn sacct_records_give_the_current_run_and_the_requeues() {
        let out = "7_0|REQUEUED|0:0|node1\n7_0|RUNNING|0:0|node3\n7_1|COMPLETED|0:0|node2\n\
                   7_[2-3]|PENDING|0:0|None assigned\n";
        let tasks = parse_sacct(out);
        assert_eq!(tasks.len(), 3);
        assert_eq!(tasks[0].restarts, 1);
        assert_eq!(tasks[0].nodes.as_deref(), Some("node3"));
        let info = JobInfo::from_tasks(&tasks, StateSource::Sacct);
        assert_eq!(info.state, JobState::Running);
        assert_eq!(info.restarts, 1);
        assert_eq!(info.nodes.as_deref(), Some("node3,node2"));
        assert_eq!(info.label(), "running");
        let again = JobInfo::from_tasks(
            &parse_sacct("5|REQUEUED|0:0|node1\n5|PENDING|0:0|None assigned\n"),
            StateSource::Sacct,
        );
        assert_eq!((again.label(), again.restarts), ("requeued", 1));
        let cancelled = parse_sacct("9|CANCELLED by 0|0:15|node2\n");
        assert_eq!(aggregate(&cancelled), JobState::Cancelled);
        assert!(parse_sacct("").is_empty());
    }

    #[test]
    fn scontrol_gives_restarts_and_nodes() {
        let line = "JobId=8 ArrayJobId=7 ArrayTaskId=1 JobState=PENDING Reason=BeginTime \
                    Requeue=1 Restarts=2 ReqNodeList=(null) ExcNodeList=(null) NodeList=node2 \
                    ExitCode=0:0";
        let t = &parse_scontrol(line)[0];
        assert_eq!((t.restarts, t.nodes.as_deref()), (2, Some("node2")));
    }

    #[test]
    fn arrays_aggregate_over_tasks() {
        let done = task("COMPLETED", (0, 0));
        assert_eq!(
            aggregate(&[done.clone(), done.clone()]),
            JobState::Completed
        );
        assert_eq!(
            aggregate(&[done.clone(), task("RUNNING", (0, 0))]),
            JobState::Running
        );
        assert_eq!(
            aggregate(&[done.clone(), task("PENDING", (0, 0))]),
            JobState::Pending
        );
        assert_eq!(
            aggregate(&[
                done.clone(),
                task("CANCELLED", (0, 15)),
                task("FAILED", (2, 0))
            ]),
            JobState::Failed(2)
        );
        assert_eq!(
            aggregate(&[done.clone(), task("CANCELLED", (0, 15))]),
            JobState::Cancelled
        );
        assert_eq!(
            aggregate(&[task("TIMEOUT", (0, 15))]),
            JobState::Failed(143)
        );
        assert_eq!(aggregate(&[task("NODE_FAIL", (0, 0))]), JobState::Failed(1));
        assert_eq!(aggregate(&[]), JobState::Unknown);
    }

    #[test]
    fn squeue_lists_only_count_while_unfinished() {
        assert_eq!(active_from_squeue("PENDING\n"), Some(JobState::Pending));
        assert_eq!(
            active_from_squeue("PENDING\nRUNNING\n"),
            Some(JobState::Running)
        );
        assert_eq!(active_from_squeue("COMPLETING\n"), Some(JobState::Running));
        assert_eq!(active_from_squeue("COMPLETED\n"), None);
        assert_eq!(active_from_squeue(""), None);
    }
}
