//! Python `str.format` over named fields, which is how NeMo-Skills fills prompt configs:
//! `{name}` is replaced by Python's `str()` of the field, `{{` and `}}` are literal braces.

use serde_json::Value;

use crate::error::PromptError;
use crate::pystr::{py_repr, py_str};

/// Formats `fmt` with Python `str.format` rules; `lookup` returns a field's value by name.
/// `context` names the config and part (e.g. `prompt config 'openmath/tir' (user)`) for errors.
///
/// Supported: `{name}`, `{name[key]}`, `{name!s}`, `{name!r}`, an empty format spec. Positional
/// fields, attribute access and non-empty format specs are errors, as no NeMo-Skills prompt
/// uses them and a silent approximation would change prompts.
pub fn py_format(
    fmt: &str,
    lookup: &dyn Fn(&str) -> Option<Value>,
    context: &str,
) -> Result<String, PromptError> {
    let bad = |offset: usize, message: &str| PromptError::BadFormat {
        context: context.to_string(),
        offset,
        message: message.to_string(),
    };
    let bytes = fmt.as_bytes();
    let mut out = String::with_capacity(fmt.len());
    let mut literal_start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'{' if bytes.get(i + 1) == Some(&b'{') => {
                out.push_str(&fmt[literal_start..=i]);
                i += 2;
                literal_start = i;
            }
            b'}' if bytes.get(i + 1) == Some(&b'}') => {
                out.push_str(&fmt[literal_start..=i]);
                i += 2;
                literal_start = i;
            }
            b'}' => return Err(bad(i, "single '}' encountered in format string")),
            b'{' => {
                out.push_str(&fmt[literal_start..i]);
                let end = field_end(bytes, i + 1)
                    .ok_or_else(|| bad(i, "expected '}' before end of string"))?;
                let field = &fmt[i + 1..end];
                out.push_str(&render_field(field, lookup, context, i)?);
                i = end + 1;
                literal_start = i;
            }
            _ => i += 1,
        }
    }
    out.push_str(&fmt[literal_start..]);
    Ok(out)
}

/// Index of the `}` closing a field that starts at `start`, skipping `[...]` and one level of
/// nested `{}` in the format spec, as Python's parser does.
fn field_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_bracket = false;
    for (j, &b) in bytes.iter().enumerate().skip(start) {
        match b {
            b'[' if depth == 0 => in_bracket = true,
            b']' if in_bracket => in_bracket = false,
            _ if in_bracket => {}
            b'{' => depth += 1,
            b'}' if depth == 0 => return Some(j),
            b'}' => depth -= 1,
            _ => {}
        }
    }
    None
}

fn render_field(
    field: &str,
    lookup: &dyn Fn(&str) -> Option<Value>,
    context: &str,
    offset: usize,
) -> Result<String, PromptError> {
    let bad = |message: String| PromptError::BadFormat {
        context: context.to_string(),
        offset,
        message,
    };
    // Split "name[key]!r:spec" into its parts; '!' and ':' inside brackets belong to the key.
    let mut name_end = field.len();
    let mut in_bracket = false;
    for (j, c) in field.char_indices() {
        match c {
            '[' => in_bracket = true,
            ']' => in_bracket = false,
            '!' | ':' if !in_bracket => {
                name_end = j;
                break;
            }
            _ => {}
        }
    }
    let (path, rest) = field.split_at(name_end);
    let (conversion, spec) = match rest.strip_prefix('!') {
        Some(r) => match r.split_once(':') {
            Some((conv, spec)) => (Some(conv), spec),
            None => (Some(r), ""),
        },
        None => (None, rest.strip_prefix(':').unwrap_or("")),
    };
    if !spec.is_empty() {
        return Err(bad(format!(
            "format spec ':{spec}' in {{{field}}} is not supported"
        )));
    }

    let name_len = path.find(['.', '[']).unwrap_or(path.len());
    let (name, mut accessors) = path.split_at(name_len);
    if name.is_empty() || name.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(format!(
            "positional placeholder {{{field}}} is not supported; prompts use named fields"
        )));
    }
    let mut value = lookup(name).ok_or_else(|| PromptError::MissingKey {
        context: context.to_string(),
        key: name.to_string(),
    })?;
    while !accessors.is_empty() {
        let Some(inner) = accessors.strip_prefix('[') else {
            return Err(bad(format!(
                "attribute access in {{{field}}} is not supported"
            )));
        };
        let close = inner
            .find(']')
            .ok_or_else(|| bad(format!("missing ']' in {{{field}}}")))?;
        let key = &inner[..close];
        let next = match &value {
            Value::Array(items) if key.bytes().all(|b| b.is_ascii_digit()) && !key.is_empty() => {
                key.parse::<usize>()
                    .ok()
                    .and_then(|k| items.get(k))
                    .cloned()
            }
            Value::Object(map) => map.get(key).cloned(),
            _ => None,
        };
        value = next.ok_or_else(|| PromptError::MissingKey {
            context: context.to_string(),
            key: format!("{name}[{key}]"),
        })?;
        accessors = &inner[close + 1..];
    }
    match conversion {
        None | Some("s") => Ok(py_str(&value)),
        Some("r") | Some("a") => Ok(py_repr(&value)),
        Some(other) => Err(bad(format!("unknown conversion '!{other}'"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fmt(template: &str, fields: Value) -> Result<String, PromptError> {
        let map = fields.as_object().unwrap().clone();
        py_format(template, &|k| map.get(k).cloned(), "test")
    }

    #[test]
    fn named_fields_and_doubled_braces() {
        assert_eq!(
            fmt(
                "\\boxed{{}} {a}+{b}={c}",
                json!({"a": 1, "b": 2.0, "c": "x"})
            )
            .unwrap(),
            "\\boxed{} 1+2.0=x"
        );
        assert_eq!(fmt("{{{a}}}", json!({"a": "z"})).unwrap(), "{z}");
        assert_eq!(
            fmt("{a!r} {a[0]} {b[k]}", json!({"a": ["q"], "b": {"k": 3}})).unwrap(),
            "['q'] q 3"
        );
    }

    #[test]
    fn values_are_inserted_raw_without_reformatting() {
        assert_eq!(fmt("{p}", json!({"p": "{x} }{"})).unwrap(), "{x} }{");
    }

    #[test]
    fn errors_name_the_problem() {
        let e = fmt("up to {total_code_executions} calls", json!({})).unwrap_err();
        assert!(
            matches!(&e, PromptError::MissingKey { key, .. } if key == "total_code_executions")
        );
        assert!(e.to_string().contains("{total_code_executions}"), "{e}");
        assert!(matches!(
            fmt("a } b", json!({})),
            Err(PromptError::BadFormat { offset: 2, .. })
        ));
        assert!(matches!(
            fmt("a {b", json!({"b": 1})),
            Err(PromptError::BadFormat { .. })
        ));
        assert!(matches!(
            fmt("{}", json!({})),
            Err(PromptError::BadFormat { .. })
        ));
        assert!(matches!(
            fmt("{a:>5}", json!({"a": 1})),
            Err(PromptError::BadFormat { .. })
        ));
    }
}
