//! The viewer's pages as HTML fragments, shared by the server and the report: the problem ×
//! seed grid, one problem across seeds, one sample.

use std::collections::HashMap;
use std::fmt::Write;

use serde_json::{Map, Value};

use crate::html::{esc, model_text, num, url_enc};
use crate::index::{value_text, BenchIndex, FileIndex, RunIndex};
use crate::outcome::Outcome;

/// How pages link to each other: server URLs, or anchors inside one report.
#[derive(Debug, Clone, Copy)]
pub enum Links {
    Server { run: usize },
    Report,
}

impl Links {
    pub fn sample(&self, bench: &str, problem: usize, file: usize) -> String {
        match self {
            Links::Server { run } => format!("/r/{run}/{}/s/{problem}/{file}", url_enc(bench)),
            Links::Report => format!("#s-{}-{problem}-{file}", url_enc(bench)),
        }
    }
    pub fn problem(&self, bench: &str, problem: usize) -> String {
        match self {
            Links::Server { run } => format!("/r/{run}/{}/p/{problem}", url_enc(bench)),
            Links::Report => format!("#p-{}-{problem}", url_enc(bench)),
        }
    }
}

/// The grid's filters, from the URL query (`?subset=&status=&q=&sort=`).
#[derive(Debug, Clone, Default)]
pub struct GridQuery {
    pub subset: Option<String>,
    /// Problems with at least one sample of this outcome.
    pub status: Option<Outcome>,
    /// Case-insensitive search in the problem's id, text and expected answer.
    pub q: Option<String>,
    /// `hard` (fraction correct ascending), `easy` (descending), else file order.
    pub sort: Option<String>,
}

impl GridQuery {
    pub fn from_pairs(pairs: &HashMap<String, String>) -> GridQuery {
        let get = |k: &str| pairs.get(k).filter(|v| !v.is_empty()).cloned();
        GridQuery {
            subset: get("subset"),
            status: get("status").and_then(|s| Outcome::parse(&s)),
            q: get("q"),
            sort: get("sort"),
        }
    }

    /// The problems shown, in display order.
    pub fn select(&self, b: &BenchIndex) -> Vec<usize> {
        let q = self.q.as_ref().map(|q| q.to_lowercase());
        let mut rows: Vec<usize> = (0..b.problems.len())
            .filter(|&i| {
                let p = &b.problems[i];
                if self.subset.is_some() && p.subset != self.subset {
                    return false;
                }
                if let Some(st) = self.status {
                    if !b.files.iter().any(|f| f.samples[i].outcome == st) {
                        return false;
                    }
                }
                if let Some(q) = &q {
                    let hay = [Some(&p.key), p.text.as_ref(), p.expected.as_ref()];
                    if !hay.iter().flatten().any(|h| h.to_lowercase().contains(q)) {
                        return false;
                    }
                }
                true
            })
            .collect();
        let diff = |i: &usize| b.difficulty(*i).unwrap_or(f64::INFINITY);
        match self.sort.as_deref() {
            Some("hard") => rows.sort_by(|a, c| diff(a).total_cmp(&diff(c))),
            Some("easy") => rows.sort_by(|a, c| diff(c).total_cmp(&diff(a))),
            _ => {}
        }
        rows
    }
}

/// The legend of outcome colours.
pub fn legend() -> String {
    let mut out = String::from("<p class=\"legend\">");
    for o in Outcome::ALL {
        let _ = write!(out, "<span class=\"o-{}\">{}</span>", o.name(), o.label());
    }
    out.push_str("</p>");
    out
}

/// The filter form (server only: it reloads the page with the query).
pub fn filter_form(b: &BenchIndex, q: &GridQuery) -> String {
    let mut out = String::from("<form class=\"filters\" method=\"get\">subset <select name=\"subset\"><option value=\"\">all</option>");
    for s in b.subsets() {
        let sel = if q.subset.as_deref() == Some(&s) {
            " selected"
        } else {
            ""
        };
        let _ = write!(out, "<option{sel}>{}</option>", esc(&s));
    }
    out.push_str("</select> status <select name=\"status\"><option value=\"\">any</option>");
    for o in Outcome::ALL {
        let sel = if q.status == Some(o) { " selected" } else { "" };
        let _ = write!(
            out,
            "<option value=\"{}\"{sel}>{}</option>",
            o.name(),
            o.label()
        );
    }
    out.push_str("</select> sort <select name=\"sort\"><option value=\"\">file order</option>");
    for (v, l) in [("hard", "hardest first"), ("easy", "easiest first")] {
        let sel = if q.sort.as_deref() == Some(v) {
            " selected"
        } else {
            ""
        };
        let _ = write!(out, "<option value=\"{v}\"{sel}>{l}</option>");
    }
    let _ = write!(
        out,
        "</select> search <input name=\"q\" value=\"{}\"> <button>apply</button></form>",
        esc(q.q.as_deref().unwrap_or(""))
    );
    out
}

