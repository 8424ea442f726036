//! Counting written the way Chinese and older texts write it: `C_{10}^{3}` (or `C^{3}_{10}`,
//! `\mathrm{C}_{10}^{3}`) is `\binom{10}{3}`, `A_{5}^{2}` (arrangements) is `\frac{5!}{(5-2)!}`.
//! Only with number literals on both indices and the top index no larger than the bottom, so a
//! subscripted name raised to a power (`A_5^2` for a term squared) is read as notation only where
//! it could not be much else.

use std::sync::OnceLock;

use regex::Regex;

fn pattern() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| {
        Regex::new(
            r"(?:\\mathrm\{([CA])\}|\b([CA]))(?:_\{?(\d{1,3})\}?\^\{?(\d{1,3})\}?|\^\{?(\d{1,3})\}?_\{?(\d{1,3})\}?)",
        )
        .unwrap()
    })
}

/// The answer with such counts written as binomials or factorial quotients, if it has any.
pub(crate) fn rewrite(s: &str) -> Option<String> {
    if !(s.contains("C_")
        || s.contains("A_")
        || s.contains("C^")
        || s.contains("A^")
        || s.contains("}_")
        || s.contains("}^"))
    {
        return None;
    }
    let mut changed = false;
    let out = pattern().replace_all(s, |c: &regex::Captures| {
        let letter = c.get(1).or(c.get(2)).map_or("", |m| m.as_str());
        let (n, k) = match (c.get(3), c.get(4), c.get(5), c.get(6)) {
            (Some(n), Some(k), _, _) => (n.as_str(), k.as_str()),
            (_, _, Some(k), Some(n)) => (n.as_str(), k.as_str()),
            _ => return c[0].to_string(),
        };
        let (Ok(nv), Ok(kv)) = (n.parse::<u32>(), k.parse::<u32>()) else {
            return c[0].to_string();
        };
        if kv > nv {
            return c[0].to_string();
        }
        changed = true;
        if letter == "C" {
            format!("\\binom{{{n}}}{{{k}}}")
        } else {
            format!("\\frac{{{n}!}}{{{}!}}", nv - kv)
        }
    });
    changed.then(|| out.into_owned())
}

#[cfg(test)]
mod tests {
    use super::rewrite;

    #[test]
    fn chinese_counting_notation_becomes_binomials_and_factorials() {
        assert_eq!(rewrite("C_{10}^{3}").as_deref(), Some("\\binom{10}{3}"));
        assert_eq!(rewrite("C_{10}^3").as_deref(), Some("\\binom{10}{3}"));
        assert_eq!(
            rewrite("\\mathrm{C}^{2}_{5}").as_deref(),
            Some("\\binom{5}{2}")
        );
        assert_eq!(rewrite("A_5^2").as_deref(), Some("\\frac{5!}{3!}"));
        assert_eq!(
            rewrite("C_4^2 A_3^3").as_deref(),
            Some("\\binom{4}{2} \\frac{3!}{0!}")
        );
        // A top index above the bottom one is not a count; a name's subscript is not either.
        assert_eq!(rewrite("A_2^5"), None);
        assert_eq!(rewrite("a_5^2"), None);
        assert_eq!(rewrite("BC_2^2"), None);
    }
}
