//! The precision rule: a number written with fewer digits equals a more precise value that
//! rounds to it at the places it shows (`41.67` = 125/3, `67\%` = `66.67\%`, `9.81` = `9.806`),
//! provided the shorter one keeps enough significant digits (docs/grading.md).

use crate::budget::Limit;
use crate::compare::Cmp;
use crate::expr::Expr;
use crate::numeric::{exact, num, rat_to_f64, NumCtx};
use num_rational::BigRational;
use num_traits::{Signed, Zero};
use std::borrow::Cow;

impl Cmp<'_> {
    /// The precision rule (docs/grading.md): a number written with fewer digits equals a more
    /// precise value that rounds to it at the places it shows.
    pub(crate) fn same_at_precision(&self, a: &Side, b: &Side) -> Result<bool, Limit> {
        // Most unequal pairs are two whole numbers, or no literal at all: nothing to round.
        let exact_whole = |x: &Side| !x.percent && whole_literal(x.e);
        if exact_whole(a) && (exact_whole(b) || !literal(b.e))
            || exact_whole(b) && !literal(a.e)
            || !literal(a.e) && !literal(b.e)
        {
            return Ok(false);
        }
        let (wa, wb) = (written(a.e), written(b.e));
        let (short, long, wl) = match (wa, wb) {
            (Some(x), Some(y)) => {
                let (x, y) = (x.shifted(a.scale), y.shifted(b.scale));
                if x.place == y.place {
                    return Ok(false);
                }
                if x.place < y.place {
                    (a, b, Some((x, y)))
                } else {
                    (b, a, Some((y, x)))
                }
            }
            (Some(_), None) => (a, b, None),
            (None, Some(_)) => (b, a, None),
            (None, None) => return Ok(false),
        };
        let ws = written(short.e).unwrap().shifted(short.scale);
        // Whole numbers are exact unless they are percentages (`67\%` for `66.67\%`).
        if ws.whole && !short.percent {
            return Ok(false);
        }
        let allowed = match wl {
            // Two written decimals: the shorter one keeps three significant digits, or it is a
            // percentage with two and the other shows at least two places more.
            Some((_, wlong)) => {
                ws.sig >= 3 || (ws.sig == 2 && short.percent && wlong.place >= ws.place + 2)
            }
            // An exact value (fraction, radical, π) written as a decimal: three significant
            // digits, or two when they are two places or more (`0.33`) or a percentage.
            None => ws.sig >= 3 || (ws.sig == 2 && (ws.place >= 2 || short.percent)),
        };
        if !allowed {
            return Ok(false);
        }
        let sv = match exact(&scaled(short.e, short.scale), self.m) {
            Ok(Some(v)) => v,
            Ok(None) | Err(Limit::NumberTooLarge) => return Ok(false),
            Err(l) => return Err(l),
        };
        let long_e = scaled(long.e, long.scale);
        let unit = BigRational::new(1.into(), 10.into());
        let unit = pow_place(&unit, ws.place);
        let target = &sv / &unit;
        if !target.is_integer() {
            return Ok(false);
        }
        let soft = |r: Result<Option<BigRational>, Limit>| match r {
            Ok(v) => Ok(v),
            Err(Limit::NumberTooLarge) => Ok(None),
            Err(l) => Err(l),
        };
        if let Some(lv) = soft(exact(&long_e, self.m))? {
            // Exact: the longer value must not already be exact at the shorter precision.
            let q = &lv / &unit;
            if q.is_integer() {
                return Ok(false);
            }
            let half = BigRational::new(1.into(), 2.into());
            let rounded = if q.is_negative() {
                -(-&q + &half).floor()
            } else {
                (&q + &half).floor()
            };
            return Ok(rounded == target || (ws.place >= 3 && q.trunc() == target));
        }
        if long_e.free_vars().is_empty() {
            let x = num(&long_e, &NumCtx { env: &[] }, self.m, false)?;
            if !x.is_finite() || x.im != 0.0 {
                return Ok(false);
            }
            let u = rat_to_f64(&unit);
            let t = rat_to_f64(&target);
            let q = x.re / u;
            let rounded = q.signum() * (q.abs() + 0.5).floor();
            return Ok(rounded == t || (ws.place >= 3 && q.trunc() == t));
        }
        Ok(false)
    }
}

