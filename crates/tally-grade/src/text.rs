//! String-level clean-up shared by the Tally policy and the canonical form.

/// Removes the wrapping a model puts around an answer: `$…$`, `\(…\)`, `\[…\]`, a whole
/// `\boxed{…}`, a trailing full stop.
pub(crate) fn clean_answer(s: &str) -> String {
    // `56,\\!017` groups digits; keep it a separator before `\\!` is dropped below.
    let mut a = s.trim().replace(",\\!", "{,}");
    // Each round peels one layer and costs a pass over the text: bounded, so 15,000 nested
    // `\(` cannot take seconds (no real answer has 64 layers of wrapping).
    for _ in 0..64 {
        let before = a.clone();
        for (l, r) in [("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")] {
            if a.len() >= l.len() + r.len() && a.starts_with(l) && a.ends_with(r) {
                a = a[l.len()..a.len() - r.len()].trim().to_string();
            }
        }
        for cmd in ["\\boxed{", "\\fbox{", "\\displaystyle{"] {
            if a.starts_with(cmd) && a.ends_with('}') && whole_group(&a[cmd.len() - 1..]) {
                a = a[cmd.len()..a.len() - 1].trim().to_string();
            }
        }
        for p in ["\\displaystyle", "\\,", "\\!", "\\;", "\\quad"] {
            a = a.replace(p, " ");
        }
        let keep_dots = a.trim_end().ends_with("...");
        a = a
            .trim()
            .trim_end_matches(|c| (c == '.' && !keep_dots) || c == '\\' || c == '$')
            .trim_end_matches("\\,")
            .trim()
            .to_string();
        a = a.trim_start_matches('$').trim().to_string();
        if a == before {
            break;
        }
    }
    a
}

/// True when `s` starts with `{` and its matching `}` is the last character.
pub(crate) fn whole_group(s: &str) -> bool {
    let mut depth = 0i64;
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return i == s.len() - 1;
                }
            }
            _ => {}
        }
    }
    false
}

/// Replaces `\name{X}` by `X` for presentation commands (brace-matched).
pub(crate) fn unwrap_cmds(s: &str, names: &[&str]) -> String {
    // Braces paired once for the whole text: finding each command's closing brace by a scan
    // to the end made a text of many unclosed `\mathrm{` quadratic.
    let pairs = brace_pairs(s);
    let mut out = String::with_capacity(s.len());
    let mut pos = 0;
    'scan: while let Some(k) = s[pos..].find('\\') {
        let i = pos + k;
        out.push_str(&s[pos..i]);
        let tail = &s[i..];
        for n in names {
            if let Some(after) = tail.strip_prefix(n) {
                let after_trim = after.trim_start();
                let skip = after.len() - after_trim.len();
                if after_trim.starts_with('{') && !after[..skip].contains('\n') {
                    let open = i + n.len() + skip;
                    if let Ok(j) = pairs.binary_search_by_key(&open, |p| p.0) {
                        let close = pairs[j].1;
                        out.push_str(&s[open + 1..close]);
                        pos = close + 1;
                        continue 'scan;
                    }
                }
            }
        }
        out.push('\\');
        pos = i + 1;
    }
    out.push_str(&s[pos..]);
    out
}

/// Every `{` with its matching `}` (plain depth counting), sorted by the opening brace.
fn brace_pairs(s: &str) -> Vec<(usize, usize)> {
    let mut stack = Vec::new();
    let mut pairs = Vec::new();
    for (i, b) in s.bytes().enumerate() {
        match b {
            b'{' => stack.push(i),
            b'}' => {
                if let Some(o) = stack.pop() {
                    pairs.push((o, i));
                }
            }
            _ => {}
        }
    }
    pairs.sort_unstable();
    pairs
}

/// A key that is equal for answers that differ only in presentation: spacing, case,
/// `\text{}`/`\mathrm{}` wrappers, `\left`/`\right`, `\dfrac`.
pub(crate) fn text_key(s: &str) -> String {
    let s = unwrap_cmds(
        s,
        &[
            "\\text",
            "\\textbf",
            "\\textit",
            "\\textnormal",
            "\\mathrm",
            "\\mathbf",
            "\\mbox",
            "\\operatorname",
        ],
    );
    let s = s
        .replace("\\left", "")
        .replace("\\right", "")
        .replace("\\dfrac", "\\frac")
        .replace("\\tfrac", "\\frac")
        .replace("\\displaystyle", "")
        .replace("\\,", "")
        .replace("\\!", "")
        .replace("\\;", "")
        .replace("\\ ", "")
        .replace('$', "");
    let mut k: String = s
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_lowercase();
    while k.ends_with('.') {
        k.pop();
    }
    if k.starts_with('{') && whole_group(&k) {
        k = k[1..k.len() - 1].to_string();
    }
    k
}

