//! The Tally policy: structural comparison over the expression tree, exact where possible.

use crate::budget::{Limit, Meter};
use crate::choice::Choice;
use crate::expr::{Const, Expr, RelOp};
use crate::lexer::Dialect;
use crate::names::{
    definition, extremes_contradict, map_vars, named, split_chain, split_tuple_equation,
    strip_labels, PARAMS,
};
use crate::numeric::{exact, num, NumCtx, C};
use crate::parse::{parse, ParseError};
use crate::plusminus::{expand_pm, expand_pm_items};
use crate::points::{sample, POINTS};
use crate::precision::{scaled, Side};
use crate::text::{clean_answer, normalize_written, text_key};
use crate::words;
use num_rational::BigRational;

pub(crate) const TALLY: Dialect = Dialect {
    tally: true,
    python: false,
};

/// Equal (`Some(true)`), not equal (`Some(false)`) or undecided because the answers are words
/// the rules cannot compare (`None`), with the rule that decided it.
pub(crate) type Decision = Result<(Option<bool>, &'static str), Limit>;

pub(crate) fn tally_equal(pred: &str, gold: &str, m: &Meter) -> Decision {
    use crate::unit_conversion::Units;
    let p = normalize_written(&clean_answer(pred));
    let g = normalize_written(&clean_answer(gold));
    if p.is_empty() || g.is_empty() {
        return Ok((Some(p == g), "empty answer"));
    }
    if text_key(&p) == text_key(&g) {
        return Ok((Some(true), "same text after normalisation"));
    }
    // A sentence in brackets, `\left(All positive integers … \right)`: the brackets group
    // nothing, so the same sentence without them is the same answer.
    if (words::prose_like(&p) || words::prose_like(&g))
        && [(&p, &g), (&g, &p)]
            .iter()
            .any(|(a, b)| unbracket(a).is_some_and(|x| text_key(x) == text_key(b)))
    {
        return Ok((Some(true), "the same sentence in brackets"));
    }
    if p.len() > m.budget.max_answer_bytes || g.len() > m.budget.max_answer_bytes {
        return Err(Limit::InputTooLong);
    }
    if let (Some(x), Some(y)) = (parse_time(&p), parse_time(&g)) {
        return Ok((Some(x == y), "time of day"));
    }
    match crate::unit_conversion::rewrite(&p, &g) {
        Some(Units::Rewritten(p, g)) => return tally_equal(&p, &g, m),
        Some(Units::Different) => return Ok((Some(false), "quantities of different kinds")),
        None => {}
    }
    if let Some(p) = crate::names::constant_case(&p, &g) {
        return tally_equal(&p, &g, m);
    }
    if let Some(p) = crate::counting_notation::rewrite(&p) {
        return tally_equal(&p, &g, m);
    }
    if let Some(g) = crate::counting_notation::rewrite(&g) {
        return tally_equal(&p, &g, m);
    }
    if let Some(p) = crate::index_range::expand(&p) {
        return tally_equal(&p, &g, m);
    }
    if let Some(g) = crate::index_range::expand(&g) {
        return tally_equal(&p, &g, m);
    }
    if let Some(p) = crate::permutations::expand(&p) {
        return tally_equal(&p, &g, m);
    }
    if let Some(g) = crate::permutations::expand(&g) {
        return tally_equal(&p, &g, m);
    }
    if let Some(p) = crate::function_words::as_formula(&p, &g) {
        return tally_equal(&p, &g, m);
    }
    if let Some(g) = crate::function_words::as_formula(&g, &p) {
        return tally_equal(&p, &g, m);
    }
    match crate::choice::compare(&p, &g) {
        Some(Choice::Letters(r)) => return Ok((Some(r), "choice letters")),
        Some(Choice::PredValue(v)) => return tally_equal(v, &g, m),
        Some(Choice::GoldValue(v)) => return tally_equal(&p, v, m),
        None => {}
    }
    if let Some(t) = crate::unit_vectors::as_tuple(&p, &g) {
        return tally_equal(&t, &g, m);
    }
    if let Some(t) = crate::unit_vectors::as_tuple(&g, &p) {
        return tally_equal(&p, &t, m);
    }
    if let Some(r) = crate::number_sets::compare(&p, &g) {
        return Ok((Some(r), "the same set of numbers"));
    }
    if let Some(r) = crate::integer_rays::compare(&p, &g) {
        return Ok((Some(r), "the same integers from a bound on"));
    }
    if let Some(r) = crate::ratios::compare(&p, &g) {
        return Ok((Some(r), "ratios in proportion"));
    }
    if let Some(r) = crate::families::compare(&p, &g) {
        return Ok((Some(r), "families of integers"));
    }
    if let Some(r) = crate::congruence::compare(&p, &g) {
        return Ok((Some(r), "congruence classes"));
    }
    if words::nonexistence_vs_number(&p, &g) {
        return Ok((Some(false), "nonexistence against a number"));
    }
    match words::infinitely_many(&p, &g) {
        Some(true) => return Ok((Some(true), "same answer in words")),
        Some(false) => return Ok((Some(false), "infinitely many against a finite count")),
        None => {}
    }
    let p = words::number_word(&p).unwrap_or(p);
    let g = words::number_word(&g).unwrap_or(g);
    let prose = words::prose_like(&p) || words::prose_like(&g);
    let in_words = if (prose && words::wordy(&p) && words::wordy(&g))
        || (words::text_only(&p) && words::text_only(&g))
    {
        words::compare(&p, &g)
    } else {
        None
    };
    if in_words == Some(true) {
        return Ok((Some(true), "same answer in words"));
    }
    // `x > 2 \text{ and } x < 5` is not `x > 2 \text{ or } x < 5`: where the two sides join
    // their conditions differently, the sets they describe decide.
    if connectives(&p) != connectives(&g) {
        if let Ok(Some(r)) = crate::sets::compare(&p, &g, m) {
            return Ok(sets_verdict(r));
        }
    }
    let (math, words_left) = match math_equal(&p, &g, m) {
        Ok(r) => r,
        // Words that contradict (`odd n` / `even n`) decide where the expressions cannot.
        Err(_) if in_words == Some(false) => {
            return Ok((Some(false), "different answers in words"))
        }
        Err(e) => return Err(e),
    };
    if math != Some(true) {
        // A budget spent on this optional rule leaves the expression verdict standing.
        if let Ok(Some(r)) = crate::sets::compare(&p, &g, m) {
            return Ok(sets_verdict(r));
        }
    }
    match (math, prose && words_left) {
        (Some(true), _) => Ok((Some(true), "mathematically equal")),
        (Some(false), false) => Ok((Some(false), "mathematically different")),
        (None, _) if !prose => Ok((Some(false), "an answer does not parse; texts differ")),
        _ => match in_words {
            Some(false) => Ok((Some(false), "different answers in words")),
            _ => Ok((None, "answers in words that the rules cannot compare")),
        },
    }
}

/// The verdict of the sets-of-reals rule, with its reason.
fn sets_verdict(r: bool) -> (Option<bool>, &'static str) {
    let why = if r {
        "the same set of real numbers"
    } else {
        "different sets of real numbers"
    };
    (Some(r), why)
}

/// Which of "or" and "and" join an answer's parts (in words or as `\lor`, `\cup`, `\land`,
/// `\cap`).
fn connectives(s: &str) -> (bool, bool) {
    let any = |ws: &[&str]| ws.iter().any(|w| s.contains(w));
    (
        any(&[
            "\\text{ or }",
            "\\text{or}",
            " or ",
            "\\lor",
            "\\vee",
            "\\cup",
        ]),
        any(&[
            "\\text{ and }",
            "\\text{and}",
            " and ",
            "\\land",
            "\\wedge",
            "\\cap",
        ]),
    )
}

/// The rows of a list of two or more bracketed rows of one length (`[[1, 2], [3, 4]]`).
fn rows_of(items: &[Expr]) -> Option<Vec<Vec<Expr>>> {
    let rows: Vec<Vec<Expr>> = items
        .iter()
        .map(|r| match r {
            Expr::Seq { items, .. } => Some(items.clone()),
            _ => None,
        })
        .collect::<Option<_>>()?;
    (rows.len() >= 2
        && rows
            .iter()
            .all(|r| r.len() == rows[0].len() && r.len() >= 2))
    .then_some(rows)
}

/// Words the expression comparison did not account for: text that is neither a dropped unit
/// nor a label (`\text{Minimum} = 3`, `\text{First set: } \{1\}`).
fn free_text(e: &Expr) -> bool {
    match e {
        Expr::Text(_) => true,
        Expr::Rel { parts, ops } if ops == &[RelOp::Eq] && matches!(parts[0], Expr::Text(_)) => {
            parts[1..].iter().any(free_text)
        }
        Expr::List(v) | Expr::Set(v) | Expr::Union(v) | Expr::Add(v) | Expr::Mul(v) => {
            v.iter().any(free_text)
        }
        Expr::Func(_, v) => v.iter().any(free_text),
        Expr::Seq { items, .. } => items.iter().any(free_text),
        Expr::Rel { parts, .. } => parts.iter().any(free_text),
        Expr::Matrix(rows) => rows.iter().flatten().any(free_text),
        Expr::Neg(a) | Expr::Factorial(a) | Expr::Percent(a) | Expr::Degrees(a) => free_text(a),
        Expr::Div(a, b)
        | Expr::Pow(a, b)
        | Expr::Root(a, b)
        | Expr::PlusMinus(a, b)
        | Expr::Xor(a, b) => free_text(a) || free_text(b),
        Expr::Num { .. } | Expr::Const(_) | Expr::Var(_) => false,
    }
}

/// The expression comparison (`None` when a side does not parse), and whether words are left
/// in either tree that it could not account for.
fn math_equal(p: &str, g: &str, m: &Meter) -> Result<(Option<bool>, bool), Limit> {
    // An equation chain with a part we cannot read (`1 = \zzz = x = 0`): its last side.
    let parse_or_last = |s: &str| match parse(s, TALLY, m.budget.max_depth) {
        Err(ParseError::Syntax) if s.matches('=').count() >= 2 && !s.contains(',') => {
            let last = &s[s.rfind('=').unwrap() + 1..];
            parse(last, TALLY, m.budget.max_depth)
        }
        r => r,
    };
    let read = |s: &str| match parse_or_last(s) {
        Ok(e) => Ok(Some(strip_labels(e))),
        Err(ParseError::Limit(l)) => Err(l),
        Err(ParseError::Syntax) => Ok(None),
    };
    let labels_extremes = |s: &str| ["max", "Max", "largest"].iter().any(|w| s.contains(w));
    if labels_extremes(p) && parse_or_last(p).is_ok_and(|e| extremes_contradict(&e)) {
        return Ok((Some(false), false));
    }
    let (Some(pe), Some(ge)) = (read(p)?, read(g)?) else {
        return Ok((None, true));
    };
    let c = Cmp {
        m,
        depth: std::cell::Cell::new(0),
    };
    let mut r = c.eq(&pe, &ge)?;
    // `i(2 - i)` vs `1 + 2i`, `e^{\ln x}` vs `x`: a free `i` is the imaginary unit and a free
    // `e` Euler's number when that makes them equal.
    if !r {
        let vars = union_vars(&pe, &ge);
        let consts: Vec<&str> = ["i", "e"]
            .into_iter()
            .filter(|c| vars.iter().any(|v| v == c))
            .collect();
        let tries: &[&[&str]] = match consts.as_slice() {
            [] => &[],
            [_] => &[&[]],
            _ => &[&["i", "e"], &["i"], &["e"]],
        };
        for t in tries {
            let names: &[&str] = if t.is_empty() { &consts } else { t };
            let sub = |e: &Expr| map_vars(e, &|n| constant_named(n, names));
            if c.eq(&sub(&pe), &sub(&ge))? {
                r = true;
                break;
            }
        }
    }
    // `\frac{\pi}{2} + k\pi` and `\frac{\pi}{2} + n\pi`: a family of angles indexed by an
    // integer whose name is the writer's choice. Only with π on both sides, and only the
    // integer-like names one side has and the other lacks.
    if !r && mentions_pi(&pe) && mentions_pi(&ge) {
        let (vp, vg) = (pe.free_vars(), ge.free_vars());
        let only = |a: &[String], b: &[String]| -> Vec<String> {
            a.iter().filter(|x| !b.contains(x)).cloned().collect()
        };
        let (op, og) = (only(&vp, &vg), only(&vg, &vp));
        let integer_like = |v: &[String]| v.iter().all(|x| INDEX_NAMES.contains(&x.as_str()));
        if op.len() == 1 && og.len() == 1 && integer_like(&op) && integer_like(&og) {
            let renamed = map_vars(&pe, &|n| (n == op[0]).then(|| Expr::Var(og[0].clone())));
            r = c.eq(&renamed, &ge)?;
        }
        // The same angles in another parametrisation (`(-1)^k \frac{\pi}{6} + k\pi`).
        if !r {
            r = crate::angle_families::compare(&pe, &ge, m)? == Some(true);
        }
    }
    Ok((Some(r), free_text(&pe) || free_text(&ge)))
}

/// The inside of one pair of brackets around the whole of `s`.
fn unbracket(s: &str) -> Option<&str> {
    let s = s.trim();
    [
        ("\\left(", "\\right)"),
        ("\\{", "\\}"),
        ("(", ")"),
        ("\\left\\{", "\\right\\}"),
    ]
    .iter()
    .find_map(|(l, r)| s.strip_prefix(l)?.strip_suffix(r))
    .map(str::trim)
}

/// Names an integer index of a family of solutions is usually given.
const INDEX_NAMES: &[&str] = &["k", "n", "m", "j", "l"];

fn constant_named(n: &str, names: &[&str]) -> Option<Expr> {
    if !names.contains(&n) {
        return None;
    }
    match n {
        "i" => Some(Expr::Const(crate::expr::Const::I)),
        "e" => Some(Expr::Const(crate::expr::Const::E)),
        _ => None,
    }
}

pub(crate) struct Cmp<'a> {
    pub m: &'a Meter,
    /// Nested `eq` calls: a rewrite that does not shrink its input (a `±` it cannot write out)
    /// must end as `TooDeep`, not as a stack overflow.
    depth: std::cell::Cell<usize>,
}

