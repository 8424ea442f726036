//! Python's `float(str)` acceptance rules (trap T23): surrounding whitespace, `_` between
//! digits, `inf`/`nan`, `1e3`, `5.`, `.5`.

pub(crate) fn py_float(s: &str) -> Option<f64> {
    let t = s.trim();
    let (sign, body) = match t.as_bytes().first() {
        Some(b'-') => (-1.0, &t[1..]),
        Some(b'+') => (1.0, &t[1..]),
        _ => (1.0, t),
    };
    let lower = body.to_ascii_lowercase();
    match lower.as_str() {
        "inf" | "infinity" => return Some(sign * f64::INFINITY),
        "nan" => return Some(f64::NAN),
        _ => {}
    }
    let b = body.as_bytes();
    let mut clean = String::with_capacity(b.len());
    let mut i = 0;
    let mut mant_digits = 0;
    // digits with single underscores between digits
    let digits = |i: &mut usize, clean: &mut String| -> Option<usize> {
        let mut n = 0;
        while *i < b.len() {
            let c = b[*i];
            if c.is_ascii_digit() {
                clean.push(c as char);
                n += 1;
                *i += 1;
            } else if c == b'_' && n > 0 && b.get(*i + 1).is_some_and(|x| x.is_ascii_digit()) {
                *i += 1;
            } else {
                break;
            }
        }
        Some(n)
    };
    mant_digits += digits(&mut i, &mut clean)?;
    if i < b.len() && b[i] == b'.' {
        clean.push('.');
        i += 1;
        mant_digits += digits(&mut i, &mut clean)?;
    }
    if mant_digits == 0 {
        return None;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        clean.push('e');
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            clean.push(b[i] as char);
            i += 1;
        }
        if digits(&mut i, &mut clean)? == 0 {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    clean.parse::<f64>().ok().map(|v| sign * v)
}

#[cfg(test)]
mod tests {
    use super::py_float;
    #[test]
    fn python_float_syntax() {
        assert_eq!(py_float("1_000"), Some(1000.0));
        assert_eq!(py_float(" 5. "), Some(5.0));
        assert_eq!(py_float(".5"), Some(0.5));
        assert_eq!(py_float("1.0e3"), Some(1000.0));
        assert_eq!(py_float("-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(py_float("1__0"), None);
        assert_eq!(py_float("_1"), None);
        assert_eq!(py_float("1_"), None);
        assert_eq!(py_float("."), None);
        assert_eq!(py_float("1e"), None);
        assert_eq!(py_float("0x10"), None);
        assert_eq!(py_float(""), None);
    }
}
