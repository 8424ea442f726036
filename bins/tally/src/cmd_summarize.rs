//! `tally summarize-results` (`ns summarize_results`).

use std::process::ExitCode;

use tally_metrics::render::{self, Format};

use crate::reporter::TerminalReporter;
use crate::AnyError;

pub use tally_cli::summarize::Args;

pub fn run(args: Args) -> Result<ExitCode, AnyError> {
    let options = args.options()?;
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
    show(
        &summary,
        &args.results_dir.to_string_lossy(),
        args.format(),
        args.spread(),
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
