//! JSON text exactly as Python's `json` module writes it with default options.
//!
//! NeMo-Skills writes records with `json.dumps(obj)` (separators `", "` / `": "`,
//! `ensure_ascii=True`, insertion order) and `metrics.json` with `json.dump(obj, indent=2)`.
//! Writing the same bytes lets each tool read the other's files and lets tests compare outputs
//! byte for byte. Floats use Python's `repr` (shortest round-trip digits, exponent outside
//! `1e-4 <= |x| < 1e16`).

use std::fmt::Write;

use serde_json::{Number, Value};

/// Options of Python's `json.dumps` (the ones Tally's callers use).
#[derive(Debug, Clone, Default)]
pub struct DumpOptions {
    /// `indent`: the string repeated per level (`None`: everything on one line).
    pub indent: Option<String>,
    /// `(item, key)` separators; `None` means Python's default for the indent setting.
    pub separators: Option<(String, String)>,
    pub sort_keys: bool,
    pub ensure_ascii: bool,
}

/// `json.dumps(value)` with Python's defaults (`ensure_ascii=True`).
pub fn to_string(value: &Value) -> String {
    dumps(
        value,
        &DumpOptions {
            ensure_ascii: true,
            ..DumpOptions::default()
        },
    )
}

/// `json.dumps(value, indent=2)`.
pub fn to_string_indent2(value: &Value) -> String {
    dumps(
        value,
        &DumpOptions {
            ensure_ascii: true,
            indent: Some("  ".into()),
            ..DumpOptions::default()
        },
    )
}

/// `json.dumps(value, **opts)`.
pub fn dumps(value: &Value, opts: &DumpOptions) -> String {
    let (item_sep, key_sep) = match &opts.separators {
        Some((i, k)) => (i.as_str(), k.as_str()),
        None if opts.indent.is_some() => (",", ": "),
        None => (", ", ": "),
    };
    let mut out = String::with_capacity(128);
    write(value, opts, item_sep, key_sep, 0, &mut out);
    out
}

fn newline(opts: &DumpOptions, level: usize, out: &mut String) {
    if let Some(indent) = &opts.indent {
        out.push('\n');
        for _ in 0..level {
            out.push_str(indent);
        }
    }
}

fn write(v: &Value, opts: &DumpOptions, item: &str, key: &str, level: usize, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_str(out, s, opts.ensure_ascii),
        Value::Array(items) if items.is_empty() => out.push_str("[]"),
        Value::Object(map) if map.is_empty() => out.push_str("{}"),
        Value::Array(items) => {
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(item);
                }
                newline(opts, level + 1, out);
                write(x, opts, item, key, level + 1, out);
            }
            newline(opts, level, out);
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            if opts.sort_keys {
                entries.sort_by(|a, b| a.0.cmp(b.0));
            }
            out.push('{');
            for (i, (k, x)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(item);
                }
                newline(opts, level + 1, out);
                write_str(out, k, opts.ensure_ascii);
                out.push_str(key);
                write(x, opts, item, key, level + 1, out);
            }
            newline(opts, level, out);
            out.push('}');
        }
    }
}

fn write_number(out: &mut String, n: &Number) {
    if let Some(i) = n.as_i64() {
        let _ = write!(out, "{i}");
    } else if let Some(u) = n.as_u64() {
        let _ = write!(out, "{u}");
    } else if let Some(f) = n.as_f64() {
        // json.dumps writes non-finite floats as JavaScript names.
        out.push_str(match float_repr(f).as_str() {
            "nan" => "NaN",
            "inf" => "Infinity",
            "-inf" => "-Infinity",
            other => return out.push_str(other),
        });
    }
}

/// Python's `repr(float)`: shortest round-trip digits, fixed notation for decimal exponents in
/// `[-4, 16)`, else `d.ddde±XX`; `nan`, `inf`, `-inf`.
pub fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    // Rust's `{:e}` gives the shortest round-trip digits, like Python's repr.
    let sci = format!("{:e}", f.abs());
    let (mantissa, exp) = sci
        .split_once('e')
        .expect("LowerExp always has an exponent");
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

/// A JSON string as Python writes it: with `ensure_ascii`, everything outside space..`~` is a
/// `\uXXXX` escape (surrogate pairs above the BMP); without, only control characters are.
fn write_str(out: &mut String, s: &str, ensure_ascii: bool) {
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
            c if !ensure_ascii && (c as u32) >= 0x20 => out.push(c),
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
    fn options_match_python() {
        // CPython: json.dumps(v, indent='  ', sort_keys=True, ensure_ascii=False) and
        // json.dumps(["é😀", 1e16, float('nan')], separators=(',', ':')).
        let v = json!({"b": [1, 2.5, "é\n\u{7f}"], "a": {}, "c": null});
        let opts = DumpOptions {
            indent: Some("  ".into()),
            sort_keys: true,
            ..Default::default()
        };
        assert_eq!(
            dumps(&v, &opts),
            "{\n  \"a\": {},\n  \"b\": [\n    1,\n    2.5,\n    \"é\\n\u{7f}\"\n  ],\n  \"c\": null\n}"
        );
        let ascii = DumpOptions {
            ensure_ascii: true,
            separators: Some((",".into(), ":".into())),
            ..Default::default()
        };
        assert_eq!(
            dumps(&json!(["é😀", 1e16]), &ascii),
            "[\"\\u00e9\\ud83d\\ude00\",1e+16]"
        );
        assert_eq!(float_repr(f64::NAN), "nan");
        assert_eq!(float_repr(f64::NEG_INFINITY), "-inf");
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
