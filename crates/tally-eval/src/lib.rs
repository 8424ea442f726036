//! `tally-eval`: Tally's pipeline as a library — what `tally eval`, `tally generate` and
//! `tally judge` run, callable from any Rust program.
//!
//! - [`plan()`] turns typed [`EvalOptions`] into an [`EvalPlan`]: per benchmark its problems file,
//!   output folder, seeds and `++` settings. A plan is serde data; [`EvalPlan::part`] cuts out one
//!   benchmark (and chunk), which is how Slurm jobs get their work; [`NumJobs`] groups parts
//!   into jobs (`--num_jobs`), [`SlurmRun`] submits them as one job array and a summary job,
//!   sending again only what is unfinished, and [`status()`] reads where a run stands.
//! - [`run_plan`] runs one: prepares missing data, hosts or connects the model
//!   ([`host_or_connect`]), generates with chunks and merging ([`generate`]), grades, judges
//!   ([`judge()`]) and writes each benchmark's [`Manifest`]; [`summarize`] reads the results with
//!   `tally-metrics`.
//! - Progress goes to an [`EvalReporter`] (a `tally_core::Reporter` with the pipeline's events);
//!   nothing is printed.
//!
//! ```
//! use tally_eval::{plan, EvalOptions, ServerChoice, ServerType};
//!
//! let options = EvalOptions::new(
//!     "/tmp/eval-out",
//!     "aime24:4,gsm8k:0",
//!     ServerChoice::remote(ServerType::LlamaCpp, "http://127.0.0.1:8181"),
//! );
//! let plan = plan(&options).unwrap();
//! // Greedy plus four seeds for aime24, greedy only for gsm8k.
//! assert_eq!(plan.benchmarks[0].seeds.len(), 5);
//! assert_eq!(plan.parts().len(), 2);
//! // What a Slurm job receives: the plan as JSON.
//! let json = plan.to_json().unwrap();
//! assert_eq!(tally_eval::EvalPlan::from_json(&json).unwrap(), plan);
//! ```
//!
//! Environment defaults (`TALLY_CACHE_DIR`, `TALLY_DATA_DIR`, API keys, the sandbox's address)
//! are read in one module, [`defaults`].

pub mod defaults;
pub mod describe;
pub mod error;
pub mod generation;
pub mod genselect;
pub mod jobs;
pub mod judge;
pub mod manifest;
pub mod plan;
pub mod run;
pub mod sandbox;
pub mod slurm;
pub mod status;
pub mod stop;
pub mod target;

pub use describe::describe;
pub use error::{EvalError, Result};
pub use generation::{generate, resolve_input, Chunks, Generated, Spec};
pub use genselect::{genselect, GenselectJob, GenselectOptions, Genselected};
pub use jobs::{parse_part_list, task_parts, NumJobs};
pub use judge::{judge, JudgeJob, JudgeWhen, Judged};
pub use manifest::{JudgeManifest, Manifest, MANIFEST_FILE};
pub use plan::{plan, BenchPlan, EvalOptions, EvalPlan, GreedyLayout, JudgeOptions, Part};
pub use run::{prepare_missing, run_plan, summarize, AllFailed, EvalOutcome, RunContext};
pub use slurm::{PartOutcome, SlurmRun, SubmitReport};
pub use status::{status, DirStatus, EvalStatus, JobStatus, OutputStatus, SubmissionStatus};
pub use tally_core::ServerType;
pub use target::{
    connect, host_or_connect, server_spec, ClientOptions, Connection, HostOptions, ServerChoice,
    Target,
};

use tally_core::{NoopReporter, Reporter};
use tally_generate::Stats;
use tally_grade::files::FileReport;

/// Progress of the pipeline: the stage bars and warnings of [`Reporter`], plus the events a
/// front end renders. Every method has an empty default.
pub trait EvalReporter: Reporter {
    /// A step worth a line in a log: a benchmark starts, a server is started.
    fn note(&self, _message: &str) {}
    /// Live generation statistics (requests in flight, tokens/s, failures).
    fn stats(&self, _stats: &Stats) {}
    /// A benchmark's generation ended.
    fn generated(&self, _generated: &Generated) {}
    /// A file was graded.
    fn graded(&self, _report: &FileReport) {}
    /// A benchmark's judge run ended.
    fn judged(&self, _judged: &Judged) {}
    /// A benchmark's GenSelect run ended.
    fn genselected(&self, _genselected: &Genselected) {}
}

impl EvalReporter for NoopReporter {}
