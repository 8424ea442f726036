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
    let mut finders = [
        CloseFinder::new("$$", false),
        CloseFinder::new("\\]", false),
        CloseFinder::new("\\)", true),
        CloseFinder::new("$", true),
    ];
    let mut i = 0;
    while i < b.len() {
        let escaped = i > 0 && b[i - 1] == b'\\';
        let (open, kind) = if b[i..].starts_with(b"$$") && !escaped {
            ("$$", 0)
        } else if b[i..].starts_with(b"\\[") && !escaped {
            ("\\[", 1)
        } else if b[i..].starts_with(b"\\(") && !escaped {
            ("\\(", 2)
        } else if b[i..].starts_with(b"\\frac{") || b[i..].starts_with(b"-\\frac{") {
            if let Some(c) = simple_frac(text, i) {
                i = c.end;
                out.push(c);
            } else {
                i += 1;
            }
            continue;
        } else if b[i] == b'$' && !escaped && !(i > 0 && b[i - 1].is_ascii_digit()) {
            ("$", 3)
        } else {
            i += 1;
            continue;
        };
        let body = i + open.len();
        let close = finders[kind].close;
        match finders[kind].find(b, body) {
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

/// Finds the closing delimiter of a math segment: the first `close` at or after the body that
/// is not escaped (stopping at a newline for one-line segments). Each answer is remembered
/// with the starts it holds for — every later start up to the position found (or up to where
/// the search stopped) — so a text of thousands of unclosed `\[` costs linear time, not a
/// scan to the end per opener.
struct CloseFinder {
    close: &'static str,
    one_line: bool,
    /// The last answer holds for bodies in `from..=to`.
    from: usize,
    to: usize,
    found: Option<usize>,
}

impl CloseFinder {
    fn new(close: &'static str, one_line: bool) -> Self {
        CloseFinder {
            close,
            one_line,
            from: 1,
            to: 0,
            found: None,
        }
    }

    fn find(&mut self, b: &[u8], body: usize) -> Option<usize> {
        if (self.from..=self.to).contains(&body) {
            return self.found;
        }
        let mut j = body;
        let mut found = None;
        while j < b.len() {
            if self.one_line && b[j] == b'\n' {
                break;
            }
            if b[j..].starts_with(self.close.as_bytes()) && b[j - 1] != b'\\' {
                found = Some(j);
                break;
            }
            j += 1;
        }
        (self.from, self.to, self.found) = (body, j, found);
        found
    }
}

/// `\frac{a}{b}` with plain numbers, outside any math segment.
fn simple_frac(text: &str, i: usize) -> Option<Cand> {
    // `{digits}` at `at`: the end of the group. Reading only the digit run (not searching for
    // the next `}`, which may be far away) keeps many `\frac{` in a row linear.
    let group = |at: usize| -> Option<usize> {
        let body = text.get(at..)?.strip_prefix('{')?;
        let n = body
            .bytes()
            .take_while(|c| c.is_ascii_digit() || *c == b'.' || *c == b',')
            .count();
        (n > 0 && body[n..].starts_with('}')).then_some(at + 1 + n + 1)
    };
    let neg = text[i..].starts_with('-');
    let b_at = group(i + usize::from(neg) + "\\frac".len())?;
    let end = group(b_at)?;
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
    // Many candidates can start inside one run of expression characters (`1 2 3 … 9999`, a
    // model repeating itself): everything a start needs from the run — its end, its clean end,
    // the brackets and operators in it — comes from these tables and the run cache in O(1),
    // not from a pass over the rest of the run per start (that was quadratic: 14 s for 60 KB).
    let prefix = |f: fn(char) -> bool| -> Vec<u32> {
        let mut v = Vec::with_capacity(n + 1);
        let mut c = 0;
        v.push(0);
        for &(_, x) in &ch {
            c += u32::from(f(x));
            v.push(c);
        }
        v
    };
    let opens = prefix(|c| c == '(');
    let closes = prefix(|c| c == ')');
    let ops = prefix(|c| is_op(c) && c != '(' && c != ')');
    let count = |p: &[u32], a: usize, b: usize| if a < b { p[b] - p[a] } else { 0 };
    // `closer_run[i]`: how many `)` end right before index `i`.
    let mut closer_run = vec![0u32; n + 1];
    for (i, &(_, c)) in ch.iter().enumerate() {
        closer_run[i + 1] = if c == ')' { closer_run[i] + 1 } else { 0 };
    }
    // The current run: starts in `from..=to` end at `to`, and its clean end (no trailing
    // spaces, dots or dangling operators) is `clean.max(start)`.
    let mut run: Option<(usize, usize, usize)> = None;
    let mut percent: Option<(usize, (bool, usize))> = None;
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
        let clean = match run {
            Some((from, to, clean)) if (from..=to).contains(&digit_start) => clean,
            _ => {
                let mut end = digit_start;
                while end < n && at(end).is_some_and(is_expr_char) {
                    end += 1;
                }
                let mut clean = end;
                while clean > digit_start
                    && at(clean - 1).is_some_and(|c| c == ' ' || c == '.' || (is_op(c) && c != ')'))
                {
                    clean -= 1;
                }
                run = Some((digit_start, end, clean));
                clean
            }
        };
        e = clean.max(digit_start);
        // Unmatched closers at the end are trimmed.
        let surplus = count(&closes, s, e).saturating_sub(count(&opens, s, e));
        e -= surplus.min(closer_run[e]) as usize;
        let body = (s..e).find(|&i| at(i) != Some('-')).unwrap_or(e);
        if count(&ops, body + 1, e) > 0 {
            let (pct, e_pct) = match percent {
                Some((at_e, r)) if at_e == e => r,
                _ => {
                    let r = percent_after(&ch, e);
                    percent = Some((e, r));
                    r
                }
            };
            if pct || suffix_ok(at(e)) {
                let seg: String = ch[s..e].iter().map(|x| x.1).collect();
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
    find_words(&lowercase_in_place(text))
}

/// `text` lowercased char by char, except the chars whose lowercase has another UTF-8 length
/// (`İ`, `Ⱥ`, the Kelvin sign…), which are kept: every byte offset in the result is the same
/// char boundary in `text`, so offsets found in one can slice the other. (A whole-string
/// `to_lowercase` can keep the total length while moving boundaries: `K` shrinks, `İ` grows.)
pub(crate) fn lowercase_in_place(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let mut lower = c.to_lowercase();
        match (lower.next(), lower.next()) {
            (Some(l), None) if l.len_utf8() == c.len_utf8() => out.push(l),
            _ => out.push(c),
        }
    }
    out
}

fn find_words(hay: &str) -> Vec<(usize, usize)> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The straightforward (quadratic) reading `numbers` replaced, kept as the specification
    /// the fast one must match.
    #[allow(clippy::all)]
    fn numbers_reference(text: &str) -> Vec<Cand> {
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

    fn is_number_text(s: &str) -> bool {
        let t = s.trim_start_matches('-');
        !t.is_empty()
            && t.chars()
                .all(|c| c.is_ascii_digit() || c == '.' || c == ',')
    }

    fn spans(c: &[Cand]) -> Vec<(usize, usize, String)> {
        c.iter().map(|c| (c.start, c.end, c.text.clone())).collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]
        #[test]
        fn numbers_match_the_straightforward_reading(
            t in "[0-9 .,()+*/^%=\\-]{0,40}|([0-9 .,()+*/^%$€=a\n\\-]|percent|\\%|1 000|\\*\\*){0,24}"
        ) {
            prop_assert_eq!(spans(&numbers(&t)), spans(&numbers_reference(&t)));
        }
    }

    #[test]
    fn numbers_on_shapes_that_were_quadratic() {
        for t in [
            "1 2 3 4 5 + 6 7 8 .",
            "1 + 1 + 1 + 1 a",
            "-(-1 + 2))) and 3)))",
            "1 1 1 1 ))))",
            "5 . . . .5 . .",
            "(1 + 2) 3 4 - 5 - - -",
            "$5 + 3 €7 +8 **9 =10% 1 000 000",
        ] {
            assert_eq!(spans(&numbers(t)), spans(&numbers_reference(t)), "{t}");
        }
    }

    #[test]
    fn lowercase_keeps_every_byte_offset() {
        let t = "ȺȺanswer\u{212A}\u{212A}ȺȺ İ ẞ ΣΑΣ";
        let l = lowercase_in_place(t);
        assert_eq!(l.len(), t.len());
        assert!(t.char_indices().all(|(i, _)| l.is_char_boundary(i)));
        assert_eq!(answer_words(t), vec![(4, 10)]);
        assert_eq!(answer_words("ANSWER Réponse"), vec![(0, 6), (7, 15)]);
    }

    #[test]
    fn math_segments_with_many_unclosed_openers() {
        let t = format!("{} $a$ \\[b\\] \\(c\\)", "\\[ \\( $$ ".repeat(50));
        let found: Vec<String> = math_envs(&t).into_iter().map(|c| c.text).collect();
        // Each unclosed opener is skipped; the first `\[` pairs with the only `\]`.
        assert_eq!(found.last().map(String::as_str), Some("c"));
        assert_eq!(math_envs("$$x$$ and $y$").len(), 2);
        assert_eq!(
            math_envs("\\(a\n b\\) \\(c\\)")
                .into_iter()
                .map(|c| c.text)
                .collect::<Vec<_>>(),
            ["c"]
        );
    }
}
