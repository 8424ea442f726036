//! pass@k, majority@k and pass@1 against k, one panel per table, as SVG (drawn here) or PNG
//! (the same SVG rasterised by resvg).

use std::fmt::Write;
use std::path::Path;

use crate::error::MetricsError;
use crate::results::Tables;

const PANEL_W: f64 = 700.0;
const PANEL_H: f64 = 360.0;
const MARGIN_L: f64 = 60.0;
const MARGIN_R: f64 = 190.0;
const MARGIN_T: f64 = 40.0;
const MARGIN_B: f64 = 50.0;

/// One line of a panel: (k, percent) points.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub label: String,
    pub color: &'static str,
    pub dashed: bool,
    pub points: Vec<(f64, f64)>,
}

/// The series of one table, read from its mode names (`pass@k`, `majority@k`, `pass@1[k]`,
/// `pass@1[avg-of-N]`), using the symbolic metric when present, else the judge's.
pub fn series_of(table: &crate::results::Table) -> (String, Vec<Series>) {
    let metric = table
        .values()
        .next()
        .map(|m| {
            if m.contains_key("symbolic_correct") {
                "symbolic_correct"
            } else {
                "judge_correct"
            }
        })
        .unwrap_or("symbolic_correct")
        .to_string();
    let mut pass = Vec::new();
    let mut maj = Vec::new();
    let mut avg = Vec::new();
    let mut flat_avg: Option<(f64, f64)> = None;
    for (mode, metrics) in table {
        // A rate with no valid sample behind it is no point on the plot.
        let Some(v) = metrics.get(&metric).and_then(|v| v.as_f64()) else {
            continue;
        };
        if let Some(rest) = mode.strip_prefix("pass@1[") {
            let inner = rest.trim_end_matches(']');
            if let Some(n) = inner.strip_prefix("avg-of-") {
                if let Ok(n) = n.parse::<f64>() {
                    flat_avg = Some((n, v));
                }
            } else if let Ok(k) = inner.parse::<f64>() {
                avg.push((k, v));
            }
        } else if let Some(k) = mode
            .strip_prefix("pass@")
            .and_then(|k| k.parse::<f64>().ok())
        {
            pass.push((k, v));
        } else if let Some(k) = mode
            .strip_prefix("majority@")
            .and_then(|k| k.parse::<f64>().ok())
        {
            maj.push((k, v));
        }
    }
    if let Some((n, v)) = flat_avg {
        avg = vec![(1.0, v), (n, v)];
    }
    let mut out = Vec::new();
    for (label, color, dashed, mut pts) in [
        ("pass@k", "#1f77b4", false, pass),
        ("majority@k", "#ff7f0e", false, maj),
        ("pass@1", "#2ca02c", true, avg),
    ] {
        if pts.is_empty() {
            continue;
        }
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        out.push(Series {
            label: label.into(),
            color,
            dashed,
            points: pts,
        });
    }
    (metric, out)
}

/// The SVG document for all tables with at least one @k series.
pub fn svg(tables: &Tables) -> String {
    let panels: Vec<(&String, (String, Vec<Series>))> = tables
        .tables
        .iter()
        .map(|(name, t)| (name, series_of(t)))
        .filter(|(_, (_, s))| !s.is_empty())
        .collect();
    let height = PANEL_H * panels.len().max(1) as f64;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{PANEL_W}" height="{height}" viewBox="0 0 {PANEL_W} {height}" font-family="DejaVu Sans, Arial, sans-serif" font-size="12">"#
    );
    let _ = writeln!(out, r#"<rect width="100%" height="100%" fill="white"/>"#);
    for (i, (name, (metric, series))) in panels.iter().enumerate() {
        panel(&mut out, i as f64 * PANEL_H, name, metric, series);
    }
    out.push_str("</svg>\n");
    out
}

