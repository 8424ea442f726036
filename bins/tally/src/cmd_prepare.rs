//! `tally prepare` (`python -m nemo_skills.dataset.prepare`).

use std::path::PathBuf;
use std::process::ExitCode;

use tally_data::{HttpFetcher, PrepareRequest, Source};

use crate::AnyError;

#[derive(clap::Args)]
pub struct Args {
    /// Benchmarks to prepare (`--list` shows them all).
    #[arg(required_unless_present = "list")]
    benchmarks: Vec<String>,
    /// List the benchmarks Tally knows: name, splits, source, defaults.
    #[arg(long)]
    list: bool,
    /// A local copy instead of the canonical URL: a file, or a directory with `<split>.jsonl`.
    #[arg(long)]
    source: Option<PathBuf>,
    /// Only this split (hle: `math`, `text`, `all`).
    #[arg(long)]
    split: Option<String>,
    /// Where prepared files go (`<dir>/<benchmark>/<split>.jsonl`). Default: $TALLY_DATA_DIR,
    /// else ~/.local/share/tally/datasets.
    #[arg(long = "data_dir")]
    data_dir: Option<PathBuf>,
}

/// One line per benchmark: name, splits (default first), source, NeMo-Skills' defaults.
fn list() {
    println!("benchmark\tsplits\tsource\tdefaults");
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
        println!(
            "{}\t{}\t{}\t{}",
            b.name,
            splits.join(","),
            source,
            defaults.join(" ")
        );
    }
}

pub fn run(args: Args) -> Result<ExitCode, AnyError> {
    if args.list {
        list();
        return Ok(ExitCode::SUCCESS);
    }
    let out_dir = args.data_dir.unwrap_or_else(tally_eval::defaults::data_dir);
    if args.source.is_some() && args.benchmarks.len() > 1 {
        return Err(
            "--source names one benchmark's data: prepare one benchmark at a time with it".into(),
        );
    }
    let fetcher = HttpFetcher::new(tally_eval::defaults::hf_token())?;
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
