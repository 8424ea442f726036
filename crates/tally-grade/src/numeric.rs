//! Exact rational evaluation (big integers, bounded) and complex floating-point evaluation.

use crate::budget::{Limit, Meter};
use crate::expr::{Const, Expr};
use num_bigint::BigInt;
use num_integer::Integer;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};

/// Exact value when the expression is a rational number; `Ok(None)` when it is not (or is
/// not provably so), `Err` when evaluating it would exceed the budget.
pub(crate) fn exact(e: &Expr, m: &Meter) -> Result<Option<BigRational>, Limit> {
    m.tick(1)?;
    Ok(match e {
        Expr::Num { val, .. } => Some(val.clone()),
        Expr::Neg(a) => exact(a, m)?.map(|v| -v),
        Expr::Add(v) => {
            let mut acc = BigRational::zero();
            for x in v {
                let Some(y) = exact(x, m)? else {
                    return Ok(None);
                };
                charge(&acc, &y, m)?;
                if acc.is_integer() && y.is_integer() {
                    acc = BigRational::from_integer(acc.to_integer() + y.to_integer());
                } else {
                    acc += y;
                }
                cap(&acc, m)?;
            }
            Some(acc)
        }
        Expr::Mul(v) => {
            let mut acc = BigRational::one();
            for x in v {
                let Some(y) = exact(x, m)? else {
                    return Ok(None);
                };
                charge(&acc, &y, m)?;
                if acc.is_integer() && y.is_integer() {
                    acc = BigRational::from_integer(acc.to_integer() * y.to_integer());
                } else {
                    acc *= y;
                }
                cap(&acc, m)?;
            }
            Some(acc)
        }
        Expr::Div(a, b) => match (exact(a, m)?, exact(b, m)?) {
            (Some(x), Some(y)) if !y.is_zero() => {
                charge(&x, &y, m)?;
                let q = x / y;
                cap(&q, m)?;
                Some(q)
            }
            _ => None,
        },
        Expr::Pow(a, b) => match (exact(a, m)?, exact(b, m)?) {
            (Some(x), Some(y)) => pow_exact(&x, &y, m)?,
            _ => None,
        },
        Expr::Root(n, x) => match (exact(n, m)?, exact(x, m)?) {
            (Some(n), Some(x)) if n.is_integer() && n.is_positive() => {
                let n = n.to_integer().to_u32().ok_or(Limit::NumberTooLarge)?;
                root_exact(&x, n)
            }
            _ => None,
        },
        Expr::Factorial(a) => match exact(a, m)? {
            Some(x) if x.is_integer() && !x.is_negative() => {
                let n = x.to_integer().to_u64().ok_or(Limit::NumberTooLarge)?;
                // log2(n!) < n log2 n: refuse before building it.
                if (n as f64) * (n.max(2) as f64).log2() > m.budget.max_bits as f64 {
                    return Err(Limit::NumberTooLarge);
                }
                m.tick(n)?;
                let mut acc = BigInt::one();
                for k in 2..=n {
                    acc *= k;
                }
                Some(BigRational::from_integer(acc))
            }
            _ => None,
        },
        // Γ(n) = (n−1)! at positive integers; elsewhere only numerically.
        Expr::Func(f, args) if f == "Gamma" && args.len() == 1 => match exact(&args[0], m)? {
            Some(x) if x.is_integer() && x.is_positive() => exact(
                &Expr::Factorial(Box::new(Expr::Num {
                    val: x - BigRational::one(),
                    decimals: 0,
                })),
                m,
            )?,
            _ => None,
        },
        // `\gcd(12, 18)`, `\operatorname{lcm}(4, 6)`: of integers, exactly.
        Expr::Func(f, args) if (f == "gcd" || f == "lcm") && args.len() >= 2 => {
            let mut acc: Option<BigInt> = None;
            for a in args {
                let Some(v) = exact(a, m)?.filter(|v| v.is_integer()) else {
                    return Ok(None);
                };
                let v = v.to_integer();
                charge(
                    &BigRational::from_integer(v.clone()),
                    &BigRational::one(),
                    m,
                )?;
                acc = Some(match acc {
                    None => v.abs(),
                    Some(x) if f == "gcd" => x.gcd(&v),
                    Some(x) => x.lcm(&v),
                });
                cap(&BigRational::from_integer(acc.clone().unwrap()), m)?;
            }
            acc.map(BigRational::from_integer)
        }
        Expr::Func(f, args) if f == "binom" && args.len() == 2 => {
            match (exact(&args[0], m)?, exact(&args[1], m)?) {
                (Some(n), Some(k)) if n.is_integer() && k.is_integer() => {
                    let n = n.to_integer().to_u64().ok_or(Limit::NumberTooLarge)?;
                    let k = k.to_integer().to_i64().ok_or(Limit::NumberTooLarge)?;
                    if k < 0 || k as u64 > n {
                        return Ok(Some(BigRational::zero()));
                    }
                    let k = (k as u64).min(n - k as u64);
                    if (n as f64).log2() * k as f64 > m.budget.max_bits as f64 * 2.0
                        && n > m.budget.max_bits
                    {
                        return Err(Limit::NumberTooLarge);
                    }
                    // k steps over a number that grows to log2 C(n, k) ≤ n·H(k/n) bits:
                    // charged by size, so `\binom{131000}{65500}` (a second of arithmetic)
                    // is over budget rather than slow.
                    let p = k as f64 / n as f64;
                    let h = if p > 0.0 && p < 1.0 {
                        -(p * p.log2() + (1.0 - p) * (1.0 - p).log2())
                    } else {
                        0.0
                    };
                    let words = (n as f64 * h / 64.0) as u64 + 1;
                    m.tick(k.saturating_mul(words) / 8 + k)?;
                    let mut acc = BigInt::one();
                    for j in 0..k {
                        acc = acc * (n - j) / (j + 1);
                    }
                    Some(BigRational::from_integer(acc))
                }
                _ => None,
            }
        }
        Expr::Percent(a) => match exact(a, m)? {
            Some(v) => {
                let hundred = BigRational::from_integer(100.into());
                charge(&v, &hundred, m)?;
                Some(v / hundred)
            }
            None => None,
        },
        Expr::Degrees(a) => exact(a, m)?,
        Expr::Xor(a, b) => match (exact(a, m)?, exact(b, m)?) {
            (Some(x), Some(y)) if x.is_integer() && y.is_integer() => {
                Some(BigRational::from_integer(x.to_integer() ^ y.to_integer()))
            }
            _ => None,
        },
        _ => None,
    })
}

