//! Sets of real numbers written in different ways: intervals and their unions, inequalities
//! joined by "or"/"and", set-builder notation, complements (`\mathbb{R} \setminus [1, 3]`),
//! `x \ne 3`, `|x| < 2`, `\mathbb{R}`, `\emptyset`, and sets that depend on a parameter
//! (`(-\infty, \min(2, b))`, or `cases` on `b`). Each side becomes a membership test; two sets
//! are equal when membership agrees at every boundary point of either side, between them and
//! beyond them, for each sample value of the parameters.

use crate::budget::{Limit, Meter};
use crate::compare::TALLY;
use crate::expr::{Const, Expr, RelOp};
use crate::numeric::{num, NumCtx, C};
use crate::parse::parse;
use crate::points::{sample, POINTS};

/// A set of reals over one variable.
#[derive(Clone, Debug)]
enum RSet {
    All,
    Empty,
    Interval {
        lo: Expr,
        lo_closed: bool,
        hi: Expr,
        hi_closed: bool,
    },
    Points(Vec<Expr>),
    /// A relation chain in the set's variable (`x < 1`, `1 < |x| \le 3`, `x \ne 3`).
    Cond(Vec<Expr>, Vec<RelOp>),
    Union(Vec<RSet>),
    Inter(Vec<RSet>),
    Diff(Box<RSet>, Box<RSet>),
    Integers(Box<RSet>),
    /// `cases`: the set of the first row whose condition on the parameters holds.
    Cases(Vec<(RSet, Vec<Expr>, Vec<RelOp>)>),
}

/// Marks that make an answer read as a set of reals rather than a value or a tuple.
fn set_like(s: &str) -> bool {
    if !s
        .bytes()
        .any(|b| matches!(b, b'<' | b'>' | b'\\' | b'l' | b'L' | b'n' | b'N') || b >= 0x80)
    {
        return false;
    }
    const MARKS: &[&str] = &[
        "<",
        ">",
        "\\le",
        "\\ge",
        "\\ne",
        "\\lt",
        "\\gt",
        "\\cup",
        "\\cap",
        "\\setminus",
        "\\backslash",
        "\\mathbb",
        "\\emptyset",
        "\\varnothing",
        "\\infty",
        "\\mid",
        "≤",
        "≥",
        "≠",
        "∞",
        "all real",
        "no solution",
        "no real",
    ];
    let l = s.to_ascii_lowercase();
    MARKS.iter().any(|m| l.contains(m))
}

/// `Some(equal)` when both sides read as sets of reals and at least one is written as such;
/// `None` when the rule does not apply (the expression comparison decides).
pub(crate) fn compare(pred: &str, gold: &str, m: &Meter) -> Result<Option<bool>, Limit> {
    if !(set_like(pred) || set_like(gold)) {
        return Ok(None);
    }
    let (Some((a, va)), Some((b, vb))) = (read(pred, m), read(gold, m)) else {
        return Ok(None);
    };
    // Two finite sets, or two plain intervals, are left to the expression comparison.
    if matches!((&a, &b), (RSet::Points(_), RSet::Points(_))) {
        return Ok(None);
    }
    // One variable for both sides: `a > 2` and `x > 2` describe the same set.
    let var = va.clone().or(vb.clone()).unwrap_or_else(|| "x".to_string());
    let (a, b) = (
        rename(a, vb_or(&va, &var), &var),
        rename(b, vb_or(&vb, &var), &var),
    );
    let mut params: Vec<String> = Vec::new();
    for s in [&a, &b] {
        for v in free_vars(s) {
            if v != var && !params.contains(&v) {
                params.push(v);
            }
        }
    }
    let runs = if params.is_empty() { 1 } else { POINTS };
    let mut decided = 0;
    for k in 0..runs {
        let env: Vec<(String, C)> = params.iter().map(|p| (p.clone(), sample(p, k))).collect();
        match same_set(&a, &b, &var, &env, m)? {
            Some(false) => return Ok(Some(false)),
            Some(true) => decided += 1,
            None => {}
        }
    }
    Ok((decided > 0).then_some(true))
}

