//! `tally summarize-results` (`ns summarize_results`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::ValueEnum;
use tally_metrics::render::{self, Format};
use tally_metrics::{SummarizeOptions, SummaryMode};

use crate::reporter::TerminalReporter;
use crate::AnyError;

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
    results_dir: PathBuf,
    /// Only these benchmarks (comma separated, no spaces).
    #[arg(long, alias = "benchmarks")]
    benchmarks: Option<String>,
    /// Only the first N problems (-1: all).
    #[arg(long = "max_samples", default_value_t = -1, allow_negative_numbers = true)]
    max_samples: i64,
    /// Metric calculator (`math`).
    #[arg(long = "metric_type")]
    metric_type: Option<String>,
    /// Reproduce another tool's numbers and output exactly.
    #[arg(long, value_enum)]
    compat: Option<Compat>,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value = "table")]
    format: FormatArg,
    /// What `±` shows in default-mode tables (metrics.json always has all of them).
    #[arg(long, value_enum, default_value = "ci95")]
    spread: SpreadArg,
    /// First move each greedy `output.jsonl` that sits beside seed files to
    /// `<output_dir>/greedy/eval-results/<bench>/` (newer NeMo-Skills' layout: it refuses a
    /// folder holding both).
    #[arg(long = "split-greedy")]
    split_greedy: bool,
    /// Also draw pass@k / majority@k / pass@1 against k (`.svg` or `.png`).
    #[arg(long)]
    plot: Option<PathBuf>,
    /// Accepted for NeMo-Skills compatibility: only `local` (or none) is meaningful here.
    #[arg(long)]
    cluster: Option<String>,
    /// Accepted for NeMo-Skills compatibility (cluster configs are not used).
    #[arg(long = "config_dir")]
    config_dir: Option<String>,
    /// Accepted for NeMo-Skills compatibility (remote clusters are not used).
    #[arg(long = "remote_tar_dir")]
    remote_tar_dir: Option<String>,
    /// Accepted for NeMo-Skills compatibility (dataset modules are built in).
    #[arg(long = "extra_datasets")]
    extra_datasets: Option<String>,
    /// Verbose logging (also `TALLY_LOG=debug`).
    #[arg(long)]
    debug: bool,
    /// Accepted for NeMo-Skills compatibility.
    #[arg(long, overrides_with = "no_verbose")]
    verbose: bool,
    #[arg(long = "no-verbose")]
    no_verbose: bool,
    /// Not supported: Tally does not sync to Weights & Biases.
    #[arg(long = "wandb_name")]
    wandb_name: Option<String>,
    #[arg(long = "wandb_group", hide = true)]
    wandb_group: Option<String>,
    #[arg(long = "wandb_project", hide = true)]
    wandb_project: Option<String>,
}

pub fn run(args: Args) -> Result<ExitCode, AnyError> {
    if let Some(c) = args.cluster.as_deref().filter(|c| *c != "local") {
        return Err(format!("--cluster {c}: only local results directories are supported; copy the results here first").into());
    }
    if args.wandb_name.is_some() {
        return Err("--wandb_name: syncing to Weights & Biases is not supported; use --format json or metrics.json".into());
    }
    if args.benchmarks.as_deref().is_some_and(|b| b.contains(' ')) {
        return Err("--benchmarks: benchmarks should be separated with commas".into());
    }
    let options = SummarizeOptions {
        benchmarks: args
            .benchmarks
            .as_ref()
            .map(|b| b.split(',').map(str::to_string).collect()),
        max_samples: (args.max_samples >= 0).then_some(args.max_samples as usize),
        metric_type: args.metric_type.clone(),
        mode: match args.compat {
            Some(Compat::NemoSkills) => SummaryMode::NemoSkills,
            None => SummaryMode::Tally,
        },
    };
    let reporter = TerminalReporter::new();
    if args.split_greedy {
        use tally_metrics::greedy_layout;
        let layout =
            tally_metrics::layout::detect(&args.results_dir, options.benchmarks.as_deref())?;
        let moves = greedy_layout::plan_split(&layout)?;
        greedy_layout::apply(&moves)?;
        for m in &moves {
            eprintln!("moved {} -> {}", m.from.display(), m.to.display());
        }
    }
    let summary = tally_metrics::summarize(&args.results_dir, &options, &reporter)?;
    let format = match args.format {
        FormatArg::Table => Format::Table,
        FormatArg::Markdown => Format::Markdown,
        FormatArg::Csv => Format::Csv,
        FormatArg::Json => Format::Json,
    };
    let spread = match args.spread {
        SpreadArg::Ci95 => render::Spread::Ci95,
        SpreadArg::StdDev => render::Spread::StdDev,
        SpreadArg::StdErr => render::Spread::StdErr,
    };
    show(
        &summary,
        &args.results_dir.to_string_lossy(),
        format,
        spread,
        args.plot.as_deref(),
    )
}

/// Prints the summary of `given` (the folder as the user wrote it), saves metrics.json beside
/// the results (and the plot); exit code 2 when a benchmark was skipped.
pub fn show(
    summary: &tally_metrics::Summary,
    given: &str,
    format: Format,
    spread: render::Spread,
    plot: Option<&std::path::Path>,
) -> Result<ExitCode, AnyError> {
    if summary.layout.benchmarks.is_empty() {
        println!(
            "No benchmarks found in {}",
            tally_metrics::layout::python_path_display(
                &summary.layout.results_dir.to_string_lossy()
            )
        );
        return Ok(ExitCode::SUCCESS);
    }
    print!("{}", render::render_with(summary, format, spread));

    let json_path = tally_metrics::metrics_json_path(&summary.layout);
    let shown = tally_metrics::metrics_json_display(given, &summary.layout);
    // json.dump writes no trailing newline.
    let json = tally_core::pyjson::to_string_indent2(&render::metrics_json_with(summary, spread));
    match tally_core::atomic::atomic_write_bytes(&json_path, json.as_bytes()) {
        Ok(()) => {
            if format == Format::Table {
                println!("Metrics are saved to {shown}");
            }
        }
        Err(e) => {
            println!("Could not save metrics.json to {shown}. Please check the permissions. ({e})")
        }
    }
    if let Some(plot) = plot {
        tally_metrics::plot::write_plot(&summary.tables, plot)?;
        eprintln!("plot written to {}", plot.display());
    }
    if summary.skipped.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        for s in &summary.skipped {
            eprintln!("error: {} skipped: {}", s.benchmark, s.error);
        }
        Ok(ExitCode::from(2))
    }
}
