//! Rendering a summary: Tally's tables (text, markdown), CSV, and the JSON of `metrics.json`.

use std::fmt::Write;

use serde_json::{json, Map, Value};

use crate::default_mode::{Estimate, TableDetail};
use crate::results::{MetricValue, NO_DATA};
use crate::run_stats::RunStatistics;
use crate::stats::Interval;
use crate::summarize::{Summary, SummaryMode};
use crate::table_compat::{self, py_center};

/// Output formats of `summarize-results --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Table,
    Markdown,
    Csv,
    Json,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "table" => Ok(Format::Table),
            "markdown" | "md" => Ok(Format::Markdown),
            "csv" => Ok(Format::Csv),
            "json" => Ok(Format::Json),
            other => Err(format!(
                "unknown format `{other}` (table, markdown, csv, json)"
            )),
        }
    }
}

/// What the `±` of a default-mode table shows (`summarize-results --spread`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Spread {
    /// Half-width of the 95% confidence interval over problems, on every row.
    #[default]
    Ci95,
    /// NeMo-Skills' `std_dev_across_runs`, on the `pass@1[avg-of-N]` row (what newer
    /// NeMo-Skills prints after `±`).
    StdDev,
    /// NeMo-Skills' `std_err_across_runs`, on the `pass@1[avg-of-N]` row.
    StdErr,
}

impl Spread {
    pub fn name(self) -> &'static str {
        match self {
            Spread::Ci95 => "ci95",
            Spread::StdDev => "std-dev",
            Spread::StdErr => "std-err",
        }
    }

    /// The words that say what `±` means, for banners.
    pub fn legend(self) -> &'static str {
        match self {
            Spread::Ci95 => "± = 95% CI over problems",
            Spread::StdDev => "± = std-dev across runs (NeMo-Skills' std_dev_across_runs, pass@1[avg-of-N] rows only)",
            Spread::StdErr => "± = std-err across runs (std_dev_across_runs / √runs, pass@1[avg-of-N] rows only)",
        }
    }

    /// The `±` of one cell, in percentage points, if the row has one.
    fn of(self, e: &Estimate) -> Option<f64> {
        match self {
            Spread::Ci95 => e
                .over_problems
                .has_width()
                .then(|| e.over_problems.half_width() * 100.0),
            Spread::StdDev => e
                .across_runs
                .map(|r| r.std_dev_across_runs * 100.0)
                .filter(|v| v.is_finite()),
            Spread::StdErr => e
                .across_runs
                .map(|r| r.std_err_across_runs * 100.0)
                .filter(|v| v.is_finite()),
        }
    }
}

impl std::str::FromStr for Spread {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "ci95" => Ok(Spread::Ci95),
            "std-dev" | "std_dev" => Ok(Spread::StdDev),
            "std-err" | "std_err" => Ok(Spread::StdErr),
            other => Err(format!("unknown spread `{other}` (ci95, std-dev, std-err)")),
        }
    }
}

/// The first line of every default-mode output with the default spread, so nobody mistakes
/// these numbers for the seed's.
pub const DEFAULT_MODE_BANNER: &str = "tally summary (default mode): unbiased pass@k, majority ties split evenly, real no_answer, failed samples excluded, ± = 95% CI over problems. For NeMo-Skills' numbers use --compat nemo-skills.";

/// The first line of default-mode output, saying what `±` shows.
pub fn banner(spread: Spread) -> String {
    format!(
        "tally summary (default mode): unbiased pass@k, majority ties split evenly, real no_answer, failed samples excluded, {}. For NeMo-Skills' numbers use --compat nemo-skills.",
        spread.legend()
    )
}

/// [`render_with`] with the default spread (95% intervals).
pub fn render(summary: &Summary, format: Format) -> String {
    render_with(summary, format, Spread::default())
}

/// The summary in `format`; in default mode, `spread` chooses what `±` shows.
pub fn render_with(summary: &Summary, format: Format, spread: Spread) -> String {
    match (summary.mode, format) {
        (SummaryMode::NemoSkills, Format::Table) => table_compat::render(&summary.tables),
        (_, Format::Json) => {
            let mut s = tally_core::pyjson::to_string_indent2(&metrics_json_with(summary, spread));
            s.push('\n');
            s
        }
        (_, Format::Csv) => csv(summary),
        (_, Format::Markdown) => markdown(summary, spread),
        (SummaryMode::Tally, Format::Table) => text(summary, spread),
    }
}

