//! String-level clean-up shared by the Tally policy and the canonical form.

/// Removes the wrapping a model puts around an answer: `$…$`, `\(…\)`, `\[…\]`, a whole
/// `\boxed{…}`, a trailing full stop.
pub(crate) fn clean_answer(s: &str) -> String {
    // `56,\\!017` groups digits; keep it a separator before `\\!` is dropped below.
    let mut a = s.trim().replace(",\\!", "{,}");
    loop {
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
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    'scan: while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        for n in names {
            if let Some(after) = tail.strip_prefix(n) {
                let after_trim = after.trim_start();
                if after_trim.starts_with('{')
                    && !after[..after.len() - after_trim.len()].contains('\n')
                {
                    let skip = after.len() - after_trim.len();
                    let mut depth = 0;
                    for (k, c) in after_trim.char_indices() {
                        match c {
                            '{' => depth += 1,
                            '}' => {
                                depth -= 1;
                                if depth == 0 {
                                    out.push_str(&after_trim[1..k]);
                                    rest = &after_trim[k + 1..];
                                    let _ = skip;
                                    continue 'scan;
                                }
                            }
                            _ => {}
                        }
                    }
                }
            }
        }
        out.push('\\');
        rest = &tail[1..];
    }
    out.push_str(rest);
    out
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
