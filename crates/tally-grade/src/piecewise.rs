//! A function given by cases (`\begin{cases} x^2 & x \ge 0 \\ -x^2 & x < 0 \end{cases}`) against
//! one formula (`x|x|`): the same function when, at every test point, the rows whose condition
//! holds there give the formula's value. The test points are the usual sample points on both
//! sides of zero plus each condition's boundary and points just beside it, and every row must be
//! reached by at least one of them — a row no point tests could hide a wrong value, so such a
//! pair is left undecided rather than called equal.

use crate::budget::{Limit, Meter};
use crate::compare::close;
use crate::expr::{Expr, RelOp};
use crate::numeric::{num, NumCtx, C};
use crate::points::{sample, POINTS};

/// One row: its value and its condition (`None`: "otherwise").
pub(crate) struct Row<'a> {
    value: &'a Expr,
    cond: Option<&'a Expr>,
}

const OTHERWISE: &[&str] = &["otherwise", "else", "elsewhere", "in all other cases"];

/// The rows of a `cases` environment as the parser pairs them (a list of `(value, condition)`),
/// when there are at least two and every condition is a comparison or "otherwise".
pub(crate) fn rows(e: &Expr) -> Option<Vec<Row<'_>>> {
    let Expr::List(items) = e else { return None };
    if items.len() < 2 {
        return None;
    }
    let mut out = Vec::with_capacity(items.len());
    for it in items {
        let Expr::Seq {
            open: '(',
            close: ')',
            items: pair,
        } = it
        else {
            return None;
        };
        let [value, cond] = pair.as_slice() else {
            return None;
        };
        if !value.is_scalar() {
            return None;
        }
        let cond = match cond {
            Expr::Rel { ops, .. }
                if ops.iter().all(|o| !matches!(o, RelOp::In | RelOp::Approx)) =>
            {
                Some(cond)
            }
            Expr::Text(t) if OTHERWISE.contains(&t.trim().to_lowercase().as_str()) => None,
            _ => return None,
        };
        out.push(Row { value, cond });
    }
    // At most one "otherwise", and it is the fallback only.
    (out.iter().filter(|r| r.cond.is_none()).count() <= 1).then_some(out)
}

fn holds(cond: &Expr, ctx: &NumCtx, m: &Meter) -> Result<Option<bool>, Limit> {
    let Expr::Rel { parts, ops } = cond else {
        return Ok(None);
    };
    let mut vals = Vec::with_capacity(parts.len());
    for p in parts {
        let v = num(p, ctx, m, false)?;
        if !v.is_finite() || v.im.abs() > 1e-12 {
            return Ok(None);
        }
        vals.push(v.re);
    }
    // Boundaries are compared with the sets rule's slack, so `x = 1/3` holds at the point 1/3.
    let all = vals
        .windows(2)
        .zip(ops)
        .all(|(w, op)| crate::sets::holds(*op, w[0], w[1]));
    Ok(Some(all))
}

/// The constants the conditions compare the variable with (`x \ge 2` gives 2).
fn boundaries(rows: &[Row], m: &Meter) -> Result<Vec<f64>, Limit> {
    let mut out = Vec::new();
    let ctx = NumCtx { env: &[] };
    for r in rows {
        if let Some(Expr::Rel { parts, .. }) = r.cond {
            for p in parts {
                if p.free_vars().is_empty() {
                    let v = num(p, &ctx, m, false)?;
                    if v.is_finite() && v.im == 0.0 && v.re.abs() < 1e6 {
                        out.push(v.re);
                    }
                }
            }
        }
    }
    Ok(out)
}

/// `Some(equal)` where every row was tested, `None` where the comparison cannot be made.
pub(crate) fn same_function(rows: &[Row], other: &Expr, m: &Meter) -> Result<Option<bool>, Limit> {
    if !other.is_scalar() {
        return Ok(None);
    }
    let mut vars: Vec<String> = other.free_vars();
    for r in rows {
        for v in r.value.free_vars() {
            if !vars.contains(&v) {
                vars.push(v);
            }
        }
        if let Some(c) = r.cond {
            for v in c.free_vars() {
                if !vars.contains(&v) {
                    vars.push(v);
                }
            }
        }
    }
    // One variable: the conditions split a line, and the points below cover both sides.
    if vars.len() != 1 {
        return Ok(None);
    }
    let var = &vars[0];
    let mut points: Vec<f64> = (0..POINTS)
        .flat_map(|k| {
            let x = sample(var, k).re;
            [x, -x]
        })
        .collect();
    for b in boundaries(rows, m)? {
        points.extend([b, b - 0.37, b + 0.37, b - 1.61, b + 1.61]);
    }
    let mut reached = vec![false; rows.len()];
    let mut tested = 0;
    for x in points {
        let env = [(var.clone(), C::r(x))];
        let ctx = NumCtx { env: &env };
        let want = num(other, &ctx, m, false)?;
        let mut any = false;
        for (i, r) in rows.iter().enumerate() {
            let on = match r.cond {
                Some(c) => holds(c, &ctx, m)?,
                None => continue,
            };
            match on {
                None => return Ok(None),
                Some(false) => {}
                Some(true) => {
                    any = true;
                    reached[i] = true;
                    if !agrees(num(r.value, &ctx, m, false)?, want) {
                        return Ok(Some(false));
                    }
                    tested += 1;
                }
            }
        }
        if !any {
            if let Some(i) = rows.iter().position(|r| r.cond.is_none()) {
                reached[i] = true;
                if !agrees(num(rows[i].value, &ctx, m, false)?, want) {
                    return Ok(Some(false));
                }
                tested += 1;
            }
        }
    }
    Ok((reached.iter().all(|&r| r) && tested >= 4).then_some(true))
}

/// Both defined and equal, or both undefined (a point outside both domains says nothing).
fn agrees(x: C, y: C) -> bool {
    match (x.is_finite(), y.is_finite()) {
        (true, true) => close(x, y, 1e-11),
        (false, false) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use crate::budget::{Budget, Meter};
    use crate::compare::TALLY;
    use crate::parse::parse;

    fn decide(cases: &str, formula: &str) -> Option<bool> {
        let m = Meter::new(Budget::default());
        let c = parse(cases, TALLY, 50).unwrap();
        let f = parse(formula, TALLY, 50).unwrap();
        super::same_function(&super::rows(&c).unwrap(), &f, &m).unwrap()
    }

    #[test]
    fn rows_are_checked_on_both_sides_of_their_boundary() {
        let abs = r"\begin{cases} x-1 & x \ge 1 \\ 1-x & x < 1 \end{cases}";
        assert_eq!(decide(abs, "|x-1|"), Some(true));
        let shifted = r"\begin{cases} x-1 & x \ge 2 \\ 1-x & x < 2 \end{cases}";
        assert_eq!(decide(shifted, "|x-1|"), Some(false));
        let otherwise = r"\begin{cases} 2x & x > 0 \\ 0 & \text{otherwise} \end{cases}";
        assert_eq!(decide(otherwise, "x+|x|"), Some(true));
    }

    #[test]
    fn a_row_no_point_reaches_leaves_the_pair_undecided() {
        // Only x = 0 reaches the first row; the boundary point does, so this one is decided …
        let point = r"\begin{cases} 1 & x = 0 \\ 0 & x \ne 0 \end{cases}";
        assert_eq!(decide(point, "0"), Some(false));
        // … but a row whose condition holds nowhere cannot be tested.
        let never = r"\begin{cases} 5 & x > x \\ x^2 & x \ne 3 \end{cases}";
        assert_eq!(decide(never, "x^2"), None);
    }
}