/// What `metrics.json` holds: the seed's shape (`table → mode → metric`) in compat mode; in
/// default mode the same shape with `<metric>_ci95` intervals, plus a `_tally` entry with the
/// mode, statuses, the samples each table left out (per status) and notes. A rate or interval
/// with no data behind it is `null`. The `pass@1[avg-of-N]` rows (N > 1) also carry newer
/// NeMo-Skills' `<score>_statistics` and `reasoning_tokens_statistics` /
/// `answer_tokens_statistics` objects, in its units (fractions, tokens).
pub fn metrics_json(summary: &Summary) -> Value {
    metrics_json_with(summary, Spread::default())
}

/// [`metrics_json`], its description saying what `±` showed.
pub fn metrics_json_with(summary: &Summary, spread: Spread) -> Value {
    let base = summary.tables.to_json();
    if summary.mode == SummaryMode::NemoSkills {
        return base;
    }
    let mut root = Map::new();
    let mut statuses = Map::new();
    let mut undecided = Map::new();
    let mut notes = Vec::new();
    let mut excluded = Map::new();
    for (bench, d) in &summary.details {
        statuses.insert(bench.clone(), json!(d.status_counts));
        undecided.insert(bench.clone(), json!(d.undecided));
        notes.extend(d.notes.iter().cloned());
        for (table, detail) in &d.details {
            excluded.insert(table.clone(), json!(detail.excluded));
        }
    }
    root.insert(
        "_tally".into(),
        json!({"mode": "default", "description": banner(spread), "spread": spread.name(),
               "status_counts": statuses,
               "undecided": undecided, "excluded": excluded, "notes": notes,
               "verdict_fields": summary.verdict_fields}),
    );
    let Value::Object(tables) = base else {
        unreachable!()
    };
    for (table, modes) in tables {
        let mut modes = match modes {
            Value::Object(m) => m,
            _ => unreachable!(),
        };
        if let Some(detail) = find_detail(summary, &table) {
            for (mode, metrics) in modes.iter_mut() {
                let Some(est) = detail.modes.get(mode) else {
                    continue;
                };
                let Value::Object(m) = metrics else { continue };
                for (metric, e) in est {
                    m.insert(format!("{metric}_ci95"), interval_json(&e.over_problems));
                    if let Some(s) = &e.across_seeds {
                        m.insert(format!("{metric}_ci95_across_seeds"), interval_json(s));
                    }
                    if let Some(r) = &e.across_runs {
                        m.insert(format!("{metric}_statistics"), statistics_json(r));
                    }
                }
                if *mode == format!("pass@1[avg-of-{}]", detail.num_seeds) {
                    for (name, r) in &detail.token_statistics {
                        m.insert(format!("{name}_statistics"), statistics_json(r));
                    }
                }
            }
        }
        root.insert(table, Value::Object(modes));
    }
    Value::Object(root)
}

/// NeMo-Skills' `<score>_statistics` object (its keys, its order, its units); a number that
/// does not exist (e.g. no problem with two samples) is `null`.
fn statistics_json(r: &RunStatistics) -> Value {
    let num = |v: f64| serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number);
    let mut m = Map::new();
    m.insert("avg".into(), num(r.avg));
    m.insert("std_dev_across_runs".into(), num(r.std_dev_across_runs));
    m.insert("avg_sample_std_dev".into(), num(r.avg_sample_std_dev));
    m.insert("std_err_across_runs".into(), num(r.std_err_across_runs));
    Value::Object(m)
}

/// `[low, high]` in percent, or `null` where fewer than two units (problems, seeds) stand
/// behind the mean: no interval from no data.
fn interval_json(i: &Interval) -> Value {
    if i.has_width() {
        json!([i.low * 100.0, i.high * 100.0])
    } else {
        Value::Null
    }
}

/// `excluded 9 of 9 samples: request_error 9` when a table left samples out.
pub fn excluded_note(d: &TableDetail) -> Option<String> {
    let n = d.num_excluded();
    if n == 0 {
        return None;
    }
    let parts: Vec<String> = d.excluded.iter().map(|(s, n)| format!("{s} {n}")).collect();
    Some(format!(
        "excluded {n} of {} samples: {}",
        d.num_samples,
        parts.join(", ")
    ))
}

/// The table's title: its name, and what it left out.
fn title(summary: &Summary, table: &str) -> String {
    match find_detail(summary, table).and_then(excluded_note) {
        Some(note) => format!("{table} ({note})"),
        None => table.to_string(),
    }
}

