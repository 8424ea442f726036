//! A family over a finite range of an index, written with the range: `e^{2\pi i k/5},\ k = 0, 1,
//! \ldots, 4`, `\cos\frac{2\pi k}{5} + i\sin\frac{2\pi k}{5}` for `k=0,\dots,4`, `2k \text{ for }
//! 1 \le k \le 3`. The answer is the list of its members, each with the index replaced by its
//! value, so it compares with the members written out or the same family written otherwise.

use regex::Regex;
use std::sync::OnceLock;

/// At most this many members: a longer range is not written out.
const MAX_MEMBERS: i64 = 24;

struct Res {
    listed: Regex,
    bounded: Regex,
}

/// What comes before a range: a comma, `\text{for}`/`\text{where}`, a space or `\quad`, an
/// opening bracket.
const LEAD: &str = r"(?:,|\\text\{\s*(?:for|where)\s*\}|\\quad|\\qquad|\(|\s)\s*(?:\\[ ,;]\s*)*(?:\\text\{\s*for\s*\}\s*)?";
/// What may close it: a bracket and a full stop.
const TAIL: &str = r"\s*\)?\s*\.?\s*$";

fn res() -> &'static Res {
    static R: OnceLock<Res> = OnceLock::new();
    R.get_or_init(|| Res {
        // `, k = 0, 1, \ldots, 4` / `\text{ for } k=0,\dots,4` / `(k = 1, 2, 3)`.
        listed: Regex::new(&format!(
            r"{LEAD}([a-zA-Z])\s*=\s*((?:-?\d+|\\[lc]?dots|\.\.\.)(?:\s*,\s*(?:\\[ ,;]\s*)*(?:-?\d+|\\[lc]?dots|\.\.\.))+){TAIL}"
        ))
        .unwrap(),
        // `, 0 \le k \le 4` / `\text{ for } 1 \leq k \leq 3`.
        bounded: Regex::new(&format!(
            r"{LEAD}(-?\d+)\s*(?:\\leq?|\\leqslant|≤)\s*([a-zA-Z])\s*(?:\\leq?|\\leqslant|≤)\s*(-?\d+){TAIL}"
        ))
        .unwrap(),
    })
}

/// The values a written range lists: `0, 1, \ldots, 4` → 0..=4; `1, 2, 3` → those.
fn values(list: &str) -> Option<Vec<i64>> {
    let items: Vec<&str> = list
        .split(',')
        .map(|x| x.trim().trim_start_matches("\\ ").trim())
        .collect();
    let dots = |x: &str| matches!(x, "\\ldots" | "\\dots" | "\\cdots" | "...");
    let nums = |xs: &[&str]| -> Option<Vec<i64>> { xs.iter().map(|x| x.parse().ok()).collect() };
    let out: Vec<i64> = match items.iter().position(|x| dots(x)) {
        None => nums(&items)?,
        Some(k) if k + 2 == items.len() && k >= 1 => {
            let head = nums(&items[..k])?;
            let last: i64 = nums(&items[k + 1..])?[0];
            let step = if head.len() >= 2 {
                head[1] - head[0]
            } else {
                1
            };
            // `1, 2, 4, \ldots, 9` is no progression: not read as one.
            if head.windows(2).any(|w| w[1] - w[0] != step) {
                return None;
            }
            if step <= 0 || (last - head[0]) / step > MAX_MEMBERS || last < head[0] {
                return None;
            }
            (0..)
                .map(|j| head[0] + j * step)
                .take_while(|v| *v <= last)
                .collect()
        }
        _ => return None,
    };
    (2..=MAX_MEMBERS as usize)
        .contains(&out.len())
        .then_some(out)
}

/// `s` with every lone letter `name` (not part of a command or a word) replaced by `(v)`.
fn substitute(s: &str, name: char, v: i64) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len() + 8);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' {
            out.push(c);
            i += 1;
            while i < chars.len() && chars[i].is_ascii_alphabetic() {
                out.push(chars[i]);
                i += 1;
            }
            continue;
        }
        let alpha = |j: Option<&char>| j.is_some_and(|x| x.is_ascii_alphabetic());
        if c == name
            && !alpha(i.checked_sub(1).and_then(|j| chars.get(j)))
            && !alpha(chars.get(i + 1))
        {
            out.push_str(&format!("({v})"));
        } else {
            out.push(c);
        }
        i += 1;
    }
    out
}

/// The family's members as a list, when the answer ends with a finite range of an index its
/// expression uses.
pub(crate) fn expand(s: &str) -> Option<String> {
    if !s.contains('=') && !s.contains("\\le") && !s.contains('≤') {
        return None;
    }
    let r = res();
    let (head, name, vals) = if let Some(c) = r.listed.captures(s) {
        let name = c[1].chars().next()?;
        (&s[..c.get(0)?.start()], name, values(&c[2])?)
    } else if let Some(c) = r.bounded.captures(s) {
        let (lo, hi): (i64, i64) = (c[1].parse().ok()?, c[3].parse().ok()?);
        if hi < lo || hi - lo + 1 > MAX_MEMBERS || hi == lo {
            return None;
        }
        (
            &s[..c.get(0)?.start()],
            c[2].chars().next()?,
            (lo..=hi).collect(),
        )
    } else {
        return None;
    };
    let head = head
        .trim_end()
        .trim_end_matches([',', ';'])
        .trim_end_matches("\\text{for}")
        .trim_end();
    if head.is_empty() || substitute(head, name, 0) == head {
        return None;
    }
    Some(
        vals.iter()
            .map(|v| format!("{{{}}}", substitute(head, name, *v)))
            .collect::<Vec<_>>()
            .join(", "),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finite_ranges_are_written_out() {
        assert_eq!(values("0, 1, \\ldots, 4"), Some(vec![0, 1, 2, 3, 4]));
        assert_eq!(values("0,\\dots,4"), Some(vec![0, 1, 2, 3, 4]));
        assert_eq!(values("1, 3, \\ldots, 9"), Some(vec![1, 3, 5, 7, 9]));
        assert_eq!(values("1, 2, 3"), Some(vec![1, 2, 3]));
        assert_eq!(values("1, \\ldots, n"), None);
        assert_eq!(values("1, 2, 4, \\ldots, 9"), None);
        assert_eq!(
            expand("e^{2\\pi i k/5},\\ k=0,1,2").as_deref(),
            Some("{e^{2\\pi i (0)/5}}, {e^{2\\pi i (1)/5}}, {e^{2\\pi i (2)/5}}")
        );
        assert_eq!(
            expand("2k \\text{ for } 1 \\le k \\le 3").as_deref(),
            Some("{2(1)}, {2(2)}, {2(3)}")
        );
        // Named values, not a range: `y` is not used by the rest.
        assert_eq!(expand("x = 2, y = 3, 4"), None);
        assert_eq!(expand("\\kappa = 2, k = 1, 2"), None);
    }
}
