//! `tally prepare` (`python -m nemo_skills.dataset.prepare`).

use std::path::PathBuf;
use std::process::ExitCode;

use tally_data::{HttpFetcher, PrepareRequest, Source};

use crate::AnyError;

#[derive(clap::Args)]
pub struct Args {
    /// Benchmarks to prepare (comp-math-24-25, hle, aime24, aime25, math-500, gsm8k, amc23).
    #[arg(required = true)]
    benchmarks: Vec<String>,
    /// A local copy instead of the canonical URL: a file, or a directory with `<split>.jsonl`.
    #[arg(long)]
    source: Option<PathBuf>,
    /// Only this split (hle: `math`, `text`, `all`).
    #[arg(long)]
    split: Option<String>,
    /// Where prepared files go (`<dir>/<benchmark>/<split>.jsonl`). Default: $TALLY_DATA_DIR,
    /// else ~/.local/share/tally/datasets.
    #[arg(long = "data_dir", alias = "data-dir")]
    data_dir: Option<PathBuf>,
}

pub fn default_data_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("TALLY_DATA_DIR") {
        return PathBuf::from(d);
    }
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("tally/datasets")
}

pub fn run(args: Args) -> Result<ExitCode, AnyError> {
    let out_dir = args.data_dir.unwrap_or_else(default_data_dir);
    if args.source.is_some() && args.benchmarks.len() > 1 {
        return Err(
            "--source names one benchmark's data: prepare one benchmark at a time with it".into(),
        );
    }
    let fetcher = HttpFetcher::new(std::env::var("HF_TOKEN").ok().filter(|t| !t.is_empty()))?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    for name in &args.benchmarks {
        let req = PrepareRequest {
            benchmark: name.clone(),
            split: args.split.clone(),
            source: match &args.source {
                Some(p) => Source::Local(p.clone()),
                None => Source::Canonical,
            },
            out_dir: out_dir.clone(),
        };
        let prepared = rt.block_on(tally_data::prepare(&req, &fetcher))?;
        for p in prepared {
            let skipped: Vec<String> = p.skipped.iter().map(|(r, n)| format!("{n} {r}")).collect();
            println!(
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
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