/// Charges one sum, product or quotient of `a` and `b` before it is computed: between
/// fractions it reduces by a gcd whose cost grows with the square of the size (integers skip
/// it), so `11.8136^{8136} \cdot 9` or a chain of thousands of decimals (`5.05.05…` is their
/// product under the seed's LaTeX reading) runs out of budget instead of taking seconds.
fn charge(a: &BigRational, b: &BigRational, m: &Meter) -> Result<(), Limit> {
    let words = (bits(a) + bits(b)) / 64 + 1;
    m.tick(if a.is_integer() && b.is_integer() {
        words
    } else {
        words * words / 8 + 1
    })
}

/// Results past the size budget are refused, as for powers and factorials.
fn cap(v: &BigRational, m: &Meter) -> Result<(), Limit> {
    if bits(v) > m.budget.max_bits {
        Err(Limit::NumberTooLarge)
    } else {
        Ok(())
    }
}

fn bits(x: &BigRational) -> u64 {
    x.numer().bits().max(x.denom().bits())
}

fn pow_exact(x: &BigRational, y: &BigRational, m: &Meter) -> Result<Option<BigRational>, Limit> {
    if x.is_zero() {
        return Ok(if y.is_positive() {
            Some(BigRational::zero())
        } else {
            None
        });
    }
    if x.abs().is_one() && y.is_integer() {
        let odd = y.to_integer().is_odd();
        return Ok(Some(if x.is_negative() && odd {
            -BigRational::one()
        } else {
            BigRational::one()
        }));
    }
    let q = y.denom().to_u32().unwrap_or(u32::MAX);
    if q > 64 {
        return Ok(None);
    }
    let p = y.numer().abs().to_u64().ok_or(Limit::NumberTooLarge)?;
    if (bits(x) as f64) * (p as f64) / (q as f64) > m.budget.max_bits as f64 {
        return Err(Limit::NumberTooLarge);
    }
    let base = if q == 1 {
        x.clone()
    } else {
        match root_exact(x, q) {
            Some(r) => r,
            None => return Ok(None),
        }
    };
    m.tick(p.min(1 << 20) / 64 + 1)?;
    // Numerator and denominator apart: a reduced fraction's powers are reduced, while each
    // multiplication of `Ratio`s runs a gcd, quadratic in the size (`3^{2^{16}}` took 170 ms).
    let (n, d) = base.into_raw();
    let mut r = BigRational::new_raw(
        num_traits::pow(n, p as usize),
        num_traits::pow(d, p as usize),
    );
    if y.is_negative() {
        r = r.recip();
    }
    Ok(Some(r))
}

