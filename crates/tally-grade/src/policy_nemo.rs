//! `Policy::NemoSkills`: the seed's `math_equal(prediction, reference)` (spec §4.3), quirks
//! included. sympy's `parse_expr` / `parse_latex` are emulated with our parser in two dialects.

use crate::budget::{Limit, Meter};
use crate::compare::{close, union_vars};
use crate::expr::Expr;
use crate::lexer::Dialect;
use crate::normalize_nemo::{normalize, normalize_answer_string};
use crate::numeric::{exact, num, NumCtx};
use crate::parse::parse;
use crate::points::{sample, POINTS};
use crate::pyfloat::py_float;

const PYTHON: Dialect = Dialect {
    tally: false,
    python: true,
};
const LATEX: Dialect = Dialect {
    tally: false,
    python: false,
};

/// The grading client's pre-processing (spec §4.2): trailing backslashes stripped.
pub(crate) fn client_prep(s: &str) -> String {
    s.trim_end_matches('\\').to_string()
}

pub(crate) fn math_equal(pred: &str, gold: &str, m: &Meter) -> Result<bool, Limit> {
    math_equal_nested(pred, gold, m, 0)
}

/// `math_equal` recurses once per bracket layer both sides share (`((…))` against `((…))`),
/// and a frame of it is large: nesting is bounded like the parser's, so a deep pair is
/// undecided instead of overflowing the stack (Python would recurse up to its own limit).
fn math_equal_nested(pred: &str, gold: &str, m: &Meter, nesting: usize) -> Result<bool, Limit> {
    if nesting > m.budget.max_depth {
        return Err(Limit::TooDeep);
    }
    m.tick(1)?;
    let p = normalize(pred);
    let g = normalize(gold);
    let (Ok(mut p), Ok(g)) = (normalize_answer_string(&p), normalize_answer_string(&g)) else {
        return Ok(false);
    };
    if p.chars().count() > 1000 {
        p = p.chars().take(1000).collect();
    }
    if p.trim().to_lowercase() == g.trim().to_lowercase()
        || p.replace(' ', "") == g.replace(' ', "")
    {
        return Ok(true);
    }
    if let (Some(x), Some(y)) = (is_digit(&p), is_digit(&g)) {
        return Ok([y / 100.0, y, y * 100.0]
            .iter()
            .any(|c| isclose(*c, x, 1e-4)));
    }
    if p.is_empty() {
        return Ok(false);
    }
    let g = g.trim().to_string();
    let p = format_intervals(p.trim());
    let (mut ps, mut gs) = (p.clone(), g.clone());
    if (p.starts_with('[') && p.ends_with(']') && !g.starts_with('('))
        || (p.starts_with('(') && p.ends_with(')') && !g.starts_with('['))
    {
        ps = ps.trim_matches(['[', ']', '(', ')']).to_string();
        gs = gs.trim_matches(['[', ']', '(', ')']).to_string();
    }
    let strip = |s: &str| {
        s.chars()
            .filter(|c| !"{}()".contains(*c))
            .collect::<String>()
    };
    if strip(&ps) == strip(&gs) {
        return Ok(true);
    }
    let (pb, gb) = (p.as_bytes(), g.as_bytes());
    if !p.is_empty()
        && !g.is_empty()
        && b"([".contains(&pb[0])
        && b")]".contains(&pb[pb.len() - 1])
        && pb[0] == gb[0]
        && pb[pb.len() - 1] == gb[gb.len() - 1]
        && p.len() >= 2
        && g.len() >= 2
    {
        let pp: Vec<&str> = p[1..p.len() - 1].split(',').collect();
        let gp: Vec<&str> = g[1..g.len() - 1].split(',').collect();
        if pp.len() == gp.len() {
            let mut all = true;
            for (a, b) in pp.iter().zip(&gp) {
                if !math_equal_nested(a, b, m, nesting + 1)? {
                    all = false;
                    break;
                }
            }
            if all {
                return Ok(true);
            }
        }
    }
    if p.contains(',') && g.contains(',') {
        let pp: Vec<&str> = p.split(',').map(str::trim).collect();
        let gp: Vec<&str> = g.split(',').map(str::trim).collect();
        if pp.len() == gp.len() {
            for (a, b) in pp.iter().zip(&gp) {
                if !math_equal_nested(a, b, m, nesting + 1)? {
                    return Ok(false);
                }
            }
            return Ok(true);
        }
    }
    if let (Some(rest), true) = (
        p.strip_prefix("Point"),
        g.starts_with('(') && g.ends_with(')'),
    ) {
        if let Some(k) = rest.find('(') {
            // Python's `[k + 1 : -1]` drops the last character, whatever its UTF-8 length.
            let last = rest.char_indices().next_back().map_or(0, |(j, _)| j);
            let inner = rest.get(k + 1..last).unwrap_or("");
            let pp: Vec<&str> = inner.split(',').collect();
            let gp: Vec<&str> = g[1..g.len() - 1].split(',').collect();
            if pp.len() == gp.len() {
                let mut all = true;
                for (a, b) in pp.iter().zip(&gp) {
                    if !math_equal_nested(a, b, m, nesting + 1)? {
                        all = false;
                        break;
                    }
                }
                if all {
                    return Ok(true);
                }
            }
        }
    }
    symbolic_equal(&p, &g, m)
}

