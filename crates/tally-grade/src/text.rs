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
fn unwrap_cmds(s: &str, names: &[&str]) -> String {
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
