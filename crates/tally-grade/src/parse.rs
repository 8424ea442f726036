//! Tokens → expression tree, recursive descent with a depth budget.

use crate::budget::Limit;
use crate::expr::{Const, Expr, RelOp};
use crate::lexer::{lex, Dialect, Tok};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Zero};

#[derive(Debug)]
pub(crate) enum ParseError {
    Syntax,
    Limit(Limit),
}

impl From<Limit> for ParseError {
    fn from(l: Limit) -> Self {
        ParseError::Limit(l)
    }
}

type R<T> = Result<T, ParseError>;

pub(crate) fn parse(input: &str, d: Dialect, max_depth: usize) -> R<Expr> {
    let toks = lex(input, d).ok_or(ParseError::Syntax)?;
    if toks.is_empty() {
        return Err(ParseError::Syntax);
    }
    let mut p = Parser {
        t: toks,
        i: 0,
        d,
        depth: 0,
        max_depth,
        bars: 0,
    };
    let e = p.list()?;
    // A trailing full stop or comma is punctuation, not mathematics.
    while matches!(
        p.peek(),
        Some(Tok::Sym('.')) | Some(Tok::Sym(',')) | Some(Tok::Sym(';'))
    ) {
        p.i += 1;
    }
    if p.i != p.t.len() {
        return Err(ParseError::Syntax);
    }
    Ok(e)
}

struct Parser {
    t: Vec<Tok>,
    i: usize,
    d: Dialect,
    depth: usize,
    max_depth: usize,
    /// Absolute-value bars open around the current position: inside one, a `|` closes it.
    bars: usize,
}

