//! Quantities written in different units of one dimension: `2.5 \text{ hours}` =
//! `150 \text{ minutes}` = `2 \text{ h } 30 \text{ min}`, `1.2 \text{ km}` = `1200 \text{ m}`,
//! `\$1.50` = `150 \text{ cents}`; and `1.2 \text{ km}` ≠ `1.2 \text{ m}`, which dropping the
//! units would call equal. Both sides must carry a unit this table knows; the numbers are then
//! rewritten into one unit with exact factors, and the ordinary comparison (exact values, the
//! precision rule) decides.

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::One;

/// Exponents of length, time, mass and money: two units convert when these agree.
type Dim = [i8; 4];

#[derive(Clone, Debug, PartialEq)]
struct Unit {
    dim: Dim,
    /// How many base units (m, s, g, dollar) one of this is.
    factor: BigRational,
}

/// Unit words and symbols: (spellings, dimension, factor numerator, factor denominator).
/// Symbols are matched as written (`m` is not `M`); words ignore case.
const ATOMS: &[(&[&str], Dim, i64, i64)] = &[
    (&["ms", "millisecond"], [0, 1, 0, 0], 1, 1000),
    (&["s", "sec", "second"], [0, 1, 0, 0], 1, 1),
    (&["min", "minute"], [0, 1, 0, 0], 60, 1),
    (&["h", "hr", "hour"], [0, 1, 0, 0], 3600, 1),
    (&["day"], [0, 1, 0, 0], 86_400, 1),
    (&["week", "wk"], [0, 1, 0, 0], 604_800, 1),
    (&["mm", "millimeter", "millimetre"], [1, 0, 0, 0], 1, 1000),
    (&["cm", "centimeter", "centimetre"], [1, 0, 0, 0], 1, 100),
    (&["m", "meter", "metre"], [1, 0, 0, 0], 1, 1),
    (&["km", "kilometer", "kilometre"], [1, 0, 0, 0], 1000, 1),
    (&["in", "inch"], [1, 0, 0, 0], 254, 10_000),
    (&["ft", "foot", "feet"], [1, 0, 0, 0], 3048, 10_000),
    (&["yd", "yard"], [1, 0, 0, 0], 9144, 10_000),
    (&["mi", "mile"], [1, 0, 0, 0], 1_609_344, 1000),
    (&["mg", "milligram"], [0, 0, 1, 0], 1, 1000),
    (&["g", "gram"], [0, 0, 1, 0], 1, 1),
    (&["kg", "kilogram"], [0, 0, 1, 0], 1000, 1),
    (
        &["ml", "mL", "milliliter", "millilitre"],
        [3, 0, 0, 0],
        1,
        1_000_000,
    ),
    (&["l", "L", "liter", "litre"], [3, 0, 0, 0], 1, 1000),
    (&["dollar", "\\$", "$"], [0, 0, 0, 1], 1, 1),
    (&["cent", "¢"], [0, 0, 0, 1], 1, 100),
];

/// Two answers rewritten into one unit, when both are quantities of the same dimension written
/// in different units; [`Units::Different`] for quantities of different dimensions; `None`
/// otherwise, for the ordinary rules.
/// What the units say about two quantities.
#[derive(Debug, PartialEq)]
pub(crate) enum Units {
    /// The same dimension in other units: both numbers written in one unit (`pred`, `gold`).
    Rewritten(String, String),
    /// Different dimensions (`5 \text{ min}` against `5 \text{ m}`): different answers.
    Different,
}

pub(crate) fn rewrite(pred: &str, gold: &str) -> Option<Units> {
    // Most answers carry no unit: a letter or a currency sign on both sides comes first.
    let unit_like =
        |s: &str| s.bytes().any(|b| b.is_ascii_alphabetic() || b == b'$') || s.contains('¢');
    if !unit_like(pred) || !unit_like(gold) {
        return None;
    }
    let p = quantity(pred)?;
    let g = quantity(gold)?;
    if p.iter().chain(&g).any(|(_, u)| u.dim != g[0].1.dim) {
        return Some(Units::Different);
    }
    if p.len() == 1 && g.len() == 1 && p[0].1.factor == g[0].1.factor {
        return None;
    }
    // A single gold unit keeps the gold's number as written, so the precision rule reads it;
    // a compound gold goes into base units on both sides.
    let target = if g.len() == 1 {
        g[0].1.factor.clone()
    } else {
        BigRational::one()
    };
    Some(Units::Rewritten(sum_in(&p, &target), sum_in(&g, &target)))
}

