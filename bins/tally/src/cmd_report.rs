//! `tally report`: one self-contained HTML file of a results directory.

use std::path::Path;
use std::process::ExitCode;

use tally_view::report::{write_report, ReportOptions};

use crate::AnyError;

pub use tally_cli::report::Args;

pub fn run(args: Args) -> Result<ExitCode, AnyError> {
    let opts = ReportOptions {
        total_text_cap: args.max_text_mb << 20,
        ..ReportOptions::default()
    };
    write_report(&args.results_dir, &args.output, &opts)?;
    eprintln!("report written to {}", args.output.display());
    Ok(ExitCode::SUCCESS)
}

/// After `tally eval`: `report.html` next to `metrics.json`. A report that cannot be written is
/// a warning; the evaluation's results stand.
pub fn after_eval(output_dir: &Path) {
    let out = match tally_metrics::layout::detect(output_dir, None) {
        Ok(l) => l.results_dir.join("report.html"),
        Err(e) => return eprintln!("warning: no report: {e}"),
    };
    match write_report(output_dir, &out, &ReportOptions::default()) {
        Ok(()) => println!("Report is saved to {}", out.display()),
        Err(e) => eprintln!("warning: could not write {}: {e}", out.display()),
    }
}
