//! The columnar side of the default summary, in polars: sample statuses are a group-by over one
//! long frame of sample rows. (Per-seed averages come from the statistics across runs,
//! `run_stats.rs`, which need the problem × seed matrix anyway.)

use indexmap::IndexMap;
use polars::prelude::*;
use tally_core::Status;

use crate::error::MetricsError;
use crate::load::SampleFile;

/// Samples per status over all files (first `max_samples` problems), in [`Status::ALL`] order;
/// statuses with no sample are left out.
pub fn status_counts(
    files: &[&SampleFile],
    max_samples: Option<usize>,
) -> Result<IndexMap<String, u64>, MetricsError> {
    let statuses: Vec<&str> = files
        .iter()
        .flat_map(|f| {
            let n = max_samples.map_or(f.rows.len(), |m| m.min(f.rows.len()));
            f.rows[..n].iter().map(|r| r.effective_status().as_str())
        })
        .collect();
    let df = df!("status" => statuses)?;
    let counts = df
        .lazy()
        .group_by([col("status")])
        .agg([len().alias("n")])
        .collect()?;
    let names = counts.column("status")?.str()?.clone();
    let ns = counts.column("n")?.cast(&DataType::UInt64)?;
    let ns = ns.u64()?;
    let mut found: IndexMap<String, u64> = IndexMap::new();
    for (name, n) in names.iter().zip(ns.iter()) {
        if let (Some(name), Some(n)) = (name, n) {
            found.insert(name.to_string(), n);
        }
    }
    let mut out = IndexMap::new();
    for st in Status::ALL {
        if let Some(n) = found.get(st.as_str()) {
            out.insert(st.as_str().to_string(), *n);
        }
    }
    Ok(out)
}