fn root_exact(x: &BigRational, n: u32) -> Option<BigRational> {
    if n == 0 {
        return None;
    }
    if x.is_negative() {
        if n.is_multiple_of(2) {
            return None;
        }
        return root_exact(&-x, n).map(|r| -r);
    }
    let rn = x.numer().nth_root(n);
    let rd = x.denom().nth_root(n);
    if num_traits::pow(rn.clone(), n as usize) == *x.numer()
        && num_traits::pow(rd.clone(), n as usize) == *x.denom()
    {
        Some(BigRational::new(rn, rd))
    } else {
        None
    }
}

/// Complex number for numeric evaluation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct C {
    pub re: f64,
    pub im: f64,
}

impl C {
    pub const fn r(re: f64) -> C {
        C { re, im: 0.0 }
    }
    fn add(self, o: C) -> C {
        C {
            re: self.re + o.re,
            im: self.im + o.im,
        }
    }
    fn mul(self, o: C) -> C {
        if self.im == 0.0 && o.im == 0.0 {
            return C::r(self.re * o.re);
        }
        C {
            re: self.re * o.re - self.im * o.im,
            im: self.re * o.im + self.im * o.re,
        }
    }
    fn div(self, o: C) -> C {
        if self.im == 0.0 && o.im == 0.0 {
            return C::r(self.re / o.re);
        }
        let d = o.re * o.re + o.im * o.im;
        C {
            re: (self.re * o.re + self.im * o.im) / d,
            im: (self.im * o.re - self.re * o.im) / d,
        }
    }
    pub fn abs(self) -> f64 {
        self.re.hypot(self.im)
    }
    pub fn is_finite(self) -> bool {
        self.re.is_finite() && self.im.is_finite()
    }
    fn ln(self) -> C {
        C {
            re: self.abs().ln(),
            im: self.im.atan2(self.re),
        }
    }
    fn exp(self) -> C {
        let m = self.re.exp();
        if self.im == 0.0 {
            return C::r(m);
        }
        C {
            re: m * self.im.cos(),
            im: m * self.im.sin(),
        }
    }
    fn pow(self, e: C) -> C {
        if self.im == 0.0 && e.im == 0.0 {
            if self.re >= 0.0 || e.re.fract() == 0.0 {
                return C::r(self.re.powf(e.re));
            }
            // Odd roots of negative reals are real (∛-8 = -2), as people mean them.
            let inv = 1.0 / e.re;
            if inv.fract() == 0.0 && (inv as i64) % 2 != 0 {
                return C::r(-(-self.re).powf(e.re));
            }
        }
        if self.re == 0.0 && self.im == 0.0 {
            return C::r(0.0);
        }
        e.mul(self.ln()).exp()
    }
    fn sin(self) -> C {
        C {
            re: self.re.sin() * self.im.cosh(),
            im: self.re.cos() * self.im.sinh(),
        }
    }
    fn cos(self) -> C {
        C {
            re: self.re.cos() * self.im.cosh(),
            im: -self.re.sin() * self.im.sinh(),
        }
    }
}

