//! Families of angles indexed by an integer, written with different parametrisations:
//! `\frac{\pi}{6} + 2k\pi, \frac{5\pi}{6} + 2k\pi` and `(-1)^k \frac{\pi}{6} + k\pi`, or
//! `-\frac{\pi}{4} + \frac{k\pi}{2}` and `\frac{\pi}{4} + \frac{k\pi}{2}`, are the same set of
//! angles though no term matches. Each side's families are evaluated at k = -K..K and the values
//! compared as sets inside a window every family covers on both sides. Only families that move
//! the same way at every step (monotone in k) are read, so the window really is covered; any
//! other shape leaves the pair to the other rules.

use crate::budget::{Limit, Meter};
use crate::expr::{Expr, RelOp};
use crate::numeric::{num, NumCtx, C};
use crate::plusminus::expand_pm;

const K: i32 = 24;
const INDEX_NAMES: &[&str] = &["k", "n", "m", "j", "l"];

/// The families on one side: `x = …` and `k \in \mathbb{Z}` dropped, `±` written out.
fn families(e: &Expr) -> Option<(Vec<Expr>, String)> {
    let items: Vec<&Expr> = match e {
        Expr::List(v) | Expr::Set(v) => v.iter().collect(),
        e => vec![e],
    };
    let mut out = Vec::new();
    for it in items {
        let it = match it {
            // `k \in \mathbb{Z}`: says what the index is.
            Expr::Rel { ops, parts } if ops == &[RelOp::In] => {
                if matches!(&parts[0], Expr::Var(v) if INDEX_NAMES.contains(&v.as_str())) {
                    continue;
                }
                return None;
            }
            Expr::Rel { ops, parts } if ops == &[RelOp::Eq] && parts.len() == 2 => {
                if !matches!(&parts[0], Expr::Var(_)) {
                    return None;
                }
                &parts[1]
            }
            e => e,
        };
        if !it.is_scalar() {
            return None;
        }
        match expand_pm(it) {
            Some(v) => out.extend(v),
            None => out.push(it.clone()),
        }
    }
    let mut index: Option<String> = None;
    for f in &out {
        let vars = f.free_vars();
        match vars.as_slice() {
            [v] if INDEX_NAMES.contains(&v.as_str()) => match &index {
                Some(i) if i != v => return None,
                _ => index = Some(v.clone()),
            },
            _ => return None,
        }
    }
    Some((out, index?))
}

/// Every family's values at k = -K..K, and the interval all of them cover; `None` where a
/// family is not monotone in k or not real.
fn values(fams: &[Expr], index: &str, m: &Meter) -> Result<Option<(Vec<f64>, f64, f64)>, Limit> {
    let (mut lo, mut hi, mut step) = (f64::NEG_INFINITY, f64::INFINITY, 0.0f64);
    let mut all = Vec::new();
    for f in fams {
        let mut vs = Vec::with_capacity((2 * K + 1) as usize);
        for k in -K..=K {
            let env = [(index.to_string(), C::r(f64::from(k)))];
            let v = num(f, &NumCtx { env: &env }, m, false)?;
            if !v.is_finite() || v.im.abs() > 1e-12 {
                return Ok(None);
            }
            vs.push(v.re);
        }
        let up = vs[1] > vs[0];
        for w in vs.windows(2) {
            let d = w[1] - w[0];
            if d.abs() < 1e-9 || (d > 0.0) != up {
                return Ok(None);
            }
            step = step.max(d.abs());
        }
        let (a, b) = (vs[0].min(vs[vs.len() - 1]), vs[0].max(vs[vs.len() - 1]));
        lo = lo.max(a);
        hi = hi.min(b);
        all.extend(vs);
    }
    Ok(Some((all, lo + step, hi - step)))
}

/// `Some(equal)` where both sides are monotone families of one integer index mentioning no
/// other variable; `None` otherwise.
pub(crate) fn compare(a: &Expr, b: &Expr, m: &Meter) -> Result<Option<bool>, Limit> {
    let (Some((fa, ia)), Some((fb, ib))) = (families(a), families(b)) else {
        return Ok(None);
    };
    let (Some((va, la, ha)), Some((vb, lb, hb))) = (values(&fa, &ia, m)?, values(&fb, &ib, m)?)
    else {
        return Ok(None);
    };
    let (lo, hi) = (la.max(lb), ha.min(hb));
    let inside = |v: &[f64]| v.iter().filter(|x| (lo..=hi).contains(*x)).count();
    if hi <= lo || inside(&va) < 6 || inside(&vb) < 6 {
        return Ok(None);
    }
    let near = |x: f64, y: f64| (x - y).abs() <= 1e-9 * (1.0 + x.abs());
    let covered = |from: &[f64], to: &[f64]| {
        from.iter()
            .filter(|x| (lo..=hi).contains(*x))
            .all(|x| to.iter().any(|y| near(*x, *y)))
    };
    Ok(Some(covered(&va, &vb) && covered(&vb, &va)))
}

#[cfg(test)]
mod tests {
    use crate::budget::{Budget, Meter};
    use crate::compare::TALLY;
    use crate::parse::parse;

    fn decide(a: &str, b: &str) -> Option<bool> {
        let m = Meter::new(Budget::default());
        let (a, b) = (parse(a, TALLY, 50).unwrap(), parse(b, TALLY, 50).unwrap());
        super::compare(&a, &b, &m).unwrap()
    }

    #[test]
    fn the_same_angles_in_other_parametrisations() {
        let two = r"\frac{\pi}{6} + 2k\pi, \frac{5\pi}{6} + 2k\pi";
        assert_eq!(decide(two, r"x = (-1)^k \frac{\pi}{6} + k\pi"), Some(true));
        assert_eq!(decide(two, r"x = (-1)^k \frac{\pi}{3} + k\pi"), Some(false));
        let quarter = r"-\frac{\pi}{4} + \frac{k\pi}{2}";
        assert_eq!(
            decide(quarter, r"\frac{\pi}{4} + \frac{n\pi}{2}"),
            Some(true)
        );
        assert_eq!(decide(quarter, r"\frac{\pi}{4} + k\pi"), Some(false));
        assert_eq!(
            decide(
                r"\pm\frac{\pi}{3} + 2k\pi",
                r"\frac{\pi}{3} + 2k\pi, \frac{5\pi}{3} + 2k\pi"
            ),
            Some(true)
        );
    }

    #[test]
    fn a_family_that_is_not_monotone_is_not_read() {
        assert_eq!(decide(r"k^2\pi", r"k^2 \pi"), None);
    }
}
