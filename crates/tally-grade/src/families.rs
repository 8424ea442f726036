//! Families of integers named in words or by a formula: "perfect squares" and `n = k^2`,
//! "powers of 2" and `2^k`, "perfect cubes" and `m^3`.

/// What family a side names: `Square`, `Cube` or `PowerOf(base)`.
#[derive(Debug, PartialEq)]
enum Family {
    Square,
    Cube,
    PowerOf(u64),
}

fn in_words(s: &str) -> Option<Family> {
    let t = crate::text::unwrap_cmds(s, &["\\text", "\\mathrm", "\\textrm", "\\mbox"]);
    let words: Vec<String> = t
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .filter(|w| {
            !matches!(
                w.as_str(),
                "all"
                    | "the"
                    | "are"
                    | "is"
                    | "n"
                    | "numbers"
                    | "number"
                    | "integers"
                    | "integer"
                    | "positive"
            )
        })
        .collect();
    let w: Vec<&str> = words.iter().map(String::as_str).collect();
    match w.as_slice() {
        ["perfect", "square" | "squares"] | ["square" | "squares"] => Some(Family::Square),
        ["perfect", "cube" | "cubes"] | ["cube" | "cubes"] => Some(Family::Cube),
        ["power" | "powers", "of", b] => b.parse().ok().filter(|&b| b >= 2).map(Family::PowerOf),
        _ => None,
    }
}

/// `k \ge 0`, `k \in \mathbb{N}` (spaces removed): a letter running over the
/// integers from 0.
fn from_zero(cond: &str) -> bool {
    let Some(rest) = cond
        .get(1..)
        .filter(|_| cond.starts_with(|c: char| c.is_ascii_alphabetic()))
    else {
        return false;
    };
    matches!(
        rest,
        "\\ge0"
            | "\\geq0"
            | "≥0"
            | ">=0"
            | "\\in\\mathbb{N}"
            | "\\in\\mathbb{Z}_{\\ge0}"
            | "\\in\\mathbb{Z}_{\\geq0}"
            | "\\in\\mathbb{N}_0"
            | "\\in\\mathbb{N}_{0}"
    )
}

/// `n = k^2`, `k^2`, `n = 2^k`, `2^{m}`: one name (the family's member) set to one other name
/// squared or cubed, or a number raised to a name.
fn as_formula(s: &str) -> Option<Family> {
    let t: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    // `n = 2^k, k \ge 0`: a condition that lets the exponent run from 0 says nothing more.
    let t = match t.split_once(',') {
        Some((f, cond)) if from_zero(cond) => f.to_string(),
        Some(_) => return None,
        None => t,
    };
    let rhs = match t.split_once('=') {
        Some((lhs, rhs)) if lhs.len() == 1 && lhs.chars().all(|c| c.is_ascii_alphabetic()) => {
            rhs.to_string()
        }
        Some(_) => return None,
        None => t,
    };
    let (base, exp) = rhs.split_once('^')?;
    let exp = exp.trim_start_matches('{').trim_end_matches('}');
    let letter = |x: &str| x.len() == 1 && x.chars().all(|c| c.is_ascii_alphabetic());
    if letter(base) {
        return match exp {
            "2" => Some(Family::Square),
            "3" => Some(Family::Cube),
            _ => None,
        };
    }
    if letter(exp) {
        return base.parse().ok().filter(|&b| b >= 2).map(Family::PowerOf);
    }
    None
}

/// `Some(equal)` when one side names a family in words and the other by a formula.
pub(crate) fn compare(pred: &str, gold: &str) -> Option<bool> {
    let named = |s: &str| {
        let l = s.to_ascii_lowercase();
        l.contains("square") || l.contains("cube") || l.contains("power")
    };
    if !named(pred) && !named(gold) {
        return None;
    }
    match (
        in_words(pred),
        as_formula(gold),
        as_formula(pred),
        in_words(gold),
    ) {
        (Some(a), Some(b), _, _) | (_, _, Some(a), Some(b)) => Some(a == b),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::compare;

    #[test]
    fn families_in_words_and_formulas() {
        assert_eq!(compare("n = k^2", "\\text{perfect squares}"), Some(true));
        assert_eq!(compare("2^k", "\\text{powers of } 2"), Some(true));
        assert_eq!(
            compare("\\text{all perfect cubes}", "n = m^{3}"),
            Some(true)
        );
        assert_eq!(compare("n = k^3", "\\text{perfect squares}"), Some(false));
        assert_eq!(compare("3^k", "\\text{powers of } 2"), Some(false));
        // Both formulas, both words, or something else: not this rule's.
        assert_eq!(compare("k^2", "m^2"), None);
        assert_eq!(compare("n = k^2 + 1", "\\text{perfect squares}"), None);
        assert_eq!(compare("x^2", "4"), None);
    }
}
