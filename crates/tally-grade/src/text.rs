//! String-level clean-up shared by the Tally policy and the canonical form.

/// Removes the wrapping a model puts around an answer: `$…$`, `\(…\)`, `\[…\]`, a whole
/// `\boxed{…}`, a trailing full stop.
pub(crate) fn clean_answer(s: &str) -> String {
    let s = chinese_marks(s);
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
        && !(s.contains("for")
            || s.contains("For")
            || s.contains("where")
            || s.contains("Where")
            || s.contains("\\overline")
            || s.contains("\\in")
            || s.contains("\\mapsto")
            || s.contains("\\mp")
            || s.contains(" (")
            || (s.contains('.') && s.contains('('))
            || s.contains("\\dot")
            || s.contains(':')
            || s.contains('\''))
    {
        return s.to_string();
    }
    let s = repeating_decimals(&circled_digits(&answer_prefix_in_text(s)));
    let s = quantity_label(&s).map_or(s.clone(), str::to_string);
    let s = labels_joined_by_and(&s).unwrap_or(s);
    let s = degrees_minutes(&s).unwrap_or(s);
    let s = crate::maps::as_rule(&s).unwrap_or(s);
    let s = crate::plusminus::correlated_signs(&s).unwrap_or(s);
    let s = strip_remark(&s).map_or(s.clone(), str::to_string);
    let s = condition_for(&s);
    let s = segment_name(&s).map_or(s.clone(), str::to_string);
    // `\approx 2.236`: a leading sign of approximation only says how the value was found.
    let s = ["\\approx", "≈", "\\sim"]
        .iter()
        .find_map(|p| s.trim_start().strip_prefix(p))
        .map_or(s.as_str(), str::trim_start)
        .to_string();
    strip_integer_index(strip_qualifier(&s)).to_string()
}

/// `30^\circ 30'` (and `30^\circ 30' 15''`) → `(30 + \frac{30}{60})^\circ`: minutes and seconds
/// of arc as the exact fraction of a degree they are.
fn degrees_minutes(s: &str) -> Option<String> {
    use regex::Regex;
    use std::sync::OnceLock;
    static RE: OnceLock<Regex> = OnceLock::new();
    if !s.contains("circ") || !(s.contains('\'') || s.contains("prime")) {
        return None;
    }
    let re = RE.get_or_init(|| {
        Regex::new(
            r#"(\d+(?:\.\d+)?)\s*\^\s*\{?\s*\\circ\s*\}?\s*(\d+(?:\.\d+)?)\s*(?:'|\^\s*\{?\s*\\prime\s*\}?)(?:\s*(\d+(?:\.\d+)?)\s*(?:''|"|\^\s*\{?\s*\\prime\s*\\prime\s*\}?))?"#,
        )
        .unwrap()
    });
    let out = re.replace_all(s, |c: &regex::Captures| {
        let sec = c
            .get(3)
            .map(|x| format!(" + \\frac{{{}}}{{3600}}", x.as_str()))
            .unwrap_or_default();
        format!("({} + \\frac{{{}}}{{60}}{sec})^\\circ", &c[1], &c[2])
    });
    (out != s).then(|| out.into_owned())
}

/// Chinese exam answers: full-width brackets and punctuation as ASCII, 或 ("or") and 且 ("and")
/// as the connectives, 不存在 as "does not exist", and a measure word or unit after a number
/// (`30元`, `6种`, `5个`) dropped.
fn chinese_marks(s: &str) -> std::borrow::Cow<'_, str> {
    if s.is_ascii() {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut t = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '（' => t.push('('),
            '）' => t.push(')'),
            '，' | '、' => t.push(','),
            '；' => t.push(';'),
            '：' => t.push(':'),
            '【' => t.push('['),
            '】' => t.push(']'),
            '或' => t.push_str(" \\text{ or } "),
            '且' => t.push_str(" \\text{ and } "),
            _ => t.push(c),
        }
    }
    let t = t.replace("不存在", "\\text{does not exist}");
    // Measure words and units after a number, at the end of the answer.
    const UNITS: &[&str] = &[
        "平方厘米",
        "平方米",
        "立方米",
        "千米",
        "厘米",
        "毫米",
        "千克",
        "分钟",
        "小时",
        "元",
        "种",
        "个",
        "人",
        "次",
        "天",
        "岁",
        "米",
        "克",
        "秒",
        "本",
        "只",
        "条",
        "件",
        "支",
        "张",
        "辆",
        "块",
        "名",
        "位",
        "道",
        "组",
        "对",
        "项",
        "头",
        "棵",
        "盒",
        "瓶",
        "度",
    ];
    let trimmed = t.trim_end();
    for u in UNITS {
        if let Some(head) = trimmed.strip_suffix(u) {
            if head
                .trim_end()
                .ends_with(|c: char| c.is_ascii_digit() || c == '}')
            {
                return std::borrow::Cow::Owned(head.trim_end().to_string());
            }
        }
    }
    std::borrow::Cow::Owned(t)
}