fn flip(op: RelOp) -> RelOp {
    match op {
        RelOp::Lt => RelOp::Gt,
        RelOp::Le => RelOp::Ge,
        RelOp::Gt => RelOp::Lt,
        RelOp::Ge => RelOp::Le,
        o => o,
    }
}

/// The value an equation names: `x = 5` → 5, `\frac{\sqrt3}{3} \approx 0.577` → the exact part.
fn rel_value(parts: &[Expr], ops: &[RelOp]) -> Option<Expr> {
    if !ops.iter().all(|o| matches!(o, RelOp::Eq | RelOp::Approx)) {
        return None;
    }
    // `x ≈ 11` → 11; `1/3 ≈ 0.33` → 1/3 (the side before the first `≈` unless it is a name).
    if let Some(k) = ops.iter().position(|o| *o == RelOp::Approx) {
        return parts[k..].iter().find(|p| !p.is_name_like()).cloned();
    }
    // `z = 1 + 1 = 2` → the last side; `x = 5` → 5, `5 = x` → 5; `2x + z = 1` names nothing.
    if parts.len() >= 3 {
        return parts.last().cloned();
    }
    match (parts[0].is_name_like(), parts[1].is_name_like()) {
        (true, false) => Some(parts[1].clone()),
        (false, true) => Some(parts[0].clone()),
        // `\nu = c/\lambda`, `y = ab`: one name set to a product or ratio of names.
        (true, true)
            if matches!(parts[0], Expr::Var(_))
                && matches!(parts[1], Expr::Div(..) | Expr::Mul(_)) =>
        {
            Some(parts[1].clone())
        }
        // `\frac{1}{2} \cdot 3 \cdot 4 = 6`: a computation with its result, as a chain of
        // three sides would be read.
        (false, false) if parts.iter().all(|p| p.free_vars().is_empty()) => Some(parts[1].clone()),
        // `m + n = 336`: the sum a competition asks for, named and given (`2x + z = 1` still
        // names nothing: only a plain sum of names).
        (false, false)
            if matches!(&parts[0], Expr::Add(t) if t.len() >= 2
                && t.iter().all(|x| matches!(x, Expr::Var(n) if n.len() == 1)))
                && parts[1].free_vars().is_empty() =>
        {
            Some(parts[1].clone())
        }
        _ => None,
    }
}

