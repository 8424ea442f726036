//! LaTeX / plain-text answer → tokens. Presentation-only commands are dropped here so the
//! parser sees mathematics only.

/// Parsing flavour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Dialect {
    /// Tally reading: `\pi`, `e`, `i` are constants, unit words and `\text{}` units are dropped.
    pub tally: bool,
    /// Python/sympy `parse_expr` reading (seed policy): explicit `*`, `**` power, `^` XOR,
    /// multi-letter names are one symbol.
    pub python: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Tok {
    /// Number as written, thousands separators removed.
    Num(String),
    /// A name: one letter (LaTeX) or an identifier (Python), Greek letters, primes.
    Name(String),
    /// A function name (`sin`, `log`, `sqrt` written as text).
    Func(String),
    /// A backslash command that the parser handles (`frac`, `sqrt`, `binom`, `pi`, …).
    Cmd(String),
    /// Single-character operator or bracket.
    Sym(char),
    /// `**` in Python mode.
    StarStar,
    LSet,
    RSet,
    RowSep,
    PlusMinus,
    Degree,
    Ellipsis,
    Begin(String),
    End(String),
    Text(String),
    Rel(&'static str),
}

pub(crate) const FUNCS: &[&str] = &[
    "sin", "cos", "tan", "cot", "sec", "csc", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh",
    "log", "ln", "exp", "sqrt", "lg", "max", "min", "gcd", "lcm", "det", "abs", "floor", "ceil",
    "asin", "acos", "atan",
];

/// Commands recognised after a doubled backslash (`\\\\le`).
const DOUBLED_OK: &[&str] = &[
    "le", "leq", "ge", "geq", "frac", "dfrac", "tfrac", "sqrt", "pi", "cdot", "times", "infty",
    "text", "boxed", "neq", "ne", "pm", "in", "cup", "left", "right", "begin", "end", "sum",
    "prod", "mathrm", "quad", "qquad", "dfrac", "approx",
];

const UNITS: &[&str] = &[
    "cm",
    "mm",
    "km",
    "m",
    "meter",
    "meters",
    "metre",
    "metres",
    "centimeters",
    "inch",
    "inches",
    "foot",
    "feet",
    "ft",
    "yard",
    "yards",
    "mile",
    "miles",
    "mph",
    "unit",
    "units",
    "dollar",
    "dollars",
    "cent",
    "cents",
    "degree",
    "degrees",
    "hour",
    "hours",
    "hr",
    "minute",
    "minutes",
    "min",
    "second",
    "seconds",
    "sec",
    "day",
    "days",
    "week",
    "weeks",
    "month",
    "months",
    "year",
    "years",
    "kg",
    "g",
    "gram",
    "grams",
    "pound",
    "pounds",
    "lb",
    "lbs",
    "sq",
    "square",
    "cubic",
    "ways",
    "way",
    "people",
    "students",
    "yuan",
    "percent",
    "pct",
    "percentage",
    "liters",
    "liter",
    "l",
    "ml",
    "s",
    "h",
    "times",
    "points",
    "point",
    "items",
    "apples",
    "marbles",
    "boxes",
    "books",
    "cookies",
    "pages",
    "coins",
    "tickets",
    "balls",
    "area",
    "and",
    "or",
    "units^2",
    // Physics and astronomy (Minerva, OlympiadBench) written plainly after a number.
    "pc",
    "kpc",
    "mpc",
    "au",
    "ly",
    "ev",
    "kev",
    "mev",
    "gev",
    "hz",
    "khz",
    "ghz",
    "kj",
    "kw",
    "kpa",
    "atm",
    "mol",
    "cal",
    "kcal",
    "yr",
    "yrs",
];

/// Words that read as units only when they follow a quantity.
pub(crate) fn is_unit(w: &str) -> bool {
    UNITS.contains(&w.to_ascii_lowercase().as_str())
}

/// How deep `\mathrm{\mathrm{…}}` wrappers may nest: each level is a recursion of the lexer,
/// so the limit keeps a hostile answer from exhausting the stack (the parser's own depth
/// budget is 64 as well).
const MAX_NESTING: usize = 64;

pub(crate) fn lex(input: &str, d: Dialect) -> Option<Vec<Tok>> {
    lex_nested(input, d, 0)
}

fn lex_nested(input: &str, d: Dialect, nesting: usize) -> Option<Vec<Tok>> {
    if nesting > MAX_NESTING {
        return None;
    }
    let s: Vec<char> = input.chars().collect();
    let mut out: Vec<Tok> = Vec::new();
    let mut i = 0;
    // After `\frac` / `\binom`, digits are single-character arguments (`\frac12` = 1/2).
    let mut digit_args = 0u8;
    while i < s.len() {
        let c = s[i];
        if c.is_whitespace() || c == '~' || c == '$' {
            i += 1;
            continue;
        }
        if c.is_ascii_digit() || (c == '.' && s.get(i + 1).is_some_and(|x| x.is_ascii_digit())) {
            if digit_args > 0 && c.is_ascii_digit() {
                out.push(Tok::Num(c.to_string()));
                digit_args -= 1;
                i += 1;
                continue;
            }
            let (num, next) = lex_number(&s, i, d);
            out.push(Tok::Num(num));
            i = next;
            digit_args = 0;
            continue;
        }
        digit_args = 0;
        if c.is_alphabetic() {
            let start = i;
            while i < s.len()
                && (s[i].is_alphabetic() || (d.python && (s[i].is_ascii_digit() || s[i] == '_')))
            {
                i += 1;
            }
            let w: String = s[start..i].iter().collect();
            let before = out.len();
            let after_quantity = matches!(
                out.last(),
                Some(Tok::Num(_) | Tok::Sym(')') | Tok::Sym('}'))
            );
            if d.tally
                && after_quantity
                && matches!(
                    w.to_ascii_lowercase().as_str(),
                    "percent" | "pct" | "percentage"
                )
            {
                out.push(Tok::Sym('%'));
                continue;
            }
            // `9.8 m/s^2`: a one-letter unit is a unit only with a `/unit` after it (`3m` is
            // a product).
            if d.tally && after_quantity && w.len() == 1 && is_unit(&w) {
                let t = unit_tail(&s, i);
                if s[i..t].contains(&'/') {
                    i = t;
                    continue;
                }
            }
            push_word(&mut out, &w, d);
            if d.tally && after_quantity && out.len() == before && is_unit(&w) {
                // `80 km/h`, `9.8 m/s^2`: the rest of a compound unit goes with its first part.
                i = unit_tail(&s, i);
            }
            if d.tally && matches!(out.last(), Some(Tok::Text(_))) && out.len() > before {
                // `Perimeter: 20`: the colon ends a label, it is not a ratio.
                let mut j = i;
                while s.get(j) == Some(&' ') {
                    j += 1;
                }
                if s.get(j) == Some(&':') {
                    i = j + 1;
                }
            }
            if d.tally && out.len() == before && s.get(i) == Some(&'^') {
                // A dropped unit takes its exponent with it: `10 cm^2`.
                i += 1;
                if s.get(i) == Some(&'{') {
                    while i < s.len() && s[i] != '}' {
                        i += 1;
                    }
                    i += 1;
                } else {
                    i += 1;
                }
            }
            continue;
        }
        if d.python && matches!(c, '\\' | '{' | '}' | '[' | ']') {
            // Not Python syntax: parse_expr fails and the seed falls back to parse_latex.
            return None;
        }
        if c == '\\' {
            let start = i + 1;
            let mut j = start;
            while j < s.len() && s[j].is_ascii_alphabetic() {
                j += 1;
            }
            if j == start {
                // One-character command.
                let n = s.get(start).copied().unwrap_or(' ');
                i = start + 1;
                match n {
                    '{' => out.push(Tok::LSet),
                    '}' => out.push(Tok::RSet),
                    '\\' => {
                        // `\\le` written by a double-escaping test or model means `\le`.
                        let mut j = i;
                        while j < s.len() && s[j].is_ascii_alphabetic() {
                            j += 1;
                        }
                        let name: String = s[i..j].iter().collect();
                        if j > i && DOUBLED_OK.contains(&name.as_str()) {
                            i = lex_command(&mut out, &name, &s, j, d, nesting)?;
                            if matches!(name.as_str(), "frac" | "dfrac" | "tfrac") {
                                digit_args = 2;
                            }
                        } else {
                            out.push(Tok::RowSep);
                        }
                    }
                    '%' => out.push(Tok::Sym('%')),
                    ',' | ';' | ':' | '!' | ' ' | '$' | '>' | '\n' => {}
                    '|' => out.push(Tok::Sym('|')),
                    _ => return None,
                }
                continue;
            }
            let name: String = s[start..j].iter().collect();
            i = j;
            i = lex_command(&mut out, &name, &s, i, d, nesting)?;
            if matches!(
                name.as_str(),
                "frac" | "dfrac" | "tfrac" | "cfrac" | "binom" | "dbinom" | "tbinom"
            ) {
                digit_args = 2;
            }
            continue;
        }
        i += 1;
        match c {
            '*' if d.python && s.get(i) == Some(&'*') => {
                i += 1;
                out.push(Tok::StarStar);
            }
            '<' | '>' | '!' if s.get(i) == Some(&'=') => {
                i += 1;
                out.push(Tok::Rel(match c {
                    '<' => "<=",
                    '>' => ">=",
                    _ => "!=",
                }));
            }
            '=' if s.get(i) == Some(&'=') => i += 1,
            '=' => out.push(Tok::Rel("=")),
            '<' => out.push(Tok::Rel("<")),
            '>' => out.push(Tok::Rel(">")),
            '≤' => out.push(Tok::Rel("<=")),
            '≥' => out.push(Tok::Rel(">=")),
            '≠' => out.push(Tok::Rel("!=")),
            '≈' => out.push(Tok::Rel("~")),
            '±' => out.push(Tok::PlusMinus),
            '°' => out.push(Tok::Degree),
            'π' => out.push(Tok::Cmd("pi".into())),
            '∞' => out.push(Tok::Cmd("infty".into())),
            '√' => out.push(Tok::Cmd("sqrt".into())),
            '×' | '·' => out.push(Tok::Sym('*')),
            '÷' => out.push(Tok::Sym('/')),
            '−' => out.push(Tok::Sym('-')),
            '\'' => {
                // A prime belongs to the preceding name (`f'`, `E'`).
                match out.last_mut() {
                    Some(Tok::Name(n)) => n.push('\''),
                    _ => return None,
                }
            }
            '.' if s.get(i) == Some(&'.') && s.get(i + 1) == Some(&'.') => {
                i += 2;
                out.push(Tok::Ellipsis);
            }
            '…' => out.push(Tok::Ellipsis),
            '+' | '-' | '*' | '/' | '^' | '_' | '(' | ')' | '[' | ']' | '{' | '}' | ',' | ';'
            | '|' | '!' | '%' | '&' | ':' | '.' => out.push(Tok::Sym(c)),
            _ => return None,
        }
    }
    Some(out)
}

fn push_word(out: &mut Vec<Tok>, w: &str, d: Dialect) {
    if d.python {
        match w {
            "pi" => out.push(Tok::Cmd("pi".into())),
            "E" => out.push(Tok::Cmd("e".into())),
            "I" => out.push(Tok::Cmd("i".into())),
            "oo" => out.push(Tok::Cmd("infty".into())),
            _ if FUNCS.contains(&w) => out.push(Tok::Func(w.into())),
            _ => out.push(Tok::Name(w.into())),
        }
        return;
    }
    let lw = w.to_ascii_lowercase();
    if FUNCS.contains(&lw.as_str()) && w.len() > 1 {
        out.push(Tok::Func(lw));
        return;
    }
    if d.tally && w.len() > 1 {
        if lw == "or" || lw == "and" {
            out.push(Tok::Sym(','));
            return;
        }
        if lw == "pi" {
            out.push(Tok::Cmd("pi".into()));
            return;
        }
        if lw == "infinity" || lw == "inf" {
            out.push(Tok::Cmd("infty".into()));
            return;
        }
        let after_quantity = matches!(
            out.last(),
            Some(Tok::Num(_) | Tok::Sym(')') | Tok::Sym('}'))
        );
        if after_quantity && is_unit(w) {
            return;
        }
        if w.chars().count() >= 4 {
            out.push(Tok::Text(lw));
            return;
        }
    }
    for ch in w.chars() {
        out.push(Tok::Name(ch.to_string()));
    }
}

/// Reads a number starting at `i`; returns the digits (separators removed) and the next index.
fn lex_number(s: &[char], mut i: usize, d: Dialect) -> (String, usize) {
    let mut num = String::new();
    let digits = |s: &[char], i: usize| {
        s.get(i..)
            .map_or(0, |t| t.iter().take_while(|c| c.is_ascii_digit()).count())
    };
    let first = digits(s, i);
    num.extend(&s[i..i + first]);
    i += first;
    if d.tally {
        // Thousands separators: `1,000`, `1{,}000`, `56,\!01` and `1 000 000`.
        loop {
            let n = digits(s, i + 1);
            if s.get(i) == Some(&',') && n == 3 && first <= 3 && !matches!(s.get(i + 4), Some('.'))
            {
                num.extend(&s[i + 1..i + 4]);
                i += 4;
                continue;
            }
            if s.get(i) == Some(&',') && s.get(i + 1) == Some(&'\\') && s.get(i + 2) == Some(&'!') {
                let n = digits(s, i + 3);
                if n > 0 {
                    num.extend(&s[i + 3..i + 3 + n]);
                    i += 3 + n;
                    continue;
                }
            }
            if s.get(i) == Some(&'{') && s.get(i + 1) == Some(&',') && s.get(i + 2) == Some(&'}') {
                let mut j = i + 3;
                while s.get(j) == Some(&' ') {
                    j += 1;
                }
                let n = digits(s, j);
                if n > 0 {
                    num.extend(&s[j..j + n]);
                    i = j + n;
                    continue;
                }
            }
            if s.get(i) == Some(&' ') && n == 3 && first <= 3 {
                let after = s.get(i + 4).copied();
                if !matches!(after, Some('/') | Some('.'))
                    && !after.is_some_and(|c| c.is_ascii_digit())
                {
                    num.extend(&s[i + 1..i + 4]);
                    i += 4;
                    continue;
                }
            }
            break;
        }
    }
    if s.get(i) == Some(&'.') && s.get(i + 1).is_some_and(|c| c.is_ascii_digit()) {
        num.push('.');
        let n = digits(s, i + 1);
        num.extend(&s[i + 1..i + 1 + n]);
        i += 1 + n;
    }
    // Scientific notation: `1e5`, `1.5E-3`, but `2e` alone is 2·e.
    if matches!(s.get(i), Some('e') | Some('E')) {
        let mut j = i + 1;
        if matches!(s.get(j), Some('+') | Some('-')) {
            j += 1;
        }
        let n = digits(s, j);
        if n > 0 {
            num.push('e');
            num.extend(&s[i + 1..j + n]);
            i = j + n;
        }
    }
    (num, i)
}

/// Words that make a `\text{}` after a number a label or a clause, not a unit
/// (`9 \text{ and the smallest is } 2`, `0 \text{ for all } x`).
fn is_label_text(lt: &str) -> bool {
    lt.split(|c: char| !c.is_alphanumeric()).any(|w| {
        matches!(
            w,
            "is" | "are" | "was" | "and" | "or" | "the" | "of" | "for" | "where" | "when" | "if"
        )
    })
}

/// `3 and 5`, `2, 4, or 6`, `-1 or 1`: numbers (two or more) joined only by commas, `and`, `or`.
/// Returns them as a comma list.
fn numbers_joined(lt: &str) -> Option<String> {
    let mut numbers = Vec::new();
    for w in lt.split([' ', ',']).filter(|w| !w.is_empty()) {
        if w == "and" || w == "or" {
            continue;
        }
        let digits = w.strip_prefix('-').unwrap_or(w);
        if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit() || c == '.') {
            return None;
        }
        numbers.push(w);
    }
    (numbers.len() >= 2).then(|| numbers.join(", "))
}

