//! Numbers written in words: `twenty-one`, `one hundred and five`, `two thousand`, and
//! fractions: `one half`, `a third`, `three quarters`, `two and a half`.

const UNITS: [&str; 20] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
const TENS: [&str; 8] = [
    "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];

/// Denominators in words, singular and plural.
fn denominator(w: &str) -> Option<u64> {
    Some(match w {
        "half" | "halves" => 2,
        "third" | "thirds" => 3,
        "quarter" | "quarters" | "fourth" | "fourths" => 4,
        "fifth" | "fifths" => 5,
        "sixth" | "sixths" => 6,
        "seventh" | "sevenths" => 7,
        "eighth" | "eighths" => 8,
        "ninth" | "ninths" => 9,
        "tenth" | "tenths" => 10,
        "hundredth" | "hundredths" => 100,
        _ => return None,
    })
}

/// A whole number in words (`None` for anything else, an empty list included).
fn cardinal(words: &[&str]) -> Option<u64> {
    if words.is_empty() {
        return None;
    }
    let (mut total, mut chunk, mut any) = (0u64, 0u64, false);
    for &w in words {
        if let Some(k) = UNITS.iter().position(|u| *u == w) {
            chunk = chunk.checked_add(k as u64)?;
        } else if let Some(k) = TENS.iter().position(|t| *t == w) {
            chunk = chunk.checked_add(20 + 10 * k as u64)?;
        } else if w == "hundred" {
            chunk = chunk.max(1).checked_mul(100)?;
        } else if let Some(scale) = match w {
            "thousand" => Some(1_000u64),
            "million" => Some(1_000_000),
            "billion" => Some(1_000_000_000),
            _ => None,
        } {
            total = total.checked_add(chunk.max(1).checked_mul(scale)?)?;
            chunk = 0;
        } else {
            return None;
        }
        any = true;
    }
    any.then(|| total + chunk)
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// The answer's value as LaTeX (`21`, `\frac{3}{4}`), when all of it is a number in words.
pub(crate) fn value(plain: &str) -> Option<String> {
    let lower = plain.trim().trim_end_matches('.').to_ascii_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| c.is_whitespace() || c == '-')
        .filter(|w| !w.is_empty())
        .collect();
    // `exactly one` (real root): the count is the number.
    let words = match words.as_slice() {
        ["exactly", rest @ ..] if !rest.is_empty() => rest.to_vec(),
        _ => words,
    };
    if words.is_empty() || words.len() > 12 {
        return None;
    }
    // `two and a half`: a whole number, `and`, a fraction.
    let (whole, frac_words): (u64, &[&str]) = match words.iter().position(|w| *w == "and") {
        Some(k)
            if words[k + 1..]
                .last()
                .is_some_and(|w| denominator(w).is_some()) =>
        {
            (cardinal(&words[..k])?, &words[k + 1..])
        }
        _ => (0, &words[..]),
    };
    let fraction = frac_words.last().and_then(|w| denominator(w)).map(|d| {
        let head = &frac_words[..frac_words.len() - 1];
        let n = match head {
            [] | ["a"] | ["an"] | ["one"] => Some(1),
            h => cardinal(h),
        };
        (n, d)
    });
    match fraction {
        Some((Some(n), d)) => {
            let num = whole.checked_mul(d)?.checked_add(n)?;
            let g = gcd(num, d).max(1);
            let (num, d) = (num / g, d / g);
            Some(if d == 1 {
                num.to_string()
            } else {
                format!("\\frac{{{num}}}{{{d}}}")
            })
        }
        Some((None, _)) => None,
        None => {
            // `one hundred and five`: `and` inside a whole number says nothing.
            let w: Vec<&str> = words.iter().copied().filter(|w| *w != "and").collect();
            let w: Vec<&str> = match w.as_slice() {
                ["a", rest @ ..]
                    if rest
                        .first()
                        .is_some_and(|x| *x == "hundred" || *x == "thousand") =>
                {
                    rest.to_vec()
                }
                _ => w,
            };
            cardinal(&w).map(|n| n.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::value;

    #[test]
    fn numbers_and_fractions_in_words() {
        assert_eq!(value("twenty-one").unwrap(), "21");
        assert_eq!(value("One hundred and five").unwrap(), "105");
        assert_eq!(value("two thousand twenty-four").unwrap(), "2024");
        assert_eq!(value("a hundred").unwrap(), "100");
        assert_eq!(value("three quarters").unwrap(), "\\frac{3}{4}");
        assert_eq!(value("half").unwrap(), "\\frac{1}{2}");
        assert_eq!(value("a third").unwrap(), "\\frac{1}{3}");
        assert_eq!(value("two and a half").unwrap(), "\\frac{5}{2}");
        assert_eq!(value("four halves").unwrap(), "2");
        assert_eq!(value("five").unwrap(), "5");
        // Not numbers: words around them, or words alone.
        assert_eq!(value("five ways"), None);
        assert_eq!(value("the second player"), None);
        assert_eq!(value("and"), None);
        assert_eq!(value("a"), None);
    }
}