fn vb_or<'a>(v: &'a Option<String>, var: &'a str) -> &'a str {
    v.as_deref().unwrap_or(var)
}

/// Reads one side; the variable it names, if any.
fn read(s: &str, m: &Meter) -> Option<(RSet, Option<String>)> {
    let mut var = None;
    let set = to_set(s.trim(), &mut var, m, 0)?;
    Some((set, var))
}

/// Splits at separators outside brackets and braces.
fn split_top<'s>(s: &'s str, seps: &[&str]) -> Vec<&'s str> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let (mut depth, mut start, mut i) = (0i32, 0, 0);
    while i < b.len() {
        match b[i] {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            _ => {}
        }
        if depth == 0 {
            if let Some(sep) = seps.iter().find(|p| b[i..].starts_with(p.as_bytes())) {
                out.push(&s[start..i]);
                i += sep.len();
                start = i;
                continue;
            }
        }
        i += 1;
    }
    out.push(&s[start..]);
    out
}

fn strip_wrappers(s: &str) -> String {
    let mut t = s.trim().to_string();
    for (a, b) in [
        ("\\left", ""),
        ("\\right", ""),
        ("\\displaystyle", ""),
        ("\\qquad", " "),
        ("\\quad", " "),
        ("\\;", " "),
        ("\\lt", "<"),
        ("\\gt", ">"),
        ("\\varnothing", "\\emptyset"),
        ("\\mathbb R", "\\mathbb{R}"),
        ("\\mathbb Z", "\\mathbb{Z}"),
    ] {
        t = t.replace(a, b);
    }
    // `\ ` is a space, but not the `\ ` that ends a row's `\\`.
    let mut out = String::with_capacity(t.len());
    let mut chars = t.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' && chars.peek() == Some(&'\\') {
            out.push_str("\\\\");
            chars.next();
        } else if c == '\\' && chars.peek() == Some(&' ') {
            out.push(' ');
            chars.next();
        } else {
            out.push(c);
        }
    }
    out.trim().trim_end_matches('.').trim().to_string()
}

