//! Names and labels around values: `\text{Minimum} = 3`, `\text{First set: } \{1, 2\}`,
//! `(x, y) = (2, 3)`, and function definitions whose variable is called differently
//! (`g(t) = t^2` is `g(x) = x^2`).

use crate::expr::{Expr, RelOp};

/// Replaces the variables `f` maps (the rest are kept).
pub(crate) fn map_vars(e: &Expr, f: &dyn Fn(&str) -> Option<Expr>) -> Expr {
    let v = |xs: &Vec<Expr>| xs.iter().map(|x| map_vars(x, f)).collect::<Vec<_>>();
    let b = |x: &Expr| Box::new(map_vars(x, f));
    match e {
        Expr::Var(n) => f(n).unwrap_or_else(|| e.clone()),
        Expr::Add(xs) => Expr::Add(v(xs)),
        Expr::Mul(xs) => Expr::Mul(v(xs)),
        Expr::List(xs) => Expr::List(v(xs)),
        Expr::Set(xs) => Expr::Set(v(xs)),
        Expr::Union(xs) => Expr::Union(v(xs)),
        Expr::Func(n, xs) => Expr::Func(n.clone(), v(xs)),
        Expr::Seq { open, close, items } => Expr::Seq {
            open: *open,
            close: *close,
            items: v(items),
        },
        Expr::Rel { parts, ops } => Expr::Rel {
            parts: v(parts),
            ops: ops.clone(),
        },
        Expr::Matrix(rows) => Expr::Matrix(rows.iter().map(v).collect()),
        Expr::Neg(a) => Expr::Neg(b(a)),
        Expr::Factorial(a) => Expr::Factorial(b(a)),
        Expr::Percent(a) => Expr::Percent(b(a)),
        Expr::Degrees(a) => Expr::Degrees(b(a)),
        Expr::Div(x, y) => Expr::Div(b(x), b(y)),
        Expr::Pow(x, y) => Expr::Pow(b(x), b(y)),
        Expr::Root(x, y) => Expr::Root(b(x), b(y)),
        Expr::PlusMinus(x, y) => Expr::PlusMinus(b(x), b(y)),
        Expr::Xor(x, y) => Expr::Xor(b(x), b(y)),
        other => other.clone(),
    }
}

/// `a_{n}` → (`a`, `n`): one letter indexed by one letter.
fn sequence_term(v: &str) -> Option<(&str, &str)> {
    let (head, sub) = v.split_once("_{")?;
    let index = sub.strip_suffix('}')?;
    let one_letter = |x: &str| x.len() == 1 && x.chars().all(|c| c.is_ascii_alphabetic());
    (one_letter(head) && one_letter(index)).then_some((head, index))
}

/// Placeholder names for the parameters of a function definition.
pub(crate) const PARAMS: [&str; 4] = ["#0", "#1", "#2", "#3"];

/// `g(t) = t^2` → (arity, body with its parameters renamed `#0`, `#1`, …), so that a definition
/// is the same whatever its variable is called.
pub(crate) fn definition(parts: &[Expr], ops: &[RelOp]) -> Option<(usize, Expr)> {
    if ops != [RelOp::Eq] {
        return None;
    }
    // A sequence's term `a_n = 3n + 2` defines `a` at `n`, like `a(n) = 3n + 2`.
    let subscripted;
    let (name, args) = match &parts[0] {
        Expr::Func(name, args) => (name.as_str(), args.as_slice()),
        Expr::Var(v) => {
            let (head, index) = sequence_term(v)?;
            subscripted = [Expr::Var(index.to_string())];
            (head, subscripted.as_slice())
        }
        _ => return None,
    };
    if crate::lexer::FUNCS.contains(&name) || args.is_empty() || args.len() > 4 {
        return None;
    }
    let mut names: Vec<&str> = Vec::new();
    for a in args {
        match a {
            Expr::Var(n) if !names.contains(&n.as_str()) => names.push(n),
            _ => return None,
        }
    }
    let body = map_vars(&parts[1], &|n| {
        names
            .iter()
            .position(|x| *x == n)
            .map(|k| Expr::Var(PARAMS[k].into()))
    });
    Some((names.len(), body))
}

