//! Integers from a bound on: `n \ge 3` against `n = 3, 4, 5, \ldots` or `\{3, 4, 5, \dots\}`.
//! Only for names that stand for integers (`n`, `k`, `m`, `j`), so `x \ge 3` never equals a
//! list of integers.

/// The first integer of `3, 4, 5, \ldots` (consecutive integers, at least two, then dots).
fn listed_from(s: &str) -> Option<i64> {
    let mut t = s.trim();
    for w in ["\\left", "\\right"] {
        if t.contains(w) {
            return None;
        }
    }
    if let Some(x) = t.strip_prefix("\\{").and_then(|x| x.strip_suffix("\\}")) {
        t = x.trim();
    }
    for name in ["n", "k", "m", "j"] {
        for rel in ["=", "\\in"] {
            if let Some(rest) = t.strip_prefix(name).map(str::trim_start) {
                if let Some(rest) = rest.strip_prefix(rel) {
                    let rest = rest.trim();
                    t = rest
                        .strip_prefix("\\{")
                        .and_then(|x| x.strip_suffix("\\}"))
                        .map_or(rest, str::trim);
                }
            }
        }
    }
    let items: Vec<&str> = t.split(',').map(str::trim).collect();
    let (last, nums) = items.split_last()?;
    if !matches!(*last, "\\ldots" | "\\dots" | "..." | "\\cdots" | "…") || nums.len() < 2 {
        return None;
    }
    let nums: Vec<i64> = nums.iter().map(|x| x.parse().ok()).collect::<Option<_>>()?;
    nums.windows(2).all(|w| w[1] == w[0] + 1).then_some(nums[0])
}

/// The least integer of `n \ge 3`, `n > 2`, `3 \le n` (integer-like names only).
fn bound_from(s: &str) -> Option<i64> {
    let t = without_integer_words(s);
    let t = t.trim();
    const OPS: [(&str, bool, i64); 8] = [
        ("\\geq", true, 0),
        ("\\ge", true, 0),
        ("≥", true, 0),
        (">", true, 1),
        ("\\leq", false, 0),
        ("\\le", false, 0),
        ("≤", false, 0),
        ("<", false, 1),
    ];
    for (op, name_first, shift) in OPS {
        let Some((l, r)) = t.split_once(op) else {
            continue;
        };
        let (name, value) = if name_first { (l, r) } else { (r, l) };
        if !matches!(name.trim(), "n" | "k" | "m" | "j") {
            return None;
        }
        let v: i64 = value.trim().trim_start_matches('=').trim().parse().ok()?;
        return Some(v + shift);
    }
    None
}

/// `\text{all integers } n \ge 3`, `\text{all } n \geq 3`: words that only say the name runs over
/// integers, dropped before the bound is read.
fn without_integer_words(s: &str) -> String {
    let mut t = s.trim().to_string();
    for open in ["\\text{", "\\mathrm{", "\\textrm{", "\\mbox{"] {
        if let Some(rest) = t.strip_prefix(open) {
            if let Some((inner, after)) = rest.split_once('}') {
                let only_words = inner.split_whitespace().all(|w| {
                    matches!(
                        w.to_ascii_lowercase().as_str(),
                        "all"
                            | "every"
                            | "integers"
                            | "integer"
                            | "positive"
                            | "natural"
                            | "numbers"
                            | "whole"
                    )
                });
                if only_words && !inner.trim().is_empty() {
                    t = after.trim().to_string();
                }
            }
        }
    }
    t
}

/// `Some(equal)` when one side is a lower bound on an integer and the other lists the integers
/// from a number on, or both are such bounds (`n \ge 3` = `n > 2`).
pub(crate) fn compare(pred: &str, gold: &str) -> Option<bool> {
    let a = bound_from(pred).or_else(|| listed_from(pred));
    let b = bound_from(gold).or_else(|| listed_from(gold));
    let mixed = (bound_from(pred).is_some() && listed_from(gold).is_some())
        || (listed_from(pred).is_some() && bound_from(gold).is_some())
        || (bound_from(pred).is_some() && bound_from(gold).is_some());
    mixed.then(|| a == b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_against_listed_integers() {
        assert_eq!(compare("n = 3, 4, 5, \\ldots", "n \\geq 3"), Some(true));
        assert_eq!(compare("\\{3, 4, 5, \\dots\\}", "n > 2"), Some(true));
        assert_eq!(
            compare("3 \\le k", "k \\in \\{3, 4, \\ldots\\}"),
            Some(true)
        );
        assert_eq!(compare("n = 4, 5, 6, \\ldots", "n \\geq 3"), Some(false));
        // Not integers, not consecutive, no dots, or both of one kind: no rule.
        assert_eq!(compare("3, 4, 5, \\ldots", "x \\geq 3"), None);
        assert_eq!(compare("3, 5, 7, \\ldots", "n \\geq 3"), None);
        assert_eq!(compare("3, 4, 5", "n \\geq 3"), None);
        // Two bounds on an integer: the same least integer.
        assert_eq!(compare("n \\ge 3", "n > 2"), Some(true));
        assert_eq!(compare("n \\ge 3", "n > 3"), Some(false));
        assert_eq!(
            compare("\\text{all integers } n \\ge 3", "n \\geq 3"),
            Some(true)
        );
        assert_eq!(compare("\\text{all real } n \\ge 3", "n \\geq 3"), None);
    }
}
