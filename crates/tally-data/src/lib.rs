//! The benchmark registry and `prepare`: benchmark files as JSONL problems, from their canonical
//! public sources or from a local copy.
//!
//! [`registry`] lists the benchmarks Tally knows (the seed's comp-math-24-25, hle, aime24, aime25,
//! math-500, gsm8k, amc23, and newer NeMo-Skills' competition and word-problem sets) with the
//! defaults NeMo-Skills attaches to each (prompt config, metric type, eval split, judge settings). [`prepare()`] reads a source (a URL through a [`Fetch`]er, or a local
//! file or directory), converts it to NeMo-Skills' record format ([`convert`]), applies the
//! [`errata`], and writes `<out>/<benchmark>/<split>.jsonl` atomically with a manifest carrying its
//! sha256. A bad source is an error naming the file and line, and nothing partial is written.
//!
//! ```
//! let info = tally_data::registry::lookup("comp-math-24-25").unwrap();
//! assert_eq!(info.prompt_config, "generic/math");
//! assert_eq!(info.default_split, "test");
//! ```

pub mod convert;
mod convert_competition;
mod convert_lean;
mod convert_word_problems;
mod decode;
pub mod errata;
mod error;
mod fetch;
pub mod prepare;
pub mod registry;

pub use error::DataError;
pub use fetch::{Fetch, HttpFetcher};
pub use prepare::{prepare, PrepareRequest, Prepared, Source};