fn to_set(s: &str, var: &mut Option<String>, m: &Meter, depth: u32) -> Option<RSet> {
    if depth > 8 {
        return None;
    }
    let t = strip_wrappers(s);
    let lower = t.to_ascii_lowercase();
    let words = crate::text::text_key(&t);
    match words.as_str() {
        "\\mathbb{r}"
        | "r"
        | "allrealnumbers"
        | "allreals"
        | "allrealx"
        | "allrealvaluesofx"
        | "(-\\infty,\\infty)"
        | "(-\\infty,+\\infty)"
        | "x\\in\\mathbb{r}" => return Some(RSet::All),
        "\\emptyset" | "\\{\\}" | "nosolution" | "nosolutions" | "norealsolution"
        | "norealsolutions" | "none" | "nosuchx" => return Some(RSet::Empty),
        "\\mathbb{r}^+" | "\\mathbb{r}^{+}" | "\\mathbb{r}_+" | "\\mathbb{r}_{+}"
        | "\\mathbb{r}_{>0}" => {
            return Some(RSet::Interval {
                lo: Expr::num_int(0),
                lo_closed: false,
                hi: Expr::Const(Const::Inf),
                hi_closed: false,
            })
        }
        w if ray_words(w).is_some() => return ray_words(w),
        w if !w.chars().any(|c| c.is_ascii_digit() || "<>=".contains(c)) => {
            if [
                "nosolution",
                "nosuch",
                "norealsolution",
                "emptyset",
                "norealnumber",
            ]
            .iter()
            .any(|p| w.contains(p))
            {
                return Some(RSet::Empty);
            }
            if [
                "allrealnumber",
                "allreals",
                "everyrealnumber",
                "allrealvalues",
            ]
            .iter()
            .any(|p| w.contains(p))
            {
                return Some(RSet::All);
            }
        }
        _ => {}
    }
    if let Some(set) = all_but(&t, var, m, depth) {
        return Some(set);
    }
    // `x \in S` (not `\infty`).
    if let Some(k) = t.find("\\in") {
        let head = t[..k].trim();
        let after = &t[k + 3..];
        if is_name(head)
            && !after.starts_with(|c: char| c.is_ascii_alphabetic())
            && split_top(&t, &[","]).len() == 1
        {
            note_var(var, head)?;
            return to_set(after, var, m, depth + 1);
        }
    }
    for (seps, op) in [
        (&["\\cup"][..], 0),
        (&["\\setminus", "\\backslash"][..], 2),
        (&["\\cap"][..], 1),
        (
            &[
                "\\text{ or }",
                "\\text{or}",
                "\\text{ or}",
                "\\text{or }",
                " or ",
                "\\lor",
                "\\vee",
            ][..],
            0,
        ),
        (
            &[
                "\\text{ and }",
                "\\text{and}",
                "\\text{ and}",
                "\\text{and }",
                " and ",
                "\\land",
                "\\wedge",
            ][..],
            1,
        ),
    ] {
        let parts = split_top(&t, seps);
        if parts.len() > 1 {
            let sets: Option<Vec<RSet>> =
                parts.iter().map(|p| to_set(p, var, m, depth + 1)).collect();
            let mut sets = sets?;
            return Some(match op {
                0 => RSet::Union(sets),
                1 => RSet::Inter(sets),
                _ => {
                    let first = sets.remove(0);
                    RSet::Diff(Box::new(first), Box::new(RSet::Union(sets)))
                }
            });
        }
    }
    // Set-builder `\{x \mid P\}`, `\{x \in \mathbb{Z} : P\}`.
    if let Some(inner) = t.strip_prefix("\\{").and_then(|r| r.strip_suffix("\\}")) {
        let parts = ["\\mid", ":", "|"]
            .iter()
            .map(|sep| split_top(inner, &[sep]))
            .find(|p| p.len() == 2)
            .unwrap_or_default();
        if parts.len() == 2 {
            let head = parts[0].trim();
            let (name, domain) = match head.split_once("\\in") {
                Some((n, d)) => (n.trim(), Some(crate::text::text_key(d))),
                None => (head, None),
            };
            if !is_name(name) {
                return None;
            }
            note_var(var, name)?;
            let body = to_set(parts[1], var, m, depth + 1)?;
            return match domain.as_deref() {
                None | Some("\\mathbb{r}") => Some(body),
                Some("\\mathbb{z}") => Some(RSet::Integers(Box::new(body))),
                _ => None,
            };
        }
        if inner.trim().is_empty() {
            return Some(RSet::Empty);
        }
    }
    if lower.starts_with("\\begin{cases}") {
        return cases(&t, var, m, depth);
    }
    // Top-level commas: a list of conditions or sets is their union (`x < -3, x > 2`), except
    // that an exclusion restricts the rest (`0 \le x \le 2, x \ne 1`: the interval without 1).
    let items = split_top(&t, &[",", ";"]);
    if items.len() > 1 && items.iter().all(|p| !p.trim().is_empty()) {
        if t.contains("if") {
            if let Some(set) = cases_in_words(&items, var, m, depth) {
                return Some(set);
            }
        }
        let (exclusions, rest): (Vec<&str>, Vec<&str>) =
            items.iter().copied().partition(|p| is_exclusion(p));
        let sets: Option<Vec<RSet>> = rest.iter().map(|p| to_set(p, var, m, depth + 1)).collect();
        let union = RSet::Union(sets?);
        if exclusions.is_empty() {
            return Some(union);
        }
        let mut all = vec![if rest.is_empty() { RSet::All } else { union }];
        for p in exclusions {
            all.push(to_set(p, var, m, depth + 1)?);
        }
        return Some(RSet::Inter(all));
    }
    atom(&t, var, m)
}