/// `6 ways`, `12.5 cm`: the number at the start of a text whose rest is only words that are
/// neither a clause (`6 and 7`, `3 is prime`) nor a property (`5 odd`).
fn number_then_words(t: &str) -> Option<&str> {
    let (num, rest) = t.split_once(' ')?;
    let rest = rest.trim();
    let is_num = num.chars().next().is_some_and(|c| c.is_ascii_digit())
        && num
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == ',');
    let words = !rest.is_empty()
        && rest
            .chars()
            .all(|c| c.is_alphabetic() || c == ' ' || c == '-');
    let lt = rest.to_ascii_lowercase();
    (is_num && words && !is_label_text(&lt) && !is_property_text(&lt)).then_some(num)
}

/// Words that say what kind of number a name is (`n \text{ odd}`, `p \text{ prime}`): a property,
/// never a unit, so the words stay and `n \text{ odd}` is not `n \text{ even}`.
pub(crate) fn is_property_text(lt: &str) -> bool {
    lt.split(|c: char| !c.is_alphanumeric() && c != '-')
        .any(|w| {
            matches!(
                w,
                "odd"
                    | "even"
                    | "prime"
                    | "primes"
                    | "composite"
                    | "positive"
                    | "negative"
                    | "nonnegative"
                    | "non-negative"
                    | "nonpositive"
                    | "non-positive"
                    | "nonzero"
                    | "non-zero"
                    | "integer"
                    | "integers"
                    | "rational"
                    | "irrational"
                    | "real"
                    | "natural"
                    | "divisible"
                    | "square"
                    | "squarefree"
            )
        })
}

