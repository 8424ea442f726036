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
//! The same jobs run on Slurm (`SlurmExecutor::new(SlurmConfig::new(scripts_dir))`, with
//! `partition`, `time`, … set on the config) or, as here, on this machine:
//!
//! ```
//! use tally_cluster::{
//!     chunk_path, chunk_range, merge_chunks, Executor, Job, JobState, LocalExecutor, MergeOutcome,
//! };
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! // Three chunks of a 10-problem benchmark hold problems 0..4, 4..7 and 7..10.
//! assert_eq!(chunk_range(10, 3, 0), 0..4);
//! let out = tempfile::tempdir().unwrap();
//! let merged = out.path().join("output-rs0.jsonl");
//! let chunks: Vec<_> = (0..3).map(|id| chunk_path(&merged, id)).collect();
//! let executor: Box<dyn Executor> = Box::new(LocalExecutor::new());
//!
//! // One array job writes the chunks (each task reads SLURM_ARRAY_TASK_ID) and marks each done,
//! // as `tally generate --num_chunks 3` does ...
//! let task = format!(
//!     r#"f="{}/output-rs0_chunk_$SLURM_ARRAY_TASK_ID.jsonl"; echo "{{\"chunk\": $SLURM_ARRAY_TASK_ID}}" > "$f" && touch "$f.done""#,
//!     out.path().display()
//! );
//! let generate = Job::new("generate-rs0", ["sh", "-c", task.as_str()], out.path().join("gen_%a.log"))
//!     .array(3);
//! let generate_id = executor.submit(&generate).await?;
//! // ... and a dependent job runs only if every task succeeded.
//! let summarize = Job::new("summarize", ["true"], out.path().join("summarize.log")).after(&generate_id);
//! let summarize_id = executor.submit(&summarize).await?;
//!
//! let states = executor.wait(&[generate_id, summarize_id]).await?;
//! assert!(states.iter().all(|s| *s == JobState::Completed), "{states:?}");
//! assert!(matches!(merge_chunks(&merged, &chunks)?, MergeOutcome::Merged { chunks: 3, .. }));
//! assert_eq!(
//!     std::fs::read_to_string(&merged).unwrap(),
//!     "{\"chunk\": 0}\n{\"chunk\": 1}\n{\"chunk\": 2}\n"
//! );
//! # Ok::<(), tally_cluster::ClusterError>(())
//! # }).unwrap();
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
