//! HTML building blocks: escaping, the page shell (with KaTeX linked or inlined), and model text
//! with its code blocks and their outputs.

use std::fmt::Write;

pub const KATEX_JS: &str = include_str!("../assets/katex/katex.min.js");
pub const KATEX_CSS: &str = include_str!("../assets/katex/katex.min.css");
pub const VIEW_JS: &str = include_str!("../assets/view.js");
pub const VIEW_CSS: &str = include_str!("../assets/view.css");

/// Escapes text for an HTML element or a quoted attribute.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes a URL query value.
pub fn url_enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Where the page's scripts and styles come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assets {
    /// Served by the viewer under `/static/`.
    Linked,
    /// Inlined into the page (the self-contained report).
    Inline,
}

/// A whole page.
pub fn page(title: &str, body: &str, assets: Assets) -> String {
    let head = match assets {
        Assets::Linked => "<link rel=\"stylesheet\" href=\"/static/katex.min.css\">\n<link rel=\"stylesheet\" href=\"/static/view.css\">\n<script src=\"/static/katex.min.js\"></script>\n<script src=\"/static/view.js\"></script>".to_string(),
        Assets::Inline => format!(
            "<style>{KATEX_CSS}</style>\n<style>{VIEW_CSS}</style>\n<script>{}</script>\n<script>{VIEW_JS}</script>",
            // A literal `</script` inside the library would end the element early.
            KATEX_JS.replace("</script", "<\\/script")
        ),
    };
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n{head}\n</head>\n<body>\n{body}\n</body></html>\n",
        esc(title)
    )
}

/// Model text: prose (LaTeX rendered in the browser) with fenced code blocks shown as code and
/// ```` ```output ```` blocks shown as the sandbox's output.
pub fn model_text(text: &str) -> String {
    let mut out = String::from("<div class=\"model-text\">");
    let mut rest = text;
    while let Some(at) = rest.find("```") {
        push_prose(&mut out, &rest[..at]);
        let after = &rest[at + 3..];
        let (lang, body_start) = match after.find('\n') {
            Some(nl) if after[..nl].chars().all(|c| c.is_alphanumeric() || c == '_') => {
                (&after[..nl], nl + 1)
            }
            _ => ("", 0),
        };
        let body = &after[body_start..];
        let (code, next) = match body.find("```") {
            Some(end) => (&body[..end], &body[end + 3..]),
            None => (body, ""),
        };
        let class = if lang == "output" {
            "code-output"
        } else {
            "code"
        };
        let _ = write!(
            out,
            "<figure class=\"{class}\"><figcaption>{}</figcaption><pre><code>{}</code></pre></figure>",
            esc(if lang.is_empty() { "code" } else { lang }),
            esc(code.trim_end_matches('\n'))
        );
        rest = next;
    }
    push_prose(&mut out, rest);
    out.push_str("</div>");
    out
}

fn push_prose(out: &mut String, s: &str) {
    if !s.trim().is_empty() {
        let _ = write!(out, "<div class=\"prose tex\">{}</div>", esc(s));
    }
}

/// A number shown compactly (`12`, `1.25`).
pub fn num(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_and_output_blocks_are_separated_from_prose() {
        let html = model_text(
            "Let $x<1$.\n```python\nprint(1<2)\n```\n```output\nTrue\n```\nSo \\boxed{1}.",
        );
        assert!(html.contains("<figure class=\"code\"><figcaption>python</figcaption><pre><code>print(1&lt;2)</code>"), "{html}");
        assert!(html.contains("<figure class=\"code-output\"><figcaption>output</figcaption><pre><code>True</code>"), "{html}");
        assert!(html.contains("Let $x&lt;1$."), "{html}");
        assert!(html.contains("So \\boxed{1}."), "{html}");
        // An unclosed fence keeps its text.
        assert!(model_text("a ```python\nx").contains("x</code>"));
    }
}
