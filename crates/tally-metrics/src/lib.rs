//! Summaries of graded sample files: `majority@k`, `pass@k`, `pass@1[k]`, `no_answer`, judge
//! columns, per subset — as NeMo-Skills' `summarize_results` prints them, and as Tally thinks they
//! should be computed.
//!
//! A results directory holds, per benchmark, `output.jsonl` (greedy) and `output-rs<seed>.jsonl`
//! (one file per seed); line `i` of every file is problem `i`. [`summarize`] finds the benchmarks
//! ([`layout`]), reads the fields it needs ([`load`], in parallel, with file and line in every
//! error) and computes the tables in one of two modes:
//!
//! - [`SummaryMode::NemoSkills`] reproduces the seed version of NeMo-Skills byte for byte, quirks
//!   included ([`compat`]); files are read in seed order so results are deterministic.
//! - [`SummaryMode::Tally`] (default) computes unbiased estimates with 95% intervals, counts
//!   statuses and never counts a failed request as a wrong answer ([`default_mode`]); it adds
//!   newer NeMo-Skills' statistics across runs and token statistics ([`run_stats`],
//!   docs/statistics.md), reads greedy from newer NeMo-Skills' layout ([`greedy_layout`]) and
//!   adds a `genselect@k` row where `tally genselect` wrote `<bench>/genselect/`.
//!
//! [`render`] turns a [`Summary`] into text, markdown, CSV or the JSON of `metrics.json`;
//! [`plot`] draws pass@k / majority@k / pass@1 against k as SVG or PNG.
//!
//! ```
//! use tally_metrics::{summarize, SummarizeOptions, SummaryMode, render::{render, Format}};
//! use tally_metrics::results::MetricValue;
//!
//! // A results directory with one benchmark and two seeds: problem 0 solved in one seed of
//! // two, problem 1 in both.
//! let results = tempfile::tempdir()?;
//! let bench = results.path().join("aime24");
//! std::fs::create_dir(&bench)?;
//! let line = |answer: &str, ok: bool| format!(
//!     "{{\"predicted_answer\": \"{answer}\", \"is_correct\": {ok}}}\n");
//! std::fs::write(bench.join("output-rs0.jsonl"), line("3", true) + &line("5", true))?;
//! std::fs::write(bench.join("output-rs1.jsonl"), line("4", false) + &line("5", true))?;
//!
//! let opts = SummarizeOptions { mode: SummaryMode::NemoSkills, ..Default::default() };
//! let summary = summarize(results.path(), &opts, &tally_core::NoopReporter)?;
//! // pass@1[2]: (1/2 + 2/2) / 2 problems = 75%.
//! let avg = summary.tables.tables["aime24"]["pass@1[2]"]["symbolic_correct"];
//! assert_eq!(avg, MetricValue::Float(75.0));
//! assert!(render(&summary, Format::Table).contains("pass@1[2]"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod compat;
pub mod default_mode;
mod error;
mod frame;
pub mod greedy_layout;
pub mod layout;
pub mod load;
pub mod plot;
pub mod render;
pub mod results;
pub mod run_stats;
pub mod stats;
pub mod summarize;
pub mod table_compat;

#[cfg(test)]
mod compat_tests;
#[cfg(test)]
mod default_mode_tests;
#[cfg(test)]
mod test_files;

pub use error::MetricsError;
pub use summarize::{
    metrics_json_display, metrics_json_path, summarize, Skipped, SummarizeOptions, Summary,
    SummaryMode,
};