pub(crate) fn parse_number(s: &str) -> Option<(BigRational, u32)> {
    let (mant, exp) = match s.find(['e', 'E']) {
        Some(k) => (&s[..k], s[k + 1..].parse::<i64>().ok()?),
        None => (s, 0),
    };
    // `unsigned_abs`: `1e-9223372036854775808` parses to `i64::MIN`, whose `abs` overflows.
    if exp.unsigned_abs() > 400 {
        return None;
    }
    let (ip, fp) = match mant.find('.') {
        Some(k) => (&mant[..k], &mant[k + 1..]),
        None => (mant, ""),
    };
    let digits = format!("{ip}{fp}");
    let n: BigInt = if digits.is_empty() {
        return None;
    } else {
        digits.parse().ok()?
    };
    let scale = exp - fp.len() as i64;
    let ten = BigInt::from(10);
    let v = if scale >= 0 {
        BigRational::from_integer(n * num_traits::pow(ten, scale as usize))
    } else {
        BigRational::new(n, num_traits::pow(ten, (-scale) as usize))
    };
    let decimals = if exp == 0 { fp.len() as u32 } else { 0 };
    Some((v, decimals))
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.t.get(self.i)
    }
    fn next(&mut self) -> Option<Tok> {
        let t = self.t.get(self.i).cloned();
        self.i += 1;
        t
    }
    fn eat(&mut self, t: &Tok) -> bool {
        if self.peek() == Some(t) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn expect(&mut self, t: &Tok) -> R<()> {
        if self.eat(t) {
            Ok(())
        } else {
            Err(ParseError::Syntax)
        }
    }
    fn enter(&mut self) -> R<()> {
        self.depth += 1;
        if self.depth > self.max_depth {
            Err(ParseError::Limit(Limit::TooDeep))
        } else {
            Ok(())
        }
    }

    /// Just after a name that starts an item: `u(t) =` or `p(n, m) =` is the head of a function
    /// definition, whatever the letter (elsewhere `x(x+1)` multiplies).
    fn definition_head(&self) -> bool {
        let start = self.i < 2
            || matches!(
                self.t.get(self.i - 2),
                Some(Tok::Sym(',')) | Some(Tok::Sym(';')) | Some(Tok::Sym('('))
            );
        if !start || self.peek() != Some(&Tok::Sym('(')) {
            return false;
        }
        let mut k = self.i + 1;
        loop {
            if !matches!(self.t.get(k), Some(Tok::Name(_))) {
                return false;
            }
            k += 1;
            match self.t.get(k) {
                Some(Tok::Sym(',')) => k += 1,
                Some(Tok::Sym(')')) => break,
                _ => return false,
            }
        }
        matches!(self.t.get(k + 1), Some(Tok::Rel("=")))
    }

    /// A number token. In the Tally dialect `3.88e-10` keeps the digits it shows: it becomes
    /// `3.88 × 10^-10`, so the precision rule sees two written decimals, not an exact integer.
    fn literal(&self, n: &str) -> R<Expr> {
        let (v, d) = parse_number(n).ok_or(ParseError::Syntax)?;
        if self.d.tally {
            if let Some(k) = n.find(['e', 'E']) {
                let (m, md) = parse_number(&n[..k]).ok_or(ParseError::Syntax)?;
                let x: i64 = n[k + 1..].parse().map_err(|_| ParseError::Syntax)?;
                let exp = if x < 0 {
                    Expr::Neg(Box::new(Expr::num_int(-x)))
                } else {
                    Expr::num_int(x)
                };
                return Ok(Expr::Mul(vec![
                    Expr::Num {
                        val: m,
                        decimals: md,
                    },
                    Expr::Pow(Box::new(Expr::num_int(10)), Box::new(exp)),
                ]));
            }
        }
        Ok(Expr::Num {
            val: v,
            decimals: d,
        })
    }

    /// Comma / semicolon separated items.
    fn list(&mut self) -> R<Expr> {
        let mut items = vec![self.rel()?];
        while matches!(self.peek(), Some(Tok::Sym(',')) | Some(Tok::Sym(';'))) {
            let save = self.i;
            self.i += 1;
            // `1, 2, \ldots` and a trailing comma end the list, as does a comma before a cell
            // or row break (`x, & x \ge 0, \\`).
            if matches!(
                self.peek(),
                None | Some(Tok::Sym('&')) | Some(Tok::RowSep) | Some(Tok::End(_))
            ) {
                if self.peek().is_some() {
                    self.i = save + 1;
                } else {
                    self.i = save;
                }
                break;
            }
            if self.eat(&Tok::Ellipsis) {
                items.push(Expr::Var("\\ldots".into()));
                continue;
            }
            items.push(self.rel()?);
        }
        Ok(if items.len() == 1 {
            items.pop().unwrap()
        } else {
            Expr::List(items)
        })
    }

    fn rel(&mut self) -> R<Expr> {
        let mut parts = vec![self.union()?];
        let mut ops = Vec::new();
        while let Some(Tok::Rel(r)) = self.peek() {
            let op = match *r {
                "=" => RelOp::Eq,
                "!=" => RelOp::Ne,
                "<" => RelOp::Lt,
                "<=" => RelOp::Le,
                ">" => RelOp::Gt,
                ">=" => RelOp::Ge,
                "~" => RelOp::Approx,
                _ => RelOp::In,
            };
            self.i += 1;
            ops.push(op);
            parts.push(self.union()?);
        }
        Ok(if ops.is_empty() {
            parts.pop().unwrap()
        } else {
            Expr::Rel { parts, ops }
        })
    }

    fn union(&mut self) -> R<Expr> {
        let mut items = vec![self.additive()?];
        while self.eat(&Tok::Cmd("cup".into())) {
            items.push(self.additive()?);
        }
        Ok(if items.len() == 1 {
            items.pop().unwrap()
        } else {
            Expr::Union(items)
        })
    }

    fn additive(&mut self) -> R<Expr> {
        self.enter()?;
        let mut terms = Vec::new();
        let mut pm: Option<Expr> = None;
        let first = match self.peek() {
            Some(Tok::Sym('-')) => {
                self.i += 1;
                Expr::Neg(Box::new(self.term()?))
            }
            Some(Tok::Sym('+')) => {
                self.i += 1;
                self.term()?
            }
            Some(Tok::PlusMinus) => {
                self.i += 1;
                Expr::PlusMinus(Box::new(Expr::num_int(0)), Box::new(self.term()?))
            }
            _ => self.term()?,
        };
        terms.push(first);
        loop {
            match self.peek() {
                Some(Tok::Sym('+')) => {
                    self.i += 1;
                    terms.push(self.term()?);
                }
                Some(Tok::Sym('-')) => {
                    self.i += 1;
                    terms.push(Expr::Neg(Box::new(self.term()?)));
                }
                Some(Tok::PlusMinus) if pm.is_none() => {
                    self.i += 1;
                    pm = Some(self.additive_tail()?);
                    break;
                }
                _ => break,
            }
        }
        self.depth -= 1;
        let base = if terms.len() == 1 {
            terms.pop().unwrap()
        } else {
            Expr::Add(terms)
        };
        Ok(match pm {
            Some(b) => Expr::PlusMinus(Box::new(base), Box::new(b)),
            None => base,
        })
    }

    fn additive_tail(&mut self) -> R<Expr> {
        self.additive()
    }

    fn starts_factor(&self) -> bool {
        match self.peek() {
            Some(Tok::Num(_)) | Some(Tok::Name(_)) | Some(Tok::Func(_)) | Some(Tok::LSet)
            | Some(Tok::Begin(_)) => true,
            Some(Tok::Sym('(')) | Some(Tok::Sym('{')) => true,
            Some(Tok::Sym('[')) => self.bracket_groups(),
            Some(Tok::Cmd(c)) => !matches!(c.as_str(), "cup" | "cap"),
            Some(Tok::Sym('|')) => self.bar_opens_factor(),
            _ => false,
        }
    }

    /// `2|x|`, `x|x - 1|`: a bar after an operand opens an absolute value when no bar is open,
    /// another bar follows to close it, the bars pair up, and no set brace (`\{x | x > 0\}`)
    /// gives a bar another meaning.
    fn bar_opens_factor(&self) -> bool {
        if !self.d.tally || self.bars > 0 {
            return false;
        }
        let bar = |t: &&Tok| matches!(t, Tok::Sym('|'));
        let ahead = self.t[self.i..].iter().filter(bar).count();
        ahead >= 2
            && self.t.iter().filter(bar).count() % 2 == 0
            && !self.t.iter().any(|t| matches!(t, Tok::LSet | Tok::RSet))
    }

    /// `\frac{1}{2}[(a-b)^2 + (b-c)^2]`: square brackets after an operand group a sum (no
    /// comma inside, closed by `]`), they do not open an interval.
    fn bracket_groups(&self) -> bool {
        if !self.d.tally {
            return false;
        }
        let mut depth = 0i32;
        // Bounded look-ahead: many unclosed `[` must not make parsing quadratic.
        for t in self.t[self.i..].iter().take(256) {
            match t {
                Tok::Sym('(' | '[' | '{') | Tok::LSet => depth += 1,
                Tok::Sym(')' | '}') | Tok::RSet => depth -= 1,
                Tok::Sym(']') => {
                    depth -= 1;
                    if depth == 0 {
                        return true;
                    }
                }
                Tok::Sym(',') if depth == 1 => return false,
                _ => {}
            }
            if depth <= 0 {
                return false;
            }
        }
        false
    }

    fn term(&mut self) -> R<Expr> {
        self.enter()?;
        let mut acc = self.unary()?;
        loop {
            match self.peek() {
                Some(Tok::Sym('*')) => {
                    self.i += 1;
                    let r = self.unary()?;
                    acc = mul(acc, r);
                }
                Some(Tok::Sym('/')) | Some(Tok::Sym(':')) => {
                    self.i += 1;
                    let r = self.unary()?;
                    acc = Expr::Div(Box::new(acc), Box::new(r));
                }
                _ if self.starts_factor() => {
                    if self.d.python {
                        return Err(ParseError::Syntax);
                    }
                    let whole_is_literal =
                        matches!(self.t.get(self.i.wrapping_sub(1)), Some(Tok::Num(_)));
                    let r = self.power()?;
                    // `66\frac{2}{3}\%`: the sign after a mixed number's fraction is the whole
                    // number's (the fraction alone took it while parsing).
                    let (r, percent) = match r {
                        Expr::Percent(inner)
                            if self.d.tally
                                && whole_is_literal
                                && matches!(&*inner, Expr::Div(..))
                                && matches!(acc, Expr::Num { decimals: 0, .. }) =>
                        {
                            (*inner, true)
                        }
                        r => (r, false),
                    };
                    // Mixed number `7 \frac{3}{4}` / `2 3/4`: whole part + fraction.
                    if let (
                        Expr::Num {
                            val: w,
                            decimals: 0,
                        },
                        true,
                    ) = (&acc, self.d.tally && whole_is_literal)
                    {
                        if let Expr::Div(a, b) = &r {
                            if let (
                                Expr::Num {
                                    val: n,
                                    decimals: 0,
                                },
                                Expr::Num {
                                    val: m,
                                    decimals: 0,
                                },
                            ) = (&**a, &**b)
                            {
                                if w.is_integer() && !m.is_zero() && n < m {
                                    let v = w + n / m;
                                    let num = Expr::Num {
                                        val: v,
                                        decimals: 0,
                                    };
                                    acc = if percent {
                                        self.post_ops(Expr::Percent(Box::new(num)))?
                                    } else {
                                        self.post_ops(num)?
                                    };
                                    continue;
                                }
                            }
                        }
                        if let Expr::Num {
                            val: n,
                            decimals: 0,
                        } = &r
                        {
                            if matches!(self.peek(), Some(Tok::Sym('/'))) {
                                let save = self.i;
                                self.i += 1;
                                if let Some(Tok::Num(m)) = self.peek().cloned() {
                                    self.i += 1;
                                    if let Some((m, 0)) = parse_number(&m) {
                                        if !m.is_zero() && n < &m && !self.starts_factor() {
                                            acc = self.post_ops(Expr::Num {
                                                val: w + n / m,
                                                decimals: 0,
                                            })?;
                                            continue;
                                        }
                                    }
                                }
                                self.i = save;
                            }
                        }
                    }
                    // `11 6` / `11 6/6`: two number literals side by side that are not a
                    // mixed number are not a product anyone writes.
                    if self.d.tally
                        && whole_is_literal
                        && matches!(acc, Expr::Num { .. })
                        && matches!(r, Expr::Num { .. } | Expr::Div(..))
                        && matches!(self.t.get(self.i.wrapping_sub(1)), Some(Tok::Num(_)))
                        && !matches!(self.t.get(self.i.wrapping_sub(2)), Some(Tok::Cmd(_)))
                    {
                        return Err(ParseError::Syntax);
                    }
                    let r = if percent {
                        Expr::Percent(Box::new(r))
                    } else {
                        r
                    };
                    acc = mul(acc, r);
                }
                _ => break,
            }
        }
        self.depth -= 1;
        Ok(acc)
    }

    fn unary(&mut self) -> R<Expr> {
        match self.peek() {
            Some(Tok::Sym('-')) => {
                self.i += 1;
                self.enter()?;
                let e = Expr::Neg(Box::new(self.unary()?));
                self.depth -= 1;
                Ok(e)
            }
            Some(Tok::Sym('+')) => {
                // `++++…1`: a loop, not a recursion, so a long run cannot exhaust the stack.
                while self.eat(&Tok::Sym('+')) {}
                self.unary()
            }
            _ => self.power(),
        }
    }

    fn power(&mut self) -> R<Expr> {
        let base = self.postfix()?;
        if self.d.python {
            if self.eat(&Tok::StarStar) {
                self.enter()?;
                let e = self.unary()?;
                self.depth -= 1;
                return self.post_ops(Expr::Pow(Box::new(base), Box::new(e)));
            }
            if self.eat(&Tok::Sym('^')) {
                let e = self.term()?;
                return Ok(Expr::Xor(Box::new(base), Box::new(e)));
            }
            return Ok(base);
        }
        if self.eat(&Tok::Sym('^')) {
            if self.eat(&Tok::Degree) {
                return self.post_ops(Expr::Degrees(Box::new(base)));
            }
            self.enter()?;
            let e = self.script_arg(true)?;
            self.depth -= 1;
            let e = match e {
                Expr::Degrees(inner) if *inner == Expr::Var(String::new()) => {
                    return self.post_ops(Expr::Degrees(Box::new(base)));
                }
                e => e,
            };
            return self.post_ops(Expr::Pow(Box::new(base), Box::new(e)));
        }
        Ok(base)
    }

    /// `^`/`_` argument: a braced group or one token (a whole number in the Tally dialect).
    fn script_arg(&mut self, sup: bool) -> R<Expr> {
        match self.peek().cloned() {
            Some(Tok::Sym('{')) => {
                self.i += 1;
                if sup && self.eat(&Tok::Degree) {
                    self.expect(&Tok::Sym('}'))?;
                    return Ok(Expr::Degrees(Box::new(Expr::Var(String::new()))));
                }
                let e = self.list()?;
                self.expect(&Tok::Sym('}'))?;
                Ok(e)
            }
            Some(Tok::Sym('-')) => {
                self.i += 1;
                self.enter()?;
                let e = Expr::Neg(Box::new(self.script_arg(sup)?));
                self.depth -= 1;
                Ok(e)
            }
            Some(Tok::Num(n)) => {
                self.i += 1;
                self.literal(&n)
            }
            Some(Tok::Name(n)) => {
                self.i += 1;
                Ok(Expr::Var(n))
            }
            _ => self.primary(),
        }
    }

    fn post_ops(&mut self, mut e: Expr) -> R<Expr> {
        // Each `!`, `%`, `°` wraps the tree once more: counted like nesting, so `5!!!…!`
        // cannot build a tree too deep to evaluate or drop.
        let depth = self.depth;
        loop {
            let wrap: fn(Box<Expr>) -> Expr = match self.peek() {
                Some(Tok::Sym('!')) => Expr::Factorial,
                Some(Tok::Sym('%')) => Expr::Percent,
                Some(Tok::Degree) => Expr::Degrees,
                _ => break,
            };
            self.i += 1;
            if let Err(err) = self.enter() {
                self.depth = depth;
                return Err(err);
            }
            e = wrap(Box::new(e));
        }
        self.depth = depth;
        Ok(e)
    }

    fn postfix(&mut self) -> R<Expr> {
        let mut e = self.primary()?;
        // Subscripts make names (`a_1`) or number bases (`2012_3`).
        while !self.d.python && self.eat(&Tok::Sym('_')) {
            let sub = self.script_arg(false)?;
            e = match (e, sub) {
                (Expr::Var(n), s) => Expr::Var(format!("{n}_{{{}}}", key_of(&s))),
                (
                    Expr::Num { val, decimals: 0 },
                    Expr::Num {
                        val: b,
                        decimals: 0,
                    },
                ) => from_base(&val, &b).ok_or(ParseError::Syntax)?,
                _ => return Err(ParseError::Syntax),
            };
        }
        self.post_ops(e)
    }

    fn group(&mut self) -> R<Expr> {
        match self.peek() {
            Some(Tok::Sym('{')) => {
                self.i += 1;
                self.enter()?;
                let e = self.list()?;
                self.depth -= 1;
                self.expect(&Tok::Sym('}'))?;
                Ok(e)
            }
            Some(Tok::Num(n)) => {
                let n = n.clone();
                self.i += 1;
                self.literal(&n)
            }
            _ => self.postfix_nodeg(),
        }
    }

    fn postfix_nodeg(&mut self) -> R<Expr> {
        self.primary()
    }

    fn primary(&mut self) -> R<Expr> {
        self.enter()?;
        let r = self.primary_inner();
        self.depth -= 1;
        r
    }

    fn primary_inner(&mut self) -> R<Expr> {
        let tok = self.next().ok_or(ParseError::Syntax)?;
        match tok {
            Tok::Num(n) => {
                let e = self.literal(&n)?;
                // `0.333\ldots`: a decimal that goes on; the digits written are its precision.
                if self.d.tally && n.contains('.') && self.peek() == Some(&Tok::Ellipsis) {
                    self.i += 1;
                }
                Ok(e)
            }
            Tok::Name(n) => {
                // `f(x)`: a function call for the usual function letters; `x(x+1)` multiplies.
                let is_fn = n.len() == 1 && "fghFGHPQ".contains(n.as_str())
                    || (self.d.python && n.len() > 1)
                    || (self.d.tally
                        && (n == "\\Gamma" || n == "\\zeta" || self.definition_head()));
                if is_fn && self.peek() == Some(&Tok::Sym('(')) {
                    self.i += 1;
                    let args = self.list()?;
                    self.expect(&Tok::Sym(')'))?;
                    let args = match args {
                        Expr::List(v) => v,
                        e => vec![e],
                    };
                    // `\Gamma(x)`: the gamma function, named as the evaluator knows it.
                    let n = match n.as_str() {
                        "\\Gamma" => "Gamma".to_string(),
                        "\\zeta" => "zeta".to_string(),
                        _ => n,
                    };
                    return Ok(Expr::Func(n, args));
                }
                Ok(Expr::Var(n))
            }
            Tok::Text(t) => {
                let mut s = t;
                while let Some(Tok::Text(t2)) = self.peek() {
                    s.push(' ');
                    s.push_str(t2);
                    self.i += 1;
                }
                Ok(Expr::Text(s))
            }
            Tok::Func(f) => self.func(f),
            Tok::Sym('(') | Tok::Sym('[') => {
                let open = if tok == Tok::Sym('(') { '(' } else { '[' };
                let inner = self.list()?;
                let close = match self.next() {
                    Some(Tok::Sym(')')) => ')',
                    Some(Tok::Sym(']')) => ']',
                    _ => return Err(ParseError::Syntax),
                };
                match inner {
                    Expr::List(items) => Ok(Expr::Seq { open, close, items }),
                    e if (open == '(' && close == ')') || (open == '[' && close == ']') => Ok(e),
                    _ => Err(ParseError::Syntax),
                }
            }
            Tok::Sym('{') => {
                let inner = self.list()?;
                self.expect(&Tok::Sym('}'))?;
                // `{1, 3}` without `\{`: TeX grouping around a list.
                Ok(inner)
            }
            Tok::LSet => {
                if self.eat(&Tok::RSet) {
                    return Ok(Expr::Set(vec![]));
                }
                let inner = self.list()?;
                self.expect(&Tok::RSet)?;
                Ok(match inner {
                    Expr::List(items) => Expr::Set(items),
                    e => Expr::Set(vec![e]),
                })
            }
            Tok::Sym('|') => {
                self.bars += 1;
                let inner = self.additive();
                self.bars -= 1;
                let inner = inner?;
                self.expect(&Tok::Sym('|'))?;
                Ok(Expr::Func("abs".into(), vec![inner]))
            }
            Tok::Begin(env) => self.matrix(env),
            Tok::Cmd(c) => self.command(c),
            Tok::Ellipsis => Ok(Expr::Var("\\ldots".into())),
            _ => Err(ParseError::Syntax),
        }
    }

    fn command(&mut self, c: String) -> R<Expr> {
        match c.as_str() {
            "frac" => {
                let a = self.group()?;
                let b = self.group()?;
                Ok(Expr::Div(Box::new(a), Box::new(b)))
            }
            "binom" => {
                let a = self.group()?;
                let b = self.group()?;
                Ok(Expr::Func("binom".into(), vec![a, b]))
            }
            "sqrt" => {
                let idx = if self.eat(&Tok::Sym('[')) {
                    let e = self.additive()?;
                    self.expect(&Tok::Sym(']'))?;
                    e
                } else {
                    Expr::num_int(2)
                };
                let x = self.group()?;
                Ok(Expr::Root(Box::new(idx), Box::new(x)))
            }
            "pi" => Ok(Expr::Const(Const::Pi)),
            "infty" => Ok(Expr::Const(Const::Inf)),
            "e" => Ok(Expr::Const(Const::E)),
            "i" => Ok(Expr::Const(Const::I)),
            "boxed" | "fbox" if self.d.tally => self.group(),
            "sum" | "prod" if self.d.tally => {
                // `\sum_{k=0}^{n-1} body`: an opaque function of the bounds and the body,
                // named after the bound variable (so reordered bodies still compare equal).
                let mut lo = None;
                let mut hi = None;
                loop {
                    if self.eat(&Tok::Sym('_')) {
                        lo = Some(self.script_arg(false)?);
                    } else if self.eat(&Tok::Sym('^')) {
                        hi = Some(self.script_arg(true)?);
                    } else {
                        break;
                    }
                }
                let (var, lo) = match lo {
                    Some(Expr::Rel { mut parts, ops })
                        if ops == [RelOp::Eq] && parts.len() == 2 =>
                    {
                        let l = parts.pop().unwrap();
                        (key_of(&parts[0]), Some(l))
                    }
                    other => (String::new(), other),
                };
                self.enter()?;
                let mut body = self.power()?;
                while self.starts_factor() && !matches!(self.peek(), Some(Tok::Func(_))) {
                    let r = self.power()?;
                    body = mul(body, r);
                }
                self.depth -= 1;
                let mut args = vec![body];
                args.extend(lo);
                args.extend(hi);
                Ok(Expr::Func(format!("{c}[{var}]"), args))
            }
            _ => Err(ParseError::Syntax),
        }
    }

    fn func(&mut self, f: String) -> R<Expr> {
        // `\sin^2 x`, `\log_2 8`, `\sin^{-1} x`.
        let mut power = None;
        let mut base = None;
        loop {
            if self.eat(&Tok::Sym('^')) {
                power = Some(self.script_arg(true)?);
            } else if self.eat(&Tok::Sym('_')) {
                base = Some(self.script_arg(false)?);
            } else {
                break;
            }
        }
        // `\min = 3`: a function name standing alone is a label.
        if self.d.tally
            && power.is_none()
            && base.is_none()
            && matches!(
                self.peek(),
                None | Some(Tok::Rel(_)) | Some(Tok::Sym(',')) | Some(Tok::Sym(';'))
            )
        {
            return Ok(Expr::Text(f));
        }
        let arg = if self.peek() == Some(&Tok::Sym('(')) {
            self.i += 1;
            let a = self.list()?;
            self.expect(&Tok::Sym(')'))?;
            a
        } else if f == "sqrt" {
            self.group()?
        } else {
            // Unbracketed argument: the factors up to the next operator or function.
            self.enter()?;
            let mut a = self.power()?;
            while self.starts_factor() && !matches!(self.peek(), Some(Tok::Func(_))) {
                let r = self.power()?;
                a = mul(a, r);
            }
            self.depth -= 1;
            a
        };
        let mut args = match arg {
            Expr::List(v) => v,
            e => vec![e],
        };
        if f == "sqrt" {
            return Ok(Expr::Root(
                Box::new(Expr::num_int(2)),
                Box::new(args.pop().ok_or(ParseError::Syntax)?),
            ));
        }
        if let Some(b) = base {
            args.push(b);
        }
        let inverse = matches!(&power, Some(Expr::Neg(x)) if **x == Expr::num_int(1));
        let name = if inverse { format!("arc{f}") } else { f };
        let call = Expr::Func(name, args);
        Ok(match power {
            Some(p) if !inverse => Expr::Pow(Box::new(call), Box::new(p)),
            _ => call,
        })
    }

    fn matrix(&mut self, env: String) -> R<Expr> {
        let mut rows: Vec<Vec<Expr>> = vec![vec![]];
        loop {
            match self.peek() {
                Some(Tok::End(e)) if *e == env => {
                    self.i += 1;
                    break;
                }
                None => return Err(ParseError::Syntax),
                Some(Tok::RowSep) => {
                    self.i += 1;
                    // `\\\\` (a double-escaped row break) is one break.
                    if !rows.last().unwrap().is_empty() {
                        rows.push(vec![]);
                    }
                }
                Some(Tok::Sym('&')) => {
                    self.i += 1;
                }
                _ => {
                    let e = self.list()?;
                    rows.last_mut().unwrap().push(e);
                }
            }
        }
        while rows.last().is_some_and(|r| r.is_empty()) {
            rows.pop();
        }
        if rows.is_empty() {
            return Err(ParseError::Syntax);
        }
        if !env.contains("matrix") && env != "array" {
            // cases / align: the rows are a list of statements; a row of `cases` with a condition
            // (`x = 1 & a > 0`) stays one item, its value paired with its condition, so that
            // swapping the values between conditions is a different answer.
            let paired = env.contains("cases") && self.d.tally;
            return Ok(Expr::List(
                rows.into_iter()
                    .flat_map(|r| {
                        if paired && r.len() >= 2 {
                            vec![Expr::Seq {
                                open: '(',
                                close: ')',
                                items: r,
                            }]
                        } else {
                            r
                        }
                    })
                    .collect(),
            ));
        }
        Ok(Expr::Matrix(rows))
    }
}