fn panel(out: &mut String, top: f64, name: &str, metric: &str, series: &[Series]) {
    let (x0, x1) = (MARGIN_L, PANEL_W - MARGIN_R);
    let (y0, y1) = (top + PANEL_H - MARGIN_B, top + MARGIN_T);
    let max_k = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .fold(1.0f64, f64::max);
    let lmax = max_k.log2().max(1.0);
    let x = |k: f64| x0 + (k.max(1.0).log2() / lmax) * (x1 - x0);
    let y = |v: f64| y0 - (v.clamp(0.0, 100.0) / 100.0) * (y0 - y1);
    let _ = writeln!(
        out,
        r#"<text x="{}" y="{}" text-anchor="middle" font-size="14" font-weight="bold">{} — {}</text>"#,
        (x0 + x1) / 2.0,
        top + 22.0,
        xml(name),
        xml(metric)
    );
    // Grid and axes.
    for pct in (0..=100).step_by(20) {
        let yy = y(pct as f64);
        let _ = writeln!(
            out,
            r##"<line x1="{x0}" y1="{yy}" x2="{x1}" y2="{yy}" stroke="#dddddd"/>"##
        );
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{}" text-anchor="end">{pct}%</text>"#,
            x0 - 6.0,
            yy + 4.0
        );
    }
    let mut k = 1.0;
    while k <= max_k + 0.5 {
        let xx = x(k);
        let _ = writeln!(
            out,
            r##"<line x1="{xx}" y1="{y0}" x2="{xx}" y2="{}" stroke="#333333"/>"##,
            y0 + 4.0
        );
        let _ = writeln!(
            out,
            r#"<text x="{xx}" y="{}" text-anchor="middle">{k}</text>"#,
            y0 + 18.0
        );
        k *= 2.0;
    }
    let _ = writeln!(
        out,
        r##"<line x1="{x0}" y1="{y0}" x2="{x1}" y2="{y0}" stroke="#333333"/>"##
    );
    let _ = writeln!(
        out,
        r##"<line x1="{x0}" y1="{y0}" x2="{x0}" y2="{y1}" stroke="#333333"/>"##
    );
    let _ = writeln!(
        out,
        r#"<text x="{}" y="{}" text-anchor="middle">k (samples, log scale)</text>"#,
        (x0 + x1) / 2.0,
        y0 + 38.0
    );
    for (i, s) in series.iter().enumerate() {
        let pts: Vec<String> = s
            .points
            .iter()
            .map(|(k, v)| format!("{:.2},{:.2}", x(*k), y(*v)))
            .collect();
        let dash = if s.dashed {
            r#" stroke-dasharray="6 4""#
        } else {
            ""
        };
        let _ = writeln!(
            out,
            r#"<polyline fill="none" stroke="{}" stroke-width="2"{dash} points="{}"/>"#,
            s.color,
            pts.join(" ")
        );
        for (k, v) in &s.points {
            let _ = writeln!(
                out,
                r#"<circle cx="{:.2}" cy="{:.2}" r="2.5" fill="{}"/>"#,
                x(*k),
                y(*v),
                s.color
            );
        }
        let ly = y1 + 10.0 + 20.0 * i as f64;
        let _ = writeln!(
            out,
            r#"<line x1="{}" y1="{ly}" x2="{}" y2="{ly}" stroke="{}" stroke-width="3"{dash}/>"#,
            x1 + 15.0,
            x1 + 40.0,
            s.color
        );
        let last = s.points.last().map_or(0.0, |p| p.1);
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{}">{} ({:.1}%)</text>"#,
            x1 + 46.0,
            ly + 4.0,
            xml(&s.label),
            last
        );
    }
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Writes the plot; the extension picks the format (`.svg` or `.png`).
pub fn write_plot(tables: &Tables, path: &Path) -> Result<(), MetricsError> {
    let doc = svg(tables);
    let err = |message: String| MetricsError::Plot {
        path: path.to_path_buf(),
        message,
    };
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("svg") => {
            tally_core::atomic::atomic_write_bytes(path, doc.as_bytes()).map_err(Into::into)
        }
        Some("png") => {
            let png = rasterize(&doc).map_err(err)?;
            tally_core::atomic::atomic_write_bytes(path, &png).map_err(Into::into)
        }
        _ => Err(err("the file name must end in .svg or .png".into())),
    }
}

fn rasterize(doc: &str) -> Result<Vec<u8>, String> {
    let mut opt = resvg::usvg::Options::default();
    opt.fontdb_mut().load_system_fonts();
    if opt.fontdb.is_empty() {
        return Err(
            "no system fonts found for the labels (install fonts-dejavu-core, or write .svg)"
                .into(),
        );
    }
    let tree = resvg::usvg::Tree::from_str(doc, &opt).map_err(|e| e.to_string())?;
    let size = tree.size().to_int_size();
    let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height())
        .ok_or_else(|| "empty plot".to_string())?;
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::default(),
        &mut pixmap.as_mut(),
    );
    pixmap.encode_png().map_err(|e| e.to_string())
}