/// The body of `\mathrm{…}` reads as a unit: `m/s^2`, `kg`, `km/h`, `N`, `\mu m`; not `e`,
/// `i`, `d` (constants and differentials), and not a digit group.
fn is_unit_group(inner: &str) -> bool {
    let t = inner.trim();
    if !t.chars().any(|c| c.is_alphabetic()) || matches!(t, "e" | "i" | "d") {
        return false;
    }
    t.chars().all(|c| {
        c.is_alphabetic()
            || c.is_ascii_digit()
            || matches!(
                c,
                '/' | '^' | '{' | '}' | ' ' | '\\' | '-' | '.' | '·' | '*' | '~'
            )
    })
}

/// Skips the rest of a compound unit after a dropped one: `\mathrm{~km} / \mathrm{s}`,
/// `\mathrm{erg} \cdot \mathrm{s}^{-1}`.
fn more_units(s: &[char], mut i: usize) -> usize {
    loop {
        let mut j = i;
        while s.get(j) == Some(&' ') {
            j += 1;
        }
        let rest: String = s[j..s.len().min(j + 8)].iter().collect();
        j += if rest.starts_with('/') {
            1
        } else if rest.starts_with("\\cdot") {
            5
        } else {
            return i;
        };
        while s.get(j) == Some(&' ') {
            j += 1;
        }
        let cmd: String = s[j..s.len().min(j + 7)].iter().collect();
        if cmd != "\\mathrm" {
            return i;
        }
        match read_group(s, j + 7) {
            Some((inner, k)) if is_unit_group(&inner) => i = skip_exponent(s, k),
            _ => return i,
        }
    }
}