/// A leading word label on a value is dropped: `\text{Minimum } 3` → 3, `\text{First set: }
/// \{1, 2\}` → the set. Applied through lists, sets and tuples.
pub(crate) fn strip_labels(e: Expr) -> Expr {
    match e {
        Expr::Mul(mut v)
            if v.len() >= 2
                && matches!(&v[0], Expr::Text(t) if is_label(t))
                && !v[1..].iter().any(|x| matches!(x, Expr::Text(_))) =>
        {
            v.remove(0);
            if v.len() == 1 {
                strip_labels(v.pop().unwrap())
            } else {
                Expr::Mul(v)
            }
        }
        // `\text{minimum } -1` reads as a difference: a word minus a number means the label
        // and a negative value.
        Expr::Add(mut v)
            if v.len() == 2
                && matches!(&v[0], Expr::Text(t) if is_label(t))
                && matches!(&v[1], Expr::Neg(x) if !matches!(**x, Expr::Text(_))) =>
        {
            v.pop().unwrap()
        }
        Expr::List(v) => Expr::List(v.into_iter().map(strip_labels).collect()),
        Expr::Set(v) => Expr::Set(v.into_iter().map(strip_labels).collect()),
        Expr::Rel { parts, ops } => Expr::Rel {
            parts: parts.into_iter().map(strip_labels).collect(),
            ops,
        },
        other => other,
    }
}

/// `\text{max } 3, \text{min } 7`: labelled extremes where the maximum is below the minimum
/// contradict themselves; dropping the labels would match them with the reference `3, 7`.
pub(crate) fn extremes_contradict(e: &Expr) -> bool {
    let Expr::List(items) = e else { return false };
    let kind = |t: &str| {
        let t = t.trim().trim_end_matches([':', '.']).trim().to_lowercase();
        match t.as_str() {
            "min" | "minimum" | "minimum value" | "smallest" | "the minimum" => Some(false),
            "max" | "maximum" | "maximum value" | "largest" | "the maximum" => Some(true),
            _ => None,
        }
    };
    let labelled = |x: &Expr| -> Option<(bool, f64)> {
        // `\text{max } 3` reads as the function `\max 3`.
        if let Expr::Func(n, args) = x {
            if let ([Expr::Num { val, .. }], Some(k)) = (args.as_slice(), kind(n)) {
                return Some((k, crate::numeric::rat_to_f64(val)));
            }
        }
        let (label, value) = match x {
            Expr::Mul(v) if v.len() == 2 => (&v[0], &v[1]),
            Expr::Rel { parts, ops } if ops == &[RelOp::Eq] && parts.len() == 2 => {
                (&parts[0], &parts[1])
            }
            _ => return None,
        };
        let Expr::Text(t) = label else { return None };
        let Expr::Num { val, .. } = value else {
            return None;
        };
        Some((kind(t)?, crate::numeric::rat_to_f64(val)))
    };
    let found: Vec<(bool, f64)> = items.iter().filter_map(labelled).collect();
    let lo = found
        .iter()
        .filter(|(k, _)| !k)
        .map(|(_, v)| *v)
        .fold(f64::NAN, f64::min);
    let hi = found
        .iter()
        .filter(|(k, _)| *k)
        .map(|(_, v)| *v)
        .fold(f64::NAN, f64::max);
    lo > hi
}

/// Words that change the value they stand before (`not 5`, `at least 5`, `odd n`): never a
/// label.
fn is_label(t: &str) -> bool {
    !crate::lexer::is_property_text(t)
        && !t.split(|c: char| !c.is_alphanumeric()).any(|w| {
            matches!(
                w,
                "not"
                    | "no"
                    | "never"
                    | "least"
                    | "most"
                    | "more"
                    | "less"
                    | "than"
                    | "fewer"
                    | "except"
                    | "over"
                    | "under"
                    | "above"
                    | "below"
                    | "between"
                    | "nor"
                    | "without"
            )
        })
}

/// `name = value` items: the name's key (`p(n)` and `p·n` read alike, as the parser may take
/// either).
pub(crate) fn named(e: &Expr) -> Option<String> {
    match e {
        Expr::Rel { parts, ops } if ops == &[RelOp::Eq] && parts[0].is_name_like() => {
            Some(name_key(&parts[0]))
        }
        _ => None,
    }
}

fn name_key(e: &Expr) -> String {
    match e {
        Expr::Var(n) => n.clone(),
        Expr::Text(t) => label_key(t.trim_end_matches(':').trim()),
        Expr::Func(n, args) => format!("{n}{}", args.iter().map(name_key).collect::<String>()),
        Expr::Mul(v) | Expr::Seq { items: v, .. } => v.iter().map(name_key).collect(),
        Expr::Div(a, b) => format!("{}/{}", name_key(a), name_key(b)),
        other => format!("{other:?}"),
    }
}

/// `x = y = z = 1` → `x = 1, y = 1, z = 1`: names set equal to one value.
pub(crate) fn split_chain(parts: &[Expr], ops: &[RelOp]) -> Option<Vec<Expr>> {
    let (value, names) = parts.split_last()?;
    if names.len() < 2
        || ops.iter().any(|o| *o != RelOp::Eq)
        || value.is_name_like()
        || !names.iter().all(|x| matches!(x, Expr::Var(_)))
    {
        return None;
    }
    Some(
        names
            .iter()
            .map(|n| Expr::Rel {
                parts: vec![n.clone(), value.clone()],
                ops: vec![RelOp::Eq],
            })
            .collect(),
    )
}

