//! Reading an answer out of free text (pair mode, `extract_fallback`): the anchors and
//! candidates a reader would use — "final answer is X", "Answer: … X", the last math
//! segment, the last number or arithmetic expression — ranked by how explicit the anchor is
//! and, within one rank, by position (last wins).

/// One answer candidate: its byte span in the text and the answer string it stands for.
#[derive(Clone, Debug)]
pub(crate) struct Cand {
    pub start: usize,
    pub end: usize,
    pub text: String,
}

/// Words introducing an answer, in the languages the public test suites use.
const ANSWER_WORDS: &[&str] = &[
    "answer",
    "réponse",
    "reponse",
    "respuesta",
    "antwort",
    "resposta",
    "risposta",
    "ответ",
    "答案",
    "答",
    "الإجابة",
    "الجواب",
    "उत्तर",
];

const CURRENCY: &[char] = &['$', '€', '£', '¥', '₹', '₽', '₩'];

fn is_op(c: char) -> bool {
    matches!(c, '+' | '-' | '*' | '×' | '/' | '^' | '(' | ')' | '÷')
}

fn is_expr_char(c: char) -> bool {
    c.is_ascii_digit() || c == '.' || c == ' ' || is_op(c)
}

/// Math segments: `$$…$$`, `\[…\]`, `$…$` and `\(…\)` (one line), in text order.
pub(crate) fn math_envs(text: &str) -> Vec<Cand> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let escaped = i > 0 && b[i - 1] == b'\\';
        let (open, close, one_line): (&str, &str, bool) = if b[i..].starts_with(b"$$") && !escaped {
            ("$$", "$$", false)
        } else if b[i..].starts_with(b"\\[") && !escaped {
            ("\\[", "\\]", false)
        } else if b[i..].starts_with(b"\\(") && !escaped {
            ("\\(", "\\)", true)
        } else if b[i..].starts_with(b"\\frac{") || b[i..].starts_with(b"-\\frac{") {
            if let Some(c) = simple_frac(text, i) {
                i = c.end;
                out.push(c);
            } else {
                i += 1;
            }
            continue;
        } else if b[i] == b'$' && !escaped && !(i > 0 && b[i - 1].is_ascii_digit()) {
            ("$", "$", true)
        } else {
            i += 1;
            continue;
        };
        let body = i + open.len();
        let mut j = body;
        let mut found = None;
        while j < b.len() {
            if one_line && b[j] == b'\n' {
                break;
            }
            if b[j..].starts_with(close.as_bytes()) && b[j - 1] != b'\\' {
                found = Some(j);
                break;
            }
            j += 1;
        }
        match found {
            Some(e) if e > body => {
                out.push(Cand {
                    start: i,
                    end: e + close.len(),
                    text: text[body..e].trim().to_string(),
                });
                i = e + close.len();
            }
            _ => i += open.len(),
        }
    }
    out
}

/// `\frac{a}{b}` with plain numbers, outside any math segment.
fn simple_frac(text: &str, i: usize) -> Option<Cand> {
    let neg = text[i..].starts_with('-');
    let s = i + usize::from(neg) + "\\frac{".len();
    let close1 = s + text[s..].find('}')?;
    let a = &text[s..close1];
    let rest = &text[close1 + 1..];
    let b_start = rest.strip_prefix('{')?;
    let close2 = b_start.find('}')?;
    let b = &b_start[..close2];
    let ok = |x: &str| {
        !x.is_empty()
            && x.chars()
                .all(|c| c.is_ascii_digit() || c == '.' || c == ',')
    };
    if !ok(a) || !ok(b) {
        return None;
    }
    let end = close1 + 2 + close2 + 1;
    Some(Cand {
        start: i,
        end,
        text: text[i..end].to_string(),
    })
}

