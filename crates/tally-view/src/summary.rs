//! Summary tables and curves, computed by tally-metrics (both modes) and shown as HTML.

use std::fmt::Write;
use std::path::Path;

use tally_metrics::default_mode::TableDetail;
use tally_metrics::results::MetricValue;
use tally_metrics::{render, SummarizeOptions, Summary, SummaryMode};

use crate::html::esc;

/// A run's summaries: Tally's default mode and NeMo-Skills' compat numbers; a summary that
/// failed keeps its error to show in its place.
#[derive(Debug)]
pub struct Summaries {
    pub default: Result<Summary, String>,
    pub compat: Result<Summary, String>,
}

impl Summaries {
    pub fn compute(root: &Path) -> Summaries {
        let run = |mode| {
            let opts = SummarizeOptions {
                mode,
                ..SummarizeOptions::default()
            };
            tally_metrics::summarize(root, &opts, &tally_core::NoopReporter)
                .map_err(|e| e.to_string())
        };
        Summaries {
            default: run(SummaryMode::Tally),
            compat: run(SummaryMode::NemoSkills),
        }
    }

    /// The summary section: default tables with intervals, compat tables behind a toggle, curves.
    pub fn html(&self) -> String {
        let mut out = String::new();
        match &self.default {
            Ok(s) => {
                let _ = write!(
                    out,
                    "<p class=\"note\">{}</p>",
                    esc(render::DEFAULT_MODE_BANNER)
                );
                out.push_str(&tables_html(s, true));
                let svg = tally_metrics::plot::svg(&s.tables);
                let _ = write!(out, "<h3>Curves: pass@k, majority@k, pass@1 against k</h3><div class=\"curves\">{svg}</div>");
            }
            Err(e) => {
                let _ = write!(out, "<p class=\"error\">summary failed: {}</p>", esc(e));
            }
        }
        out.push_str("<details class=\"compat\"><summary>NeMo-Skills' numbers (<code>--compat nemo-skills</code>)</summary>");
        match &self.compat {
            Ok(s) => out.push_str(&tables_html(s, false)),
            Err(e) => {
                let _ = write!(
                    out,
                    "<p class=\"error\">compat summary failed: {}</p>",
                    esc(e)
                );
            }
        }
        out.push_str("</details>");
        out
    }
}

fn detail<'a>(s: &'a Summary, table: &str) -> Option<&'a TableDetail> {
    s.details.values().find_map(|d| d.details.get(table))
}

fn tables_html(s: &Summary, intervals: bool) -> String {
    let mut out = String::new();
    for (name, table) in &s.tables.tables {
        let rows = s
            .tables
            .rows_to_print
            .get(name)
            .copied()
            .unwrap_or(table.len());
        let d = detail(s, name);
        let _ = write!(out, "<h3 class=\"table-name\">{}</h3>", esc(name));
        if let Some(note) = d.and_then(render::excluded_note) {
            let _ = write!(out, "<p class=\"note\">{}</p>", esc(&note));
        }
        let Some((_, first)) = table.first() else {
            continue;
        };
        let _ = write!(
            out,
            "<table class=\"summary\" data-table=\"{}\"><tr><th>evaluation_mode</th>",
            esc(name)
        );
        for metric in first.keys() {
            let _ = write!(out, "<th>{}</th>", esc(metric));
        }
        out.push_str("</tr>");
        for (mode, metrics) in table.iter().take(rows) {
            let _ = write!(
                out,
                "<tr data-mode=\"{}\"><td>{}</td>",
                esc(mode),
                esc(mode)
            );
            for (metric, v) in metrics {
                let est = d.and_then(|d| d.modes.get(mode)?.get(metric));
                let text = match v {
                    MetricValue::Int(i) => i.to_string(),
                    MetricValue::NoData => tally_metrics::results::NO_DATA.to_string(),
                    MetricValue::Float(f) => match est {
                        Some(e) if intervals && e.over_problems.has_width() => format!(
                            "{f:.2}% <span class=\"ci\">± {:.2}</span>",
                            e.over_problems.half_width() * 100.0
                        ),
                        _ => format!("{f:.2}%"),
                    },
                };
                let _ = write!(out, "<td data-metric=\"{}\">{text}</td>", esc(metric));
            }
            out.push_str("</tr>");
        }
        out.push_str("</table>");
    }
    out
}
