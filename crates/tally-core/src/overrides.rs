//! Hydra-style `++key=value` overrides, as `ns generate`/`ns eval` forward them.
//!
//! Order matters: a later override of the same key wins (the pipeline puts its defaults first and
//! the user's arguments after, so `++inference.temperature=0.6` beats the seed default of 0.7).
//! Values are typed the way Hydra types them: `null`, booleans, integers, floats, quoted strings,
//! `[a,b]` lists; anything else is a plain string.

use serde_json::{Map, Number, Value};

use crate::error::CoreError;

/// One parsed `++key=value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    /// Dotted key, e.g. `inference.temperature`.
    pub key: String,
    pub value: Value,
    /// The argument as given, for manifests and messages.
    pub raw: String,
}

/// An ordered list of overrides; lookups return the last one for a key.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    items: Vec<Override>,
}

impl Overrides {
    /// Parses arguments of the form `++key=value`, `+key=value` or `key=value`.
    pub fn parse<I, S>(args: I) -> Result<Overrides, CoreError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut out = Overrides::default();
        for arg in args {
            out.push_arg(arg.as_ref())?;
        }
        Ok(out)
    }

    /// Parses and appends one argument (it wins over earlier ones with the same key).
    pub fn push_arg(&mut self, arg: &str) -> Result<(), CoreError> {
        let body = arg.trim_start_matches('+');
        let (key, value) = body.split_once('=').ok_or_else(|| CoreError::Override {
            arg: arg.to_string(),
            reason: "expected key=value".into(),
        })?;
        let key = key.trim();
        if key.is_empty()
            || !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
            || key.starts_with('.')
            || key.ends_with('.')
            || key.contains("..")
        {
            return Err(CoreError::Override {
                arg: arg.to_string(),
                reason: format!("`{key}` is not a valid key (letters, digits, _ - and dots)"),
            });
        }
        let value = parse_value(value.trim()).map_err(|reason| CoreError::Override {
            arg: arg.to_string(),
            reason,
        })?;
        self.items.push(Override {
            key: key.to_string(),
            value,
            raw: arg.to_string(),
        });
        Ok(())
    }

    /// Adds a typed override programmatically (e.g. pipeline defaults).
    pub fn push(&mut self, key: &str, value: Value) {
        self.items.push(Override {
            key: key.to_string(),
            raw: format!("++{key}={}", crate::pyjson::to_string(&value)),
            value,
        });
    }

    /// The effective value of `key` (the last override that set it).
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.items
            .iter()
            .rev()
            .find(|o| o.key == key)
            .map(|o| &o.value)
    }

    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Value::as_str)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Override> {
        self.items.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Appends every override of `later` after ours (so `later` wins).
    pub fn extend(&mut self, later: &Overrides) {
        self.items.extend(later.items.iter().cloned());
    }

    /// The effective values as a nested object (`a.b=1` → `{"a": {"b": 1}}`), in first-set order.
    pub fn to_nested(&self) -> Map<String, Value> {
        let mut root = Map::new();
        for o in &self.items {
            let mut node = &mut root;
            let parts: Vec<&str> = o.key.split('.').collect();
            for part in &parts[..parts.len() - 1] {
                let entry = node
                    .entry(part.to_string())
                    .or_insert_with(|| Value::Object(Map::new()));
                if !entry.is_object() {
                    *entry = Value::Object(Map::new());
                }
                node = entry.as_object_mut().expect("just made an object");
            }
            node.insert(parts[parts.len() - 1].to_string(), o.value.clone());
        }
        root
    }
}