/// Values for free variables at one sample point.
pub(crate) type Env<'a> = &'a [(String, C)];

pub(crate) struct NumCtx<'a> {
    pub env: Env<'a>,
}

fn real_fn(f: &str, x: C, in_deg: bool) -> Option<C> {
    let x = if in_deg {
        x.mul(C::r(std::f64::consts::PI / 180.0))
    } else {
        x
    };
    Some(match f {
        "sin" => x.sin(),
        "cos" => x.cos(),
        "tan" => x.sin().div(x.cos()),
        "cot" => x.cos().div(x.sin()),
        "sec" => C::r(1.0).div(x.cos()),
        "csc" => C::r(1.0).div(x.sin()),
        "sinh" => C::r(x.re.sinh()),
        "cosh" => C::r(x.re.cosh()),
        "tanh" => C::r(x.re.tanh()),
        "coth" => C::r(1.0 / x.re.tanh()),
        "arcsin" | "asin" => C::r(x.re.asin()),
        "arccos" | "acos" => C::r(x.re.acos()),
        "arctan" | "atan" => C::r(x.re.atan()),
        "arccot" => C::r((1.0 / x.re).atan()),
        "arcsec" => C::r((1.0 / x.re).acos()),
        "arccsc" => C::r((1.0 / x.re).asin()),
        "Gamma" if x.im == 0.0 => C::r(gamma_f64(x.re)),
        "zeta" if x.im == 0.0 && x.re > 1.0 => C::r(zeta_f64(x.re)),
        "ln" | "log" => x.ln(),
        "lg" => x.ln().div(C::r(std::f64::consts::LN_10)),
        "exp" => x.exp(),
        "abs" => C::r(x.abs()),
        "floor" => C::r(x.re.floor()),
        "ceil" => C::r(x.re.ceil()),
        "sqrt" => x.pow(C::r(0.5)),
        _ => return None,
    })
}

/// Riemann's ζ(s) for real s > 1: twenty terms of the series and the Euler–Maclaurin tail to
/// the B₆ term (error below 1e-13 from s = 2 on, where answers use it: ζ(2) = π²/6, ζ(3)).
fn zeta_f64(s: f64) -> f64 {
    const N: f64 = 20.0;
    let head: f64 = (1..20).map(|k| f64::from(k).powf(-s)).sum();
    let mut tail = N.powf(1.0 - s) / (s - 1.0) + 0.5 * N.powf(-s);
    // B₂ⱼ/(2j)! · s(s+1)…(s+2j−2) · N^(−s−2j+1)
    let mut rising = s;
    for (j, b) in [(1, 1.0 / 6.0), (2, -1.0 / 30.0), (3, 1.0 / 42.0)] {
        let fact: f64 = (1..=2 * j).map(f64::from).product();
        tail += b / fact * rising * N.powf(-s - f64::from(2 * j) + 1.0);
        rising *= (s + f64::from(2 * j) - 1.0) * (s + f64::from(2 * j));
    }
    head + tail
}

/// The parser's name for `\sum_{k=…}` / `\prod_{k=…}` (`sum[k]`, `prod[k]`): whether it is a
/// product, and its bound variable.
pub(crate) fn big_operator(f: &str) -> Option<(bool, &str)> {
    let (product, rest) = match f.strip_prefix("sum[") {
        Some(r) => (false, r),
        None => (true, f.strip_prefix("prod[")?),
    };
    Some((product, rest.strip_suffix(']')?))
}

