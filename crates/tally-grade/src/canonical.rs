//! Canonical strings for equivalence-clustered majority votes.

use crate::budget::{Budget, Meter};
use crate::compare::TALLY;
use crate::expr::{Expr, RelOp};
use crate::numeric::{exact, num, NumCtx};
use crate::parse::parse;
use crate::points::sample;
use crate::text::{clean_answer, text_key};
use num_rational::BigRational;
use num_traits::One;

/// A canonical string for an extracted answer: answers the Tally grader finds equal usually
/// map to the same string (`1/2`, `0.5`, `\frac{1}{2}` → `1/2`). `None` for an empty answer.
///
/// Numbers that are not rational are keyed by their value to 12 significant digits, and
/// expressions with variables by their values at fixed points, so two equal answers can still
/// differ in rare rounding cases; the grader, not this key, is the final word. `None` too
/// when computing the key panicked (a bug, caught): the answer then votes by its text.
pub fn canonical(answer: &str) -> Option<String> {
    crate::guard::catch_grader_panic(|| canonical_unguarded(answer)).unwrap_or(None)
}

fn canonical_unguarded(answer: &str) -> Option<String> {
    let a = clean_answer(answer);
    if a.is_empty() {
        return None;
    }
    let m = Meter::new(Budget::default());
    if a.len() > m.budget.max_answer_bytes {
        return Some(text_key(&a));
    }
    match parse(&a, TALLY, m.budget.max_depth) {
        Ok(e) => Some(canon(&e, &m).unwrap_or_else(|| text_key(&a))),
        Err(_) => Some(text_key(&a)),
    }
}

fn rat(v: &BigRational) -> String {
    if v.denom().is_one() {
        v.numer().to_string()
    } else {
        format!("{}/{}", v.numer(), v.denom())
    }
}

fn canon(e: &Expr, m: &Meter) -> Option<String> {
    Some(match e {
        Expr::Rel { parts, ops } => {
            if ops == &[RelOp::In] {
                return canon(&parts[1], m);
            }
            if ops.iter().all(|o| *o == RelOp::Eq) {
                if let Some(v) = parts.iter().find(|p| !p.is_name_like()) {
                    return canon(v, m);
                }
            }
            let ps: Option<Vec<String>> = parts.iter().map(|p| canon(p, m)).collect();
            format!("rel{:?}{}", ops, ps?.join("|"))
        }
        Expr::List(v) | Expr::Set(v) => {
            let mut items: Vec<String> = v.iter().map(|x| canon(x, m)).collect::<Option<_>>()?;
            items.sort();
            format!("{{{}}}", items.join(","))
        }
        Expr::Union(v) => {
            let mut items: Vec<String> = v.iter().map(|x| canon(x, m)).collect::<Option<_>>()?;
            items.sort();
            items.join("∪")
        }
        Expr::Seq { open, close, items } => {
            let items: Vec<String> = items.iter().map(|x| canon(x, m)).collect::<Option<_>>()?;
            format!("{open}{}{close}", items.join(","))
        }
        Expr::Matrix(rows) => {
            let rows: Vec<String> = rows
                .iter()
                .map(|r| {
                    r.iter()
                        .map(|x| canon(x, m))
                        .collect::<Option<Vec<_>>>()
                        .map(|v| v.join("&"))
                })
                .collect::<Option<_>>()?;
            format!("M[{}]", rows.join(";"))
        }
        Expr::Text(t) => t.clone(),
        Expr::Percent(a) | Expr::Degrees(a) => return canon(a, m),
        Expr::PlusMinus(..) => format!("{e:?}"),
        scalar => {
            if let Ok(Some(v)) = exact(scalar, m) {
                return Some(rat(&v));
            }
            let vars = scalar.free_vars();
            let mut out = String::new();
            let n = if vars.is_empty() { 1 } else { 3 };
            for k in 0..n {
                let env: Vec<_> = vars.iter().map(|v| (v.clone(), sample(v, k))).collect();
                let ctx = NumCtx { env: &env };
                let x = num(scalar, &ctx, m, false).ok()?;
                if !x.is_finite() {
                    return None;
                }
                out.push_str(&format!("{:.11e}", x.re));
                if x.im.abs() > 1e-12 {
                    out.push_str(&format!("{:+.11e}i", x.im));
                }
                out.push(';');
            }
            if vars.is_empty() {
                out.pop();
                out
            } else {
                format!("f[{out}]")
            }
        }
    })
}