/// Rewrites that only change how an answer is written, before parsing: circled digits become
/// a list (`①④` → `1, 4`), and a trailing quantifier clause is dropped (`f(x) = 0 \text{ for
/// all real } x` → `f(x) = 0`).
pub(crate) fn normalize_written(s: &str) -> String {
    if s.is_ascii()
        && !s.starts_with('\\')
        && !(s.contains("for") || s.contains("For") || s.contains("where") || s.contains("Where"))
    {
        return s.to_string();
    }
    let s = circled_digits(s);
    // `\approx 2.236`: a leading sign of approximation only says how the value was found.
    let s = ["\\approx", "≈", "\\sim"]
        .iter()
        .find_map(|p| s.trim_start().strip_prefix(p))
        .map_or(s.as_str(), str::trim_start)
        .to_string();
    strip_qualifier(&s).to_string()
}

fn circled(c: char) -> Option<u32> {
    match c {
        '①'..='⑳' => Some(c as u32 - '①' as u32 + 1),
        _ => None,
    }
}

fn circled_digits(s: &str) -> String {
    if !s.chars().any(|c| circled(c).is_some()) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 8);
    let mut prev_circled = false;
    for c in s.chars() {
        match circled(c) {
            Some(n) => {
                if prev_circled {
                    out.push_str(", ");
                }
                out.push_str(&n.to_string());
                prev_circled = true;
            }
            None => {
                out.push(c);
                prev_circled = false;
            }
        }
    }
    out
}

/// Clauses that qualify an answer without changing it: `for all real x`, `where c is a
/// constant`, `\forall x`.
const QUALIFIERS: &[&str] = &[
    "for all",
    "for every",
    "for any",
    "for each",
    "for some",
    "where ",
    "\\forall",
];

fn strip_qualifier(s: &str) -> &str {
    if !(s.contains("for") || s.contains("For") || s.contains("where") || s.contains("Where")) {
        return s;
    }
    let lower = s.to_ascii_lowercase();
    let mut cut = None;
    for q in QUALIFIERS {
        let mut from = 0;
        while let Some(k) = lower[from..].find(q) {
            let at = from + k;
            from = at + q.len();
            // A whole word, inside or outside `\text{…}`, after some mathematics.
            let before = lower[..at].trim_end();
            let word_start = at == 0
                || !lower[..at]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_ascii_alphabetic());
            if !word_start || before.is_empty() {
                continue;
            }
            let start = before
                .strip_suffix("\\text{")
                .or_else(|| before.strip_suffix("\\mbox{"))
                .or_else(|| before.strip_suffix("\\textrm{"))
                .map_or(at, |b| b.len());
            let head = s[..start].trim_end();
            if head.is_empty() || head.ends_with("\\text{") || !pure_quantifier(&lower[at..]) {
                continue;
            }
            cut = Some(cut.map_or(start, |c: usize| c.min(start)));
            break;
        }
    }
    match cut {
        Some(c) => s[..c]
            .trim_end()
            .trim_end_matches([',', ';'])
            .trim_end_matches("\\quad")
            .trim_end_matches("\\qquad")
            .trim_end_matches("\\,")
            .trim_end(),
        None => s,
    }
}

/// Words a quantifier clause may use when it only ranges over the answer's variables or
/// constants (`for all real x`, `where c is any real constant`); anything else (a number, a
/// relation, `iff`) carries meaning and is kept.
const QUANTIFIER_WORDS: &[&str] = &[
    "for",
    "all",
    "every",
    "any",
    "each",
    "some",
    "where",
    "forall",
    "real",
    "reals",
    "integer",
    "integers",
    "natural",
    "rational",
    "complex",
    "number",
    "numbers",
    "value",
    "values",
    "of",
    "is",
    "are",
    "a",
    "an",
    "arbitrary",
    "constant",
    "constants",
    "in",
    "mathbb",
    "text",
    "and",
    "r",
    "z",
    "q",
    "n",
    "c",
];

fn pure_quantifier(tail: &str) -> bool {
    let mut letters = 0;
    for w in tail.split(|c: char| !c.is_ascii_alphanumeric()) {
        if w.is_empty() {
            continue;
        }
        if w.len() == 1 && w.chars().all(|c| c.is_ascii_alphabetic()) {
            letters += 1;
            continue;
        }
        if !QUANTIFIER_WORDS.contains(&w) {
            return false;
        }
    }
    letters <= 3
        && tail.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, ' ' | '\\' | '{' | '}' | ',' | '.' | '$' | '~')
        })
}