/// A sum or product of matrices, evaluated entry by entry (entries stay expressions).
fn mat_eval(e: &Expr) -> Option<Vec<Vec<Expr>>> {
    match e {
        Expr::Matrix(r) => Some(r.clone()),
        Expr::Add(xs) => {
            let ms: Vec<_> = xs.iter().map(mat_eval).collect::<Option<_>>()?;
            let (h, w) = (ms[0].len(), ms[0].first()?.len());
            if ms
                .iter()
                .any(|m| m.len() != h || m.iter().any(|r| r.len() != w))
            {
                return None;
            }
            Some(
                (0..h)
                    .map(|i| {
                        (0..w)
                            .map(|j| Expr::Add(ms.iter().map(|m| m[i][j].clone()).collect()))
                            .collect()
                    })
                    .collect(),
            )
        }
        Expr::Mul(xs) if xs.len() <= 4 => {
            // `\frac{1}{2} \begin{pmatrix} … \end{pmatrix}`: scalar factors scale every entry.
            let (mats, scalars): (Vec<&Expr>, Vec<&Expr>) = xs
                .iter()
                .partition(|x| matches!(x, Expr::Matrix(_)) || has_matrix_op(x));
            if mats.is_empty()
                || scalars
                    .iter()
                    .any(|x| x.any(|y| matches!(y, Expr::Matrix(_))))
            {
                return None;
            }
            let ms: Vec<_> = mats.into_iter().map(mat_eval).collect::<Option<_>>()?;
            let mut acc = ms[0].clone();
            for m in &ms[1..] {
                let (h, k, w) = (acc.len(), m.len(), m.first()?.len());
                if acc.iter().any(|r| r.len() != k) || m.iter().any(|r| r.len() != w) {
                    return None;
                }
                acc = (0..h)
                    .map(|i| {
                        (0..w)
                            .map(|j| {
                                Expr::Add(
                                    (0..k)
                                        .map(|t| {
                                            Expr::Mul(vec![acc[i][t].clone(), m[t][j].clone()])
                                        })
                                        .collect(),
                                )
                            })
                            .collect()
                    })
                    .collect();
            }
            if !scalars.is_empty() {
                for row in &mut acc {
                    for x in row.iter_mut() {
                        let mut factors: Vec<Expr> = scalars.iter().map(|s| (*s).clone()).collect();
                        factors.push(x.clone());
                        *x = Expr::Mul(factors);
                    }
                }
            }
            Some(acc)
        }
        _ => None,
    }
}

fn has_matrix_op(e: &Expr) -> bool {
    matches!(e, Expr::Add(xs) | Expr::Mul(xs) if xs.iter().any(|x| matches!(x, Expr::Matrix(_))))
}