/// `\text{maximum } 5 \text{ and minimum } -1` → `\text{maximum } 5, \text{minimum } -1`: two
/// labelled values joined by "and" are a list of the two.
fn labels_joined_by_and(s: &str) -> Option<String> {
    if !s.contains("\\text{") || !s.contains("and ") {
        return None;
    }
    let mut out = String::with_capacity(s.len() + 4);
    let mut rest = s;
    let mut changed = false;
    while let Some(k) = rest.find("\\text{") {
        let body_start = k + "\\text{".len();
        let Some(len) = rest[body_start..].find('}') else {
            break;
        };
        let body = &rest[body_start..body_start + len];
        let label = body.trim_start().strip_prefix("and ").map(str::trim);
        let is_label = label.is_some_and(|l| {
            l.len() >= 3 && l.chars().all(|c| c.is_ascii_alphabetic() || c == ' ')
        });
        if is_label && (!out.is_empty() || !rest[..k].trim().is_empty()) {
            out.push_str(rest[..k].trim_end());
            out.push_str(", \\text{");
            out.push_str(label.unwrap_or_default());
            out.push_str(" }");
            changed = true;
        } else {
            out.push_str(&rest[..body_start + len + 1]);
        }
        rest = &rest[body_start + len + 1..];
    }
    out.push_str(rest);
    changed.then_some(out)
}

/// `\text{Range: } [0, 4]` → `[0, 4]`: a label naming what the whole answer is. Only words
/// that name one thing (not `Minimum:`, which labels one of several values).
fn quantity_label(s: &str) -> Option<&str> {
    const LABELS: &[&str] = &[
        "range",
        "the range",
        "domain",
        "the domain",
        "solution",
        "solutions",
        "solution set",
        "the solution set",
        "roots",
        "zeros",
        "result",
    ];
    let t = s.trim_start();
    let (inner, wrapped) = match t.strip_prefix("\\text{") {
        Some(r) => (r, true),
        None => (t, false),
    };
    let colon = inner.find(':')?;
    if !LABELS.contains(&inner[..colon].trim().to_ascii_lowercase().as_str()) {
        return None;
    }
    let mut rest = inner[colon + 1..].trim_start();
    if wrapped {
        rest = rest.strip_prefix('}')?.trim_start();
    }
    (!rest.is_empty() && !rest.contains(':')).then_some(rest)
}

/// `\text{Answer: A}` → `A`: the prefix names the answer, inside the text as outside it.
fn answer_prefix_in_text(s: &str) -> String {
    let Some(inner) = s
        .strip_prefix("\\text{")
        .filter(|_| s.ends_with('}') && whole_group(&s[5..]))
        .map(|x| &x[..x.len() - 1])
    else {
        return s.to_string();
    };
    let lower = inner.trim_start().to_ascii_lowercase();
    let offset = inner.len() - inner.trim_start().len();
    for p in [
        "the final answer is",
        "final answer:",
        "the answer is",
        "answer:",
    ] {
        if lower.starts_with(p) {
            let rest = inner[offset + p.len()..]
                .trim()
                .trim_end_matches('.')
                .trim();
            if rest.is_empty() {
                break;
            }
            return if rest.chars().filter(|c| c.is_ascii_alphabetic()).count() > 1 {
                format!("\\text{{{rest}}}")
            } else {
                rest.to_string()
            };
        }
    }
    s.to_string()
}