/// Plain numbers and arithmetic expressions outside LaTeX: `1,234.5`, `0,30`, `25%`, `2/3`,
/// `100 - 30`. A candidate must start the text, follow a space, `=` or `**`, or a currency
/// sign in such a place, so `XDY2K` gives nothing.
pub(crate) fn numbers(text: &str) -> Vec<Cand> {
    let ch: Vec<(usize, char)> = text.char_indices().collect();
    let n = ch.len();
    let at = |k: usize| ch.get(k).map(|x| x.1);
    let pos = |k: usize| ch.get(k).map_or(text.len(), |x| x.0);
    let mut out = Vec::new();
    let mut k = 0;
    while k < n {
        let prev_ok = k == 0
            || matches!(at(k - 1), Some(c) if c.is_whitespace() || c == '=' || is_cjk(c))
            || (k >= 2 && at(k - 1) == Some('*') && at(k - 2) == Some('*'));
        if !prev_ok {
            k += 1;
            continue;
        }
        let mut s = k;
        if at(s).is_some_and(|c| CURRENCY.contains(&c)) {
            s += 1;
        }
        if at(s) == Some('+') && at(s + 1).is_some_and(|c| c.is_ascii_digit()) {
            s += 1;
        }
        // An expression: optional `-`/`(`, a digit, then expression characters with at least
        // one operator.
        let mut e = s;
        if at(e) == Some('-') {
            e += 1;
        }
        if at(e) == Some('(') {
            e += 1;
        }
        if at(e) == Some('-') {
            e += 1;
        }
        if !at(e).is_some_and(|c| c.is_ascii_digit() || c == '.') {
            k += 1;
            continue;
        }
        let digit_start = e;
        while e < n && at(e).is_some_and(is_expr_char) && at(e) != Some('\n') {
            e += 1;
        }
        // Trim to a clean end: no trailing spaces, dots or dangling operators.
        while e > digit_start
            && at(e - 1).is_some_and(|c| c == ' ' || c == '.' || (is_op(c) && c != ')'))
        {
            e -= 1;
        }
        // Balance parentheses by trimming unmatched closers at the end.
        loop {
            let seg: String = ch[s..e].iter().map(|x| x.1).collect();
            let opens = seg.matches('(').count();
            let closes = seg.matches(')').count();
            if closes > opens && seg.ends_with(')') {
                e -= 1;
            } else {
                break;
            }
        }
        let seg: String = ch[s..e].iter().map(|x| x.1).collect();
        let body = seg.trim_start_matches('-');
        let has_op = body
            .chars()
            .skip(1)
            .any(|c| is_op(c) && c != '(' && c != ')')
            && !is_number_text(&seg);
        if has_op {
            let (pct, e_pct) = percent_after(&ch, e);
            if pct || suffix_ok(at(e)) {
                let t = seg.trim().to_string();
                out.push(Cand {
                    start: pos(k),
                    end: pos(e_pct),
                    text: if pct { format!("({t})/100") } else { t },
                });
                k = e_pct.max(k + 1);
                continue;
            }
        }
        // A number.
        let (num, e2) = read_number(&ch, s);
        if num.is_empty() {
            k += 1;
            continue;
        }
        let (pct, e3) = percent_after(&ch, e2);
        out.push(Cand {
            start: pos(k),
            end: pos(e3),
            // In prose a percent is the value it denotes: `25%` → 25/100.
            text: if pct { format!("{num}/100") } else { num },
        });
        k = e3.max(k + 1);
    }
    out
}

/// A percent sign or word right after index `e` (spaces allowed): (found, end index).
fn percent_after(ch: &[(usize, char)], e: usize) -> (bool, usize) {
    let mut j = e;
    while ch.get(j).is_some_and(|x| x.1 == ' ') {
        j += 1;
    }
    let rest: String = ch[j.min(ch.len())..].iter().take(10).map(|x| x.1).collect();
    let lower = rest.to_lowercase();
    for w in ["%", "\\%", "percentage", "percent", "pct"] {
        if lower.starts_with(w) {
            return (true, j + w.chars().count());
        }
    }
    (false, e)
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3000..=0x303F | 0x3400..=0x9FFF | 0xFF00..=0xFFEF)
}