/// The problem × sample grid of one benchmark: one row per problem, one cell per file (greedy
/// first), coloured by outcome, each linking to its sample.
pub fn grid(b: &BenchIndex, rows: &[usize], links: Links) -> String {
    let mut out = String::with_capacity(rows.len() * b.files.len() * 48 + 1024);
    let _ = write!(
        out,
        "<table class=\"grid\" data-bench=\"{}\" data-rows=\"{}\"><tr><th>problem</th><th>subset</th><th>correct</th>",
        esc(&b.name),
        rows.len()
    );
    for f in &b.files {
        let _ = write!(out, "<th title=\"{}\"></th>", esc(&f.label));
    }
    out.push_str("</tr>");
    for &i in rows {
        let p = &b.problems[i];
        let frac = b
            .difficulty(i)
            .map_or("–".to_string(), |d| format!("{:.0}%", d * 100.0));
        let _ = write!(
            out,
            "<tr class=\"problem\" data-problem=\"{}\"><td class=\"pid\"><a href=\"{}\" title=\"{}\">{}</a></td><td>{}</td><td>{frac}</td>",
            esc(&p.key),
            links.problem(&b.name, i),
            esc(p.text.as_deref().unwrap_or("")),
            esc(&p.key),
            esc(p.subset.as_deref().unwrap_or("")),
        );
        for (fi, f) in b.files.iter().enumerate() {
            let o = f.samples[i].outcome;
            let _ = write!(
                out,
                "<td class=\"cell o-{}\"><a href=\"{}\" title=\"{} {}\"></a></td>",
                o.name(),
                links.sample(&b.name, i, fi),
                esc(&f.label),
                o.label()
            );
        }
        out.push_str("</tr>");
    }
    out.push_str("</table>");
    out
}

/// Counts of each outcome over the shown rows (what the page says above the grid).
pub fn outcome_counts(b: &BenchIndex, rows: &[usize]) -> String {
    let mut counts = [0usize; Outcome::ALL.len()];
    for &i in rows {
        for f in &b.files {
            let o = f.samples[i].outcome;
            counts[Outcome::ALL.iter().position(|x| *x == o).unwrap_or(0)] += 1;
        }
    }
    let mut out = String::from("<p class=\"counts\">");
    let _ = write!(out, "{} problems × {} files: ", rows.len(), b.files.len());
    for (o, n) in Outcome::ALL.iter().zip(counts) {
        if n > 0 {
            let _ = write!(
                out,
                "<span class=\"count\" data-outcome=\"{}\">{} {n}</span> ",
                o.name(),
                o.label()
            );
        }
    }
    out.push_str("</p>");
    out
}

/// The majority vote of one problem over the seed files: answer → (votes, correct?).
pub fn votes(b: &BenchIndex, i: usize) -> Vec<(String, usize, bool)> {
    let mut v: Vec<(String, usize, bool)> = Vec::new();
    for f in b.seed_files() {
        let s = &f.samples[i];
        if !s.outcome.is_judged() {
            continue;
        }
        if let Some(k) = &s.vote_key {
            match v.iter_mut().find(|(a, _, _)| a == k) {
                Some(e) => e.1 += 1,
                None => v.push((k.clone(), 1, s.outcome == Outcome::Correct)),
            }
        }
    }
    v.sort_by_key(|x| std::cmp::Reverse(x.1));
    v
}

/// One problem across files: the vote, then each sample side by side.
pub fn problem_page(
    run: &RunIndex,
    b: &BenchIndex,
    i: usize,
    links: Links,
    texts: &[Option<Map<String, Value>>],
) -> String {
    let p = &b.problems[i];
    let mut out = String::new();
    let _ = write!(
        out,
        "<h2>{} · problem {}</h2><p>subset {} · expected <code>{}</code></p>",
        esc(&run.name),
        esc(&p.key),
        esc(p.subset.as_deref().unwrap_or("–")),
        esc(p.expected.as_deref().unwrap_or("–"))
    );
    if let Some(rec) = texts.iter().flatten().next() {
        if let Some(t) = rec.get("problem").and_then(Value::as_str) {
            let _ = write!(
                out,
                "<section class=\"problem-text tex\">{}</section>",
                esc(t)
            );
        }
    }
    let v = votes(b, i);
    out.push_str("<h3>Majority vote over seeds</h3><table class=\"summary votes\"><tr><th>answer</th><th>votes</th><th>correct</th></tr>");
    let top = v.first().map(|x| x.1).unwrap_or(0);
    for (a, n, c) in &v {
        let cls = if *n == top { " class=\"majority\"" } else { "" };
        let _ = write!(
            out,
            "<tr{cls}><td><code>{}</code></td><td>{n}</td><td>{}</td></tr>",
            esc(a),
            if *c { "yes" } else { "no" }
        );
    }
    out.push_str("</table><div class=\"side\">");
    for (fi, f) in b.files.iter().enumerate() {
        let s = &f.samples[i];
        let _ = write!(
            out,
            "<section class=\"seed o-border\"><h4><a href=\"{}\">{}</a> <span class=\"legend\"><span class=\"o-{}\">{}</span></span></h4><p>answer <code>{}</code></p>",
            links.sample(&b.name, i, fi),
            esc(&f.label),
            s.outcome.name(),
            s.outcome.label(),
            esc(s.answer.as_deref().unwrap_or("–"))
        );
        if let Some(Some(rec)) = texts.get(fi) {
            if let Some(g) = rec.get("generation").and_then(Value::as_str) {
                out.push_str(&model_text(g));
            }
        }
        out.push_str("</section>");
    }
    out.push_str("</div>");
    out
}

