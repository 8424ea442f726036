//! GenSelect: a model reads several candidate solutions of one problem and picks the best
//! (newer NeMo-Skills' offline GenSelect, `++parallel_thinking.mode=genselect` with
//! `generation_dir`).
//!
//! The stage reads a benchmark's seed files (`output-rs<seed>.jsonl`), keeps each problem's
//! complete candidates ([`candidates`]: failed samples, unfinished reasoning and empty solutions
//! are left out; solutions longer than the cap are left out, as NeMo-Skills does), draws a
//! window of them per GenSelect seed and builds the selection prompt's fields ([`window`]). The
//! binary sends those through the generation engine (resume, cache, concurrency) and
//! [`finalize`] turns each answer into a choice ([`choice`]): the chosen candidate's answer and
//! verdicts, so `summarize-results` reads a GenSelect file like any graded sample file.
//!
//! GenSynthesis (`++parallel_thinking.mode=gensynthesis`, [`Mode::Synthesis`]) reads the same
//! windows but asks for a new solution between `<NEW_SOLUTION>` tags ([`synthesis`]): it becomes
//! the record's `generation`, which the caller grades like any generation, in
//! `<bench>/gensynthesis/output-rs<seed>.jsonl`.
//!
//! Files: `<bench>/genselect/output-rs<seed>.jsonl`, one per GenSelect seed. Neither
//! NeMo-Skills version looks into a benchmark's subfolders (newer NeMo-Skills reads every
//! `<bench>/*.jsonl` as a seed file, so they must not sit beside the seeds), and the subfolder
//! is itself a results directory both versions summarize: GenSelect's accuracy as `pass@1`.

pub mod candidates;
pub mod choice;
mod error;
pub mod finalize;
pub mod mode;
pub mod synthesis;
pub mod window;

pub use candidates::{read_candidates, Candidate, CandidateOptions, ProblemCandidates};
pub use choice::parse_choice;
pub use error::GenSelectError;
pub use finalize::{finalize_file, FinalizeCounts};
pub use mode::Mode;
pub use synthesis::{finalize_synthesis_file, parse_synthesis};
pub use window::{build_inputs, GenSelectInput, WindowOptions};

/// The subfolder of a benchmark folder that holds GenSelect's `output-rs<seed>.jsonl`.
pub const OUTPUT_DIR: &str = "genselect";
/// The record key the selection model's text is written under.
pub const GENERATION_KEY: &str = "genselect_generation";
/// The built-in prompt config of the selection request.
pub const DEFAULT_PROMPT_CONFIG: &str = "genselect/math";