fn suffix_ok(c: Option<char>) -> bool {
    match c {
        None => true,
        Some(c) => c.is_whitespace() || matches!(c, '.' | ',' | ':' | ')' | '$' | '*'),
    }
}

fn is_number_text(s: &str) -> bool {
    let t = s.trim_start_matches('-');
    !t.is_empty()
        && t.chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == ',')
}

/// Reads `-1,234.5`, `1 234`, `1000,99` (decimal comma), `.5`, `12` at `s`; returns the
/// number in plain form (grouping removed, decimal point) and the end index.
fn read_number(ch: &[(usize, char)], s: usize) -> (String, usize) {
    let at = |k: usize| ch.get(k).map(|x| x.1);
    let mut i = s;
    let mut out = String::new();
    if at(i) == Some('-') {
        out.push('-');
        i += 1;
    }
    let d0 = i;
    while at(i).is_some_and(|c| c.is_ascii_digit()) {
        i += 1;
    }
    let int_len = i - d0;
    if int_len == 0 {
        if at(i) == Some('.') && at(i + 1).is_some_and(|c| c.is_ascii_digit()) {
            let mut j = i + 1;
            while at(j).is_some_and(|c| c.is_ascii_digit()) {
                j += 1;
            }
            out.push_str("0.");
            out.extend(ch[i + 1..j].iter().map(|x| x.1));
            return (out, j);
        }
        return (String::new(), s);
    }
    out.extend(ch[d0..i].iter().map(|x| x.1));
    // Thousands groups (`1,234,567`, `1 234`) when the first group has 1–3 digits.
    let mut grouped = false;
    if int_len <= 3 && at(d0) != Some('0') {
        loop {
            let sep = at(i);
            let three = (1..=3).all(|d| at(i + d).is_some_and(|c| c.is_ascii_digit()))
                && !at(i + 4).is_some_and(|c| c.is_ascii_digit());
            if matches!(sep, Some(',') | Some(' ')) && three {
                out.extend(ch[i + 1..i + 4].iter().map(|x| x.1));
                i += 4;
                grouped = true;
            } else {
                break;
            }
        }
    }
    // Decimal part: `.5`, or `,5` (decimal comma) when no grouping was read.
    if (at(i) == Some('.') || (at(i) == Some(',') && !grouped))
        && at(i + 1).is_some_and(|c| c.is_ascii_digit())
    {
        let mut j = i + 1;
        while at(j).is_some_and(|c| c.is_ascii_digit()) {
            j += 1;
        }
        out.push('.');
        out.extend(ch[i + 1..j].iter().map(|x| x.1));
        i = j;
    }
    (out, i)
}

/// Byte offsets of every case-insensitive occurrence of an answer word.
pub(crate) fn answer_words(text: &str) -> Vec<(usize, usize)> {
    let lower = text.to_lowercase();
    if lower.len() != text.len() {
        // Lowercasing changed byte lengths (rare scripts): match case-sensitively instead.
        return find_words(text, text);
    }
    find_words(&lower, text)
}

fn find_words(hay: &str, _orig: &str) -> Vec<(usize, usize)> {
    let mut v = Vec::new();
    for w in ANSWER_WORDS {
        let mut from = 0;
        while let Some(i) = hay[from..].find(w) {
            let s = from + i;
            v.push((s, s + w.len()));
            from = s + w.len();
        }
    }
    v.sort();
    v
}

/// The case-insensitive occurrences of `phrase` (ASCII) as byte offsets.
pub(crate) fn find_ci(text: &str, phrase: &str) -> Vec<usize> {
    let lower = text.to_ascii_lowercase();
    lower.match_indices(phrase).map(|(i, _)| i).collect()
}
