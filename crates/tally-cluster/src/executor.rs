//! The one interface both the local and the Slurm executor offer.

use std::time::Duration;

use async_trait::async_trait;

use crate::error::Result;
use crate::job::{Job, JobId, JobState};

/// Runs [`Job`]s somewhere: as local processes ([`LocalExecutor`](crate::LocalExecutor)) or on a
/// Slurm cluster ([`SlurmExecutor`](crate::SlurmExecutor)). Object-safe, so a binary can pick
/// one at run time (`Box<dyn Executor>`).
#[async_trait]
pub trait Executor: Send + Sync {
    /// Submits `job` and returns at once (it runs later, after its dependencies). Every id in
    /// `job.depends_on` must come from this executor.
    async fn submit(&self, job: &Job) -> Result<JobId>;

    /// The job's current state.
    async fn state(&self, id: &JobId) -> Result<JobState>;

    /// Cancels a pending or running job (its dependents then never run). Cancelling a finished
    /// job does nothing.
    async fn cancel(&self, id: &JobId) -> Result<()>;

    /// How often [`Executor::wait`] asks for states.
    fn poll_interval(&self) -> Duration;

    /// Waits until every job in `ids` is finished and returns their final states, in order.
    /// A failed job does not make this an error: the caller reads the states.
    async fn wait(&self, ids: &[JobId]) -> Result<Vec<JobState>> {
        let mut states = vec![None; ids.len()];
        loop {
            for (id, slot) in ids.iter().zip(states.iter_mut()) {
                if slot.is_none() {
                    let state = self.state(id).await?;
                    if state.is_finished() {
                        *slot = Some(state);
                    }
                }
            }
            if states.iter().all(Option::is_some) {
                return Ok(states.into_iter().flatten().collect());
            }
            tokio::time::sleep(self.poll_interval()).await;
        }
    }
}
