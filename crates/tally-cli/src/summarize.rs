//! `tally summarize-results`'s flags (`ns summarize_results`), as
//! `tally_metrics::SummarizeOptions` and a rendering.

use std::path::PathBuf;

use clap::ValueEnum;
use tally_eval::Result;
use tally_metrics::render::{Format, Spread};
use tally_metrics::{SummarizeOptions, SummaryMode};

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Compat {
    /// NeMo-Skills at the seed commit (3e064820): its numbers and tables byte for byte.
    #[value(name = "nemo-skills")]
    NemoSkills,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum FormatArg {
    Table,
    Markdown,
    Csv,
    Json,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum SpreadArg {
    /// 95% confidence interval over problems, every row.
    Ci95,
    /// Standard deviation across runs (newer NeMo-Skills' `±`), pass@1[avg-of-N] rows.
    StdDev,
    /// Standard error across runs, pass@1[avg-of-N] rows.
    StdErr,
}

#[derive(clap::Args)]
pub struct Args {
    /// Directory with the results: `<dir>/eval-results/<bench>/`, `<dir>/<bench>/`, or one benchmark's files.
    pub results_dir: PathBuf,
    /// Only these benchmarks (comma separated, no spaces).
    #[arg(long, alias = "benchmarks")]
    pub benchmarks: Option<String>,
    /// Only the first N problems (-1: all).
    #[arg(long = "max_samples", default_value_t = -1, allow_negative_numbers = true)]
    pub max_samples: i64,
    /// Metric calculator (`math`).
    #[arg(long = "metric_type")]
    pub metric_type: Option<String>,
    /// Reproduce another tool's numbers and output exactly.
    #[arg(long, value_enum)]
    pub compat: Option<Compat>,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value = "table")]
    pub format: FormatArg,
    /// What `±` shows in default-mode tables (metrics.json always has all of them).
    #[arg(long, value_enum, default_value = "ci95")]
    pub spread: SpreadArg,
    /// First move each greedy `output.jsonl` that sits beside seed files to
    /// `<output_dir>/greedy/eval-results/<bench>/` (newer NeMo-Skills' layout: it refuses a
    /// folder holding both).
    #[arg(long = "split-greedy")]
    pub split_greedy: bool,
    /// Also draw pass@k / majority@k / pass@1 against k (`.svg` or `.png`).
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Accepted for NeMo-Skills compatibility: only `local` (or none) is meaningful here.
    #[arg(long)]
    pub cluster: Option<String>,
    /// Accepted for NeMo-Skills compatibility (cluster configs are not used).
    #[arg(long = "config_dir")]
    pub config_dir: Option<String>,
    /// Accepted for NeMo-Skills compatibility (remote clusters are not used).
    #[arg(long = "remote_tar_dir")]
    pub remote_tar_dir: Option<String>,
    /// Accepted for NeMo-Skills compatibility (dataset modules are built in).
    #[arg(long = "extra_datasets")]
    pub extra_datasets: Option<String>,
    /// Verbose logging (also `TALLY_LOG=debug`).
    #[arg(long)]
    pub debug: bool,
    /// Accepted for NeMo-Skills compatibility.
    #[arg(long, overrides_with = "no_verbose")]
    pub verbose: bool,
    #[arg(long = "no-verbose")]
    pub no_verbose: bool,
    /// Not supported: Tally does not sync to Weights & Biases.
    #[arg(long = "wandb_name")]
    pub wandb_name: Option<String>,
    #[arg(long = "wandb_group", hide = true)]
    pub wandb_group: Option<String>,
    #[arg(long = "wandb_project", hide = true)]
    pub wandb_project: Option<String>,
}

impl Args {
    /// The summary's options, after refusing what only NeMo-Skills' cluster and W&B glue did.
    pub fn options(&self) -> Result<SummarizeOptions> {
        if let Some(c) = self.cluster.as_deref().filter(|c| *c != "local") {
            return Err(format!("--cluster {c}: only local results directories are supported; copy the results here first").into());
        }
        if self.wandb_name.is_some() {
            return Err("--wandb_name: syncing to Weights & Biases is not supported; use --format json or metrics.json".into());
        }
        if self.benchmarks.as_deref().is_some_and(|b| b.contains(' ')) {
            return Err("--benchmarks: benchmarks should be separated with commas".into());
        }
        Ok(SummarizeOptions {
            benchmarks: self
                .benchmarks
                .as_ref()
                .map(|b| b.split(',').map(str::to_string).collect()),
            max_samples: (self.max_samples >= 0).then_some(self.max_samples as usize),
            metric_type: self.metric_type.clone(),
            mode: match self.compat {
                Some(Compat::NemoSkills) => SummaryMode::NemoSkills,
                None => SummaryMode::Tally,
            },
        })
    }

    pub fn format(&self) -> Format {
        match self.format {
            FormatArg::Table => Format::Table,
            FormatArg::Markdown => Format::Markdown,
            FormatArg::Csv => Format::Csv,
            FormatArg::Json => Format::Json,
        }
    }

    pub fn spread(&self) -> Spread {
        match self.spread {
            SpreadArg::Ci95 => Spread::Ci95,
            SpreadArg::StdDev => Spread::StdDev,
            SpreadArg::StdErr => Spread::StdErr,
        }
    }
}