/// "All real numbers except 1 and 3": the reals without the points (or set) named after it.
fn all_but(t: &str, var: &mut Option<String>, m: &Meter, depth: u32) -> Option<RSet> {
    if !t.contains("xcept") && !t.contains("other than") {
        return None;
    }
    let plain = crate::text::unwrap_cmds(t, &["\\text", "\\mathrm", "\\mbox", "\\textrm"]);
    let lower = plain.to_ascii_lowercase();
    let (k, len) = ["except for", "except", "other than"]
        .iter()
        .find_map(|w| lower.find(w).map(|k| (k, w.len())))?;
    let head = crate::text::text_key(&plain[..k]);
    let head = head.trim_end_matches(',');
    if !matches!(
        head,
        "allrealnumbers"
            | "allreals"
            | "allrealx"
            | "allx"
            | "everyrealnumber"
            | "\\mathbb{r}"
            | "allrealvaluesofx"
            | "anyrealnumber"
            | "allrealnumbersx"
    ) {
        return None;
    }
    let rest = plain[k + len..].trim();
    let rest = rest
        .strip_prefix("x =")
        .or_else(|| rest.strip_prefix("x="))
        .unwrap_or(rest);
    // `except 1 and 3`: the values named; `except x = 1`, `except [0, 1]`: a set.
    let points: Option<Vec<Expr>> = split_top(rest, &[",", " and ", " or "])
        .iter()
        .map(|p| parse(p.trim(), TALLY, m.budget.max_depth).ok())
        .collect();
    let excluded = match points {
        Some(p) if p.iter().all(|x| x.free_vars().is_empty()) => RSet::Points(p),
        _ => to_set(rest, var, m, depth + 1)?,
    };
    Some(RSet::Diff(Box::new(RSet::All), Box::new(excluded)))
}

/// `x \ne 1`, `x \neq 1`, `x ≠ 1`: one variable, one excluded value.
fn is_exclusion(p: &str) -> bool {
    let p = p.trim();
    let ne = p.find("\\neq").map(|k| (k, 4)).or_else(|| {
        p.find("\\ne")
            .filter(|&k| !p[k + 3..].starts_with(|c: char| c.is_ascii_alphabetic()))
            .map(|k| (k, 3))
    });
    let ne = ne.or_else(|| p.find('≠').map(|k| (k, '≠'.len_utf8())));
    ne.is_some_and(|(k, len)| is_name(p[..k].trim()) && !p[k + len..].contains('='))
}

/// "All positive real numbers" and the like: a ray from 0.
fn ray_words(w: &str) -> Option<RSet> {
    let w = w.trim_start_matches("all").trim_start_matches("the");
    let w = w
        .strip_suffix("realnumbers")
        .or_else(|| w.strip_suffix("reals"))
        .or_else(|| w.strip_suffix("numbers"))?;
    let (lo, lo_closed, hi, hi_closed) = match w {
        "positive" => (Expr::num_int(0), false, Expr::Const(Const::Inf), false),
        "nonnegative" | "non-negative" => (Expr::num_int(0), true, Expr::Const(Const::Inf), false),
        "negative" => (
            Expr::Neg(Box::new(Expr::Const(Const::Inf))),
            false,
            Expr::num_int(0),
            false,
        ),
        "nonpositive" | "non-positive" => (
            Expr::Neg(Box::new(Expr::Const(Const::Inf))),
            false,
            Expr::num_int(0),
            true,
        ),
        _ => return None,
    };
    Some(RSet::Interval {
        lo,
        lo_closed,
        hi,
        hi_closed,
    })
}

fn cases(t: &str, var: &mut Option<String>, m: &Meter, depth: u32) -> Option<RSet> {
    let body = t
        .strip_prefix("\\begin{cases}")?
        .trim()
        .strip_suffix("\\end{cases}")?;
    let rows: Option<Vec<(&str, &str)>> = body
        .split("\\\\")
        .filter(|row| !row.trim().is_empty())
        .map(|row| row.split_once('&'))
        .collect();
    case_rows(&rows?, var, m, depth)
}