/// After a plain unit word that was dropped: its exponent and any `/unit` parts
/// (`km/h`, `m/s^2`, `kg/m^3`), where the part after the slash is a unit or a one-letter
/// time unit (`h`, `s`).
fn unit_tail(s: &[char], i: usize) -> usize {
    let mut i = skip_exponent(s, i);
    loop {
        let mut j = i;
        while s.get(j) == Some(&' ') {
            j += 1;
        }
        if s.get(j) != Some(&'/') {
            return i;
        }
        j += 1;
        while s.get(j) == Some(&' ') {
            j += 1;
        }
        let start = j;
        while s.get(j).is_some_and(|c| c.is_ascii_alphabetic()) {
            j += 1;
        }
        let w: String = s[start..j].iter().collect();
        if !(is_unit(&w) || matches!(w.as_str(), "h" | "s")) {
            return i;
        }
        i = skip_exponent(s, j);
    }
}

/// Where a unit written with a Greek letter ends: `\Omega` when nothing follows it, `\mu` when a
/// unit follows it (`\mathrm{m}`, `m`, `s`, `g`, …).
fn unit_after_quantity(name: &str, s: &[char], i: usize) -> Option<usize> {
    let mut j = i;
    while s.get(j) == Some(&' ') {
        j += 1;
    }
    if name == "Omega" {
        return (j == s.len()).then_some(j);
    }
    let rest: String = s[j..].iter().take(8).collect();
    if rest.starts_with("\\mathrm{") {
        let (inner, k) = read_group(s, j + 7)?;
        return is_unit_group(&inner).then_some(k);
    }
    let k = j + s[j..]
        .iter()
        .take_while(|c| c.is_ascii_alphabetic())
        .count();
    let w: String = s[j..k].iter().collect();
    let end = s.get(k).is_none_or(|c| !c.is_alphanumeric());
    (end && matches!(
        w.as_str(),
        "m" | "s" | "g" | "A" | "F" | "L" | "V" | "W" | "J" | "mol"
    ))
    .then_some(k)
}

