//! Tally's generation engine: `ns generate` for math benchmarks, crash-safe.
//!
//! A [`Job`] is a list of problems (JSONL records, in dataset order), a [`tally_prompt::Prompt`]
//! and one [`Pass`] per seed. A [`Generator`] sends one [`tally_backend::Backend`] request per
//! (problem, seed) through a bounded stream (`++max_concurrent_requests`), trims each
//! generation after its first stop phrase (spec §8.3) and gives every sample a
//! [`Status`](tally_core::Status): `ok`, `truncated` (the token budget ran out), or — for a
//! failed request — `request_error` / `timeout` / `context_exceeded` with an `error` message and
//! a `null` generation, never an empty one. Each pass is written to
//! `<output_dir>/output-rs<seed>.jsonl` (`output.jsonl` without a seed) in dataset order with
//! NeMo-Skills' keys first ([`record`]).
//!
//! **Resume.** Every finished sample is appended to a journal next to its output
//! ([`journal`]) under a content key ([`key`]: prompt, sampling parameters, model, seed, problem
//! index), fsynced every few samples. A rerun after `kill -9` reads the journal (a torn last line
//! is cut), generates only the samples whose key is missing, and writes each output once
//! complete by atomic rewrite — no sample lost, none twice. A header records what decides a
//! sample (prompt hash, sampling parameters, model, server type, seed, input digest); if it
//! changed, the run is refused with the list of changes unless the resume policy says otherwise
//! ([`ResumePolicy`]). A finished, matching output means nothing to do. Transient failures
//! (`request_error`, `timeout`) are retried by the next run ([`resume`]).
//!
//! [`seeds`] holds NeMo-Skills' seed rules (`--num_random_seeds`, `--random_seeds`,
//! `--starting_seed`; seeded passes get `random_seed=<s> temperature=1.0 top_k=0 top_p=0.95`
//! *before* the user's `++` arguments), [`config`] the `++key=value` settings.
//!
//! ```
//! use async_trait::async_trait;
//! use serde_json::json;
//! use tally_backend::{Backend, BackendError, FinishReason, GenerationRequest, GenerationResponse, Prompt};
//! use tally_core::{overrides::Overrides, NoopReporter, ServerType};
//! use tally_generate::{passes, Generator, Job, SeedDefaults, SeedPlan, Settings};
//!
//! // A stand-in for a server: answers every prompt with its length.
//! struct Echo;
//! #[async_trait]
//! impl Backend for Echo {
//!     async fn generate(&self, req: &GenerationRequest) -> Result<GenerationResponse, BackendError> {
//!         let Prompt::Text(t) = &req.prompt else { unreachable!() };
//!         Ok(GenerationResponse {
//!             text: format!("\\boxed{{{}}}<|im_end|>junk", t.len()),
//!             num_generated_tokens: Some(5), num_prompt_tokens: None,
//!             finish_reason: FinishReason::Stop, stop_reason: None,
//!             reasoning_content: None, reasoning: None, model: "m".into(),
//!             elapsed: Default::default(), attempts: 1, max_tokens: req.params.max_tokens,
//!         })
//!     }
//!     async fn model_name(&self) -> Result<String, BackendError> { Ok("m".into()) }
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let dir = tempfile::tempdir().unwrap();
//! let user = Overrides::parse(["++input_file=problems.jsonl", "++prompt_template=qwen-instruct"]).unwrap();
//! let settings = Settings::from_overrides(&user).unwrap();
//! let inputs = vec![json!({"problem": "1+1?", "expected_answer": "2"}).as_object().unwrap().clone()];
//! let prompt = tally_generate::load_prompt(&settings, Some("generic/math")).unwrap();
//! let seeds = SeedPlan::from_flags(Some(2), None, 0).unwrap();
//! let passes = passes(&seeds, SeedDefaults::Generate, &user).unwrap();
//! let job = Job::builder(&settings)
//!     .inputs(inputs)
//!     .prompt(prompt)
//!     .passes(passes)
//!     .model("m", ServerType::Vllm)
//!     .output_dir(dir.path())
//!     .build()
//!     .unwrap();
//!
//! let summary = Generator::new(&job, &Echo, &NoopReporter).run().await.unwrap();
//! assert_eq!(summary.generated, 2);
//! let out = std::fs::read_to_string(dir.path().join("output-rs1.jsonl")).unwrap();
//! assert!(out.starts_with("{\"num_generated_tokens\": 5, \"generation\": \"\\\\boxed{"));
//! assert!(out.ends_with("\"status\": \"ok\", \"seed\": 1}\n"));
//!
//! // Run again: both outputs are complete and match, so nothing is sent.
//! let again = Generator::new(&job, &Echo, &NoopReporter).run().await.unwrap();
//! assert_eq!(again.generated, 0);
//! # });
//! ```

pub mod config;
pub mod engine;
pub mod error;
pub mod job;
pub mod journal;
pub mod key;
pub mod progress;
pub mod record;
pub mod resume;
pub mod seeds;
pub mod tir;
pub mod tir_backend;

#[cfg(test)]
mod halt_tests;
#[cfg(test)]
mod tests;

pub use config::{
    sampling_params, CodeExecution, InputSpec, ResumePolicy, Settings, TotalCodeExecutions,
    DEFAULT_MAX_CONNECTION_FAILURES,
};
pub use engine::{
    Generator, IdenticalSeeds, PassState, PassSummary, RunSummary, Stats, StatsObserver,
};
pub use error::GenerateError;
pub use job::{load_inputs, load_prompt, passes, Job, JobBuilder, Pass};
pub use progress::{pass_progress, PassProgress};
pub use record::{RecordKeys, SampleOutcome, TirStats};
pub use resume::{RunHeader, RunRecord};
pub use seeds::{output_file_name, seed_overrides, SeedDefaults, SeedPlan};
pub use tir::{CodeExecutor, CodeResult, TirFailure};

/// The crates a caller of this one needs, re-exported so a binary can depend on this crate alone.
pub use {tally_backend, tally_prompt};
