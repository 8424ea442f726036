//! `tally prepare`'s flags (`python -m nemo_skills.dataset.prepare`), as
//! `tally_data::PrepareRequest`s, and its text: the benchmark list, each prepared split.

use std::path::PathBuf;

use tally_data::{PrepareRequest, Prepared, Source};
use tally_eval::Result;

#[derive(clap::Args)]
pub struct Args {
    /// Benchmarks to prepare (`--list` shows them all).
    #[arg(required_unless_present = "list")]
    pub benchmarks: Vec<String>,
    /// List the benchmarks Tally knows: name, splits, source, defaults.
    #[arg(long)]
    pub list: bool,
    /// A local copy instead of the canonical URL: a file, or a directory with `<split>.jsonl`.
    #[arg(long)]
    pub source: Option<PathBuf>,
    /// Only this split (hle: `math`, `text`, `all`).
    #[arg(long)]
    pub split: Option<String>,
    /// Where prepared files go (`<dir>/<benchmark>/<split>.jsonl`). Default: $TALLY_DATA_DIR,
    /// else ~/.local/share/tally/datasets.
    #[arg(long = "data_dir")]
    pub data_dir: Option<PathBuf>,
}

impl Args {
    /// One request per benchmark named, in order.
    pub fn requests(&self) -> Result<Vec<PrepareRequest>> {
        let out_dir = self
            .data_dir
            .clone()
            .unwrap_or_else(tally_eval::defaults::data_dir);
        if self.source.is_some() && self.benchmarks.len() > 1 {
            return Err(
                "--source names one benchmark's data: prepare one benchmark at a time with it"
                    .into(),
            );
        }
        Ok(self
            .benchmarks
            .iter()
            .map(|name| PrepareRequest {
                benchmark: name.clone(),
                split: self.split.clone(),
                source: match &self.source {
                    Some(p) => Source::Local(p.clone()),
                    None => Source::Canonical,
                },
                out_dir: out_dir.clone(),
            })
            .collect())
    }
}

/// `--list`: a header, then one tab-separated line per benchmark: name, splits (default first), source, NeMo-Skills' defaults.
pub fn list() -> Vec<String> {
    let mut lines = vec!["benchmark\tsplits\tsource\tdefaults".to_string()];
    for b in tally_data::registry::BENCHMARKS {
        let mut splits = vec![b.default_split];
        splits.extend(b.splits.iter().filter(|s| **s != b.default_split));
        let mut source = b.url.to_string();
        if !b.parts.is_empty() {
            source = format!("{source} ({{part}}: {})", b.parts.join(", "));
        }
        if b.local_only.is_some() {
            source.push_str(" (local copy only: --source)");
        }
        let mut defaults = vec![
            format!("++prompt_config={}", b.prompt_config),
            b.eval_args.to_string(),
            format!("metric_type={}", b.metrics_type),
        ];
        if let Some(j) = b.judge {
            defaults.push(format!(
                "judge={} ({}{})",
                j.model,
                j.server_type,
                j.server_address
                    .map(|a| format!(", {a}"))
                    .unwrap_or_default()
            ));
        }
        if b.requires_sandbox {
            defaults.push("requires sandbox".into());
        }
        lines.push(format!(
            "{}\t{}\t{}\t{}",
            b.name,
            splits.join(","),
            source,
            defaults.join(" ")
        ));
    }
    lines
}

/// What one prepared split is: records, file, checksum, and what was left out or corrected.
pub fn prepared_line(p: &Prepared) -> String {
    let skipped: Vec<String> = p.skipped.iter().map(|(r, n)| format!("{n} {r}")).collect();
    format!(
        "{}/{}: {} records → {} (sha256 {}){}{}",
        p.benchmark,
        p.split,
        p.records,
        p.path.display(),
        &p.sha256[..16],
        if skipped.is_empty() {
            String::new()
        } else {
            format!(", skipped {}", skipped.join(", "))
        },
        if p.corrections.is_empty() {
            String::new()
        } else {
            format!(", {} errata applied", p.corrections.len())
        },
    )
}
