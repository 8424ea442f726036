//! JSON text exactly as Python's `json` module writes it with default options.
//!
//! NeMo-Skills writes records with `json.dumps(obj)` (separators `", "` / `": "`,
//! `ensure_ascii=True`, insertion order) and `metrics.json` with `json.dump(obj, indent=2)`.
//! Writing the same bytes lets each tool read the other's files and lets tests compare outputs
//! byte for byte. Floats use Python's `repr` (shortest round-trip digits, exponent outside
//! `1e-4 <= |x| < 1e16`).

use std::fmt::Write;

use serde_json::{Number, Value};

/// `json.dumps(value)`.
pub fn to_string(value: &Value) -> String {
    let mut out = String::with_capacity(128);
    write_compact(&mut out, value);
    out
}

/// `json.dumps(value, indent=2)`.
pub fn to_string_indent2(value: &Value) -> String {
    let mut out = String::with_capacity(1024);
    write_indented(&mut out, value, 0);
    out
}

fn write_compact(out: &mut String, value: &Value) {
    match value {
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_compact(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_str(out, k);
                out.push_str(": ");
                write_compact(out, v);
            }
            out.push('}');
        }
        scalar => write_scalar(out, scalar),
    }
}

fn write_indented(out: &mut String, value: &Value, level: usize) {
    let pad = |out: &mut String, level: usize| {
        out.push('\n');
        for _ in 0..level * 2 {
            out.push(' ');
        }
    };
    match value {
        Value::Array(items) if !items.is_empty() => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                pad(out, level + 1);
                write_indented(out, item, level + 1);
            }
            pad(out, level);
            out.push(']');
        }
        Value::Object(map) if !map.is_empty() => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                pad(out, level + 1);
                write_str(out, k);
                out.push_str(": ");
                write_indented(out, v, level + 1);
            }
            pad(out, level);
            out.push('}');
        }
        Value::Array(_) => out.push_str("[]"),
        Value::Object(_) => out.push_str("{}"),
        scalar => write_scalar(out, scalar),
    }
}

fn write_scalar(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_str(out, s),
        Value::Array(_) | Value::Object(_) => unreachable!("containers are handled by the callers"),
    }
}

fn write_number(out: &mut String, n: &Number) {
    if let Some(i) = n.as_i64() {
        let _ = write!(out, "{i}");
    } else if let Some(u) = n.as_u64() {
        let _ = write!(out, "{u}");
    } else if let Some(f) = n.as_f64() {
        out.push_str(&float_repr(f));
    }
}

/// Python's `repr(float)`.
pub fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity".into() } else { "-Infinity".into() };
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0".into() } else { "0.0".into() };
    }
    // Rust's `{:e}` gives the shortest round-trip digits, like Python's repr.
    let sci = format!("{:e}", f.abs());
    let (mantissa, exp) = sci.split_once('e').expect("LowerExp always has an exponent");
    let exp: i32 = exp.parse().expect("exponent is an integer");
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let sign = if f < 0.0 { "-" } else { "" };
    if (-4..16).contains(&exp) {
        let n = digits.len() as i32;
        let body = if exp < 0 {
            format!("0.{}{}", "0".repeat((-exp - 1) as usize), digits)
        } else if n <= exp + 1 {
            format!("{}{}.0", digits, "0".repeat((exp + 1 - n) as usize))
        } else {
            let (int, frac) = digits.split_at((exp + 1) as usize);
            format!("{int}.{frac}")
        };
        format!("{sign}{body}")
    } else {
        let mant = if digits.len() == 1 {
            digits
        } else {
            format!("{}.{}", &digits[..1], &digits[1..])
        };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{mant}e{esign}{:02}", exp.abs())
    }
}

fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    let _ = write!(out, "\\u{:04x}", unit);
                }
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn float_repr_matches_python() {
        // Expected strings are Python 3's repr() of the same doubles.
        let cases = [
            (53.125, "53.125"),
            (0.0, "0.0"),
            (100.0, "100.0"),
            (40.71180555555552, "40.71180555555552"),
            (1e-05, "1e-05"),
            (0.0001, "0.0001"),
            (1e16, "1e+16"),
            (1.5e16, "1.5e+16"),
            (123456789012345.6, "123456789012345.6"),
            (-2.5, "-2.5"),
            (0.1, "0.1"),
            (1e22, "1e+22"),
            (5e-324, "5e-324"),
        ];
        for (f, want) in cases {
            assert_eq!(float_repr(f), want, "{f:e}");
        }
    }

    #[test]
    fn dumps_matches_python_defaults() {
        let v = json!({"a": [1, 2.0, null, true], "é": "x\"y\\z\n\u{1F600}\u{7f}", "n": {}});
        assert_eq!(
            to_string(&v),
            r#"{"a": [1, 2.0, null, true], "\u00e9": "x\"y\\z\n\ud83d\ude00\u007f", "n": {}}"#
        );
    }

    #[test]
    fn indent2_matches_python() {
        let v = json!({"x": {"m": {"num_entries": 3, "c": 1.5}}, "e": [], "l": [1]});
        assert_eq!(
            to_string_indent2(&v),
            "{\n  \"x\": {\n    \"m\": {\n      \"num_entries\": 3,\n      \"c\": 1.5\n    }\n  },\n  \"e\": [],\n  \"l\": [\n    1\n  ]\n}"
        );
    }
}
