//! The columnar side of the default summary, in polars: sample statuses and per-seed accuracy are
//! group-bys over one long frame of (seed, problem, subset, status, correct) rows.

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

/// Symbolic accuracy of each seed file over the first `n_problems` problems, for the `all` table
/// and for each subset: table suffix (`""` for all, else the subset) → one value per seed.
/// Failed and ungraded samples are left out of each seed's mean.
pub fn per_seed_correct(
    seeds: &[SampleFile],
    n_problems: usize,
) -> Result<IndexMap<String, Vec<f64>>, MetricsError> {
    let mut seed_col = Vec::new();
    let mut subset_col: Vec<String> = Vec::new();
    let mut correct_col: Vec<Option<f64>> = Vec::new();
    let subsets: Vec<Option<&String>> = seeds[0]
        .rows
        .iter()
        .take(n_problems)
        .map(|r| r.subset_for_metrics.as_ref())
        .collect();
    for (s, f) in seeds.iter().enumerate() {
        for (i, r) in f.rows.iter().take(n_problems).enumerate() {
            seed_col.push(s as u32);
            subset_col.push(subsets[i].cloned().unwrap_or_else(|| "all".into()));
            let valid = !r.effective_status().is_failure();
            correct_col.push(
                r.is_correct
                    .get()
                    .filter(|_| valid)
                    .map(|v| (*v > 0.5) as u8 as f64),
            );
        }
    }
    let df = df!("seed" => seed_col, "subset" => subset_col, "correct" => correct_col)?;
    let mut out = IndexMap::new();
    let all = df
        .clone()
        .lazy()
        .group_by([col("seed")])
        .agg([col("correct").mean().alias("acc")])
        .sort(["seed"], SortMultipleOptions::default())
        .collect()?;
    out.insert(String::new(), column_values(&all, "acc")?);
    let by_subset = df
        .lazy()
        .group_by([col("subset"), col("seed")])
        .agg([col("correct").mean().alias("acc")])
        .sort(["subset", "seed"], SortMultipleOptions::default())
        .collect()?;
    let names = by_subset.column("subset")?.str()?.clone();
    let accs = column_values(&by_subset, "acc")?;
    for (name, acc) in names.iter().zip(accs) {
        if let Some(name) = name {
            out.entry(name.to_string())
                .or_insert_with(Vec::new)
                .push(acc);
        }
    }
    Ok(out)
}

fn column_values(df: &DataFrame, name: &str) -> Result<Vec<f64>, MetricsError> {
    let c = df.column(name)?.cast(&DataType::Float64)?;
    Ok(c.f64()?.iter().map(|v| v.unwrap_or(f64::NAN)).collect())
}