/// `Σ (number) · factor/target` as LaTeX the expression parser reads exactly.
fn sum_in(terms: &[(String, Unit)], target: &BigRational) -> String {
    terms
        .iter()
        .map(|(num, u)| {
            let r = &u.factor / target;
            if r.is_one() {
                format!("({num})")
            } else {
                format!("\\frac{{{}}}{{{}}} \\cdot ({num})", r.numer(), r.denom())
            }
        })
        .collect::<Vec<_>>()
        .join(" + ")
}

/// `2.5 \text{ hours}`, `\$1.50`, `2 \text{ h } 30 \text{ min}` → (number, unit) terms. A
/// compound needs strictly smaller units in turn (so `2 m 3 m` is not one length).
fn quantity(s: &str) -> Option<Vec<(String, Unit)>> {
    let t = plain(s);
    let t = t.trim().trim_end_matches('.').trim();
    if let Some(rest) = t.strip_prefix("\\$").or_else(|| t.strip_prefix('$')) {
        let num = rest.trim();
        return is_number(num).then(|| vec![(num.to_string(), atom("dollar").unwrap())]);
    }
    let mut terms: Vec<(String, Unit)> = Vec::new();
    let mut rest = t;
    while !rest.is_empty() {
        let split = unit_start(rest)?;
        let num = rest[..split].trim();
        let after = &rest[split..];
        let end = after
            .char_indices()
            .find(|&(k, c)| c.is_ascii_digit() && !after[..k].trim_end().ends_with(['^', '{']))
            .map_or(after.len(), |(k, _)| k);
        let mut unit_text = after[..end].trim();
        if end < after.len() {
            unit_text = unit_text
                .strip_suffix("and")
                .unwrap_or(unit_text)
                .trim_end()
                .trim_end_matches(',')
                .trim_end();
        }
        if !is_number(num) {
            return None;
        }
        let unit = unit(unit_text)?;
        if let Some((_, last)) = terms.last() {
            if unit.dim != last.dim || unit.factor >= last.factor {
                return None;
            }
        }
        terms.push((num.to_string(), unit));
        rest = &after[end..];
    }
    (!terms.is_empty()).then_some(terms)
}