/// One side of a scalar comparison for the precision rule: the expression without its percent
/// sign, the reading (divided by 10^scale) and whether it carried the sign.
pub(crate) struct Side<'e> {
    pub e: &'e Expr,
    pub scale: u32,
    pub percent: bool,
}

/// `e / 10^k` (the percent reading), or `e` itself for k = 0.
pub(crate) fn scaled(e: &Expr, k: u32) -> Cow<'_, Expr> {
    if k == 0 {
        return Cow::Borrowed(e);
    }
    Cow::Owned(Expr::Div(
        Box::new(e.clone()),
        Box::new(Expr::num_int(10i64.pow(k))),
    ))
}

fn pow_place(tenth: &BigRational, place: i32) -> BigRational {
    if place >= 0 {
        num_traits::pow(tenth.clone(), place as usize)
    } else {
        num_traits::pow(tenth.recip(), (-place) as usize)
    }
}

/// How a number literal is written: its value is a whole multiple of 10^-place, shown with
/// `sig` significant digits; `whole` for an integer written without a point.
#[derive(Clone, Copy, Debug)]
struct Written {
    place: i32,
    sig: u32,
    whole: bool,
}

impl Written {
    fn shifted(self, k: u32) -> Written {
        Written {
            place: self.place + k as i32,
            ..self
        }
    }
}

fn sig_digits(val: &BigRational, decimals: u32) -> u32 {
    let n = (val * num_traits::pow(BigRational::from_integer(10.into()), decimals as usize))
        .to_integer()
        .abs();
    if n.is_zero() {
        1
    } else {
        n.to_string().len() as u32
    }
}

fn whole_literal(e: &Expr) -> bool {
    match e {
        Expr::Num { decimals: 0, .. } => true,
        Expr::Neg(i) => whole_literal(i),
        _ => false,
    }
}

fn literal(e: &Expr) -> bool {
    match e {
        Expr::Num { .. } => true,
        Expr::Neg(i) => literal(i),
        Expr::Mul(v) => matches!(v.as_slice(), [Expr::Num { .. }, Expr::Pow(..)]),
        _ => false,
    }
}

/// A literal `12.50`, `-0.33`, `6.02 \times 10^{23}` (or `6.02e23`); `None` for anything else.
fn written(e: &Expr) -> Option<Written> {
    match e {
        Expr::Num { val, decimals } if val.is_integer() || *decimals > 0 => Some(Written {
            place: *decimals as i32,
            sig: sig_digits(val, *decimals),
            whole: *decimals == 0,
        }),
        Expr::Neg(i) => written(i),
        Expr::Mul(v) => {
            let [Expr::Num { val, decimals }, Expr::Pow(b, x)] = v.as_slice() else {
                return None;
            };
            if **b != Expr::num_int(10) {
                return None;
            }
            let k: i64 = match &**x {
                Expr::Num { val, decimals: 0 } if val.is_integer() => {
                    val.to_integer().try_into().ok()?
                }
                Expr::Neg(i) => match &**i {
                    Expr::Num { val, decimals: 0 } if val.is_integer() => {
                        -TryInto::<i64>::try_into(val.to_integer()).ok()?
                    }
                    _ => return None,
                },
                _ => return None,
            };
            if k.abs() > 400 {
                return None;
            }
            Some(Written {
                place: *decimals as i32 - k as i32,
                sig: sig_digits(val, *decimals),
                whole: false,
            })
        }
        _ => None,
    }
}
