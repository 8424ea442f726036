//! Python's `json.dumps` with the knobs HF chat templates pass to `tojson` (`indent`,
//! `separators`, `sort_keys`, `ensure_ascii`), so tool schemas render as transformers renders
//! them.

use serde_json::Value;

use crate::pystr::py_float;

/// Options of `json.dumps`. The default is HF's `tojson`: `ensure_ascii=False`, no indent.
#[derive(Debug, Clone, Default)]
pub struct DumpOptions {
    pub indent: Option<String>,
    /// `(item, key)` separators; `None` means Python's default for the indent setting.
    pub separators: Option<(String, String)>,
    pub sort_keys: bool,
    pub ensure_ascii: bool,
}

pub fn dumps(value: &Value, opts: &DumpOptions) -> String {
    let (item_sep, key_sep) = match &opts.separators {
        Some((i, k)) => (i.clone(), k.clone()),
        None if opts.indent.is_some() => (",".to_string(), ": ".to_string()),
        None => (", ".to_string(), ": ".to_string()),
    };
    let mut out = String::new();
    write(value, opts, &item_sep, &key_sep, 0, &mut out);
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
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => out.push_str(&i.to_string()),
            (_, Some(u)) => out.push_str(&u.to_string()),
            _ => {
                let f = n.as_f64().unwrap_or(f64::NAN);
                out.push_str(match py_float(f).as_str() {
                    "nan" => "NaN",
                    "inf" => "Infinity",
                    "-inf" => "-Infinity",
                    s => return out.push_str(s),
                });
            }
        },
        Value::String(s) => write_string(s, opts.ensure_ascii, out),
        Value::Array(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return;
            }
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
            if map.is_empty() {
                out.push_str("{}");
                return;
            }
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
                write_string(k, opts.ensure_ascii, out);
                out.push_str(key);
                write(x, opts, item, key, level + 1, out);
            }
            newline(opts, level, out);
            out.push('}');
        }
    }
}

fn write_string(s: &str, ensure_ascii: bool, out: &mut String) {
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
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if ensure_ascii && !c.is_ascii() => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn matches_python_json_dumps() {
        // Expected outputs are CPython's json.dumps with the same arguments.
        let v = json!({"b": [1, 2.5, "é\n"], "a": {}, "c": null});
        assert_eq!(
            dumps(&v, &DumpOptions::default()),
            "{\"b\": [1, 2.5, \"é\\n\"], \"a\": {}, \"c\": null}"
        );
        let opts = DumpOptions {
            indent: Some("  ".into()),
            sort_keys: true,
            ..Default::default()
        };
        assert_eq!(
            dumps(&v, &opts),
            "{\n  \"a\": {},\n  \"b\": [\n    1,\n    2.5,\n    \"é\\n\"\n  ],\n  \"c\": null\n}"
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
    }
}