fn mul(a: Expr, b: Expr) -> Expr {
    match a {
        Expr::Mul(mut v) => {
            v.push(b);
            Expr::Mul(v)
        }
        a => Expr::Mul(vec![a, b]),
    }
}

fn from_base(digits: &BigRational, base: &BigRational) -> Option<Expr> {
    let b: u32 = base.to_integer().try_into().ok()?;
    if !(2..=36).contains(&b) || b == 10 {
        return (b == 10).then(|| Expr::Num {
            val: digits.clone(),
            decimals: 0,
        });
    }
    let s = digits.to_integer().to_string();
    let v = BigInt::parse_bytes(s.as_bytes(), b)?;
    Some(Expr::Num {
        val: BigRational::from_integer(v),
        decimals: 0,
    })
}

/// A stable textual key for an expression, used to name subscripted variables.
pub(crate) fn key_of(e: &Expr) -> String {
    match e {
        Expr::Num { val, .. } => {
            if val.denom().is_one() {
                val.numer().to_string()
            } else {
                format!("{}/{}", val.numer(), val.denom())
            }
        }
        Expr::Var(n) => n.clone(),
        Expr::Mul(v) => v.iter().map(key_of).collect::<Vec<_>>().join(""),
        Expr::Add(v) => v.iter().map(key_of).collect::<Vec<_>>().join("+"),
        Expr::Neg(a) => format!("-{}", key_of(a)),
        other => format!("{other:?}"),
    }
}