/// `x < 2 \text{ if } b \ge 2;\ x < b \text{ if } b < 2`: cases written on one line, each item
/// a set and its condition.
fn cases_in_words(items: &[&str], var: &mut Option<String>, m: &Meter, depth: u32) -> Option<RSet> {
    const IF: &[&str] = &[
        "\\text{ if }",
        "\\text{if }",
        "\\text{ if}",
        "\\text{if}",
        " if ",
    ];
    let rows: Option<Vec<(&str, &str)>> = items
        .iter()
        .map(|item| {
            IF.iter()
                .find_map(|w| item.find(w).map(|k| (&item[..k], &item[k + w.len()..])))
        })
        .collect();
    case_rows(&rows?, var, m, depth)
}

/// Rows of (set, condition on the parameters) as a `Cases` set.
fn case_rows(
    rows: &[(&str, &str)],
    var: &mut Option<String>,
    m: &Meter,
    depth: u32,
) -> Option<RSet> {
    let mut out = Vec::new();
    for (set, cond) in rows {
        let cond = cond
            .replace("\\text{if}", "")
            .replace("\\text{ if }", "")
            .replace("\\text{if }", "")
            .replace("if ", "");
        let set = to_set(set, var, m, depth + 1)?;
        let Ok(Expr::Rel { parts, ops }) = parse(cond.trim(), TALLY, m.budget.max_depth) else {
            return None;
        };
        out.push((set, parts, ops));
    }
    (!out.is_empty()).then_some(RSet::Cases(out))
}

fn is_name(s: &str) -> bool {
    let s = s.trim();
    s.len() == 1 && s.chars().all(|c| c.is_ascii_alphabetic())
}

/// Records the set's variable; two different names on one side do not make one set.
fn note_var(var: &mut Option<String>, name: &str) -> Option<()> {
    match var {
        Some(v) if v != name => None,
        Some(_) => Some(()),
        None => {
            *var = Some(name.to_string());
            Some(())
        }
    }
}

fn atom(t: &str, var: &mut Option<String>, m: &Meter) -> Option<RSet> {
    let e = parse(t, TALLY, m.budget.max_depth).ok()?;
    match e {
        Expr::Seq { open, close, items } if items.len() == 2 => Some(RSet::Interval {
            lo: items[0].clone(),
            lo_closed: open == '[',
            hi: items[1].clone(),
            hi_closed: close == ']',
        }),
        Expr::Set(items) => Some(RSet::Points(items)),
        Expr::Rel { parts, ops } => {
            if ops.iter().any(|o| matches!(o, RelOp::Approx | RelOp::In)) {
                return None;
            }
            let name = chain_var(&parts, &ops)?;
            note_var(var, &name)?;
            if ops == [RelOp::Eq] {
                // `x = 3` is the point 3 (when the other side is free of the variable).
                let other = if parts[0] == Expr::Var(name.clone()) {
                    &parts[1]
                } else {
                    &parts[0]
                };
                if !other.free_vars().contains(&name) {
                    return Some(RSet::Points(vec![other.clone()]));
                }
            }
            Some(RSet::Cond(parts, ops))
        }
        _ => None,
    }
}

/// The variable of a relation chain: the middle of `a < x < b`, else `x` if it appears, else
/// the left-hand name, else the only free variable.
fn chain_var(parts: &[Expr], ops: &[RelOp]) -> Option<String> {
    let name = |e: &Expr| match e {
        Expr::Var(n) if n.len() == 1 => Some(n.clone()),
        _ => None,
    };
    if parts.len() == 3 {
        if let Some(n) = name(&parts[1]) {
            return Some(n);
        }
    }
    let mut all: Vec<String> = Vec::new();
    for p in parts {
        for v in p.free_vars() {
            if !all.contains(&v) {
                all.push(v);
            }
        }
    }
    if all.iter().any(|v| v == "x") {
        return Some("x".into());
    }
    if let Some(n) = name(&parts[0]) {
        return Some(n);
    }
    if let Some(n) = parts.last().and_then(name) {
        if ops.len() == 1 {
            return Some(n);
        }
    }
    (all.len() == 1).then(|| all[0].clone())
}

