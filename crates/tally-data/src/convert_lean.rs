//! PutnamBench's Lean 4 files → formal-proof records (`name`, `split`, `formal_statement`,
//! `informal_prefix`, `header`), as NeMo-Skills' putnam-bench `prepare.py` reads them.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Value};

static THEOREM: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"theorem\s+(putnam_[0-9]{4}_[ab][0-6])([\s\S]*?):=\s*(?:sorry|by)\b")
        .expect("valid regex")
});
static DOC_COMMENT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"/--[\s\S]*?-/").expect("valid regex"));
static LINE_COMMENT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^\s*--.*$").expect("valid regex"));

/// One `.lean` file's text → its record. The statement ends in `:= by` and a newline; the
/// comments before it (the informal statement) and the imports above them are kept apart.
pub(crate) fn putnam(text: &str) -> Result<Map<String, Value>, String> {
    let m = THEOREM
        .captures(text)
        .ok_or("no `theorem putnam_YYYY_xN … := by|sorry` in the file")?;
    let whole = m.get(0).expect("group 0");
    let name = &m[1];
    let statement = format!("theorem {name}{}:= by\n", &m[2]);
    let before = &text[..whole.start()];
    let first_comment = [DOC_COMMENT.find(before), LINE_COMMENT.find(before)]
        .into_iter()
        .flatten()
        .map(|c| c.start())
        .min();
    let (header, mut informal_prefix) = match first_comment {
        None => (before.trim_end().to_string(), String::new()),
        Some(at) => (
            before[..at].trim_end().to_string(),
            before[at..].trim_matches('\n').to_string(),
        ),
    };
    if !informal_prefix.is_empty() {
        informal_prefix.push('\n');
    }
    let header = match header.trim() {
        "" => String::new(),
        h => format!("{h}\n"),
    };
    let mut out = Map::new();
    out.insert("name".into(), Value::String(name.into()));
    out.insert("split".into(), Value::String("test".into()));
    out.insert("formal_statement".into(), Value::String(statement));
    out.insert("informal_prefix".into(), Value::String(informal_prefix));
    out.insert("header".into(), Value::String(header));
    Ok(out)
}