/// An unknown function `f(x)` is a fixed pseudo-random smooth function of its name, so that
/// `f(x)` matches `f(x)` but not `g(x)` or `f(y)`.
fn opaque_fn(name: &str, args: &[C]) -> C {
    let h = crate::points::hash_str(name);
    let a = 0.5 + (h % 1000) as f64 / 700.0;
    let b = ((h >> 10) % 1000) as f64 / 300.0;
    let mut acc = C::r(b);
    for (k, x) in args.iter().enumerate() {
        acc = acc
            .add(x.mul(C::r(a + k as f64)).sin().mul(C::r(1.7)))
            .add(x.mul(C::r(0.3)));
    }
    acc
}

pub(crate) fn num(e: &Expr, c: &NumCtx, m: &Meter, in_trig: bool) -> Result<C, Limit> {
    m.tick(1)?;
    Ok(match e {
        Expr::Num { val, .. } => C::r(rat_to_f64(val)),
        Expr::Const(k) => match k {
            Const::Pi => C::r(std::f64::consts::PI),
            Const::E => C::r(std::f64::consts::E),
            Const::I => C { re: 0.0, im: 1.0 },
            Const::Inf => C::r(f64::INFINITY),
        },
        Expr::Var(n) => match c.env.iter().find(|(k, _)| k == n) {
            Some((_, v)) => *v,
            None => C::r(f64::NAN),
        },
        Expr::Add(v) => {
            let mut acc = C::r(0.0);
            for x in v {
                acc = acc.add(num(x, c, m, in_trig)?);
            }
            acc
        }
        Expr::Mul(v) => {
            let mut acc = C::r(1.0);
            for x in v {
                acc = acc.mul(num(x, c, m, in_trig)?);
            }
            acc
        }
        Expr::Neg(a) => num(a, c, m, in_trig)?.mul(C::r(-1.0)),
        Expr::Div(a, b) => num(a, c, m, in_trig)?.div(num(b, c, m, in_trig)?),
        Expr::Pow(a, b) => num(a, c, m, in_trig)?.pow(num(b, c, m, false)?),
        Expr::Root(n, x) => {
            let n = num(n, c, m, false)?;
            num(x, c, m, in_trig)?.pow(C::r(1.0).div(n))
        }
        Expr::Factorial(a) => {
            let x = num(a, c, m, false)?;
            if x.im != 0.0 {
                C::r(f64::NAN)
            } else if x.re > 170.0 {
                C::r(f64::INFINITY)
            } else if x.re >= 0.0 && x.re.fract() == 0.0 {
                C::r((2..=x.re as u64).map(|k| k as f64).product())
            } else {
                // Sample points are not integers: `n!` there is Γ(n+1), so `(n+1)!` against
                // `(n+1)\,n!` or `\Gamma(n+1)` is an identity the points can check.
                C::r(gamma_f64(x.re + 1.0))
            }
        }
        Expr::Percent(a) => num(a, c, m, in_trig)?.div(C::r(100.0)),
        Expr::Degrees(a) => {
            let v = num(a, c, m, false)?;
            if in_trig {
                v.mul(C::r(std::f64::consts::PI / 180.0))
            } else {
                v
            }
        }
        Expr::Func(f, args) if args.len() == 3 && big_operator(f).is_some() => {
            // `\sum_{k=1}^{10} k^2`: evaluated term by term when both bounds are integers
            // (at most 10,000 terms); otherwise the opaque function it was parsed as.
            let (lo, hi) = (num(&args[1], c, m, false)?, num(&args[2], c, m, false)?);
            let (product, var) = big_operator(f).unwrap_or_default();
            let int =
                |x: C| (x.im == 0.0 && (x.re - x.re.round()).abs() < 1e-9).then(|| x.re.round());
            match (int(lo), int(hi)) {
                (Some(lo), Some(hi)) if hi - lo < 10_000.0 && !var.is_empty() => {
                    let mut acc = C::r(if product { 1.0 } else { 0.0 });
                    let mut k = lo;
                    while k <= hi {
                        let mut env = c.env.to_vec();
                        env.retain(|(n, _)| n != var);
                        env.push((var.to_string(), C::r(k)));
                        let term = num(&args[0], &NumCtx { env: &env }, m, in_trig)?;
                        acc = if product {
                            acc.mul(term)
                        } else {
                            acc.add(term)
                        };
                        k += 1.0;
                    }
                    acc
                }
                // `\sum_{n=0}^{\infty} x^n`: summed while the terms shrink geometrically, until
                // the tail they bound is below 1e-13 of the sum (at most 3,000 terms); a series
                // that does not converge so is not a number here (NaN), never a wrong value.
                (Some(lo), None)
                    if !product && hi.re == f64::INFINITY && hi.im == 0.0 && !var.is_empty() =>
                {
                    let mut acc = C::r(0.0);
                    let mut prev: Option<f64> = None;
                    let mut k = lo;
                    let mut sum = C::r(f64::NAN);
                    for _ in 0..3_000 {
                        let mut env = c.env.to_vec();
                        env.retain(|(n, _)| n != var);
                        env.push((var.to_string(), C::r(k)));
                        let term = num(&args[0], &NumCtx { env: &env }, m, in_trig)?;
                        if !term.is_finite() {
                            break;
                        }
                        acc = acc.add(term);
                        let t = term.abs();
                        if let Some(p) = prev.filter(|p| *p > 0.0) {
                            let r = t / p;
                            if r < 1.0 && t * r / (1.0 - r) <= 1e-13 * acc.abs().max(1e-300) {
                                sum = acc;
                                break;
                            }
                        }
                        if t == 0.0 && prev == Some(0.0) {
                            sum = acc;
                            break;
                        }
                        prev = Some(t);
                        k += 1.0;
                    }
                    sum
                }
                _ => {
                    let vals = [num(&args[0], c, m, false)?, lo, hi];
                    opaque_fn(f, &vals)
                }
            }
        }
        Expr::Func(f, args) => {
            if f == "binom" && args.len() == 2 {
                let n = num(&args[0], c, m, false)?.re;
                let k = num(&args[1], c, m, false)?.re;
                return Ok(C::r(binom_f64(n, k)));
            }
            let trig = matches!(f.as_str(), "sin" | "cos" | "tan" | "cot" | "sec" | "csc");
            let mut vals = Vec::with_capacity(args.len());
            for a in args {
                vals.push(num(a, c, m, trig)?);
            }
            match (f.as_str(), vals.as_slice()) {
                ("log", [x, b]) => x.ln().div(b.ln()),
                ("max", v) if !v.is_empty() => {
                    C::r(v.iter().map(|x| x.re).fold(f64::MIN, f64::max))
                }
                ("min", v) if !v.is_empty() => {
                    C::r(v.iter().map(|x| x.re).fold(f64::MAX, f64::min))
                }
                (name, [x]) => real_fn(name, *x, false).unwrap_or_else(|| opaque_fn(name, &vals)),
                (name, v) => opaque_fn(name, v),
            }
        }
        Expr::Xor(a, b) => {
            let (x, y) = (num(a, c, m, false)?, num(b, c, m, false)?);
            if x.re.fract() == 0.0 && y.re.fract() == 0.0 && x.re.abs() < 9e15 && y.re.abs() < 9e15
            {
                C::r(((x.re as i64) ^ (y.re as i64)) as f64)
            } else {
                C::r(f64::NAN)
            }
        }
        _ => C::r(f64::NAN),
    })
}

