//! The expression tree both policies compare.

use num_rational::BigRational;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Const {
    Pi,
    E,
    I,
    Inf,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RelOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Approx,
    In,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Expr {
    /// A literal; `decimals` is the number of digits written after the point.
    Num {
        val: BigRational,
        decimals: u32,
    },
    Const(Const),
    Var(String),
    Add(Vec<Expr>),
    Mul(Vec<Expr>),
    Neg(Box<Expr>),
    Div(Box<Expr>, Box<Expr>),
    Pow(Box<Expr>, Box<Expr>),
    /// `\sqrt[n]{x}`: (index, radicand).
    Root(Box<Expr>, Box<Expr>),
    Func(String, Vec<Expr>),
    Factorial(Box<Expr>),
    Percent(Box<Expr>),
    Degrees(Box<Expr>),
    /// `a ± b`.
    PlusMinus(Box<Expr>, Box<Expr>),
    /// Python's `^` (seed policy only).
    Xor(Box<Expr>, Box<Expr>),
    Rel {
        parts: Vec<Expr>,
        ops: Vec<RelOp>,
    },
    /// `(a, b)`, `[a, b)`, …: tuples and intervals; brackets as written.
    Seq {
        open: char,
        close: char,
        items: Vec<Expr>,
    },
    /// A comma list without brackets.
    List(Vec<Expr>),
    Set(Vec<Expr>),
    Union(Vec<Expr>),
    Matrix(Vec<Vec<Expr>>),
    Text(String),
}

impl Expr {
    pub fn num_int(n: i64) -> Expr {
        Expr::Num {
            val: BigRational::from_integer(n.into()),
            decimals: 0,
        }
    }

    /// Whether some node (this one or one inside it) satisfies `f`.
    pub fn any(&self, f: impl Fn(&Expr) -> bool) -> bool {
        let mut found = false;
        self.walk(&mut |x| found |= f(x));
        found
    }

    /// Visits every node; used for free-variable collection and checks.
    pub fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Expr)) {
        f(self);
        match self {
            Expr::Num { .. } | Expr::Const(_) | Expr::Var(_) | Expr::Text(_) => {}
            Expr::Add(v)
            | Expr::Mul(v)
            | Expr::List(v)
            | Expr::Set(v)
            | Expr::Union(v)
            | Expr::Func(_, v) => v.iter().for_each(|e| e.walk(f)),
            Expr::Seq { items, .. } => items.iter().for_each(|e| e.walk(f)),
            Expr::Rel { parts, .. } => parts.iter().for_each(|e| e.walk(f)),
            Expr::Matrix(rows) => rows.iter().flatten().for_each(|e| e.walk(f)),
            Expr::Neg(a) | Expr::Factorial(a) | Expr::Percent(a) | Expr::Degrees(a) => a.walk(f),
            Expr::Div(a, b)
            | Expr::Pow(a, b)
            | Expr::Root(a, b)
            | Expr::PlusMinus(a, b)
            | Expr::Xor(a, b) => {
                a.walk(f);
                b.walk(f)
            }
        }
    }

    pub fn free_vars(&self) -> Vec<String> {
        let mut v: Vec<String> = Vec::new();
        self.walk(&mut |e| {
            if let Expr::Var(n) = e {
                if !v.contains(n) {
                    v.push(n.clone());
                }
            }
        });
        v
    }

    pub fn is_scalar(&self) -> bool {
        !matches!(
            self,
            Expr::Rel { .. }
                | Expr::Seq { .. }
                | Expr::List(_)
                | Expr::Set(_)
                | Expr::Union(_)
                | Expr::Matrix(_)
                | Expr::Text(_)
        )
    }

    /// A name standing for a quantity: `x`, `f(x)`, `AB`, `(x, y)`, `S_{ABC}:S`.
    pub fn is_name_like(&self) -> bool {
        match self {
            // A word label: `\text{Minimum} = 3`.
            Expr::Var(_) | Expr::Text(_) => true,
            Expr::Func(n, args) => {
                // `f(2) = 8`: a function's value at a point names a number too.
                !crate::lexer::FUNCS.contains(&n.as_str())
                    && args
                        .iter()
                        .all(|a| a.is_name_like() || matches!(a, Expr::Num { .. }))
            }
            Expr::Mul(v) | Expr::Seq { items: v, .. } => v.iter().all(|a| a.is_name_like()),
            Expr::Div(a, b) => a.is_name_like() && b.is_name_like(),
            // An inverse function's name: `f^{-1}` (in `f^{-1}(x) = …`).
            Expr::Pow(a, b) => {
                matches!(&**a, Expr::Var(n) if n.len() == 1 && "fghFGHPQ".contains(n.as_str()))
                    && matches!(&**b, Expr::Neg(one) if matches!(&**one, Expr::Num { val, .. } if val == &num_rational::BigRational::from_integer(1.into())))
            }
            _ => false,
        }
    }
}