/// `5 \text{ (since } n \text{ must be odd)}`, `x = 2 (double root)`: a remark in brackets after
/// the answer, with words in it, is not part of the answer.
fn strip_remark(s: &str) -> Option<&str> {
    let body = s.trim_end().trim_end_matches('}').trim_end();
    if !body.ends_with(')') {
        return None;
    }
    // The `(` that the last `)` closes.
    let mut depth = 0;
    let open = body.char_indices().rev().find_map(|(i, c)| {
        match c {
            ')' => depth += 1,
            '(' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        None
    })?;
    let before = body[..open].trim_end();
    let spaced = before.len() < body[..open].len() || before.ends_with('{');
    let head = before.strip_suffix("\\text{").unwrap_or(before).trim_end();
    let remark = &body[open..];
    // A word of three letters or more that is not a command (`\infty`) or a function.
    let prose = remark
        .match_indices(|c: char| c.is_ascii_alphabetic())
        .any(|(i, _)| {
            let starts = i == 0 || !remark.as_bytes()[i - 1].is_ascii_alphabetic();
            let w: String = remark[i..]
                .chars()
                .take_while(char::is_ascii_alphabetic)
                .collect();
            starts
                && w.len() >= 3
                && !remark[..i].ends_with('\\')
                && !crate::lexer::FUNCS.contains(&w.as_str())
        });
    let balanced = head.matches('{').count() == head.matches('}').count();
    // Not after an operator, a relation or a command (`\cup (1, 2)` is one answer).
    let last_word: String = head
        .chars()
        .rev()
        .take_while(char::is_ascii_alphabetic)
        .collect();
    let after_command =
        !last_word.is_empty() && head[..head.len() - last_word.len()].ends_with('\\');
    let ends_clean = !after_command && !head.ends_with(|c: char| "+-*/=^_,(<>\\".contains(c));
    (spaced && prose && balanced && ends_clean && !head.is_empty()).then_some(head)
}

/// `f(x) = x^2 \text{ for } x \ge 0` → `f(x) = x^2, x \ge 0`: a condition after `for` is the same
/// condition after a comma (a quantifier, `for all x`, is another rule's).
fn condition_for(s: &str) -> String {
    for p in [
        "\\text{ for }",
        "\\text{for}",
        "\\text{ for}",
        "\\quad\\text{for}",
    ] {
        if let Some((head, tail)) = s.split_once(p) {
            let rel = ["<", ">", "\\le", "\\ge", "\\ne", "\\neq", "\\in"]
                .iter()
                .any(|r| tail.contains(r));
            let quantifier = tail
                .trim_start()
                .split(|c: char| !c.is_ascii_alphabetic())
                .find(|w| !w.is_empty())
                .is_some_and(|w| matches!(w, "all" | "every" | "any" | "each" | "some" | "text"));
            if rel && !quantifier && !head.trim().is_empty() {
                return format!("{}, {}", head.trim_end(), tail.trim_start());
            }
        }
    }
    s.to_string()
}

/// `\overline{AB}`: a segment named with its bar is the segment's name.
fn segment_name(s: &str) -> Option<&str> {
    let inner = s.trim().strip_prefix("\\overline{")?.strip_suffix('}')?;
    (inner.len() >= 2 && inner.len() <= 3 && inner.chars().all(|c| c.is_ascii_uppercase()))
        .then_some(inner)
}

/// `x = \frac{\pi}{2} + k\pi, k \in \mathbb{Z}`: a trailing clause saying an index is an
/// integer (or a constant real: `x^2 + C, C \in \mathbb{R}`) qualifies the answer without
/// changing it.
fn strip_integer_index(s: &str) -> &str {
    let t = s.trim_end().trim_end_matches(['.', ')']);
    let Some(head) = [
        "\\mathbb{Z}",
        "\\mathbb Z",
        "\\Bbb{Z}",
        "\\Bbb Z",
        "\\mathbf{Z}",
        "ℤ",
        "\\mathbb{R}",
        "\\mathbb R",
        "\\Bbb{R}",
        "\\mathbf{R}",
        "ℝ",
    ]
    .iter()
    .find_map(|z| t.strip_suffix(z)) else {
        return s;
    };
    let Some(head) = head.trim_end().strip_suffix("\\in") else {
        return s;
    };
    let head = head.trim_end();
    let Some(name) = head.chars().next_back().filter(|c| c.is_ascii_alphabetic()) else {
        return s;
    };
    let head = head[..head.len() - 1].trim_end();
    if head.ends_with(|c: char| c.is_ascii_alphanumeric()) {
        return s;
    }
    let head = head
        .trim_end_matches('(')
        .trim_end()
        .trim_end_matches('\\')
        .trim_end_matches("\\text{ for }")
        .trim_end_matches("\\text{for}")
        .trim_end_matches("\\quad")
        .trim_end_matches("\\qquad")
        .trim_end()
        .trim_end_matches([',', ';'])
        .trim_end();
    // The rest must still use the index, or the clause was the answer itself.
    let uses = head.char_indices().any(|(i, c)| {
        c == name && !head[..i].ends_with(|p: char| p.is_ascii_alphabetic() || p == '\\')
    });
    if head.is_empty() || !uses {
        return s;
    }
    head
}

/// `0.1\overline{6}` → `\frac{1}{6}`: a repeating decimal is an exact rational, written so
/// the parser reads it as one (a bar over digits means nothing else after a decimal point).
/// Digit runs longer than 30 are left alone (the value would not fit the exact arithmetic here).
/// `0.(3)`, `0.1(6)` and `0.\\dot{3}`: the other ways to mark a repeating block, written as
/// `\\overline{…}` for the rule below. A bracket only counts right after a decimal's digits and
/// holding digits alone.
fn repeat_in_parens(s: &str) -> Option<String> {
    if !(s.contains('.') && (s.contains('(') || s.contains("\\dot{"))) {
        return None;
    }
    let mut out = String::with_capacity(s.len() + 16);
    let b = s.as_bytes();
    let mut i = 0;
    let mut changed = false;
    // Whether the text just before `i` is a decimal's fractional digits (`0.` or `0.1`).
    let after_point = |i: usize| {
        let mut j = i;
        while j > 0 && b[j - 1].is_ascii_digit() {
            j -= 1;
        }
        j > 1 && b[j - 1] == b'.' && b[j - 2].is_ascii_digit()
    };
    while i < b.len() {
        let (open, close) = if b[i] == b'(' {
            ("(", ')')
        } else if s[i..].starts_with("\\dot{") {
            ("\\dot{", '}')
        } else {
            let c = s[i..].chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
            continue;
        };
        let body = i + open.len();
        let end = s[body..].find(close).map(|k| body + k);
        match end {
            Some(e)
                if e > body
                    && e - body <= 12
                    && s[body..e].bytes().all(|c| c.is_ascii_digit())
                    && after_point(i)
                    && !s[e + 1..].starts_with(|c: char| c.is_ascii_digit())
                    && (open == "(" || e - body == 1) =>
            {
                out.push_str("\\overline{");
                out.push_str(&s[body..e]);
                out.push('}');
                i = e + 1;
                changed = true;
            }
            _ => {
                out.push_str(open);
                i = body;
            }
        }
    }
    changed.then_some(out)
}

fn repeating_decimals(s: &str) -> String {
    const BAR: &str = "\\overline{";
    let parens = repeat_in_parens(s);
    let s = parens.as_deref().unwrap_or(s);
    if !s.contains(BAR) {
        return s.to_string();
    }
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut done = 0; // bytes of `s` already in `out`
    let mut from = 0;
    while let Some(k) = s[from..].find(BAR) {
        let bar = from + k;
        from = bar + BAR.len();
        // Digits before the bar: `I.A` (the point is required).
        let mut a0 = bar;
        while a0 > 0 && b[a0 - 1].is_ascii_digit() {
            a0 -= 1;
        }
        if a0 == 0 || b[a0 - 1] != b'.' {
            continue;
        }
        let mut i0 = a0 - 1;
        while i0 > 0 && b[i0 - 1].is_ascii_digit() {
            i0 -= 1;
        }
        if i0 < done {
            continue;
        }
        let Some(close) = s[from..].find('}').map(|c| from + c) else {
            break;
        };
        let (int, fixed, rep) = (&s[i0..a0 - 1], &s[a0..bar], s[from..close].trim());
        if rep.is_empty()
            || !rep.bytes().all(|c| c.is_ascii_digit())
            || int.len() + fixed.len() + rep.len() > 30
        {
            continue;
        }
        // x = I.A(R): x·10^a·(10^r − 1) = IAR − IA.
        let num = |t: &str| t.parse::<u128>().unwrap_or(0);
        let whole = num(&format!("{int}{fixed}{rep}")) - num(&format!("{int}{fixed}"));
        let den = (10u128.pow(rep.len() as u32) - 1) * 10u128.pow(fixed.len() as u32);
        out.push_str(&s[done..i0]);
        out.push_str(&format!("\\frac{{{whole}}}{{{den}}}"));
        done = close + 1;
        from = done;
    }
    out.push_str(&s[done..]);
    out
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
    "positive",
    "nonnegative",
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

#[cfg(test)]
mod tests {
    #[test]
    fn integer_index_clauses_and_answer_prefixes() {
        use super::{answer_prefix_in_text as a, quantity_label, strip_integer_index as z};
        assert_eq!(z("x = k\\pi, k \\in \\mathbb{Z}"), "x = k\\pi");
        assert_eq!(z("k\\pi \\text{ for } k \\in \\mathbb{Z}"), "k\\pi");
        assert_eq!(z("n\\pi\\ (n \\in \\mathbb{Z})"), "n\\pi");
        // The clause is the answer, or names an index the rest does not use: kept.
        assert_eq!(z("k \\in \\mathbb{Z}"), "k \\in \\mathbb{Z}");
        assert_eq!(z("2\\pi, k \\in \\mathbb{Z}"), "2\\pi, k \\in \\mathbb{Z}");
        assert_eq!(a("\\text{Answer: B}"), "B");
        assert_eq!(quantity_label("\\text{Range: } [0, 4]"), Some("[0, 4]"));
        assert_eq!(quantity_label("Domain: x > 1"), Some("x > 1"));
        assert_eq!(
            super::labels_joined_by_and("\\text{maximum } 5 \\text{ and minimum } -1").as_deref(),
            Some("\\text{maximum } 5, \\text{minimum } -1")
        );
        assert_eq!(super::labels_joined_by_and("2 \\text{ and } 3"), None);
        assert_eq!(super::chinese_marks("30元"), "30");
        assert_eq!(super::chinese_marks("（0，1]"), "(0,1]");
        assert_eq!(super::chinese_marks("a=1或a=2"), "a=1 \\text{ or } a=2");
        assert_eq!(
            super::degrees_minutes("30^\\circ 30'").as_deref(),
            Some("(30 + \\frac{30}{60})^\\circ")
        );
        assert_eq!(
            super::degrees_minutes("12^{\\circ} 5' 30''").as_deref(),
            Some("(12 + \\frac{5}{60} + \\frac{30}{3600})^\\circ")
        );
        assert_eq!(super::degrees_minutes("f'(30^\\circ)"), None);
        assert_eq!(quantity_label("\\text{Minimum: } 3"), None);
        assert_eq!(a("\\text{The answer is Monday.}"), "\\text{Monday}");
        assert_eq!(a("\\text{Answers vary}"), "\\text{Answers vary}");
    }

    #[test]
    fn remarks_after_the_answer_are_dropped() {
        use super::strip_remark as r;
        assert_eq!(r("5 \\text{ (since } n \\text{ must be odd)}"), Some("5"));
        assert_eq!(r("x = 2 (double root)"), Some("x = 2"));
        // Brackets that are part of the answer: intervals, calls, products, tuples.
        assert_eq!(r("(-\\infty, 1) \\cup (1, \\infty)"), None);
        assert_eq!(r("f(x) = 2 (x+1)"), None);
        assert_eq!(r("(1, 2)"), None);
        assert_eq!(r("2 (\\sqrt{3} + 1)"), None);
    }

    #[test]
    fn repeating_decimals_become_fractions() {
        use super::repeating_decimals as r;
        assert_eq!(r("0.\\overline{3}"), "\\frac{3}{9}");
        assert_eq!(r("0.(3)"), "\\frac{3}{9}");
        assert_eq!(r("0.1(6)"), "\\frac{15}{90}");
        assert_eq!(r("0.\\dot{3}"), "\\frac{3}{9}");
        // A bracket that is not a decimal's repeating block stays.
        assert_eq!(r("f(3)"), "f(3)");
        assert_eq!(r("2(3)"), "2(3)");
        assert_eq!(r("0.5(x+1)"), "0.5(x+1)");
        assert_eq!(r("0.1\\overline{6}"), "\\frac{15}{90}");
        assert_eq!(r("-2.\\overline{142857}"), "-\\frac{2142855}{999999}");
        assert_eq!(r("x = 0.\\overline{12}, 1"), "x = \\frac{12}{99}, 1");
        // Not after a decimal point: a bar means something else.
        assert_eq!(r("\\overline{AB}"), "\\overline{AB}");
        assert_eq!(r("3\\overline{z}"), "3\\overline{z}");
        assert_eq!(r("0.\\overline{}"), "0.\\overline{}");
    }
}
