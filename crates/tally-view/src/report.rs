//! `tally report`: one self-contained HTML file (no network, no external asset) with the
//! summary, the curves, the grid and, up to a size cap, every sample's text.

use std::fmt::Write;
use std::path::Path;

use crate::error::ViewError;
use crate::html::{esc, page, url_enc, Assets};
use crate::index::{read_sample, RunIndex};
use crate::pages::{self, GridQuery, Links};
use crate::summary::Summaries;

/// Size limits of the embedded sample texts.
#[derive(Debug, Clone, Copy)]
pub struct ReportOptions {
    /// Bytes of sample text embedded in all (after that, samples are listed but not embedded).
    pub total_text_cap: usize,
    /// Bytes of one text field (generation, prompt, judgement) embedded.
    pub per_text_cap: usize,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            total_text_cap: 8 << 20,
            per_text_cap: 32 << 10,
        }
    }
}

/// The report of one results directory, as one HTML document.
pub fn report_html(root: &Path, opts: &ReportOptions) -> Result<String, ViewError> {
    let run = RunIndex::open(root)?;
    let summaries = Summaries::compute(root);
    // Named by the path as given, never by the clock or the host: the same results give the same
    // report, byte for byte (the torture harness compares it with an uninterrupted run's).
    let shown = root.display().to_string();
    let mut body = format!(
        "<header>tally report</header><main class=\"report\"><h1>{}</h1><p>{} samples</p><h2>Summary</h2>",
        esc(&shown),
        run.num_samples()
    );
    body.push_str(&summaries.html());
    let mut budget = opts.total_text_cap;
    let mut cut_from: Option<String> = None; // the first sample left out
    for b in &run.benchmarks {
        let all = GridQuery::default().select(b);
        let _ = write!(
            body,
            "<h2 id=\"grid-{}\">{}: problems × samples</h2>",
            url_enc(&b.name),
            esc(&b.name)
        );
        body.push_str(&pages::legend());
        body.push_str(&pages::outcome_counts(b, &all));
        body.push_str(&pages::grid(b, &all, Links::Report));
        let _ = write!(body, "<h2>{}: samples</h2>", esc(&b.name));
        for i in 0..b.problems.len() {
            let p = &b.problems[i];
            let votes = pages::votes(b, i);
            let vote = votes
                .first()
                .map(|(a, n, c)| {
                    format!(
                        "majority <code>{}</code> ({n} votes, {})",
                        esc(a),
                        if *c { "correct" } else { "wrong" }
                    )
                })
                .unwrap_or_default();
            let _ = write!(
                body,
                "<section class=\"problem\" id=\"p-{}-{i}\"><h3>{} · expected <code>{}</code> · {vote}</h3>",
                url_enc(&b.name),
                esc(&p.key),
                esc(p.expected.as_deref().unwrap_or("–"))
            );
            for (fi, f) in b.files.iter().enumerate() {
                let s = &f.samples[i];
                let id = format!("s-{}-{i}-{fi}", url_enc(&b.name));
                if budget == 0 {
                    if cut_from.is_none() {
                        cut_from = Some(format!("{} {} {}", b.name, p.key, f.label));
                        let _ = write!(
                            body,
                            "<p class=\"note cut\" id=\"cut-note\">Sample texts stop here, at {} MB: the samples from here on are listed but not embedded (open the run with <code>tally view</code>).</p>",
                            opts.total_text_cap >> 20
                        );
                    }
                    let _ = write!(body, "<span id=\"{id}\" class=\"not-embedded legend\"><span class=\"o-{}\">{}</span></span> ", s.outcome.name(), esc(&f.label));
                    continue;
                }
                let rec = read_sample(f, i)?;
                let html = pages::sample_page(b, f, i, &rec, Some(opts.per_text_cap.min(budget)));
                budget = budget.saturating_sub(s.len as usize);
                let _ = write!(
                    body,
                    "<details class=\"sample\" id=\"{id}\"><summary><span class=\"legend\"><span class=\"o-{}\">{}</span></span> {} · answer <code>{}</code></summary>{html}</details>",
                    s.outcome.name(),
                    s.outcome.label(),
                    esc(&f.label),
                    esc(s.answer.as_deref().unwrap_or("–"))
                );
            }
            body.push_str("</section>");
        }
    }
    body.push_str("</main>");
    Ok(page(
        &format!("tally report · {shown}"),
        &body,
        Assets::Inline,
    ))
}

/// Writes the report atomically.
pub fn write_report(root: &Path, out: &Path, opts: &ReportOptions) -> Result<(), ViewError> {
    let html = report_html(root, opts)?;
    Ok(tally_core::atomic::atomic_write_bytes(
        out,
        html.as_bytes(),
    )?)
}
