//! Indefinite integrals: `\frac{1}{2}\sin^2 x + C` and `-\frac{1}{2}\cos^2 x + C` are the same
//! family of antiderivatives (they differ by the constant ½). When both sides add the constant
//! of integration, the rest may differ by a constant.

use crate::budget::Limit;
use crate::compare::{branch_free, close, union_vars, Cmp};
use crate::expr::Expr;
use crate::numeric::{num, NumCtx, C};
use crate::points::{sample, POINTS};

/// The sum without its constant of integration (`C` as one added term), if it has one.
pub(crate) fn without_constant(e: &Expr) -> Option<Expr> {
    let Expr::Add(terms) = e else { return None };
    let is_c = |t: &Expr| matches!(t, Expr::Var(n) if n == "C");
    if terms.iter().filter(|t| is_c(t)).count() != 1 {
        return None;
    }
    let rest: Vec<Expr> = terms.iter().filter(|t| !is_c(t)).cloned().collect();
    if rest.iter().any(|t| t.free_vars().iter().any(|v| v == "C")) {
        return None;
    }
    Some(match rest.len() {
        0 => return None,
        1 => rest.into_iter().next().unwrap(),
        _ => Expr::Add(rest),
    })
}

impl Cmp<'_> {
    /// `a - b` is one constant at every sample point (and at the points negated, where no
    /// branch needs a positive domain).
    pub(crate) fn same_up_to_constant(&self, a: &Expr, b: &Expr) -> Result<bool, Limit> {
        if self.eq(a, b)? {
            return Ok(true);
        }
        let vars = union_vars(a, b);
        if vars.is_empty() {
            return Ok(false);
        }
        let signs: &[f64] = if branch_free(a) && branch_free(b) {
            &[1.0, -1.0]
        } else {
            &[1.0]
        };
        let mut first: Option<C> = None;
        let mut valid = 0;
        for &sign in signs {
            for k in 0..POINTS {
                let env: Vec<(String, C)> = vars
                    .iter()
                    .map(|v| (v.clone(), C::r(sign * sample(v, k).re)))
                    .collect();
                let ctx = NumCtx { env: &env };
                let (x, y) = (num(a, &ctx, self.m, false)?, num(b, &ctx, self.m, false)?);
                if !x.is_finite() || !y.is_finite() {
                    continue;
                }
                let d = C {
                    re: x.re - y.re,
                    im: x.im - y.im,
                };
                match first {
                    None => first = Some(d),
                    Some(d0) if close(d0, d, 1e-9) => {}
                    Some(_) => return Ok(false),
                }
                valid += 1;
            }
        }
        Ok(valid >= 3)
    }
}
