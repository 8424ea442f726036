//! Ratios of three or more parts (`1:2:3`): equal when proportional, part by part in order
//! (`2:4:6` = `1:2:3` ≠ `1:3:2`). Read as divisions they would be `1/2/3`, so `1:2:3` and
//! `1:3:2` came out equal.

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::Zero;

/// The parts of `a:b:c…` (at least three plain numbers), or of `a, b, c…` when `list` is set.
fn parts(s: &str, list: bool) -> Option<Vec<BigRational>> {
    let t = s
        .replace("\\colon", ":")
        .replace("\\,", "")
        .replace("\\!", "");
    let t = t.trim().trim_start_matches('(').trim_end_matches(')');
    let sep = if list { ',' } else { ':' };
    let v: Vec<&str> = t.split(sep).map(str::trim).collect();
    if v.len() < 3 {
        return None;
    }
    v.iter().map(|p| decimal(p)).collect()
}

fn decimal(p: &str) -> Option<BigRational> {
    let (int, frac) = p.split_once('.').unwrap_or((p, ""));
    let ok = |x: &str| x.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || !ok(int) || !ok(frac) || int.len() + frac.len() > 30 {
        return None;
    }
    let n: BigInt = format!("{int}{frac}").parse().ok()?;
    Some(BigRational::new(
        n,
        BigInt::from(10u32).pow(frac.len() as u32),
    ))
}

/// `Some(equal)` when either side is a ratio of three or more numbers.
pub(crate) fn compare(pred: &str, gold: &str) -> Option<bool> {
    let ratio = |s: &str| s.matches(':').count() >= 2 || s.contains("\\colon");
    if !ratio(pred) && !ratio(gold) {
        return None;
    }
    let (p, g) = (parts(pred, false), parts(gold, false));
    let (p, g) = match (p, g) {
        (Some(p), Some(g)) => (p, g),
        (Some(p), None) => (p, parts(gold, true)?),
        (None, Some(g)) => (parts(pred, true)?, g),
        (None, None) => return None,
    };
    Some(proportional(&p, &g))
}

/// Same length, and `p_i · g_j = g_i · p_j` for a pair `j` with both non-zero.
fn proportional(p: &[BigRational], g: &[BigRational]) -> bool {
    if p.len() != g.len() {
        return false;
    }
    let Some(j) = (0..p.len()).find(|&j| !p[j].is_zero() && !g[j].is_zero()) else {
        return false;
    };
    p.iter().zip(g).all(|(a, b)| a * &g[j] == b * &p[j])
}

#[cfg(test)]
mod tests {
    use super::compare;

    #[test]
    fn ratios_are_proportional_in_order() {
        assert_eq!(compare("2:4:6", "1:2:3"), Some(true));
        assert_eq!(compare("1:3:2", "1:2:3"), Some(false));
        assert_eq!(compare("0.5 : 1 : 1.5", "1:2:3"), Some(true));
        assert_eq!(compare("1, 2, 3", "1:2:3"), Some(true));
        assert_eq!(compare("1:2:3:4", "1:2:3"), Some(false));
        // Two parts, or something that is not a ratio of numbers: not this rule's.
        assert_eq!(compare("2:3", "4:6"), None);
        assert_eq!(compare("x:y:z", "1:2:3"), None);
        assert_eq!(compare("\\frac{1}{6}", "1:2:3"), None);
    }
}
