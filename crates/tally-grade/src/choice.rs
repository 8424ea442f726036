//! Multiple-choice answers written with their value: `\textbf{(C)}\ 12` (AMC's own format)
//! against `C`, or against `12`.

/// The letter of a choice label opening `s` (`(C)`, `\textbf{(C)}`, `\text{(C) }`), and what
/// follows it.
fn labelled(s: &str) -> Option<(char, &str)> {
    let mut t = s.trim_start();
    let mut closes = 0;
    for cmd in ["\\textbf{", "\\text{", "\\mathrm{", "\\mathbf{"] {
        if let Some(rest) = t.strip_prefix(cmd) {
            t = rest.trim_start();
            closes = 1;
            break;
        }
    }
    // `(C)`, or `C)` as many exams print it.
    let rest = t.strip_prefix('(').unwrap_or(t);
    let mut chars = rest.chars();
    let letter = chars.next().filter(|c| ('A'..='E').contains(c))?;
    let mut rest = chars.as_str().strip_prefix(')')?.trim_start();
    if closes == 1 {
        rest = rest.strip_prefix('}')?;
    }
    let rest = rest
        .trim_start_matches(|c: char| c.is_whitespace() || c == '~')
        .trim_start_matches("\\ ")
        .trim_start_matches("\\quad")
        .trim_start();
    Some((letter, rest))
}

/// A lone choice letter: `C`, `(C)`, `\text{(C)}`.
fn bare_letter(s: &str) -> Option<char> {
    if let Some((l, "")) = labelled(s) {
        return Some(l);
    }
    let t = crate::text::unwrap_cmds(s.trim(), &["\\text", "\\mathrm", "\\textbf"]);
    let t = t.trim();
    let t = t
        .strip_prefix('(')
        .and_then(|x| x.strip_suffix(')'))
        .unwrap_or(t);
    let mut c = t.chars();
    let l = c.next().filter(|c| ('A'..='E').contains(c))?;
    c.next().is_none().then_some(l)
}

/// Several choice letters: `B, D`, `(A), (C)`, `\text{B and D}` (listed) or `BD` (joined, two to
/// five distinct letters A–E in order); `None` for anything else.
fn letter_set(s: &str) -> Option<(Vec<char>, bool)> {
    if !s.bytes().any(|b| (b'A'..=b'E').contains(&b)) {
        return None;
    }
    let t = crate::text::unwrap_cmds(s.trim(), &["\\text", "\\mathrm", "\\textbf"]);
    let t = t.trim();
    let letters: Vec<char> = t.chars().filter(|c| c.is_alphabetic()).collect();
    let joined = t.chars().all(|c| ('A'..='E').contains(&c));
    if joined {
        let ordered = letters.windows(2).all(|w| w[0] < w[1]);
        return (letters.len() >= 2 && ordered).then_some((letters, true));
    }
    let mut found = Vec::new();
    for part in t.split([',', ';']).flat_map(|p| p.split(" and ")) {
        let p = part
            .trim()
            .trim_start_matches('(')
            .trim_end_matches(')')
            .trim();
        let mut c = p.chars();
        let l = c.next().filter(|c| ('A'..='E').contains(c))?;
        if c.next().is_some() {
            return None;
        }
        found.push(l);
    }
    found.sort_unstable();
    found.dedup();
    (found.len() >= 2).then_some((found, false))
}

/// What a labelled choice is compared by: the letters when the other side is a letter, else
/// the labelled side's value against the other side.
pub(crate) enum Choice<'a> {
    Letters(bool),
    PredValue(&'a str),
    GoldValue(&'a str),
}

/// `None` when neither side, or both, is a labelled choice with a value.
pub(crate) fn compare<'a>(pred: &'a str, gold: &'a str) -> Option<Choice<'a>> {
    // `BD` against `B, D`: letters joined on one side only (two joined runs may be segments).
    if let (Some((p, pj)), Some((g, gj))) = (letter_set(pred), letter_set(gold)) {
        if pj != gj {
            return Some(Choice::Letters(p == g));
        }
    }
    let with_value = |s| labelled(s).filter(|(_, v)| !v.is_empty());
    match (with_value(pred), with_value(gold)) {
        (Some((lp, vp)), None) => Some(match bare_letter(gold) {
            Some(lg) => Choice::Letters(lp == lg),
            None => Choice::PredValue(vp),
        }),
        (None, Some((lg, vg))) => Some(match bare_letter(pred) {
            Some(lp) => Choice::Letters(lp == lg),
            None => Choice::GoldValue(vg),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_letters() {
        assert_eq!(labelled("\\textbf{(C)}\\ 12"), Some(('C', "12")));
        assert_eq!(labelled("\\textbf{(C) }12"), Some(('C', "12")));
        assert_eq!(labelled("(B) \\frac{1}{2}"), Some(('B', "\\frac{1}{2}")));
        assert_eq!(labelled("(x) 12"), None);
        assert_eq!(labelled("\\text{B) } 12"), Some(('B', "12")));
        assert_eq!(bare_letter("\\text{B}"), Some('B'));
        assert_eq!(labelled("(1, 2)"), None);
        assert_eq!(letter_set("BD"), Some((vec!['B', 'D'], true)));
        assert_eq!(
            letter_set("\\text{(A), (C)}"),
            Some((vec!['A', 'C'], false))
        );
        assert_eq!(letter_set("B and D"), Some((vec!['B', 'D'], false)));
        assert_eq!(letter_set("DB"), None);
        assert_eq!(letter_set("B"), None);
        assert_eq!(letter_set("x, y"), None);
        assert_eq!(bare_letter("(D)"), Some('D'));
        assert_eq!(bare_letter("CD"), None);
        assert!(matches!(
            compare("\\textbf{(C)}\\ 12", "C"),
            Some(Choice::Letters(true))
        ));
        assert!(matches!(
            compare("\\textbf{(C)}\\ 12", "D"),
            Some(Choice::Letters(false))
        ));
        assert!(matches!(
            compare("12", "(A) 12"),
            Some(Choice::GoldValue("12"))
        ));
        assert!(compare("(A) 12", "(B) 12").is_none());
    }
}