/// Skips a `^2` / `^{-2}` right after a dropped unit.
fn skip_exponent(s: &[char], mut i: usize) -> usize {
    if s.get(i) == Some(&'^') {
        i += 1;
        if let Some((_, j)) = read_group(s, i) {
            i = j;
        } else if s.get(i).is_some_and(|c| c.is_ascii_digit()) {
            i += 1;
        }
    }
    i
}

fn read_group(s: &[char], i: usize) -> Option<(String, usize)> {
    let mut j = i;
    while j < s.len() && s[j] == ' ' {
        j += 1;
    }
    if s.get(j) != Some(&'{') {
        return None;
    }
    let mut depth = 0;
    for (k, &c) in s.iter().enumerate().skip(j) {
        if c == '{' {
            depth += 1;
        } else if c == '}' {
            depth -= 1;
            if depth == 0 {
                return Some((s[j + 1..k].iter().collect(), k + 1));
            }
        }
    }
    None
}

const GREEK: &[&str] = &[
    "alpha",
    "beta",
    "gamma",
    "delta",
    "epsilon",
    "varepsilon",
    "zeta",
    "eta",
    "theta",
    "vartheta",
    "iota",
    "kappa",
    "lambda",
    "mu",
    "nu",
    "xi",
    "rho",
    "sigma",
    "tau",
    "upsilon",
    "phi",
    "varphi",
    "chi",
    "psi",
    "omega",
    "Gamma",
    "Delta",
    "Theta",
    "Lambda",
    "Xi",
    "Sigma",
    "Phi",
    "Psi",
    "Omega",
    "angle",
    "triangle",
    "ell",
];

