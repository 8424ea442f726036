//! The local executor: jobs as child processes of this one, one at a time in submission order, as
//! `ns … --cluster local` runs the tasks of an experiment.

use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::sync::watch;

use crate::error::{ClusterError, Result};
use crate::executor::Executor;
use crate::job::{expand_log_pattern, Job, JobId, JobState};

/// How long a cancelled job gets between SIGTERM and SIGKILL, unless configured.
const DEFAULT_GRACE: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(20);

/// Runs jobs as local processes, sequentially in submission order.
///
/// Each job (each task of an array job) leads its own process group with stdout and stderr in
/// its log file; when it exits, whatever it left running in its group is killed, as Slurm ends a
/// job's processes. A job whose dependency did not complete is never started and ends
/// [`JobState::Cancelled`]. Array tasks run one after another with `SLURM_ARRAY_TASK_ID` (and
/// `SLURM_ARRAY_TASK_COUNT`) set, so one command works under both executors; the job fails with
/// the first failed task's code, after every task ran.
///
/// Dropping the executor cancels pending jobs and kills running ones (SIGKILL to their groups);
/// [`Executor::wait`] for them first.
pub struct LocalExecutor {
    inner: Arc<Inner>,
    grace: Duration,
}

struct Inner {
    jobs: Mutex<HashMap<JobId, Entry>>,
    next_id: AtomicU64,
    /// The finish signal of the last job submitted: each job waits for its predecessor's, which
    /// serialises them in submission order.
    tail: Mutex<Option<watch::Receiver<bool>>>,
}

struct Entry {
    state: JobState,
    /// The running task's process group.
    pgid: Option<i32>,
    cancel_requested: bool,
}

impl Default for LocalExecutor {
    fn default() -> Self {
        Self::new()
    }
}

impl LocalExecutor {
    pub fn new() -> Self {
        LocalExecutor {
            inner: Arc::new(Inner {
                jobs: Mutex::new(HashMap::new()),
                next_id: AtomicU64::new(1),
                tail: Mutex::new(None),
            }),
            grace: DEFAULT_GRACE,
        }
    }

    /// Time a cancelled job gets to exit after SIGTERM before its group is killed.
    pub fn with_grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }
}

impl Inner {
    fn jobs(&self) -> MutexGuard<'_, HashMap<JobId, Entry>> {
        // A panic while holding the lock leaves plain data behind; keep serving it.
        self.jobs.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn set_state(&self, id: &JobId, state: JobState) {
        if let Some(e) = self.jobs().get_mut(id) {
            e.state = state;
        }
    }
}

#[async_trait]
impl Executor for LocalExecutor {
    async fn submit(&self, job: &Job) -> Result<JobId> {
        job.validate()?;
        let id = JobId::new(format!(
            "local-{}",
            self.inner.next_id.fetch_add(1, Ordering::SeqCst)
        ));
        {
            let mut jobs = self.inner.jobs();
            if let Some(dep) = job.depends_on.iter().find(|d| !jobs.contains_key(d)) {
                return Err(ClusterError::UnknownJob(dep.clone()));
            }
            jobs.insert(
                id.clone(),
                Entry {
                    state: JobState::Pending,
                    pgid: None,
                    cancel_requested: false,
                },
            );
        }
        let (done_tx, done_rx) = watch::channel(false);
        let previous = self
            .inner
            .tail
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .replace(done_rx);
        let inner = Arc::clone(&self.inner);
        tracing::debug!(job = %job.name, id = %id, "queued local job");
        let job = job.clone();
        let task_id = id.clone();
        tokio::spawn(async move {
            if let Some(mut previous) = previous {
                // An error means the predecessor's runner is gone, which also means it is over.
                let _ = previous.wait_for(|done| *done).await;
            }
            run_job(&inner, &task_id, &job).await;
            let _ = done_tx.send(true);
        });
        Ok(id)
    }

    async fn state(&self, id: &JobId) -> Result<JobState> {
        self.inner
            .jobs()
            .get(id)
            .map(|e| e.state)
            .ok_or_else(|| ClusterError::UnknownJob(id.clone()))
    }

