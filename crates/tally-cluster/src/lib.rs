//! Where Tally's jobs run, and how one output file is split into chunks and put back together.
//!
//! NeMo-Skills' `ns eval` / `ns generate` turn a run into tasks and hand them to a cluster:
//! Docker containers one after another for `--cluster local`, one `sbatch` per task on Slurm
//! (spec §9). This crate is that layer for Tally:
//!
//! - a [`Job`] is an argument vector with environment, a log file, `afterok` dependencies and an
//!   optional array size; an [`Executor`] submits jobs, reports their [`JobState`], waits for
//!   them and cancels them;
//! - [`LocalExecutor`] runs jobs as local processes, one at a time in submission order, each in
//!   its own process group; a job whose dependency failed never runs;
//! - [`SlurmExecutor`] writes a batch script per job ([`sbatch_script`], with NeMo-Skills'
//!   `--partition`, `--time`, `--time-min`, `--nodes`, `--exclusive` unless `--not_exclusive`),
//!   submits it with `sbatch --parsable`, and reads states from `sacct` where accounting runs,
//!   else from `squeue` and `scontrol` ([`SlurmExecutor::describe`] adds requeues and nodes);
//! - [`chunk_range`], [`chunk_path`] and [`parse_chunk_ids`] are `--num_chunks` / `--chunk_ids`:
//!   contiguous chunks, the first `n % C` one larger, written to `<base>_chunk_<id>.jsonl`;
//!   [`merge_chunks`] joins finished chunks (`.done` markers) into the merged file, crash-safely.
//!
//! The crate never prints or exits; failures are [`ClusterError`]s naming the program, job or
//! file, and a missing `sbatch` says how to install it.
//!
//! # Example
//!
//! ```no_run
//! use tally_cluster::{
//!     chunk_path, chunk_range, merge_chunks, Executor, Job, JobState, LocalExecutor,
//!     MergeOutcome, SlurmConfig, SlurmExecutor,
//! };
//!
//! # async fn demo(on_slurm: bool) -> Result<(), tally_cluster::ClusterError> {
//! // Three chunks of a 10-problem benchmark hold problems 0..4, 4..7 and 7..10.
//! assert_eq!(chunk_range(10, 3, 0), 0..4);
//! let merged = std::path::Path::new("out/eval-results/aime24/output-rs0.jsonl");
//! let chunks: Vec<_> = (0..3).map(|id| chunk_path(merged, id)).collect();
//!
//! let executor: Box<dyn Executor> = if on_slurm {
//!     let mut config = SlurmConfig::new("out/eval-logs/scripts");
//!     config.partition = Some("batch".into());
//!     config.time = Some("04:00:00".into());
//!     Box::new(SlurmExecutor::new(config))
//! } else {
//!     Box::new(LocalExecutor::new())
//! };
//!
//! // One array job generates the chunks (each task reads SLURM_ARRAY_TASK_ID) ...
//! let generate = Job::new(
//!     "generate-rs0",
//!     ["tally", "generate", "--num_chunks", "3", "--output_dir", "out"],
//!     "out/eval-logs/generate-rs0_%a.log",
//! )
//! .array(3);
//! let generate_id = executor.submit(&generate).await?;
//! // ... and a dependent job runs only if every task succeeded.
//! let summarize = Job::new(
//!     "summarize",
//!     ["tally", "summarize-results", "out"],
//!     "out/eval-logs/summarize.log",
//! )
//! .after(&generate_id);
//! let summarize_id = executor.submit(&summarize).await?;
//!
//! let states = executor.wait(&[generate_id, summarize_id]).await?;
//! if states.iter().all(|s| *s == JobState::Completed) {
//!     // Every chunk's `.done` marker is there by now (the generate tasks wrote them).
//!     assert!(matches!(merge_chunks(merged, &chunks)?, MergeOutcome::Merged { .. }
//!         | MergeOutcome::AlreadyMerged { .. }));
//! }
//! # Ok(()) }
//! ```

mod chunks;
mod error;
mod executor;
mod job;
mod local;
mod merge;
mod sbatch_script;
mod slurm;
mod slurm_state;
mod submission;

pub use chunks::{
    chunk_id_of, chunk_path, chunk_paths, chunk_range, done_marker, is_done, mark_done,
    parse_chunk_ids,
};
pub use error::{ClusterError, Result};
pub use executor::Executor;
pub use job::{Job, JobId, JobState};
pub use local::LocalExecutor;
pub use merge::{merge_chunks, MergeOutcome};
pub use sbatch_script::{sbatch_script, SlurmConfig};
pub use slurm::{SlurmExecutor, SLURM_HINT};
pub use slurm_state::{JobInfo, StateSource};
pub use submission::{decide, Decision, Submission, SubmittedJob};