/// Handles `\name` at `i` (just after the name); returns the next index.
fn lex_command(
    out: &mut Vec<Tok>,
    name: &str,
    s: &[char],
    mut i: usize,
    d: Dialect,
    nesting: usize,
) -> Option<usize> {
    match name {
        "left" | "right" | "bigl" | "bigr" | "Bigl" | "Bigr" | "big" | "Big" | "bigg" | "Bigg"
        | "middle" => {
            if s.get(i) == Some(&'.') {
                i += 1;
            }
        }
        "quad" | "qquad" | "displaystyle" | "textstyle" | "limits" | "nolimits" | "mathstrut"
        | "hfill" | "space" | "medskip" | "noindent" | "hspace" | "vspace" => {
            if matches!(name, "hspace" | "vspace") {
                i = read_group(s, i)?.1;
            }
        }
        // `\langle 1, 2 \rangle`: a vector is a tuple.
        "langle" if d.tally => out.push(Tok::Sym('(')),
        "rangle" if d.tally => out.push(Tok::Sym(')')),
        "dfrac" | "tfrac" | "cfrac" | "frac" => out.push(Tok::Cmd("frac".into())),
        "dbinom" | "tbinom" | "binom" => out.push(Tok::Cmd("binom".into())),
        "sqrt" => out.push(Tok::Cmd("sqrt".into())),
        "cdot" | "times" | "ast" => out.push(Tok::Sym('*')),
        "div" => out.push(Tok::Sym('/')),
        "pm" | "mp" => out.push(Tok::PlusMinus),
        // `\lfloor 3.7 \rfloor`: the brackets are the function.
        "lfloor" | "lceil" if d.tally => {
            out.push(Tok::Func(
                if name == "lfloor" { "floor" } else { "ceil" }.into(),
            ));
            out.push(Tok::Sym('('));
        }
        "rfloor" | "rceil" if d.tally => out.push(Tok::Sym(')')),
        "le" | "leq" | "leqslant" => out.push(Tok::Rel("<=")),
        "ge" | "geq" | "geqslant" => out.push(Tok::Rel(">=")),
        "lt" => out.push(Tok::Rel("<")),
        "gt" => out.push(Tok::Rel(">")),
        "ne" | "neq" => out.push(Tok::Rel("!=")),
        "approx" | "simeq" | "sim" | "cong" => out.push(Tok::Rel("~")),
        "equiv" => out.push(Tok::Rel("=")),
        "in" => out.push(Tok::Rel("in")),
        "cup" => out.push(Tok::Cmd("cup".into())),
        "cap" => out.push(Tok::Cmd("cap".into())),
        "circ" | "degree" => out.push(Tok::Degree),
        "infty" | "infin" => out.push(Tok::Cmd("infty".into())),
        "pi" => out.push(if d.tally {
            Tok::Cmd("pi".into())
        } else {
            Tok::Name("pi".into())
        }),
        "ldots" | "cdots" | "dots" | "dotsc" | "dotsb" => out.push(Tok::Ellipsis),
        "colon" => out.push(Tok::Sym(':')),
        "%" => out.push(Tok::Sym('%')),
        "begin" | "end" => {
            let (env, mut j) = read_group(s, i)?;
            if name == "begin" {
                if env == "array" || env == "tabular" {
                    j = read_group(s, j)?.1;
                }
                out.push(Tok::Begin(env));
            } else {
                out.push(Tok::End(env));
            }
            i = j;
        }
        "text" | "textnormal" | "mbox" | "textrm" | "textit" | "textbf" | "texttt" | "hbox"
        | "textsf" => {
            let (inner, j) = read_group(s, i)?;
            i = j;
            let t = inner.trim();
            let lt = t.to_ascii_lowercase();
            if t.is_empty() {
            } else if lt == "or" || lt == "and" || lt == "," {
                out.push(Tok::Sym(','));
            } else if d.tally && FUNCS.contains(&lt.as_str()) {
                // `\text{cos}` is the function written upright.
                out.push(Tok::Func(lt));
            } else if d.tally
                && ["and ", "or ", ", "]
                    .iter()
                    .any(|p| lt.starts_with(p) && lt.len() > p.len())
            {
                // `9 \text{ and the smallest is } 2`: a separator, then a label.
                let rest = lt.split_once(' ').map_or("", |x| x.1).trim();
                out.push(Tok::Sym(','));
                out.push(Tok::Text(rest.to_string()));
            } else if !d.tally {
                out.push(Tok::Text(t.to_string()));
            } else if matches!(
                out.last(),
                Some(
                    Tok::Num(_)
                        | Tok::Sym(')')
                        | Tok::Sym('}')
                        | Tok::Name(_)
                        | Tok::Degree
                        | Tok::Sym('%')
                )
            ) && t
                .chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '(' || c == '/')
                && !is_label_text(&lt)
                && !is_property_text(&lt)
            {
                // A unit after a quantity: `10\text{ cm}`, `5 \text{ways}`. Dropped, with a
                // trailing `^2` if any.
                if s.get(i) == Some(&'^') {
                    i += 1;
                    if let Some((_, j)) = read_group(s, i) {
                        i = j;
                    } else if s.get(i).is_some_and(|c| c.is_ascii_digit()) {
                        i += 1;
                    }
                }
            } else if let Some(num) = d.tally.then(|| number_then_words(t)).flatten() {
                // `\text{6 ways}`: a number with its unit inside the text.
                out.extend(lex_nested(num, d, nesting + 1)?);
            } else if t
                .chars()
                .all(|c| c.is_ascii_digit() || c == '.' || c == ',')
                || t.len() == 1
            {
                out.extend(lex_nested(t, d, nesting + 1)?);
            } else if let Some(list) = d.tally.then(|| numbers_joined(&lt)).flatten() {
                // `\text{3 and 5}`, `\text{2, 4, or 6}`: numbers listed in words.
                out.extend(lex_nested(&list, d, nesting + 1)?);
            } else if t.starts_with('(') && t.ends_with(')') && t.len() == 3 {
                out.push(Tok::Name(t[1..2].to_string()));
            } else {
                out.push(Tok::Text(lt));
            }
        }
        "mathrm" | "mathbf" | "mathit" | "operatorname" | "boldsymbol" | "mathsf" | "bm"
        | "mathbb" | "mathcal" | "overline" | "vec" | "hat" | "bar" | "tilde" | "widehat"
        | "overrightarrow" | "underline" | "emph" | "mathscr" | "mathfrak" | "pmb" => {
            if d.tally || matches!(name, "mathrm" | "mathbf" | "operatorname") {
                // `\bar z`, `\vec v`: an accent takes one letter without braces.
                let accent = matches!(name, "bar" | "vec" | "hat" | "tilde" | "overline");
                let (inner, j) = read_group(s, i).or_else(|| {
                    let j = (i..s.len()).find(|&k| s[k] != ' ')?;
                    (accent && d.tally && s[j].is_ascii_alphabetic())
                        .then(|| (s[j].to_string(), j + 1))
                })?;
                i = j;
                if d.tally
                    && name == "mathrm"
                    && matches!(
                        out.last(),
                        Some(Tok::Num(_) | Tok::Sym(')') | Tok::Sym('}') | Tok::Degree)
                    )
                    && is_unit_group(&inner)
                {
                    // An upright unit after a quantity: `9.806\ \mathrm{m/s^2}`, `5\,\mathrm{kg}`.
                    i = skip_exponent(s, i);
                    return Some(more_units(s, i));
                }
                if matches!(
                    name,
                    "overline" | "vec" | "hat" | "bar" | "overrightarrow" | "widehat" | "tilde"
                ) {
                    // `\bar z` and `\overline{z}` are one mark.
                    let name = if name == "bar" { "overline" } else { name };
                    out.push(Tok::Name(format!("\\{name}{{{inner}}}")));
                } else if name == "operatorname"
                    || (inner.len() > 1 && inner.chars().all(|c| c.is_alphabetic()))
                {
                    let lw = inner.to_ascii_lowercase();
                    if FUNCS.contains(&lw.as_str()) {
                        out.push(Tok::Func(lw));
                    } else if d.tally && inner.chars().count() >= 3 {
                        out.push(Tok::Text(lw));
                    } else {
                        out.push(Tok::Name(inner));
                    }
                } else {
                    out.extend(lex_nested(&inner, d, nesting + 1)?);
                }
            } else {
                out.push(Tok::Name(name.into()));
            }
        }
        _ if FUNCS.contains(&name) || matches!(name, "arcsec" | "arccsc" | "arccot" | "coth") => {
            out.push(Tok::Func(name.into()))
        }
        // `100\,\Omega`, `2\,\mu\mathrm{m}`: a unit after a quantity (ohms at the end of the
        // answer; the micro prefix with the unit after it), dropped like other units.
        "Omega" | "mu"
            if d.tally
                && matches!(out.last(), Some(Tok::Num(_) | Tok::Sym('}')))
                && unit_after_quantity(name, s, i).is_some() =>
        {
            i = unit_after_quantity(name, s, i)?;
        }
        _ if GREEK.contains(&name) => out.push(Tok::Name(format!("\\{name}"))),
        "e" | "i" => out.push(Tok::Cmd(name.into())),
        _ => out.push(Tok::Cmd(name.into())),
    }
    Some(i)
}
