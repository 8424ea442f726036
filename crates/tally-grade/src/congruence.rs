//! Congruence classes written in different ways: `n \equiv 1, 4 \pmod 5`, `5k+1, 5k+4`, "those
//! leaving remainder 1 or 4 when divided by 5", `n` odd. Both sides become a modulus and a set
//! of residues; they are equal when the sets agree modulo the least common multiple.

use regex::Regex;
use std::collections::BTreeSet;
use std::sync::OnceLock;

/// A union of residue classes modulo `m`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Classes {
    m: u64,
    res: BTreeSet<u64>,
}

impl Classes {
    fn lift(&self, to: u64) -> BTreeSet<u64> {
        let k = to / self.m;
        self.res
            .iter()
            .flat_map(|r| (0..k).map(move |j| r + j * self.m))
            .collect()
    }
}

struct Res {
    equiv: Regex,
    linear: Regex,
    remainder: Regex,
    residue: Regex,
    multiple: Regex,
}

fn res() -> &'static Res {
    static R: OnceLock<Res> = OnceLock::new();
    R.get_or_init(|| Res {
        // `≡ 1, 4 (mod 5)` after normalisation.
        equiv: Regex::new(r"≡\s*((?:-?\d+\s*(?:,|or|and)?\s*)+)\(?\s*mod\s*(\d+)\s*\)?").unwrap(),
        // `5k + 1`, `5k - 1`, `1 + 5k`, `4k`.
        linear: Regex::new(
            r"(?:\b(\d+)\s*\*?\s*([a-z])\b(?:\s*([+-])\s*(\d+))?)|(?:\b(\d+)\s*\+\s*(\d+)\s*\*?\s*([a-z])\b)",
        )
        .unwrap(),
        // `remainder 1 or 4 when divided by 5`.
        remainder: Regex::new(
            r"remainders?\s*(?:of\s*)?((?:\d+\s*(?:,|or|and)?\s*)+)\s*(?:when|upon|after|on|if)\s*(?:being\s*|it\s*is\s*|they\s*are\s*)?divided\s*by\s*(\d+)",
        )
        .unwrap(),
        residue: Regex::new(r"-?\d+").unwrap(),
        // `multiples of 3`, `divisible by 3`, `not divisible by 3`, `3 \mid n`, `3 \nmid n`.
        multiple: Regex::new(
            r"(?:(not\s*(?:an?\s*)?)?(?:multiples?\s*of|divisible\s*by)\s*(\d+))|(?:\b(\d+)\s*(n?)mid\s*[a-z]\b)",
        )
        .unwrap(),
    })
}

/// Words that may surround a congruence description.
const FILLER: &[&str] = &[
    "n", "x", "k", "m", "t", "j", "p", "q", "all", "every", "any", "integer", "integers", "number",
    "numbers", "those", "that", "which", "leave", "leaving", "leaves", "the", "a", "of", "form",
    "where", "is", "are", "an", "for", "some", "or", "and", "in", "z", "mathbb", "with", "natural",
    "positive", "values", "value", "give", "giving", "have", "having",
];

fn normalize(s: &str) -> String {
    let mut t = s.to_ascii_lowercase();
    for (a, b) in [
        ("\\equiv", "≡"),
        ("\\pmod", " mod "),
        ("\\bmod", " mod "),
        ("\\mod", " mod "),
        ("\\operatorname{mod}", " mod "),
        ("\\mathrm{mod}", " mod "),
        ("\\text{mod}", " mod "),
        ("\\left", ""),
        ("\\right", ""),
        ("\\quad", " "),
        ("\\cdot", "*"),
        ("\\in", " in "),
    ] {
        t = t.replace(a, b);
    }
    t = crate::text::unwrap_cmds(&t, &["\\text", "\\mathrm", "\\textrm", "\\mbox"]);
    t.replace(['{', '}', '$', '~', '\\'], " ")
}