fn rename(s: RSet, from: &str, to: &str) -> RSet {
    if from == to {
        return s;
    }
    let r = |e: &Expr| crate::names::map_vars(e, &|n| (n == from).then(|| Expr::Var(to.into())));
    let rv = |v: &[Expr]| v.iter().map(r).collect::<Vec<_>>();
    match s {
        RSet::Cond(p, o) => RSet::Cond(rv(&p), o),
        RSet::Union(v) => RSet::Union(v.into_iter().map(|x| rename(x, from, to)).collect()),
        RSet::Inter(v) => RSet::Inter(v.into_iter().map(|x| rename(x, from, to)).collect()),
        RSet::Diff(a, b) => RSet::Diff(
            Box::new(rename(*a, from, to)),
            Box::new(rename(*b, from, to)),
        ),
        RSet::Integers(a) => RSet::Integers(Box::new(rename(*a, from, to))),
        other => other,
    }
}

fn exprs(s: &RSet, out: &mut Vec<Expr>) {
    match s {
        RSet::All | RSet::Empty => {}
        RSet::Interval { lo, hi, .. } => {
            out.push(lo.clone());
            out.push(hi.clone());
        }
        RSet::Points(v) => out.extend(v.iter().cloned()),
        RSet::Cond(p, _) => out.extend(p.iter().cloned()),
        RSet::Union(v) | RSet::Inter(v) => v.iter().for_each(|x| exprs(x, out)),
        RSet::Diff(a, b) => {
            exprs(a, out);
            exprs(b, out);
        }
        RSet::Integers(a) => exprs(a, out),
        RSet::Cases(rows) => {
            for (s, p, _) in rows {
                exprs(s, out);
                out.extend(p.iter().cloned());
            }
        }
    }
}

fn free_vars(s: &RSet) -> Vec<String> {
    let mut es = Vec::new();
    exprs(s, &mut es);
    let mut v: Vec<String> = Vec::new();
    for e in &es {
        for x in e.free_vars() {
            if !v.contains(&x) {
                v.push(x);
            }
        }
    }
    v
}

fn has_integers(s: &RSet) -> bool {
    match s {
        RSet::Integers(_) => true,
        RSet::Union(v) | RSet::Inter(v) => v.iter().any(has_integers),
        RSet::Diff(a, b) => has_integers(a) || has_integers(b),
        RSet::Cases(rows) => rows.iter().any(|(s, _, _)| has_integers(s)),
        _ => false,
    }
}

struct Ctx<'a> {
    var: &'a str,
    /// The parameters' values, then the variable's (last; NaN when not set).
    env: std::cell::RefCell<Vec<(String, C)>>,
    m: &'a Meter,
}

impl Ctx<'_> {
    fn value(&self, e: &Expr, t: Option<f64>) -> Result<Option<f64>, Limit> {
        let mut env = self.env.borrow_mut();
        env.last_mut().unwrap().1 = C::r(t.unwrap_or(f64::NAN));
        let v = num(e, &NumCtx { env: &env }, self.m, false)?;
        Ok((v.im.abs() <= 1e-9 * v.re.abs().max(1.0) && !v.re.is_nan()).then_some(v.re))
    }
}

fn tol(a: f64, b: f64) -> f64 {
    1e-9 * a.abs().max(b.abs()).max(1.0)
}

pub(crate) fn holds(op: RelOp, l: f64, r: f64) -> bool {
    let eq = l == r || (l.is_finite() && r.is_finite() && (l - r).abs() <= tol(l, r));
    match op {
        RelOp::Eq => eq,
        RelOp::Ne => !eq,
        RelOp::Lt => l < r && !eq,
        RelOp::Le => l < r || eq,
        RelOp::Gt => l > r && !eq,
        RelOp::Ge => l > r || eq,
        RelOp::Approx | RelOp::In => false,
    }
}