/// The `pass@1 across N seeds` line: the mean of the per-seed accuracies and its interval, over
/// the seeds that have a valid graded sample.
/// A score column other than `symbolic_correct` is named after the seeds; NeMo-Skills'
/// statistics across runs follow the interval, in percentage points.
fn across_seeds_line(metric: &str, e: &Estimate, num_seeds: usize) -> Option<String> {
    let seeds = e.across_seeds?;
    let missing = num_seeds - seeds.n.min(num_seeds);
    let label = if metric == "symbolic_correct" {
        String::new()
    } else {
        format!(" ({metric})")
    };
    let over = if missing == 0 {
        format!("{num_seeds} seeds{label}")
    } else {
        format!(
            "{} of {num_seeds} seeds{label} ({missing} without a valid sample)",
            seeds.n
        )
    };
    let mut line = if seeds.is_empty() {
        format!("pass@1 across {num_seeds} seeds{label}: {NO_DATA} (no seed has a valid sample)")
    } else if !seeds.has_width() {
        format!("pass@1 across {over}: {:.2}%", seeds.mean * 100.0)
    } else {
        format!(
            "pass@1 across {over}: {:.2}% (95% CI {:.2}–{:.2})",
            seeds.mean * 100.0,
            seeds.low * 100.0,
            seeds.high * 100.0
        )
    };
    if let Some(r) = e.across_runs {
        let pp = |v: f64| {
            if v.is_finite() {
                format!("{:.2}", v * 100.0)
            } else {
                NO_DATA.to_string()
            }
        };
        line.push_str(&format!(
            "; across runs: std-dev {}, std-err {}, avg sample std-dev {}",
            pp(r.std_dev_across_runs),
            pp(r.std_err_across_runs),
            pp(r.avg_sample_std_dev)
        ));
    }
    Some(line)
}

fn find_detail<'a>(
    summary: &'a Summary,
    table: &str,
) -> Option<&'a crate::default_mode::TableDetail> {
    summary.details.values().find_map(|d| d.details.get(table))
}

fn estimate_of<'a>(
    summary: &'a Summary,
    table: &str,
    mode: &str,
    metric: &str,
) -> Option<&'a Estimate> {
    find_detail(summary, table)?.modes.get(mode)?.get(metric)
}

struct Cell<'a> {
    summary: &'a Summary,
    table: &'a str,
    spread: Spread,
}

impl Cell<'_> {
    fn show(&self, mode: &str, metric: &str, v: MetricValue) -> String {
        match v {
            MetricValue::Int(i) => i.to_string(),
            MetricValue::NoData => NO_DATA.to_string(),
            MetricValue::Float(f) => {
                match estimate_of(self.summary, self.table, mode, metric)
                    .and_then(|e| self.spread.of(e))
                {
                    Some(pm) => format!("{f:.2}% ± {pm:.2}"),
                    None => format!("{f:.2}%"),
                }
            }
        }
    }
}

fn printed_rows<'a>(
    summary: &'a Summary,
    table: &str,
) -> Vec<(&'a String, &'a crate::results::ModeMetrics)> {
    let t = &summary.tables.tables[table];
    let n = summary
        .tables
        .rows_to_print
        .get(table)
        .copied()
        .unwrap_or(t.len());
    t.iter().take(n).collect()
}

/// A header line when verdicts came from newer NeMo-Skills' `symbolic_correct`, so a reader
/// knows which field the accuracy stands on.
fn verdict_note(summary: &Summary) -> String {
    let from_symbolic: Vec<&str> = summary
        .verdict_fields
        .iter()
        .filter(|(_, f)| f.contains(&crate::load::SYMBOLIC_CORRECT))
        .map(|(b, _)| b.as_str())
        .collect();
    if from_symbolic.is_empty() {
        return String::new();
    }
    format!(
        "note: verdicts read from `symbolic_correct` (newer NeMo-Skills) for {}\n",
        from_symbolic.join(", ")
    )
}

/// The columns of a printed table: every row's metrics in order of first appearance (a
/// `genselect@k` row may lack a column its benchmark's rows have, e.g. `avg_tokens`).
fn columns_of<'a>(rows: &[(&'a String, &'a crate::results::ModeMetrics)]) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for (_, m) in rows {
        for k in m.keys() {
            if !out.contains(&k.as_str()) {
                out.push(k);
            }
        }
    }
    out
}

