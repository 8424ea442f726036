//! `±` written out: `1 ± √5` is the list of both values, `(±1, 0, ±2)` the four tuples of every
//! sign choice, `x = ±2` the two equations.

use crate::expr::{Expr, RelOp};

/// `(\pm 1, \mp 1)`: with a `∓` in it, every `±` and `∓` share one sign choice, so the answer is
/// the two sign choices written out (`(+1, -1), (-1, +1)`); a name in front (`(x, y) =`) is
/// kept once. `None` without a `∓`, or where `=` appears more than once.
pub(crate) fn correlated_signs(s: &str) -> Option<String> {
    if !(s.contains("\\mp") || s.contains('∓')) {
        return None;
    }
    let (head, body) = match s.split_once('=') {
        Some((h, b)) if !b.contains('=') => (Some(h.trim_end()), b.trim()),
        Some(_) => return None,
        None => (None, s.trim()),
    };
    let choice = |plus: bool| -> String {
        let (pm, mp) = if plus { ("+", "-") } else { ("-", "+") };
        body.replace("\\pm", pm)
            .replace('±', pm)
            .replace("\\mp", mp)
            .replace('∓', mp)
    };
    let both = format!("{}, {}", choice(true), choice(false));
    Some(match head {
        Some(h) => format!("{h} = {both}"),
        None => both,
    })
}

/// Replaces the first `±` with `+` or `-`; `None` when there is none.
fn split_pm(e: &Expr, plus: bool) -> Option<Expr> {
    let rec = |v: &Vec<Expr>| -> Option<Vec<Expr>> {
        for (k, x) in v.iter().enumerate() {
            if let Some(y) = split_pm(x, plus) {
                let mut w = v.clone();
                w[k] = y;
                return Some(w);
            }
        }
        None
    };
    match e {
        Expr::PlusMinus(a, b) => {
            let b = if plus {
                (**b).clone()
            } else {
                Expr::Neg(b.clone())
            };
            Some(Expr::Add(vec![(**a).clone(), b]))
        }
        Expr::Add(v) => rec(v).map(Expr::Add),
        Expr::Mul(v) => rec(v).map(Expr::Mul),
        Expr::Neg(a) => split_pm(a, plus).map(|x| Expr::Neg(Box::new(x))),
        Expr::Div(a, b) => match split_pm(a, plus) {
            Some(x) => Some(Expr::Div(Box::new(x), b.clone())),
            None => split_pm(b, plus).map(|y| Expr::Div(a.clone(), Box::new(y))),
        },
        Expr::Root(n, x) => split_pm(x, plus).map(|y| Expr::Root(n.clone(), Box::new(y))),
        _ => None,
    }
}

/// `a ± b` → the list `a + b, a - b` (at most 8 variants).
pub(crate) fn expand_pm(e: &Expr) -> Option<Vec<Expr>> {
    split_pm(e, true)?;
    let mut out = vec![e.clone()];
    for _ in 0..3 {
        let mut next = Vec::new();
        let mut changed = false;
        for x in &out {
            match (split_pm(x, true), split_pm(x, false)) {
                (Some(p), Some(q)) => {
                    next.push(p);
                    next.push(q);
                    changed = true;
                }
                _ => next.push(x.clone()),
            }
        }
        out = next;
        if !changed {
            break;
        }
    }
    Some(out)
}

pub(crate) fn has_pm(e: &Expr) -> bool {
    e.any(|x| matches!(x, Expr::PlusMinus(..)))
}

/// Every sign choice of one item: `±1` → `1, -1`; `(±1, 0)` → `(1, 0), (-1, 0)`;
/// `x = ±2` → `x = 2, x = -2`. At most 64 variants, else the item as written.
fn pm_variants(e: &Expr) -> Vec<Expr> {
    match e {
        Expr::Seq {
            open: '(',
            close: ')',
            items,
        } if items.iter().any(has_pm) => {
            let mut acc: Vec<Vec<Expr>> = vec![vec![]];
            for it in items {
                let vs = expand_pm(it).unwrap_or_else(|| vec![it.clone()]);
                if acc.len() * vs.len() > 64 {
                    return vec![e.clone()];
                }
                acc = acc
                    .iter()
                    .flat_map(|pre| {
                        vs.iter().map(move |v| {
                            let mut w = pre.clone();
                            w.push(v.clone());
                            w
                        })
                    })
                    .collect();
            }
            acc.into_iter()
                .map(|items| Expr::Seq {
                    open: '(',
                    close: ')',
                    items,
                })
                .collect()
        }
        Expr::Rel { parts, ops }
            if ops == &[RelOp::Eq] && parts[0].is_name_like() && has_pm(&parts[1]) =>
        {
            pm_variants(&parts[1])
                .into_iter()
                .map(|v| Expr::Rel {
                    parts: vec![parts[0].clone(), v],
                    ops: ops.clone(),
                })
                .collect()
        }
        Expr::List(_) | Expr::Set(_) => vec![expand_pm_items(e).unwrap_or_else(|| e.clone())],
        _ => expand_pm(e).unwrap_or_else(|| vec![e.clone()]),
    }
}

/// A list, set or tuple with `±` inside, written out: `(±1, 0, ±2)` is four tuples, and
/// `±1, ±2` four values. `None` when there is no `±` in an item.
pub(crate) fn expand_pm_items(e: &Expr) -> Option<Expr> {
    match e {
        Expr::List(items) | Expr::Set(items) if items.iter().any(has_pm) => {
            let v: Vec<Expr> = items.iter().flat_map(pm_variants).collect();
            // A `±` no rule writes out leaves the list as it was: no expansion, so the caller
            // does not compare the same pair again.
            if v == *items {
                return None;
            }
            Some(match e {
                Expr::Set(_) => Expr::Set(v),
                _ => Expr::List(v),
            })
        }
        Expr::Seq {
            open: '(',
            close: ')',
            items,
        } if items.iter().any(has_pm) => {
            let v = pm_variants(e);
            (v.len() > 1).then_some(Expr::List(v))
        }
        // `y = ±x`: the two equations, so `y = x, y = -x` matches item by item.
        Expr::Rel { parts, ops }
            if ops == &[RelOp::Eq] && parts[0].is_name_like() && has_pm(&parts[1]) =>
        {
            let v = pm_variants(e);
            (v.len() > 1).then_some(Expr::List(v))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::correlated_signs as c;

    #[test]
    fn minus_plus_shares_the_sign_choice() {
        assert_eq!(
            c("(x, y) = (\\pm 1, \\mp 1)").unwrap(),
            "(x, y) = (+ 1, - 1), (- 1, + 1)"
        );
        assert_eq!(c("1 \\mp 2").unwrap(), "1 - 2, 1 + 2");
        // No `∓`, or names set more than once: left to the other rules.
        assert_eq!(c("\\pm 1"), None);
        assert_eq!(c("x = \\mp 1, y = 2"), None);
    }
}