/// Membership of `t`; `None` when some value cannot be computed (complex, undefined).
fn contains(s: &RSet, t: f64, c: &Ctx) -> Result<Option<bool>, Limit> {
    c.m.tick(1)?;
    Ok(match s {
        RSet::All => Some(true),
        RSet::Empty => Some(false),
        RSet::Interval {
            lo,
            lo_closed,
            hi,
            hi_closed,
        } => {
            let (Some(l), Some(h)) = (c.value(lo, None)?, c.value(hi, None)?) else {
                return Ok(None);
            };
            let lop = if *lo_closed { RelOp::Le } else { RelOp::Lt };
            let hop = if *hi_closed { RelOp::Le } else { RelOp::Lt };
            Some(holds(lop, l, t) && holds(hop, t, h))
        }
        RSet::Points(v) => {
            let mut any = false;
            for p in v {
                match c.value(p, None)? {
                    Some(x) => any |= holds(RelOp::Eq, t, x),
                    None => return Ok(None),
                }
            }
            Some(any)
        }
        RSet::Cond(parts, ops) => {
            let mut vals = Vec::with_capacity(parts.len());
            for p in parts {
                match c.value(p, Some(t))? {
                    Some(x) => vals.push(x),
                    None => return Ok(None),
                }
            }
            Some(
                ops.iter()
                    .enumerate()
                    .all(|(k, o)| holds(*o, vals[k], vals[k + 1])),
            )
        }
        RSet::Union(v) => {
            let mut any = false;
            for x in v {
                match contains(x, t, c)? {
                    Some(b) => any |= b,
                    None => return Ok(None),
                }
            }
            Some(any)
        }
        RSet::Inter(v) => {
            let mut all = true;
            for x in v {
                match contains(x, t, c)? {
                    Some(b) => all &= b,
                    None => return Ok(None),
                }
            }
            Some(all)
        }
        RSet::Diff(a, b) => match (contains(a, t, c)?, contains(b, t, c)?) {
            (Some(x), Some(y)) => Some(x && !y),
            _ => None,
        },
        RSet::Integers(a) => {
            if (t - t.round()).abs() > 1e-9 {
                Some(false)
            } else {
                contains(a, t.round(), c)?
            }
        }
        RSet::Cases(rows) => {
            for (s, parts, ops) in rows {
                let mut vals = Vec::new();
                for p in parts {
                    match c.value(p, None)? {
                        Some(x) => vals.push(x),
                        None => return Ok(None),
                    }
                }
                if ops
                    .iter()
                    .enumerate()
                    .all(|(k, o)| holds(*o, vals[k], vals[k + 1]))
                {
                    return contains(s, t, c);
                }
            }
            None
        }
    })
}

/// Values where membership may change: every endpoint, point and bound that does not involve
/// the variable, and the roots of `left − right` for the parts that do (`|x| < 2`).
fn boundaries(s: &RSet, c: &Ctx, out: &mut Vec<f64>) -> Result<(), Limit> {
    let mut es = Vec::new();
    exprs(s, &mut es);
    let mut conds: Vec<(Vec<Expr>, Vec<RelOp>)> = Vec::new();
    collect_conds(s, &mut conds);
    for e in &es {
        if !e.free_vars().iter().any(|v| v == c.var) {
            if let Some(x) = c.value(e, None)? {
                if x.is_finite() {
                    out.push(x);
                }
            }
        }
    }
    for (parts, _) in conds {
        for w in parts.windows(2) {
            if !w.iter().any(|e| e.free_vars().iter().any(|v| v == c.var)) {
                continue;
            }
            let d = Expr::Add(vec![w[0].clone(), Expr::Neg(Box::new(w[1].clone()))]);
            roots(&d, c, out)?;
        }
    }
    Ok(())
}

fn collect_conds(s: &RSet, out: &mut Vec<(Vec<Expr>, Vec<RelOp>)>) {
    match s {
        RSet::Cond(p, o) => out.push((p.clone(), o.clone())),
        RSet::Union(v) | RSet::Inter(v) => v.iter().for_each(|x| collect_conds(x, out)),
        RSet::Diff(a, b) => {
            collect_conds(a, out);
            collect_conds(b, out);
        }
        RSet::Integers(a) => collect_conds(a, out),
        RSet::Cases(rows) => rows.iter().for_each(|(s, _, _)| collect_conds(s, out)),
        _ => {}
    }
}