/// Types a value the way Hydra's override grammar does (the subset used in practice).
fn parse_value(s: &str) -> Result<Value, String> {
    if s.is_empty() {
        return Ok(Value::String(String::new()));
    }
    if let Some(inner) = quoted(s) {
        return Ok(Value::String(inner));
    }
    if s.starts_with('[') {
        let inner = s
            .strip_prefix('[')
            .and_then(|r| r.strip_suffix(']'))
            .ok_or_else(|| format!("unterminated list `{s}`"))?;
        if inner.trim().is_empty() {
            return Ok(Value::Array(vec![]));
        }
        return split_top_level(inner)
            .into_iter()
            .map(|p| parse_value(p.trim()))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array);
    }
    match s.to_ascii_lowercase().as_str() {
        "null" | "none" => return Ok(Value::Null),
        "true" => return Ok(Value::Bool(true)),
        "false" => return Ok(Value::Bool(false)),
        _ => {}
    }
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit() || c == '_') {
        if let Ok(i) = s.replace('_', "").parse::<i64>() {
            return Ok(Value::Number(i.into()));
        }
    }
    if s.chars().any(|c| c.is_ascii_digit()) {
        if let Ok(f) = s.parse::<f64>() {
            if let Some(n) = Number::from_f64(f) {
                return Ok(Value::Number(n));
            }
        }
    }
    Ok(Value::String(s.to_string()))
}

fn quoted(s: &str) -> Option<String> {
    for q in ['\'', '"'] {
        if s.len() >= 2 && s.starts_with(q) && s.ends_with(q) {
            let inner = &s[1..s.len() - 1];
            return Some(inner.replace(&format!("\\{q}"), &q.to_string()));
        }
    }
    None
}

fn split_top_level(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start, mut quote) = (0i32, 0usize, None::<char>);
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '[' | '{') => depth += 1,
            (None, ']' | '}') => depth -= 1,
            (None, ',') if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn later_override_wins() {
        let ov = Overrides::parse([
            "++inference.random_seed=3",
            "++inference.temperature=0.7",
            "++inference.temperature=0.6",
        ])
        .unwrap();
        assert_eq!(ov.get("inference.temperature"), Some(&json!(0.6)));
        assert_eq!(ov.get("inference.random_seed"), Some(&json!(3)));
        assert_eq!(ov.get("missing"), None);
    }

    #[test]
    fn values_are_typed_like_hydra() {
        let ov = Overrides::parse([
            "++a=null",
            "++b=True",
            "++c=32768",
            "++d=1e-3",
            "++e=qwen-instruct",
            "++f='quoted, with comma'",
            "++g=[1,2, 'x']",
            "++h=generic/math",
            "++i=",
            "++j=2025-05-02",
        ])
        .unwrap();
        assert_eq!(ov.get("a"), Some(&Value::Null));
        assert_eq!(ov.get("b"), Some(&json!(true)));
        assert_eq!(ov.get("c"), Some(&json!(32768)));
        assert_eq!(ov.get("d"), Some(&json!(0.001)));
        assert_eq!(ov.get("e"), Some(&json!("qwen-instruct")));
        assert_eq!(ov.get("f"), Some(&json!("quoted, with comma")));
        assert_eq!(ov.get("g"), Some(&json!([1, 2, "x"])));
        assert_eq!(ov.get("h"), Some(&json!("generic/math")));
        assert_eq!(ov.get("i"), Some(&json!("")));
        assert_eq!(ov.get("j"), Some(&json!("2025-05-02")));
    }

    #[test]
    fn malformed_overrides_say_what_is_wrong() {
        let e = Overrides::parse(["++novalue"]).unwrap_err().to_string();
        assert!(e.contains("++novalue") && e.contains("key=value"), "{e}");
        let e = Overrides::parse(["++bad key=1"]).unwrap_err().to_string();
        assert!(e.contains("not a valid key"), "{e}");
        let e = Overrides::parse(["++l=[1,2"]).unwrap_err().to_string();
        assert!(e.contains("unterminated"), "{e}");
    }

    #[test]
    fn nested_view_groups_dotted_keys() {
        let ov = Overrides::parse([
            "++inference.temperature=0.6",
            "++inference.top_p=0.95",
            "++x=1",
        ])
        .unwrap();
        assert_eq!(
            Value::Object(ov.to_nested()),
            json!({"inference": {"temperature": 0.6, "top_p": 0.95}, "x": 1})
        );
    }
}
