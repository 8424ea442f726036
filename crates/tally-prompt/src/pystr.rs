//! What Python's `str()`, `repr()` and `str.strip()` give for JSON values, because NeMo-Skills
//! puts record fields into prompts and compares answers through them.

use serde_json::{Number, Value};

/// Python's `str(x)` of a value that came out of `json.loads`: strings raw, `None`, `True`,
/// `5`, `5.0`, `1e+16`, `['a', 1]`, `{'k': 'v'}`.
pub fn py_str(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => py_repr(other),
    }
}

/// Python's `repr(x)` of a value that came out of `json.loads`.
pub fn py_repr(value: &Value) -> String {
    let mut out = String::new();
    write_repr(value, &mut out);
    out
}

fn write_repr(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("None"),
        Value::Bool(true) => out.push_str("True"),
        Value::Bool(false) => out.push_str("False"),
        Value::Number(n) => out.push_str(&py_number(n)),
        Value::String(s) => write_str_repr(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_repr(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_str_repr(k, out);
                out.push_str(": ");
                write_repr(v, out);
            }
            out.push('}');
        }
    }
}

fn py_number(n: &Number) -> String {
    if let Some(i) = n.as_i64() {
        i.to_string()
    } else if let Some(u) = n.as_u64() {
        u.to_string()
    } else {
        py_float(n.as_f64().unwrap_or(f64::NAN))
    }
}

/// Python's `repr(float)` (shared with the JSON writer in tally-core).
pub use tally_core::pyjson::float_repr as py_float;

fn write_str_repr(s: &str, out: &mut String) {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
}

/// Python's `str.isspace()` for one character: Unicode White_Space plus the four ASCII
/// information separators (U+001C..U+001F) that Python also strips.
pub fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's `s.strip()` with no arguments.
pub fn py_strip(s: &str) -> &str {
    s.trim_matches(is_py_space)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn str_of_json_values_matches_python() {
        // Expected strings are what CPython 3 prints for str(json.loads(text)).
        let cases: &[(&str, &str)] = &[
            ("5", "5"),
            ("5.0", "5.0"),
            ("-0.5", "-0.5"),
            ("0.0001", "0.0001"),
            ("0.00001", "1e-05"),
            ("1e16", "1e+16"),
            ("1e15", "1000000000000000.0"),
            ("123456789.125", "123456789.125"),
            ("1.5e300", "1.5e+300"),
            ("null", "None"),
            ("true", "True"),
            ("\"x y\"", "x y"),
            ("[1, \"a\", null]", "[1, 'a', None]"),
            ("{\"k\": \"it's\"}", "{'k': \"it's\"}"),
            ("[\"a\\\\b\\n\"]", "['a\\\\b\\n']"),
        ];
        for (text, want) in cases {
            let v: Value = serde_json::from_str(text).unwrap();
            assert_eq!(py_str(&v), *want, "str({text})");
        }
    }

    #[test]
    fn strip_uses_python_whitespace() {
        assert_eq!(py_strip("\u{1f} 7\u{a0}\n"), "7");
        assert_eq!(py_strip("\u{200b}7"), "\u{200b}7");
        assert_eq!(py_str(&json!(" 7 ")), " 7 ");
    }
}