fn binom_f64(n: f64, k: f64) -> f64 {
    // `\binom{n+1}{2}` at a sample point: the polynomial n(n−1)…(n−k+1)/k!, so it equals
    // `\frac{n(n+1)}{2}` wherever both are evaluated.
    if n.fract() != 0.0 && k.fract() == 0.0 && (0.0..=64.0).contains(&k) {
        let mut acc = 1.0f64;
        let mut j = 0.0;
        while j < k {
            acc = acc * (n - j) / (j + 1.0);
            j += 1.0;
        }
        return acc;
    }
    if n.fract() != 0.0 || k.fract() != 0.0 {
        // Γ(n+1) / (Γ(k+1) Γ(n−k+1)), as `\frac{n!}{k!(n-k)!}` evaluates at the same point.
        return gamma_f64(n + 1.0) / (gamma_f64(k + 1.0) * gamma_f64(n - k + 1.0));
    }
    if k < 0.0 || k > n {
        return 0.0;
    }
    let k = k.min(n - k);
    if k > 2000.0 {
        // k ≤ n/2, so C(n, k) ≥ 2^k: past f64 range, and no loop of k steps.
        return f64::INFINITY;
    }
    let mut acc = 1.0f64;
    let mut j = 0.0;
    while j < k {
        acc = acc * (n - j) / (j + 1.0);
        j += 1.0;
    }
    acc
}