/// The residue classes `s` describes, and whether it says so explicitly (a `mod`, `≡`, a
/// remainder, `of the form`), or `None` when it is something else.
fn classes(s: &str) -> Option<(Classes, bool)> {
    let t = normalize(s);
    let r = res();
    let mut found: Vec<Classes> = Vec::new();
    let mut rest = t.clone();
    let mut explicit = false;
    let take = |re: &Regex, f: &mut dyn FnMut(&regex::Captures) -> Option<Classes>| {
        let mut out = Vec::new();
        for c in re.captures_iter(&t) {
            out.push((c.get(0).unwrap().range(), f(&c)?));
        }
        Some(out)
    };
    let residues = |list: &str, m: u64| -> Option<Classes> {
        if !(2..=10_000).contains(&m) {
            return None;
        }
        let mut res = BTreeSet::new();
        for x in r.residue.find_iter(list) {
            let v: i64 = x.as_str().parse().ok()?;
            res.insert(v.rem_euclid(m as i64) as u64);
        }
        (!res.is_empty()).then_some(Classes { m, res })
    };
    let mut spans = Vec::new();
    let multiple = |c: &regex::Captures| {
        let (not, m) = match c.get(2) {
            Some(m) => (c.get(1).is_some(), m.as_str()),
            None => (
                c.get(4).is_some_and(|x| !x.as_str().is_empty()),
                c.get(3)?.as_str(),
            ),
        };
        let m: u64 = m.parse().ok()?;
        if !not {
            return residues("0", m);
        }
        // Every class but 0: bounded so that the list stays small.
        (2..=100).contains(&m).then(|| Classes {
            m,
            res: (1..m).collect(),
        })
    };
    for (re, is_explicit) in [(&r.equiv, true), (&r.remainder, true), (&r.multiple, true)] {
        let got = if std::ptr::eq(re, &r.multiple) {
            take(re, &mut |c| multiple(c))?
        } else {
            take(re, &mut |c| residues(&c[1], c[2].parse().ok()?))?
        };
        if !got.is_empty() {
            explicit |= is_explicit;
        }
        for (span, cl) in got {
            spans.push(span);
            found.push(cl);
        }
    }
    if found.is_empty() {
        let got = take(&r.linear, &mut |c| {
            let (m, rr, sign): (u64, i64, i64) = if let Some(m) = c.get(1) {
                let sign = if c.get(3).map(|x| x.as_str()) == Some("-") {
                    -1
                } else {
                    1
                };
                (
                    m.as_str().parse().ok()?,
                    c.get(4).map_or(Some(0), |x| x.as_str().parse().ok())?,
                    sign,
                )
            } else {
                (c[6].parse().ok()?, c[5].parse().ok()?, 1)
            };
            residues(&(sign * rr).to_string(), m)
        })?;
        for (span, cl) in got {
            spans.push(span);
            found.push(cl);
        }
        explicit = t.contains("form");
    }
    if found.is_empty() {
        // A parity word alone: `odd`, `n \text{ is even}`.
        let words: Vec<&str> = t
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect();
        let parity: Vec<&&str> = words
            .iter()
            .filter(|w| matches!(**w, "odd" | "even"))
            .collect();
        if parity.len() != 1
            || words
                .iter()
                .any(|w| !FILLER.contains(w) && !matches!(*w, "odd" | "even"))
        {
            return None;
        }
        let r = if *parity[0] == "odd" { 1 } else { 0 };
        return Some((
            Classes {
                m: 2,
                res: [r].into_iter().collect(),
            },
            false,
        ));
    }
    // Nothing of substance may be left outside the matches.
    spans.sort_by_key(|s| std::cmp::Reverse(s.start));
    for s in spans {
        rest.replace_range(s, " ");
    }
    if rest
        .chars()
        .any(|c| c.is_ascii_digit() || matches!(c, '^' | '/' | '<' | '>'))
    {
        return None;
    }
    let ok = rest
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .all(|w| FILLER.contains(&w));
    if !ok {
        return None;
    }
    let m = found.iter().try_fold(1u64, |acc, c| {
        let l = lcm(acc, c.m);
        (l <= 10_000).then_some(l)
    })?;
    let res = found.iter().flat_map(|c| c.lift(m)).collect();
    Some((Classes { m, res }, explicit))
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

fn lcm(a: u64, b: u64) -> u64 {
    a / gcd(a, b) * b
}

/// `Some(equal)` when both sides describe residue classes and at least one says so explicitly;
/// `None` otherwise.
pub(crate) fn compare(pred: &str, gold: &str) -> Option<bool> {
    // "n is even" against `n = 2k`: a parity in words is explicit about classes, but only
    // against a name set equal to a form (`2k` alone may be an expression answer).
    let parity = |s: &str| (s.contains("even") || s.contains("odd")) && !s.contains('=');
    let parity_vs_form =
        (parity(pred) && gold.contains('=')) || (parity(gold) && pred.contains('='));
    const MARKS: &[&str] = &[
        "mod",
        "equiv",
        "remainder",
        "form",
        "multiple",
        "divisible",
        "mid",
    ];
    if !(parity_vs_form || MARKS.iter().any(|w| pred.contains(w) || gold.contains(w))) {
        return None;
    }
    // `all primes p \equiv 1 \pmod 4` against `primes of the form 4k + 1`: the same kind of
    // number on both sides, so the classes decide.
    let kind = |s: &str| s.contains("prime");
    let (pred, gold) = if kind(pred) && kind(gold) {
        let drop = |s: &str| s.replace("primes", " ").replace("prime", " ");
        (drop(pred), drop(gold))
    } else {
        (pred.to_string(), gold.to_string())
    };
    let (a, ea) = classes(&pred)?;
    let (b, eb) = classes(&gold)?;
    if !(ea || eb || parity_vs_form) {
        return None;
    }
    let m = lcm(a.m, b.m);
    if m > 10_000 {
        return None;
    }
    Some(a.lift(m) == b.lift(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_of_the_same_classes() {
        let c = |s: &str| classes(s).map(|(c, _)| (c.m, c.res.into_iter().collect::<Vec<_>>()));
        assert_eq!(c("n \\equiv 1, 4 \\pmod 5"), Some((5, vec![1, 4])));
        assert_eq!(
            c("\\text{those leaving remainder 1 or 4 when divided by 5}"),
            Some((5, vec![1, 4]))
        );
        assert_eq!(c("5k+1, 5k+4"), Some((5, vec![1, 4])));
        assert_eq!(c("n = 5k - 1"), Some((5, vec![4])));
        assert_eq!(c("n \\text{ odd}"), Some((2, vec![1])));
        assert_eq!(c("x^2 \\equiv 1 \\pmod 5"), None);
        assert_eq!(compare("n = 2k", "n \\text{ is even}"), Some(true));
        assert_eq!(compare("n = 2k + 1", "\\text{odd}"), Some(true));
        assert_eq!(compare("n = 2k", "\\text{odd}"), Some(false));
        assert_eq!(compare("2k", "\\text{even}"), None);
        assert_eq!(
            compare("n \\equiv 1, 3 \\pmod 4", "n \\equiv 1 \\pmod 2"),
            Some(true)
        );
        assert_eq!(
            compare("n \\equiv 1 \\pmod 4", "n \\equiv 1 \\pmod 2"),
            Some(false)
        );
    }
}