/// `20:34`, `20:34:00`, `08:34 PM`, `8:34 \text{p.m.}` → seconds after midnight.
fn parse_time(s: &str) -> Option<u32> {
    let t = s
        .replace("\\text", "")
        .replace(['{', '}', ' ', '\\', '~'], "");
    let lower = t.to_ascii_lowercase();
    let (clock, pm) = if let Some(x) = lower.strip_suffix("p.m.").or(lower.strip_suffix("pm")) {
        (x.to_string(), Some(true))
    } else if let Some(x) = lower.strip_suffix("a.m.").or(lower.strip_suffix("am")) {
        (x.to_string(), Some(false))
    } else {
        (lower, None)
    };
    let parts: Vec<&str> = clock.split(':').collect();
    if !(2..=3).contains(&parts.len())
        || parts
            .iter()
            .any(|p| p.is_empty() || p.len() > 2 || !p.bytes().all(|b| b.is_ascii_digit()))
        || parts[1..].iter().any(|p| p.len() != 2)
    {
        return None;
    }
    let mut h: u32 = parts[0].parse().ok()?;
    let m: u32 = parts[1].parse().ok()?;
    let sec: u32 = parts.get(2).map_or(Some(0), |x| x.parse().ok())?;
    if m >= 60 || sec >= 60 || h > 24 {
        return None;
    }
    match pm {
        Some(true) if h < 12 => h += 12,
        Some(false) if h == 12 => h = 0,
        Some(_) if h > 12 => return None,
        _ => {}
    }
    Some(h * 3600 + m * 60 + sec)
}

/// `a < x ≤ b` → the interval `(a, b]`; `x > 5` → `(5, ∞)`.
fn ineq_interval(parts: &[Expr], ops: &[RelOp]) -> Option<Expr> {
    let (parts, ops): (Vec<Expr>, Vec<RelOp>) =
        if ops.iter().all(|o| matches!(o, RelOp::Gt | RelOp::Ge)) {
            (
                parts.iter().rev().cloned().collect(),
                ops.iter().rev().map(|o| flip(*o)).collect(),
            )
        } else {
            (parts.to_vec(), ops.to_vec())
        };
    if !ops.iter().all(|o| matches!(o, RelOp::Lt | RelOp::Le)) {
        return None;
    }
    let br = |o: RelOp, open: bool| match (o, open) {
        (RelOp::Lt, true) => '(',
        (RelOp::Lt, false) => ')',
        (_, true) => '[',
        (_, false) => ']',
    };
    let inf = Expr::Const(crate::expr::Const::Inf);
    match (parts.as_slice(), ops.as_slice()) {
        ([l, x, r], [o1, o2]) if x.is_name_like() => Some(Expr::Seq {
            open: br(*o1, true),
            close: br(*o2, false),
            items: vec![l.clone(), r.clone()],
        }),
        ([x, r], [o]) if x.is_name_like() => Some(Expr::Seq {
            open: '(',
            close: br(*o, false),
            items: vec![Expr::Neg(Box::new(inf)), r.clone()],
        }),
        ([l, x], [o]) if x.is_name_like() => Some(Expr::Seq {
            open: br(*o, true),
            close: ')',
            items: vec![l.clone(), inf],
        }),
        _ => None,
    }
}

fn is_interval_like(e: &Expr) -> bool {
    matches!(e, Expr::Seq { items, .. } if items.len() == 2) || matches!(e, Expr::Union(_))
}