/// Γ(x) for real x (Lanczos, g = 7, nine terms; reflection below ½): about 15 significant
/// digits, far inside the comparison's tolerance. Poles (0, −1, −2, …) are NaN.
pub(crate) fn gamma_f64(x: f64) -> f64 {
    const G: f64 = 7.0;
    const COEF: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if !x.is_finite() {
        return f64::NAN;
    }
    if x <= 0.0 && x.fract() == 0.0 {
        return f64::NAN;
    }
    if x > 171.7 {
        return f64::INFINITY;
    }
    if x < 0.5 {
        let s = (std::f64::consts::PI * x).sin();
        return std::f64::consts::PI / (s * gamma_f64(1.0 - x));
    }
    let x = x - 1.0;
    let mut a = COEF[0];
    let t = x + G + 0.5;
    for (i, c) in COEF.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    (2.0 * std::f64::consts::PI).sqrt() * t.powf(x + 0.5) * (-t).exp() * a
}

/// Rational → f64 that survives huge numerators and denominators (ratio of big integers).
pub(crate) fn rat_to_f64(v: &BigRational) -> f64 {
    if let (Some(n), Some(d)) = (v.numer().to_f64(), v.denom().to_f64()) {
        if n.is_finite() && d.is_finite() {
            return n / d;
        }
    }
    let nb = v.numer().bits() as i64;
    let db = v.denom().bits() as i64;
    let shift_n = (nb - 60).max(0);
    let shift_d = (db - 60).max(0);
    let n = (v.numer() >> shift_n as usize).to_f64().unwrap_or(0.0);
    let d = (v.denom() >> shift_d as usize).to_f64().unwrap_or(1.0);
    let e = shift_n - shift_d;
    (n / d) * 2f64.powi(e.clamp(-2000, 2000) as i32)
}

#[cfg(test)]
mod tests {
    use super::gamma_f64;

    #[test]
    fn zeta_at_known_points() {
        let pi = std::f64::consts::PI;
        assert!((super::zeta_f64(2.0) - pi * pi / 6.0).abs() < 1e-13);
        assert!((super::zeta_f64(4.0) - pi.powi(4) / 90.0).abs() < 1e-13);
        assert!((super::zeta_f64(3.0) - 1.202_056_903_159_594_2).abs() < 1e-13);
    }

    #[test]
    fn gamma_at_known_points() {
        let pi = std::f64::consts::PI;
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * b.abs().max(1.0);
        assert!(close(gamma_f64(5.0), 24.0));
        assert!(close(gamma_f64(0.5), pi.sqrt()));
        assert!(close(gamma_f64(-0.5), -2.0 * pi.sqrt()));
        assert!(close(gamma_f64(10.5), 1_133_278.388_948_785_4));
        assert!(gamma_f64(0.0).is_nan() && gamma_f64(-3.0).is_nan());
        assert!(gamma_f64(200.0).is_infinite());
    }
}
