//! Seeing results: a local web viewer over results directories (`tally view`), one
//! self-contained HTML report (`tally report`), a paired comparison of two runs
//! (`tally compare`) and a one-row-per-sample parquet export (`tally export`).
//!
//! [`index`] reads a results directory lazily: per sample file the byte range of each line and
//! the few fields the grid needs; a sample's text is read from disk when a page shows it.
//! Summaries come from tally-metrics ([`summary`]); [`pages`] renders the grid, one problem
//! across seeds and one sample as HTML shared by the [`server`] and the [`report`].

pub mod compare;
mod error;
pub mod export;
pub mod html;
pub mod index;
pub mod outcome;
pub mod pages;
pub mod report;
pub mod server;
pub mod summary;

pub use error::ViewError;
pub use index::RunIndex;
pub use outcome::Outcome;