impl Cmp<'_> {
    pub fn eq(&self, a: &Expr, b: &Expr) -> Result<bool, Limit> {
        self.m.tick(1)?;
        let depth = self.depth.get();
        if depth > 2 * self.m.budget.max_depth {
            return Err(Limit::TooDeep);
        }
        self.depth.set(depth + 1);
        let r = self.eq_nested(a, b);
        self.depth.set(depth);
        r
    }

    fn eq_nested(&self, a: &Expr, b: &Expr) -> Result<bool, Limit> {
        if let Some(v) = expand_pm(a) {
            return self.eq(&Expr::List(v), b);
        }
        if let Some(v) = expand_pm(b) {
            return self.eq(a, &Expr::List(v));
        }
        if let Some(x) = expand_pm_items(a) {
            return self.eq(&x, b);
        }
        if let Some(y) = expand_pm_items(b) {
            return self.eq(a, &y);
        }
        if let (Some(x), Some(y)) = (
            crate::antiderivatives::without_constant(a),
            crate::antiderivatives::without_constant(b),
        ) {
            return self.same_up_to_constant(&x, &y);
        }
        if has_matrix_op(a) {
            if let Some(m) = mat_eval(a) {
                return self.eq(&Expr::Matrix(m), b);
            }
        }
        if has_matrix_op(b) {
            if let Some(m) = mat_eval(b) {
                return self.eq(a, &Expr::Matrix(m));
            }
        }
        // A function given by cases against one formula: compared row by row at test points.
        for (x, y) in [(a, b), (b, a)] {
            if let Some(rows) = crate::piecewise::rows(x) {
                if let Some(v) = crate::piecewise::same_function(&rows, y, self.m)? {
                    return Ok(v);
                }
            }
        }
        match (a, b) {
            // A bare list against a parenthesised tuple: the same items in the same order.
            (
                Expr::List(x),
                Expr::Seq {
                    open: '(',
                    close: ')',
                    items: y,
                },
            )
            | (
                Expr::Seq {
                    open: '(',
                    close: ')',
                    items: x,
                },
                Expr::List(y),
            ) => self.ordered(x, y),
            (Expr::Rel { parts: p1, ops: o1 }, Expr::Rel { parts: p2, ops: o2 }) => {
                if o1 == &[RelOp::In] && o2 == &[RelOp::In] {
                    return self.eq(&p1[1], &p2[1]);
                }
                if o1 == &[RelOp::In] {
                    return self.eq(&p1[1], b);
                }
                if o2 == &[RelOp::In] {
                    return self.eq(a, &p2[1]);
                }
                // `g(t) = t^2` and `g(x) = x^2`: the same definition, whatever the variable.
                if let (Some((n1, b1)), Some((n2, b2))) = (definition(p1, o1), definition(p2, o2)) {
                    if n1 != n2 {
                        return Ok(false);
                    }
                    if self.eq(&b1, &b2)? {
                        return Ok(true);
                    }
                    // `f(x) = cx` and `f(x) = kx`, `ax + b` and `cx + d`: arbitrary constants
                    // named differently, matched in every order.
                    let (c1, c2) = (constants(&b1), constants(&b2));
                    if c1.len() != c2.len() || c1.is_empty() || c1.len() > 3 || c1 == c2 {
                        return Ok(false);
                    }
                    for perm in permutations(c1.len()) {
                        let b2 = map_vars(&b2, &|n| {
                            let k = c2.iter().position(|c| c == n)?;
                            Some(Expr::Var(c1[perm[k]].clone()))
                        });
                        if self.eq(&b1, &b2)? {
                            return Ok(true);
                        }
                    }
                    return Ok(false);
                }
                // `(x, y, z) = (1, 1, 1)` and `x = y = z = 1`: the same named values.
                let named_values = |p: &[Expr], o: &[RelOp]| {
                    split_tuple_equation(p, o).or_else(|| split_chain(p, o))
                };
                if let (Some(l1), Some(l2)) = (named_values(p1, o1), named_values(p2, o2)) {
                    if split_chain(p1, o1).is_some() || split_chain(p2, o2).is_some() {
                        return self.eq(&Expr::List(l1), &Expr::List(l2));
                    }
                }
                self.rel_eq(p1, o1, p2, o2)
            }
            (Expr::Rel { parts, ops }, other) | (other, Expr::Rel { parts, ops }) => {
                let rel_is_a = matches!(a, Expr::Rel { .. });
                let eqs = split_tuple_equation(parts, ops).or_else(|| split_chain(parts, ops));
                if let (Some(eqs), Expr::List(_)) = (eqs, other) {
                    return if rel_is_a {
                        self.eq(&Expr::List(eqs), other)
                    } else {
                        self.eq(other, &Expr::List(eqs))
                    };
                }
                let v = if ops == &[RelOp::In] {
                    Some(parts[1].clone())
                } else if is_interval_like(other) {
                    ineq_interval(parts, ops).or_else(|| rel_value(parts, ops))
                } else {
                    rel_value(parts, ops)
                };
                let r = match &v {
                    Some(v) if rel_is_a => self.eq(v, other)?,
                    Some(v) => self.eq(other, v)?,
                    None => false,
                };
                if r {
                    return Ok(true);
                }
                // `x = 2` against `\{2\}`: a solution stated, and the solution set written.
                if let (Some(v), Expr::Set(items)) = (&v, other) {
                    if items.len() == 1 && ops == &[RelOp::Eq] {
                        return if rel_is_a {
                            self.eq(v, &items[0])
                        } else {
                            self.eq(&items[0], v)
                        };
                    }
                }
                // `f(t) = t^2` against `x^2`: the parameter takes the other side's variable.
                if let Some((1, body)) = definition(parts, ops) {
                    let vars = other.free_vars();
                    if other.is_scalar() && vars.len() == 1 {
                        let o = map_vars(other, &|n| {
                            (n == vars[0]).then(|| Expr::Var(PARAMS[0].into()))
                        });
                        return self.eq(&body, &o);
                    }
                }
                Ok(false)
            }
            (Expr::List(x) | Expr::Set(x), Expr::List(y) | Expr::Set(y)) => self.unordered(x, y),
            (Expr::Union(x), Expr::Union(y)) => self.unordered(x, y),
            // `\{(1, 2)\}` against `(1, 2)`: a solution set of one, and the solution.
            (Expr::Set(x), other) | (other, Expr::Set(x))
                if x.len() == 1
                    && !matches!(other, Expr::Set(_) | Expr::List(_) | Expr::Union(_)) =>
            {
                if matches!(a, Expr::Set(_)) {
                    self.eq(&x[0], other)
                } else {
                    self.eq(other, &x[0])
                }
            }
            (
                Expr::Seq {
                    open: o1,
                    close: c1,
                    items: x,
                },
                Expr::Seq {
                    open: o2,
                    close: c2,
                    items: y,
                },
            ) => {
                if o1 != o2 || c1 != c2 {
                    return Ok(false);
                }
                self.ordered(x, y)
            }
            (Expr::Matrix(x), Expr::Matrix(y)) => {
                if x.len() != y.len() || x.iter().zip(y).any(|(r, s)| r.len() != s.len()) {
                    return Ok(false);
                }
                let fx: Vec<Expr> = x.iter().flatten().cloned().collect();
                let fy: Vec<Expr> = y.iter().flatten().cloned().collect();
                self.ordered(&fx, &fy)
            }
            (Expr::Matrix(x), Expr::Seq { items, .. })
            | (Expr::Seq { items, .. }, Expr::Matrix(x)) => {
                // `[[1, 2], [3, 4]]`: a list of equal rows is the matrix written as lists.
                if let Some(rows) = rows_of(items) {
                    let (m, x) = (Expr::Matrix(rows), Expr::Matrix(x.clone()));
                    return if matches!(a, Expr::Matrix(_)) {
                        self.eq(&x, &m)
                    } else {
                        self.eq(&m, &x)
                    };
                }
                let vector = x.len() == 1 || x.iter().all(|r| r.len() == 1);
                let fx: Vec<Expr> = x.iter().flatten().cloned().collect();
                if !vector {
                    return Ok(false);
                }
                if matches!(a, Expr::Matrix(_)) {
                    self.ordered(&fx, items)
                } else {
                    self.ordered(items, &fx)
                }
            }
            (Expr::Text(x), Expr::Text(y)) => Ok(x == y),
            (x, y) if x.is_scalar() && y.is_scalar() => self.scalar(x, y),
            _ => Ok(false),
        }
    }

    fn ordered(&self, x: &[Expr], y: &[Expr]) -> Result<bool, Limit> {
        if x.len() != y.len() {
            return Ok(false);
        }
        for (p, q) in x.iter().zip(y) {
            if !self.eq(p, q)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn unordered(&self, x: &[Expr], y: &[Expr]) -> Result<bool, Limit> {
        // `a = 1, b = 2` against `b = 2, a = 1`: when both sides name the same things, each
        // value is compared with the value of the same name.
        if x.len() == y.len() && x.len() > 1 {
            let kx: Option<Vec<String>> = x.iter().map(named).collect();
            let ky: Option<Vec<String>> = y.iter().map(named).collect();
            if let (Some(kx), Some(ky)) = (kx, ky) {
                let (mut sx, mut sy) = (kx.clone(), ky.clone());
                sx.sort();
                sy.sort();
                if sx == sy {
                    let mut used = vec![false; y.len()];
                    'named: for (p, k) in x.iter().zip(&kx) {
                        for (j, q) in y.iter().enumerate() {
                            if !used[j] && ky[j] == *k && self.eq(p, q)? {
                                used[j] = true;
                                continue 'named;
                            }
                        }
                        return Ok(false);
                    }
                    return Ok(true);
                }
            }
        }
        if x.len() != y.len() {
            // Repeated items (`(3,17,3,7)` listed twice): compare as sets.
            for (p, q) in [(x, y), (y, x)] {
                for a in p {
                    let mut found = false;
                    for b in q {
                        if self.eq(a, b)? {
                            found = true;
                            break;
                        }
                    }
                    if !found {
                        return Ok(false);
                    }
                }
            }
            return Ok(true);
        }
        let mut used = vec![false; y.len()];
        'outer: for p in x {
            for (k, q) in y.iter().enumerate() {
                if !used[k] && self.eq(p, q)? {
                    used[k] = true;
                    continue 'outer;
                }
            }
            return Ok(false);
        }
        Ok(true)
    }

    fn rel_eq(&self, p1: &[Expr], o1: &[RelOp], p2: &[Expr], o2: &[RelOp]) -> Result<bool, Limit> {
        let norm = |p: &[Expr], o: &[RelOp]| -> (Vec<Expr>, Vec<RelOp>) {
            if o.iter().all(|x| matches!(x, RelOp::Gt | RelOp::Ge)) {
                (
                    p.iter().rev().cloned().collect(),
                    o.iter().rev().map(|x| flip(*x)).collect(),
                )
            } else {
                (p.to_vec(), o.to_vec())
            }
        };
        let (p1, o1) = norm(p1, o1);
        let (p2, o2) = norm(p2, o2);
        if o1 == o2 && self.ordered(&p1, &p2)? {
            return Ok(true);
        }
        let sym = |o: &[RelOp]| o.iter().all(|x| matches!(x, RelOp::Eq | RelOp::Ne));
        if o1 == o2 && sym(&o1) && p1.len() == 2 {
            let swapped = [p2[1].clone(), p2[0].clone()];
            if self.ordered(&p1, &swapped)? {
                return Ok(true);
            }
        }
        let eqish = |o: &[RelOp]| o.iter().all(|x| matches!(x, RelOp::Eq | RelOp::Approx));
        if eqish(&o1)
            && eqish(&o2)
            && (o1.len() > 1 || o2.len() > 1)
            && p1[0].is_name_like()
            && p2[0].is_name_like()
        {
            if let (Some(x), Some(y)) = (rel_value(&p1, &o1), rel_value(&p2, &o2)) {
                return self.eq(&x, &y);
            }
        }
        // One inequality each: `l < r` ⇔ `r - l > 0`; same strictness and a positive factor.
        let ineq = |p: &[Expr], o: &[RelOp]| -> Option<(Expr, bool)> {
            if p.len() != 2 {
                return None;
            }
            let d = |a: &Expr, b: &Expr| Expr::Add(vec![a.clone(), Expr::Neg(Box::new(b.clone()))]);
            match o[0] {
                RelOp::Lt => Some((d(&p[1], &p[0]), true)),
                RelOp::Le => Some((d(&p[1], &p[0]), false)),
                RelOp::Gt => Some((d(&p[0], &p[1]), true)),
                RelOp::Ge => Some((d(&p[0], &p[1]), false)),
                _ => None,
            }
        };
        if let (Some((d1, s1)), Some((d2, s2))) = (ineq(&p1, &o1), ineq(&p2, &o2)) {
            if s1 != s2 {
                return Ok(false);
            }
            return Ok(self.ratio(&d1, &d2)?.is_some_and(|r| r > 0.0));
        }
        let single_eq = |o: &[RelOp]| o == [RelOp::Eq] || o == [RelOp::Approx];
        if single_eq(&o1) && single_eq(&o2) && o1 != o2 {
            // `x = 5/3` against `x ≈ 1.67`: the values.
            if let (Some(x), Some(y)) = (rel_value(&p1, &o1), rel_value(&p2, &o2)) {
                return self.eq(&x, &y);
            }
        }
        if o1 == [RelOp::Eq] && o2 == [RelOp::Eq] {
            if p1[0].is_name_like() && p2[0].is_name_like() {
                // `Minimum = 3` is not `Maximum = 3`, nor the line `x = 3` the line `y = 3`.
                if crate::names::names_contradict(&p1[0], &p2[0]) {
                    return Ok(false);
                }
                return self.eq(&p1[1], &p2[1]);
            }
            // Same equation up to a non-zero factor: (l1 - r1) = k (l2 - r2).
            let d1 = Expr::Add(vec![p1[0].clone(), Expr::Neg(Box::new(p1[1].clone()))]);
            let d2 = Expr::Add(vec![p2[0].clone(), Expr::Neg(Box::new(p2[1].clone()))]);
            return self.proportional(&d1, &d2);
        }
        Ok(false)
    }

    fn proportional(&self, a: &Expr, b: &Expr) -> Result<bool, Limit> {
        Ok(self.ratio(a, b)?.is_some())
    }

    /// The constant `k` with `a = k b` at every sample point, if there is one.
    fn ratio(&self, a: &Expr, b: &Expr) -> Result<Option<f64>, Limit> {
        let vars = union_vars(a, b);
        let mut ratio: Option<C> = None;
        let mut valid = 0;
        // Negated points too where no branch needs a positive domain: `|x| < 3` is not `x < 3`.
        let signs: &[f64] = if branch_free(a) && branch_free(b) {
            &[1.0, -1.0]
        } else {
            &[1.0]
        };
        for (k, sign) in signs.iter().flat_map(|s| (0..POINTS).map(move |k| (k, *s))) {
            let env: Vec<(String, C)> = vars
                .iter()
                .map(|v| {
                    let p = sample(v, k);
                    (
                        v.clone(),
                        C {
                            re: sign * p.re,
                            im: sign * p.im,
                        },
                    )
                })
                .collect();
            let ctx = NumCtx { env: &env };
            let (x, y) = (num(a, &ctx, self.m, false)?, num(b, &ctx, self.m, false)?);
            if !x.is_finite() || !y.is_finite() || y.abs() < 1e-12 {
                continue;
            }
            let r = C {
                re: x.re / y.re,
                im: 0.0,
            };
            if x.im.abs() > 1e-12 || y.im.abs() > 1e-12 || r.re.abs() < 1e-12 {
                return Ok(None);
            }
            match ratio {
                None => ratio = Some(r),
                Some(r0) if (r0.re - r.re).abs() <= 1e-8 * r0.re.abs() => {}
                Some(_) => return Ok(None),
            }
            valid += 1;
        }
        Ok(if valid >= 2 {
            ratio.map(|r| r.re)
        } else {
            None
        })
    }

    fn scalar(&self, a: &Expr, b: &Expr) -> Result<bool, Limit> {
        let (a0, ap) = strip_percent(a);
        let (b0, bp) = strip_percent(b);
        // `28\%` matches both 28 and 0.28: a percent sign is read either way. Each reading is a
        // scale (powers of ten the written value is divided by).
        // The sign is not ignored against a fraction (`\frac{3}{4}` is never `0.75\%`): a
        // percentage is not written as one.
        let readings: &[(u32, u32)] = match (ap, bp) {
            (true, false) if is_fraction(b0) => &[(2, 0)],
            (false, true) if is_fraction(a0) => &[(0, 2)],
            (true, false) => &[(0, 0), (2, 0)],
            (false, true) => &[(0, 0), (0, 2)],
            _ => &[(0, 0)],
        };
        for &(sa, sb) in readings {
            let x = scaled(a0, sa);
            let y = scaled(b0, sb);
            if self.scalar_core(&x, &y)? {
                return Ok(true);
            }
        }
        for &(sa, sb) in readings {
            let x = Side {
                e: strip_degrees(a0),
                scale: sa,
                percent: ap,
            };
            let y = Side {
                e: strip_degrees(b0),
                scale: sb,
                percent: bp,
            };
            if self.same_at_precision(&x, &y)? {
                return Ok(true);
            }
        }
        // `90^\circ` against `\frac{\pi}{2}`: the same angle, in radians. Only where the other
        // side is written with π, so `45^\circ` still matches 45 and never 0.785.
        // An inverse trigonometric function's value is in radians too (`30^\circ` =
        // `\arcsin \frac{1}{2}`).
        let radians = |e: &Expr| mentions_pi(e) || inverse_trig(e);
        match (a0, b0) {
            (Expr::Degrees(d), other) if radians(other) => {
                self.scalar_core(&degrees_in_radians(d), other)
            }
            (other, Expr::Degrees(d)) if radians(other) => {
                self.scalar_core(other, &degrees_in_radians(d))
            }
            _ => Ok(false),
        }
    }

    pub fn scalar_core(&self, a: &Expr, b: &Expr) -> Result<bool, Limit> {
        let a = strip_degrees(a);
        let b = strip_degrees(b);
        let soft = |r: Result<Option<BigRational>, Limit>| match r {
            Ok(v) => Ok((v, false)),
            Err(Limit::NumberTooLarge) => Ok((None, true)),
            Err(l) => Err(l),
        };
        let (ea, big_a) = soft(exact(a, self.m))?;
        let (eb, big_b) = soft(exact(b, self.m))?;
        if let (Some(x), Some(y)) = (&ea, &eb) {
            return Ok(x == y);
        }
        let vars = union_vars(a, b);
        if vars.is_empty() {
            let ctx = NumCtx { env: &[] };
            let x = num(a, &ctx, self.m, false)?;
            let y = num(b, &ctx, self.m, false)?;
            if !x.is_finite() || !y.is_finite() {
                if x.re.is_nan() || y.re.is_nan() || x.im.is_nan() || y.im.is_nan() {
                    // A series summed until it gave up is not a value: undecided, not different.
                    if infinite_sum(a) || infinite_sum(b) {
                        return Err(Limit::SlowSeries);
                    }
                    return Ok(false);
                }
                if x.is_finite() != y.is_finite() {
                    return Ok(false);
                }
                // Both overflow f64: a real infinity only compares equal to the same infinity.
                let (ia, ib) = (is_infinity(a), is_infinity(b));
                if ia && ib {
                    return Ok(x == y);
                }
                if big_a || big_b || !(ia || ib) {
                    return Err(Limit::Overflow);
                }
                return Ok(false);
            }
            return Ok(close(x, y, 1e-11));
        }
        // Points in [0.35, 2.35); where one side is undefined there but the other is not and a
        // side has a function defined on [-1, 1] only (`\arcsin x + \arccos x` = π/2), the
        // same points shrunk into (0.14, 0.94) instead.
        let bounds = sum_bounds(a, b);
        let at_points = |shrink: f64| -> Result<Result<u32, bool>, Limit> {
            let mut valid = 0;
            for k in 0..POINTS {
                // A sum's bound takes integers (2, 3, …), the rest the usual points.
                let env: Vec<(String, C)> = vars
                    .iter()
                    .map(|v| {
                        let x = if bounds.contains(v) {
                            f64::from(k + 2)
                        } else {
                            sample(v, k).re / shrink
                        };
                        (v.clone(), C::r(x))
                    })
                    .collect();
                let ctx = NumCtx { env: &env };
                let x = num(a, &ctx, self.m, false)?;
                let y = num(b, &ctx, self.m, false)?;
                match (x.is_finite(), y.is_finite()) {
                    (true, true) => {
                        if !close(x, y, 1e-11) {
                            return Ok(Err(false));
                        }
                        valid += 1;
                    }
                    (false, false) => {}
                    _ => return Ok(Err(true)),
                }
            }
            Ok(Ok(valid))
        };
        let valid = match at_points(1.0)? {
            Ok(v) => v,
            Err(true) if unit_domain(a) || unit_domain(b) || infinite_sum(a) || infinite_sum(b) => {
                match at_points(2.5)? {
                    Ok(v) => v,
                    Err(true) if infinite_sum(a) || infinite_sum(b) => {
                        return Err(Limit::SlowSeries)
                    }
                    Err(_) => return Ok(false),
                }
            }
            Err(_) => return Ok(false),
        };
        if valid < 2 {
            return Err(Limit::Overflow);
        }
        // The points above are positive, so identities that need a positive domain (`\ln(2x)`
        // = `\ln 2 + \ln x`) pass. Where neither side has a branch (a root, a logarithm, a
        // fractional power) nothing needs that domain: the same points negated tell `|x|` from
        // `x` and `x^3` from `x|x|^2`.
        if branch_free(a) && branch_free(b) {
            for k in 0..POINTS {
                let env: Vec<(String, C)> = vars
                    .iter()
                    .map(|v| {
                        let p = if bounds.contains(v) {
                            C::r(f64::from(k + 2))
                        } else {
                            sample(v, k)
                        };
                        (v.clone(), C { re: -p.re, im: 0.0 })
                    })
                    .collect();
                let ctx = NumCtx { env: &env };
                let x = num(a, &ctx, self.m, false)?;
                let y = num(b, &ctx, self.m, false)?;
                if x.is_finite() && y.is_finite() && !close(x, y, 1e-11) {
                    return Ok(false);
                }
            }
        }
        // A kink (`|x - 3|`, `\max(x, 3)`) beyond the points above: a few larger ones.
        if has_kink(a) || has_kink(b) {
            let both_signs = branch_free(a) && branch_free(b);
            for p in [3.7, 5.3, 11.9, -3.7, -5.3, -11.9] {
                if p < 0.0 && !both_signs {
                    continue;
                }
                let env: Vec<(String, C)> = vars.iter().map(|v| (v.clone(), C::r(p))).collect();
                let ctx = NumCtx { env: &env };
                let x = num(a, &ctx, self.m, false)?;
                let y = num(b, &ctx, self.m, false)?;
                let real = |v: C| v.is_finite() && v.im.abs() <= 1e-12 * v.abs().max(1.0);
                if real(x) && real(y) && !close(x, y, 1e-11) {
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }
}

/// A function with a kink (`abs`, `max`, `min`); floor and ceiling have their integer points.
fn has_kink(e: &Expr) -> bool {
    e.any(|x| matches!(x, Expr::Func(f, _) if matches!(f.as_str(), "abs" | "max" | "min")))
}

/// The free variables in the bounds of a `\sum` or `\prod` on either side.
fn sum_bounds(a: &Expr, b: &Expr) -> Vec<String> {
    let mut out = Vec::new();
    for e in [a, b] {
        e.walk(&mut |x| {
            if let Expr::Func(f, args) = x {
                if args.len() == 3 && crate::numeric::big_operator(f).is_some() {
                    for bound in &args[1..] {
                        bound.walk(&mut |y| {
                            if let Expr::Var(v) = y {
                                if !out.contains(v) {
                                    out.push(v.clone());
                                }
                            }
                        });
                    }
                }
            }
        });
    }
    // `\lceil n/2 \rceil` = `\lfloor (n+1)/2 \rfloor` holds at integers only: with a floor or
    // ceiling on either side, a name that by convention is an integer takes integers too.
    let mut rounding = false;
    for e in [a, b] {
        e.walk(&mut |x| {
            rounding |= matches!(x, Expr::Func(f, _) if f == "floor" || f == "ceil");
        });
    }
    if rounding {
        for v in union_vars(a, b) {
            if INDEX_NAMES.contains(&v.as_str()) && !out.contains(&v) {
                out.push(v);
            }
        }
    }
    out
}

/// A function defined on [-1, 1] only (`\arcsin`, `\arccos`) somewhere in the expression.
fn unit_domain(e: &Expr) -> bool {
    e.any(|x| matches!(x, Expr::Func(f, _) if matches!(f.as_str(), "arcsin" | "arccos" | "asin" | "acos")))
}

/// A `\sum` up to ∞: it converges on part of the points' range only (`\sum x^n` for |x| < 1).
fn infinite_sum(e: &Expr) -> bool {
    e.any(|x| {
        matches!(x, Expr::Func(f, args) if args.len() == 3
            && f.starts_with("sum[")
            && matches!(args[2], Expr::Const(Const::Inf)))
    })
}

/// No root, logarithm, fractional power or inverse function anywhere: the expression means the
/// same at negative values as the positive-domain reading.
pub(crate) fn branch_free(e: &Expr) -> bool {
    let mut ok = true;
    e.walk(&mut |x| {
        ok &= match x {
            Expr::Root(..) | Expr::Factorial(_) => false,
            Expr::Pow(_, p) => match &**p {
                Expr::Num { val, .. } => val.is_integer(),
                Expr::Neg(q) => matches!(&**q, Expr::Num { val, .. } if val.is_integer()),
                _ => false,
            },
            Expr::Func(f, _) => matches!(
                f.as_str(),
                "abs"
                    | "sin"
                    | "cos"
                    | "tan"
                    | "cot"
                    | "sec"
                    | "csc"
                    | "exp"
                    | "floor"
                    | "ceil"
                    | "sinh"
                    | "cosh"
                    | "tanh"
                    | "max"
                    | "min"
            ),
            _ => true,
        }
    });
    ok
}

fn is_infinity(e: &Expr) -> bool {
    match e {
        Expr::Const(crate::expr::Const::Inf) => true,
        Expr::Neg(a) => is_infinity(a),
        _ => false,
    }
}

pub(crate) fn union_vars(a: &Expr, b: &Expr) -> Vec<String> {
    let mut v = a.free_vars();
    for x in b.free_vars() {
        if !v.contains(&x) {
            v.push(x);
        }
    }
    v
}

pub(crate) fn close(x: C, y: C, rel: f64) -> bool {
    if !x.is_finite() || !y.is_finite() {
        return false;
    }
    let d = C {
        re: x.re - y.re,
        im: x.im - y.im,
    }
    .abs();
    d <= rel * x.abs().max(y.abs()) || d <= 1e-12
}

fn strip_percent(e: &Expr) -> (&Expr, bool) {
    match e {
        Expr::Percent(a) => (a, true),
        e => (e, false),
    }
}

/// The free one-letter names of a definition's body besides its parameters (its arbitrary
/// constants), sorted; empty when any other free name is there.
fn constants(body: &Expr) -> Vec<String> {
    let mut names: Vec<String> = body
        .free_vars()
        .into_iter()
        .filter(|n| !PARAMS.contains(&n.as_str()))
        .collect();
    if names.iter().any(|n| n.chars().count() != 1) {
        return Vec::new();
    }
    names.sort();
    names
}

/// Every order of `0..n` (n ≤ 3).
fn permutations(n: usize) -> Vec<Vec<usize>> {
    match n {
        1 => vec![vec![0]],
        2 => vec![vec![0, 1], vec![1, 0]],
        _ => vec![
            vec![0, 1, 2],
            vec![0, 2, 1],
            vec![1, 0, 2],
            vec![1, 2, 0],
            vec![2, 0, 1],
            vec![2, 1, 0],
        ],
    }
}

fn is_fraction(e: &Expr) -> bool {
    match e {
        Expr::Neg(a) => is_fraction(a),
        Expr::Div(a, b) => matches!(**a, Expr::Num { .. }) && matches!(**b, Expr::Num { .. }),
        _ => false,
    }
}

fn inverse_trig(e: &Expr) -> bool {
    e.any(|x| matches!(x, Expr::Func(f, _) if f.starts_with("arc")))
}

fn mentions_pi(e: &Expr) -> bool {
    e.any(|x| matches!(x, Expr::Const(Const::Pi)))
}

fn degrees_in_radians(d: &Expr) -> Expr {
    Expr::Div(
        Box::new(Expr::Mul(vec![d.clone(), Expr::Const(Const::Pi)])),
        Box::new(Expr::num_int(180)),
    )
}

fn strip_degrees(e: &Expr) -> &Expr {
    match e {
        Expr::Degrees(a) => a,
        e => e,
    }
}