/// Two names that cannot label the same thing: the opposite extremes (`Minimum`, `Maximum`),
/// or two different coordinates (`x`, `y`, `z`). Other letters may be a variable
/// renamed (`n = 12` for `k = 12`).
pub(crate) fn names_contradict(a: &Expr, b: &Expr) -> bool {
    match (a, b) {
        (Expr::Text(x), Expr::Text(y)) => {
            let (kx, ky) = (
                label_key(x.trim_end_matches(':').trim()),
                label_key(y.trim_end_matches(':').trim()),
            );
            kx != ky
                && ["min", "max"].contains(&kx.as_str())
                && ["min", "max"].contains(&ky.as_str())
        }
        (Expr::Var(x), Expr::Var(y)) => {
            let coord = |v: &str| matches!(v, "x" | "y" | "z");
            x != y && coord(x) && coord(y)
        }
        _ => false,
    }
}

/// A word label's key: case and the usual synonyms set aside (`Minimum` = `min` = `smallest`).
fn label_key(t: &str) -> String {
    let t = t.to_lowercase();
    let t = t
        .strip_prefix("the ")
        .unwrap_or(&t)
        .trim_end_matches(" value")
        .trim();
    match t {
        "min" | "minimum" | "smallest" | "least" | "lowest" => "min".into(),
        "max" | "maximum" | "largest" | "greatest" | "highest" => "max".into(),
        _ => t.to_string(),
    }
}

/// `(x, y) = (2, 3)` → `x = 2, y = 3`.
pub(crate) fn split_tuple_equation(parts: &[Expr], ops: &[RelOp]) -> Option<Vec<Expr>> {
    if ops != [RelOp::Eq] {
        return None;
    }
    let (Expr::Seq { items: l, .. }, Expr::Seq { items: r, .. }) = (&parts[0], &parts[1]) else {
        return None;
    };
    if l.len() != r.len() || !l.iter().all(|x| x.is_name_like()) {
        return None;
    }
    Some(
        l.iter()
            .zip(r)
            .map(|(a, b)| Expr::Rel {
                parts: vec![a.clone(), b.clone()],
                ops: vec![RelOp::Eq],
            })
            .collect(),
    )
}

/// Where a lone `C` or `c` is added (`+ C`, `- c`): the constant of an antiderivative or a
/// family, whose case is a habit (`e^x + C` = `e^x + c`). `pred` with its constant renamed to
/// the reference's, when the two differ only in that case and neither uses the other letter.
pub(crate) fn constant_case(pred: &str, gold: &str) -> Option<String> {
    if !(pred.contains(['c', 'C']) && gold.contains(['c', 'C'])) {
        return None;
    }
    let (cp, cg) = (added_constant(pred)?, added_constant(gold)?);
    if cp == cg || standalone(pred, cg) || standalone(gold, cp) {
        return None;
    }
    let mut out = String::with_capacity(pred.len());
    let chars: Vec<char> = pred.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        out.push(if c == cp && lone(&chars, i) { cg } else { c });
    }
    Some(out)
}

fn added_constant(s: &str) -> Option<char> {
    let chars: Vec<char> = s.chars().collect();
    chars.iter().enumerate().find_map(|(i, &c)| {
        let after_sign = chars[..i]
            .iter()
            .rev()
            .find(|x| !x.is_whitespace())
            .is_some_and(|x| matches!(x, '+' | '-'));
        (matches!(c, 'C' | 'c') && lone(&chars, i) && after_sign).then_some(c)
    })
}

fn standalone(s: &str, letter: char) -> bool {
    let chars: Vec<char> = s.chars().collect();
    (0..chars.len()).any(|i| chars[i] == letter && lone(&chars, i))
}

/// The letter at `i` is a name of its own: no letter, backslash or digit touches it, and no
/// subscript, call or brace follows.
fn lone(chars: &[char], i: usize) -> bool {
    let before = i.checked_sub(1).map(|k| chars[k]);
    let after = chars.get(i + 1).copied();
    !before.is_some_and(|b| b.is_alphanumeric() || b == '\\')
        && !after.is_some_and(|a| a.is_alphanumeric() || matches!(a, '_' | '(' | '{'))
}

#[cfg(test)]
mod constant_tests {
    use super::constant_case as c;

    #[test]
    fn the_constant_of_a_family_may_change_case() {
        assert_eq!(c("e^{x} + c", "e^x + C").unwrap(), "e^{x} + C");
        assert_eq!(c("x^2 - C", "x^2 + c").unwrap(), "x^2 - c");
        // The same case, no added constant, or the other letter already used.
        assert_eq!(c("x + C", "x + C"), None);
        assert_eq!(c("x + \\cos x", "x + C"), None);
        assert_eq!(c("C x + c", "x + C"), None);
    }
}