/// Python's `math.isclose(a, b, rel_tol)` with `abs_tol = 0`.
fn isclose(a: f64, b: f64, rel: f64) -> bool {
    if a == b {
        return true;
    }
    if a.is_infinite() || b.is_infinite() {
        return false;
    }
    (a - b).abs() <= rel * a.abs().max(b.abs())
}

fn is_digit(s: &str) -> Option<f64> {
    if s.contains("{,}") {
        py_float(&s.replace("{,}", ""))
    } else {
        py_float(&s.replace(',', ""))
    }
}

fn format_intervals(p: &str) -> String {
    for (key, open, close) in [
        ("Interval.Ropen(", '[', ')'),
        ("Interval.Lopen(", '(', ']'),
        ("Interval.open(", '(', ')'),
        ("Interval(", '[', ']'),
    ] {
        if let Some(inner) = p.strip_prefix(key).and_then(|r| r.strip_suffix(')')) {
            return format!("{open}{inner}{close}");
        }
    }
    p.to_string()
}

/// `parse_expr` first, then `parse_latex`; `None` when both fail (sympy keeps the string).
fn sym_parse(s: &str, m: &Meter) -> Result<Option<Expr>, Limit> {
    if let Ok(e) = parse(s, PYTHON, m.budget.max_depth) {
        // Python's `^` is XOR and only works on integers; otherwise parse_expr raises.
        let mut ok = true;
        let mut err = None;
        e.walk(&mut |x| {
            if let Expr::Xor(a, b) = x {
                for side in [a, b] {
                    match exact(side, m) {
                        Ok(Some(v)) if v.is_integer() => {}
                        Ok(_) => ok = false,
                        Err(l) => err = Some(l),
                    }
                }
            }
        });
        if let Some(l) = err {
            return Err(l);
        }
        if ok {
            return Ok(Some(e));
        }
    }
    let s = s.trim_end_matches('.');
    match parse(s, LATEX, m.budget.max_depth) {
        Ok(e) => Ok(Some(e)),
        Err(crate::parse::ParseError::Limit(l)) => Err(l),
        Err(_) => Ok(None),
    }
}

fn symbolic_equal(p: &str, g: &str, m: &Meter) -> Result<bool, Limit> {
    let (Some(a), Some(b)) = (sym_parse(p, m)?, sym_parse(g, m)?) else {
        return Ok(false);
    };
    if !a.is_scalar() || !b.is_scalar() {
        return Ok(a == b);
    }
    let ea = exact(&a, m).ok().flatten();
    let eb = exact(&b, m).ok().flatten();
    if let (Some(x), Some(y)) = (&ea, &eb) {
        if x == y {
            return Ok(true);
        }
    }
    let vars = union_vars(&a, &b);
    if vars.is_empty() {
        let ctx = NumCtx { env: &[] };
        let (x, y) = (num(&a, &ctx, m, false)?, num(&b, &ctx, m, false)?);
        let finite = x.is_finite() && y.is_finite();
        return Ok(finite
            && (x.im == 0.0 && y.im == 0.0 && isclose(x.re, y.re, 1e-4) || close(x, y, 1e-12)));
    }
    // simplify(a - b) == 0 is exact; sampling at fixed points with a tight tolerance stands in.
    let mut valid = 0;
    for k in 0..POINTS {
        let env: Vec<_> = vars.iter().map(|v| (v.clone(), sample(v, k))).collect();
        let ctx = NumCtx { env: &env };
        let (x, y) = (num(&a, &ctx, m, false)?, num(&b, &ctx, m, false)?);
        if x.is_finite() && y.is_finite() {
            if !close(x, y, 1e-9) {
                return Ok(false);
            }
            valid += 1;
        }
    }
    Ok(valid >= 2)
}