/// One sample: the facts, the prompt (if recorded), the generation, the judge's text.
pub fn sample_page(
    b: &BenchIndex,
    f: &FileIndex,
    i: usize,
    rec: &Map<String, Value>,
    text_cap: Option<usize>,
) -> String {
    let s = &f.samples[i];
    let p = &b.problems[i];
    let text = |k: &str| rec.get(k).and_then(value_text);
    let mut out = String::new();
    let _ = write!(
        out,
        "<h2>{} · problem {} · {}</h2><p class=\"legend\"><span class=\"o-{} outcome\">{}</span></p><dl class=\"facts\">",
        esc(&b.name),
        esc(&p.key),
        esc(&f.label),
        s.outcome.name(),
        s.outcome.label()
    );
    let mut fact = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            let _ = write!(
                out,
                "<dt>{}</dt><dd class=\"fact-{}\"><code>{}</code></dd>",
                esc(k),
                esc(&k.replace(' ', "_")),
                esc(&v)
            );
        }
    };
    fact("status", text("status"));
    fact("extracted answer", text("predicted_answer"));
    fact("expected answer", text("expected_answer"));
    fact(
        "grader verdict",
        text("is_correct").or_else(|| text("symbolic_correct")),
    );
    fact("grade status", text("grade_status"));
    fact("grade reason", text("grade_reason"));
    fact("grader error", text("grader_error"));
    fact("judge status", text("judge_status"));
    fact(
        "judge verdict",
        rec.get("judgement").and_then(Value::as_str).map(|j| {
            format!(
                "{:?}",
                tally_core::judgement::parse_verdict(j, tally_core::judgement::ParseMode::Default)
            )
        }),
    );
    fact(
        "tokens",
        rec.get("num_generated_tokens")
            .and_then(Value::as_f64)
            .map(num),
    );
    fact(
        "time (s)",
        rec.get("generation_time").and_then(Value::as_f64).map(num),
    );
    fact("error", text("error"));
    fact("file", Some(format!("{}:{}", f.path.display(), s.line)));
    out.push_str("</dl>");
    let section = |out: &mut String, title: &str, class: &str, body: &str, tex: bool| {
        let (shown, cut) = match text_cap {
            Some(cap) if body.len() > cap => (cut_at(body, cap), true),
            _ => (body, false),
        };
        let inner = if tex {
            model_text(shown)
        } else {
            format!("<pre>{}</pre>", esc(shown))
        };
        let _ = write!(out, "<h3>{title}</h3><section class=\"{class}\">{inner}");
        if cut {
            let _ = write!(
                out,
                "<p class=\"note cut\">(cut: {} of {} bytes shown)</p>",
                shown.len(),
                body.len()
            );
        }
        out.push_str("</section>");
    };
    if let Some(t) = rec.get("problem").and_then(Value::as_str) {
        section(&mut out, "Problem", "problem-text", t, true);
    }
    for key in ["prompt", "input"] {
        if let Some(t) = rec.get(key).and_then(Value::as_str) {
            section(&mut out, "Prompt sent", "prompt", t, false);
        }
    }
    if let Some(m) = rec.get("messages") {
        section(
            &mut out,
            "Prompt sent (messages)",
            "prompt",
            &serde_json::to_string_pretty(m).unwrap_or_default(),
            false,
        );
    }
    match rec.get("generation").and_then(Value::as_str) {
        Some(g) => section(&mut out, "Generation", "generation", g, true),
        None => out.push_str("<h3>Generation</h3><p class=\"note\">none (the request failed)</p>"),
    }
    if let Some(j) = rec.get("judgement").and_then(Value::as_str) {
        section(&mut out, "Judge", "judgement", j, true);
    }
    out
}

/// The longest prefix of `s` of at most `cap` bytes that ends on a character boundary.
pub fn cut_at(s: &str, cap: usize) -> &str {
    let mut end = cap.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}