    async fn cancel(&self, id: &JobId) -> Result<()> {
        {
            let mut jobs = self.inner.jobs();
            let entry = jobs
                .get_mut(id)
                .ok_or_else(|| ClusterError::UnknownJob(id.clone()))?;
            match entry.state {
                JobState::Pending => {
                    entry.cancel_requested = true;
                    entry.state = JobState::Cancelled;
                    return Ok(());
                }
                JobState::Running => {
                    entry.cancel_requested = true;
                    if let Some(pgid) = entry.pgid {
                        signal_group(pgid, libc::SIGTERM);
                    }
                }
                _ => return Ok(()),
            }
        }
        let deadline = Instant::now() + self.grace;
        let mut killed = false;
        loop {
            if self.state(id).await?.is_finished() {
                return Ok(());
            }
            if !killed && Instant::now() >= deadline {
                tracing::warn!(id = %id, "job ignored SIGTERM; killing its process group");
                if let Some(pgid) = self.inner.jobs().get(id).and_then(|e| e.pgid) {
                    signal_group(pgid, libc::SIGKILL);
                }
                killed = true;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    fn poll_interval(&self) -> Duration {
        POLL
    }
}

impl Drop for LocalExecutor {
    fn drop(&mut self) {
        for entry in self.inner.jobs().values_mut() {
            match entry.state {
                JobState::Pending => {
                    entry.cancel_requested = true;
                    entry.state = JobState::Cancelled;
                }
                JobState::Running => {
                    entry.cancel_requested = true;
                    if let Some(pgid) = entry.pgid {
                        signal_group(pgid, libc::SIGKILL);
                    }
                }
                _ => {}
            }
        }
    }
}

async fn run_job(inner: &Inner, id: &JobId, job: &Job) {
    {
        let mut jobs = inner.jobs();
        let failed_dependency = job
            .depends_on
            .iter()
            .filter(|_| !job.after_any)
            .find(|d| jobs.get(d).map(|e| e.state) != Some(JobState::Completed))
            .cloned();
        let Some(entry) = jobs.get_mut(id) else {
            return;
        };
        if entry.state == JobState::Cancelled {
            return;
        }
        if let Some(dep) = failed_dependency {
            tracing::info!(job = %job.name, id = %id, dependency = %dep, "dependency did not complete; not running");
            entry.state = JobState::Cancelled;
            return;
        }
        entry.state = JobState::Running;
    }
    let tasks: Vec<Option<u32>> = match job.array {
        Some(n) => (0..n).map(Some).collect(),
        None => vec![None],
    };
    let mut opened = HashSet::new();
    let mut first_failure = None;
    for task in tasks {
        if inner.jobs().get(id).is_some_and(|e| e.cancel_requested) {
            break;
        }
        let code = run_task(inner, id, job, task, &mut opened).await;
        if code != 0 && first_failure.is_none() {
            first_failure = Some(code);
        }
    }
    let cancelled = inner.jobs().get(id).is_some_and(|e| e.cancel_requested);
    let state = match (cancelled, first_failure) {
        (true, _) => JobState::Cancelled,
        (false, Some(code)) => JobState::Failed(code),
        (false, None) => JobState::Completed,
    };
    tracing::info!(job = %job.name, id = %id, %state, "local job finished");
    inner.set_state(id, state);
}

/// Runs one task to its end and returns its exit code (128 + signal when killed; 127 when the
/// program could not be started, as a shell would say).
async fn run_task(
    inner: &Inner,
    id: &JobId,
    job: &Job,
    task: Option<u32>,
    opened: &mut HashSet<PathBuf>,
) -> i32 {
    let log_path = PathBuf::from(expand_log_pattern(
        &job.log_path.to_string_lossy(),
        id.as_str(),
        task,
        &job.name,
    ));
    // Slurm truncates each task's own file; tasks sharing one file follow each other in it.
    let append = !opened.insert(log_path.clone());
    let log = match open_log(&log_path, append) {
        Ok(f) => f,
        Err(e) => {
            tracing::error!(job = %job.name, id = %id, error = %e, "cannot open the job's log");
            return 1;
        }
    };
    let mut command = tokio::process::Command::new(&job.command[0]);
    command
        .args(&job.command[1..])
        .stdin(Stdio::null())
        .process_group(0);
    if let Some(dir) = &job.current_dir {
        command.current_dir(dir);
    }
    if let (Some(task), Some(count)) = (task, job.array) {
        command
            .env("SLURM_ARRAY_TASK_ID", task.to_string())
            .env("SLURM_ARRAY_TASK_COUNT", count.to_string());
    }
    command.envs(job.env.iter().map(|(k, v)| (k, v)));
    match log.try_clone() {
        Ok(err) => {
            command.stdout(Stdio::from(log)).stderr(Stdio::from(err));
        }
        Err(e) => {
            tracing::error!(job = %job.name, error = %e, "cannot share the log between stdout and stderr");
            return 1;
        }
    }
    let mut child = match command.spawn() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.kind() == std::io::ErrorKind::NotFound {
                127
            } else {
                126
            };
            let note = format!("tally-cluster: cannot run `{}`: {e}\n", job.command[0]);
            let _ = append_note(&log_path, &note);
            tracing::warn!(job = %job.name, id = %id, error = %e, "cannot start job");
            return code;
        }
    };
    let pgid = child.id().map(|p| p as i32);
    {
        let mut jobs = inner.jobs();
        if let Some(entry) = jobs.get_mut(id) {
            entry.pgid = pgid;
            // A cancel that arrived between the check before spawning and now saw no group to
            // signal; deliver it here.
            if entry.cancel_requested {
                if let Some(pgid) = pgid {
                    signal_group(pgid, libc::SIGTERM);
                }
            }
        }
    }
    let status = child.wait().await;
    if let Some(pgid) = pgid {
        // Whatever the task left behind in its group goes with it, as at the end of a Slurm job.
        signal_group(pgid, libc::SIGKILL);
    }
    if let Some(entry) = inner.jobs().get_mut(id) {
        entry.pgid = None;
    }
    match status {
        Ok(s) => exit_code(s),
        Err(e) => {
            tracing::error!(job = %job.name, id = %id, error = %e, "lost track of job process");
            1
        }
    }
}

fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(1)
}

fn open_log(path: &Path, append: bool) -> std::io::Result<File> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = OpenOptions::new();
    options.create(true);
    if append {
        options.append(true);
    } else {
        options.write(true).truncate(true);
    }
    options.open(path)
}

fn append_note(path: &Path, note: &str) -> std::io::Result<()> {
    use std::io::Write;
    OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)?
        .write_all(note.as_bytes())
}

fn signal_group(pgid: i32, signal: libc::c_int) {
    // SAFETY: killpg has no memory-safety preconditions. ESRCH (group already gone) is expected.
    unsafe {
        libc::killpg(pgid, signal);
    }
}