/// Where the unit starts: the first letter outside a LaTeX command of the number.
fn unit_start(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' {
            let j = i
                + 1
                + b[i + 1..]
                    .iter()
                    .take_while(|c| c.is_ascii_alphabetic())
                    .count();
            if matches!(&s[i + 1..j], "frac" | "dfrac" | "tfrac" | "times" | "cdot") {
                i = j;
                continue;
            }
            return Some(i);
        }
        if b[i].is_ascii_alphabetic() || b[i] >= 0x80 {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// Digits and the arithmetic that writes one number (`1.2 \times 10^{3}`, `\frac{5}{2}`).
fn is_number(s: &str) -> bool {
    s.bytes().any(|c| c.is_ascii_digit())
        && !s.starts_with(['^', '/'])
        && s.bytes()
            .all(|c| c.is_ascii_digit() || c.is_ascii_alphabetic() || b" .,{}()+-^/\\".contains(&c))
}

/// `km/h`, `m^2`, `meters per second`, `square feet` → one unit.
fn unit(s: &str) -> Option<Unit> {
    let s = s.replace("\\cdot", " ").replace(['*', '·'], " ");
    let (num, den) = match s.split_once('/') {
        Some((a, b)) => (a.to_string(), Some(b.to_string())),
        None => match s.split_once(" per ") {
            Some((a, b)) => (a.to_string(), Some(b.to_string())),
            None => (s.clone(), None),
        },
    };
    let mut u = product(&num)?;
    if let Some(d) = den {
        let d = product(&d)?;
        for k in 0..4 {
            u.dim[k] -= d.dim[k];
        }
        u.factor /= d.factor;
    }
    Some(u)
}

fn product(s: &str) -> Option<Unit> {
    let mut u = Unit {
        dim: [0; 4],
        factor: BigRational::one(),
    };
    let mut power = 1i32;
    let mut any = false;
    let words: Vec<&str> = s.split_whitespace().collect();
    let mut k = 0;
    while k < words.len() {
        let w = words[k];
        k += 1;
        match w.to_ascii_lowercase().as_str() {
            "square" | "sq" => {
                power = 2;
                continue;
            }
            "cubic" => {
                power = 3;
                continue;
            }
            _ => {}
        }
        let (name, mut exp) = match w.split_once('^') {
            Some((n, e)) => (n, e.trim_matches(['{', '}']).parse::<i32>().ok()?),
            None => (w, 1),
        };
        // `m ^2` and `m^ {2}` written apart.
        if name.is_empty() {
            return None;
        }
        exp *= power;
        power = 1;
        let a = atom(name)?;
        for d in 0..4 {
            u.dim[d] += a.dim[d] * i8::try_from(exp).ok()?;
        }
        let f = pow(&a.factor, exp);
        u.factor *= f;
        any = true;
    }
    any.then_some(u)
}

fn pow(f: &BigRational, e: i32) -> BigRational {
    let mut r = BigRational::one();
    for _ in 0..e.unsigned_abs() {
        r *= f;
    }
    if e < 0 {
        r.recip()
    } else {
        r
    }
}

/// One unit word or symbol, plural words included.
fn atom(w: &str) -> Option<Unit> {
    let lower = w.to_ascii_lowercase();
    let singular = |x: &str| -> String {
        if x.len() > 3 && x.ends_with("es") && x.ends_with("ches") {
            x[..x.len() - 2].to_string()
        } else if x.len() > 3 && x.ends_with('s') {
            x[..x.len() - 1].to_string()
        } else {
            x.to_string()
        }
    };
    ATOMS.iter().find_map(|(names, dim, n, d)| {
        let hit = names.iter().any(|name| {
            if name.len() <= 2 || name.starts_with('\\') {
                w == *name || (*name == "in" && w == "in.")
            } else {
                lower == *name || singular(&lower) == *name
            }
        });
        hit.then(|| Unit {
            dim: *dim,
            factor: BigRational::new(BigInt::from(*n), BigInt::from(*d)),
        })
    })
}

/// The answer without `\text{}` / `\mathrm{}` wrappers and TeX spaces.
fn plain(s: &str) -> String {
    let u = crate::text::unwrap_cmds(
        s,
        &["\\text", "\\mathrm", "\\textrm", "\\mbox", "\\operatorname"],
    );
    u.replace("\\,", " ")
        .replace("\\;", " ")
        .replace("\\!", "")
        .replace("\\ ", " ")
        .replace("\\quad", " ")
        .replace('~', " ")
}

#[cfg(test)]
mod tests {
    use super::{rewrite, Units};

    #[test]
    fn same_dimension_in_other_units_is_rewritten() {
        assert_eq!(
            rewrite("150 \\text{ minutes}", "2.5 \\text{ hours}").unwrap(),
            Units::Rewritten("\\frac{1}{60} \\cdot (150)".into(), "(2.5)".into())
        );
        assert!(rewrite("2 \\text{ h } 30 \\text{ min}", "2.5 \\text{ h}").is_some());
        assert!(rewrite("1200 \\mathrm{~m}", "1.2 \\text{ km}").is_some());
        assert!(rewrite("36 \\text{ km/h}", "10 \\text{ m/s}").is_some());
        assert!(rewrite("150 \\text{ cents}", "\\$1.50").is_some());
    }

    #[test]
    fn anything_else_is_left_to_the_ordinary_rules() {
        // Same unit, no unit, a list rather than a compound.
        assert_eq!(rewrite("3 \\text{ m}", "3 \\text{ meters}"), None);
        assert_eq!(rewrite("150", "2.5 \\text{ hours}"), None);
        assert_eq!(
            rewrite("5 \\text{ m}", "5 \\text{ s}"),
            Some(Units::Different)
        );
        assert_eq!(rewrite("2 \\text{ m } 3 \\text{ m}", "5 \\text{ m}"), None);
        assert_eq!(rewrite("x \\text{ cm}", "1 \\text{ m}"), None);
    }
}