/// Sign changes (and zeros) of `d` on a grid over [-1000, 1000], refined by bisection.
fn roots(d: &Expr, c: &Ctx, out: &mut Vec<f64>) -> Result<(), Limit> {
    let grid: Vec<f64> = (-400..=400)
        .map(|k| {
            let u = k as f64 / 400.0;
            1000.0 * u * u * u
        })
        .collect();
    let mut prev: Option<(f64, f64)> = None;
    for &x in &grid {
        let y = c.value(d, Some(x))?;
        if let Some(y) = y {
            if y == 0.0 {
                out.push(x);
            }
            if let Some((px, py)) = prev {
                if py.signum() != y.signum() && py != 0.0 && y != 0.0 {
                    let (mut a, mut b, mut fa) = (px, x, py);
                    for _ in 0..60 {
                        let mid = 0.5 * (a + b);
                        match c.value(d, Some(mid))? {
                            Some(fm) if fm.signum() == fa.signum() && fm != 0.0 => {
                                a = mid;
                                fa = fm;
                            }
                            Some(_) => b = mid,
                            None => break,
                        }
                    }
                    out.push(0.5 * (a + b));
                }
            }
            prev = Some((x, y));
        } else {
            prev = None;
        }
    }
    Ok(())
}

fn same_set(
    a: &RSet,
    b: &RSet,
    var: &str,
    env: &[(String, C)],
    m: &Meter,
) -> Result<Option<bool>, Limit> {
    let mut all = env.to_vec();
    all.push((var.to_string(), C::r(f64::NAN)));
    let c = Ctx {
        var,
        env: std::cell::RefCell::new(all),
        m,
    };
    let mut pts = Vec::new();
    boundaries(a, &c, &mut pts)?;
    boundaries(b, &c, &mut pts)?;
    pts.retain(|x| x.is_finite());
    pts.sort_by(|x, y| x.partial_cmp(y).unwrap());
    pts.dedup_by(|x, y| (*x - *y).abs() <= tol(*x, *y));
    let mut tests = pts.clone();
    for w in pts.windows(2) {
        tests.push(0.5 * (w[0] + w[1]));
    }
    let (lo, hi) = match (pts.first(), pts.last()) {
        (Some(l), Some(h)) => (*l, *h),
        _ => (0.0, 0.0),
    };
    tests.extend([lo - 1.0, hi + 1.0, lo - 1e6, hi + 1e6, 0.0, 0.5, -0.5]);
    if has_integers(a) || has_integers(b) {
        let (l, h) = (lo.floor() as i64 - 2, hi.ceil() as i64 + 2);
        if h - l <= 2000 {
            tests.extend((l..=h).map(|k| k as f64));
        }
    }
    let (mut known, mut unknown) = (0, 0);
    for t in tests {
        match (contains(a, t, &c)?, contains(b, t, &c)?) {
            (Some(x), Some(y)) if x != y => return Ok(Some(false)),
            (Some(_), Some(_)) => known += 1,
            _ => unknown += 1,
        }
    }
    // Membership must be known at most of the test points (not only where both are defined).
    Ok((known >= 3 && unknown * 4 <= known).then_some(true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::budget::{Budget, Meter};

    fn same(a: &str, b: &str) -> Option<bool> {
        let budget = Budget::default();
        let m = Meter::new(budget);
        compare(a, b, &m).unwrap()
    }

    #[test]
    fn all_reals_but_points_in_words() {
        assert_eq!(
            same("\\text{all real numbers except } 1", "x \\neq 1"),
            Some(true)
        );
        assert_eq!(
            same("\\text{all real numbers except } 2", "x \\neq 1"),
            Some(false)
        );
        assert_eq!(same("1<x<3,\\ x\\neq 2", "(1,2)\\cup(2,3)"), Some(true));
    }
}