fn text(summary: &Summary, spread: Spread) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", banner(spread));
    out.push_str(&verdict_note(summary));
    out.push('\n');
    for name in summary.tables.tables.keys() {
        let rows = printed_rows(summary, name);
        if rows.is_empty() {
            continue;
        }
        let columns = columns_of(&rows);
        let headers: Vec<&str> = std::iter::once("evaluation_mode")
            .chain(columns.iter().copied())
            .collect();
        let cell = Cell {
            summary,
            table: name,
            spread,
        };
        let body: Vec<Vec<String>> = rows
            .iter()
            .map(|(mode, metrics)| {
                std::iter::once(mode.to_string())
                    .chain(columns.iter().map(|k| match metrics.get(*k) {
                        Some(v) => cell.show(mode, k, *v),
                        None => String::new(),
                    }))
                    .collect()
            })
            .collect();
        let widths: Vec<usize> = (0..headers.len())
            .map(|c| {
                body.iter()
                    .map(|r| r[c].chars().count())
                    .chain([headers[c].len()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let total = widths.iter().sum::<usize>() + 3 * (widths.len() - 1);
        let head = format!(" {} ", title(summary, name));
        // A title wider than the table still gets its dashes.
        let width = total.max(head.chars().count() + 6);
        let _ = writeln!(out, "{}", py_center(&head, width, '-'));
        let line = |cells: Vec<String>| -> String {
            cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect::<Vec<_>>()
                .join(" | ")
                .trim_end()
                .to_string()
        };
        let _ = writeln!(
            out,
            "{}",
            line(headers.iter().map(|h| h.to_string()).collect())
        );
        for r in body {
            let _ = writeln!(out, "{}", line(r));
        }
        if let Some(d) = find_detail(summary, name) {
            let n = d.num_seeds;
            if let Some(avg) = d.modes.get(&format!("pass@1[avg-of-{n}]")) {
                for (metric, e) in avg {
                    if let Some(line) = across_seeds_line(metric, e, n) {
                        let _ = writeln!(out, "{line}");
                    }
                }
            }
            if d.problems_with_failed_samples > 0 {
                let _ = writeln!(
                    out,
                    "{} problems have failed samples (request errors, timeouts…): estimated from the valid ones, left out when none is valid",
                    d.problems_with_failed_samples
                );
            }
        }
        out.push('\n');
    }
    for (bench, d) in &summary.details {
        let parts: Vec<String> = d
            .status_counts
            .iter()
            .map(|(s, n)| format!("{s} {n}"))
            .collect();
        let _ = writeln!(
            out,
            "{bench}: {} samples: {}",
            d.num_samples,
            parts.join(", ")
        );
        if d.undecided > 0 {
            let _ = writeln!(
                out,
                "{bench}: {} answers the grader could not decide (counted as not correct; `tally judge --judge-only-when=undecided` sends them to a judge)",
                d.undecided
            );
        }
        for note in &d.notes {
            let _ = writeln!(out, "note: {note}");
        }
    }
    out
}

fn markdown(summary: &Summary, spread: Spread) -> String {
    let mut out = String::new();
    if summary.mode == SummaryMode::Tally {
        let _ = writeln!(out, "_{}_\n", banner(spread));
    }
    for name in summary.tables.tables.keys() {
        let rows = printed_rows(summary, name);
        if rows.is_empty() {
            continue;
        }
        let _ = writeln!(out, "### {}\n", title(summary, name));
        let columns = columns_of(&rows);
        let headers: Vec<&str> = std::iter::once("evaluation_mode")
            .chain(columns.iter().copied())
            .collect();
        let _ = writeln!(out, "| {} |", headers.join(" | "));
        let _ = writeln!(
            out,
            "|{}|",
            headers.iter().map(|_| "---").collect::<Vec<_>>().join("|")
        );
        let cell = Cell {
            summary,
            table: name,
            spread,
        };
        for (mode, metrics) in rows {
            let cells: Vec<String> = std::iter::once(format!("`{mode}`"))
                .chain(columns.iter().map(|k| match metrics.get(*k) {
                    Some(v) => cell.show(mode, k, *v),
                    None => String::new(),
                }))
                .collect();
            let _ = writeln!(out, "| {} |", cells.join(" | "));
        }
        out.push('\n');
    }
    out
}

/// Long format, every mode (not only the printed rows): one line per (table, mode, metric).
fn csv(summary: &Summary) -> String {
    let mut out = String::from("table,mode,metric,value,ci95_low,ci95_high\n");
    for (name, table) in &summary.tables.tables {
        for (mode, metrics) in table {
            for (metric, v) in metrics {
                let (lo, hi) = match estimate_of(summary, name, mode, metric) {
                    Some(e) if e.over_problems.has_width() => (
                        format!("{}", e.over_problems.low * 100.0),
                        format!("{}", e.over_problems.high * 100.0),
                    ),
                    _ => (String::new(), String::new()),
                };
                let value = match v {
                    MetricValue::Int(i) => i.to_string(),
                    MetricValue::Float(f) => format!("{f}"),
                    MetricValue::NoData => NO_DATA.to_string(),
                };
                let _ = writeln!(
                    out,
                    "{},{},{},{},{},{}",
                    csv_field(name),
                    csv_field(mode),
                    metric,
                    value,
                    lo,
                    hi
                );
            }
        }
    }
    out
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}
