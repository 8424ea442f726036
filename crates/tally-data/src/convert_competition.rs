//! Competition sets of newer NeMo-Skills whose upstream rows are kept and renamed (MathArena,
//! BeyondAIME, Qwen2.5-Math's data, Omni-MATH), and math-odyssey's nested rows.
//!
//! NeMo-Skills pops a field and sets the new name, so a renamed field moves to the end of the
//! record; the same order is kept here (`rename_to_end`), so the written lines match its files.

use serde_json::{Map, Value};
use tally_grade::{extract_answer, ExtractMode};

use crate::convert::{required, str_field};
use crate::registry::SourceFormat;

/// Renames `from` to `to`, moving it to the end (a missing `from` is an error).
fn rename_to_end(rec: &mut Map<String, Value>, from: &str, to: &str) -> Result<(), String> {
    let v = rec
        .shift_remove(from)
        .ok_or_else(|| format!("missing field `{from}`"))?;
    // Python's `d[to] = v` keeps the position of an existing `to`; IndexMap's insert does too.
    rec.insert(to.into(), v);
    Ok(())
}

/// AnswerRenamed, Qwen*, OmniMath: the record itself, renamed.
pub(crate) fn renamed(
    format: SourceFormat,
    rec: &Map<String, Value>,
) -> Result<Map<String, Value>, String> {
    let mut out = rec.clone();
    match format {
        SourceFormat::AnswerRenamed => rename_to_end(&mut out, "answer", "expected_answer")?,
        SourceFormat::OmniMath => {
            rename_to_end(&mut out, "answer", "expected_answer")?;
            rename_to_end(&mut out, "solution", "reference_solution")?;
        }
        SourceFormat::Qwen | SourceFormat::QwenOlympiad | SourceFormat::QwenMinerva => {
            if out.contains_key("answer") {
                rename_to_end(&mut out, "answer", "expected_answer")?;
            }
            if !out.contains_key("problem") {
                rename_to_end(&mut out, "question", "problem")?;
            }
            if format == SourceFormat::QwenOlympiad {
                let first = match out.shift_remove("final_answer") {
                    Some(Value::Array(a)) => match a.into_iter().next() {
                        Some(Value::String(s)) => s,
                        _ => return Err("`final_answer` must start with a string".into()),
                    },
                    Some(_) => return Err("`final_answer` must be a list".into()),
                    None => return Err("missing field `final_answer`".into()),
                };
                out.insert(
                    "expected_answer".into(),
                    Value::String(first.trim_matches('$').to_string()),
                );
            }
            if format == SourceFormat::QwenMinerva {
                let solution = str_field(&out, "solution")?;
                let answer = extract_answer(solution, ExtractMode::NemoSkills).answer;
                out.insert(
                    "expected_answer".into(),
                    answer.map_or(Value::Null, Value::String),
                );
            }
        }
        other => unreachable!("{other:?} is not a renaming format"),
    }
    Ok(out)
}

/// How odyssey's answers end before the next section; each is cut, in this order.
const ODYSSEY_ANSWER_ENDINGS: [&str; 8] = [
    "\\\\\n\\noindent",
    "\\\\\n\n\\noindent",
    "\\\\\n\t\\noindent",
    ".\n\n\\noindent",
    "\n\n\\noindent",
    "\\\\\n\n  \n\t\\noindent",
    "\\\\ \n\t\\noindent",
    "\\\\\n\n\t\\noindent",
];

/// math-odyssey: `{"<key>": {question, answer, reasoning, label, level}}`.
pub(crate) fn odyssey(rec: &Map<String, Value>) -> Result<Map<String, Value>, String> {
    let inner = match rec.values().next() {
        Some(Value::Object(m)) => m,
        _ => return Err("expected `{\"<key>\": {question, answer, …}}`".into()),
    };
    let original = str_field(inner, "answer")?;
    let mut answer = original.to_string();
    for ending in ODYSSEY_ANSWER_ENDINGS {
        if let Some(cut) = answer.strip_suffix(ending) {
            answer = cut.trim().to_string();
            if answer.starts_with('\\') || answer.ends_with('\\') {
                answer = answer.trim_matches('\\').trim().to_string();
            }
            match answer.chars().last() {
                None => return Err(format!("answer `{original}` is empty without its ending")),
                Some('.') => {
                    answer.pop();
                }
                Some(_) => {}
            }
            if answer.contains('$') {
                answer = answer.replace('$', "").trim().to_string();
            }
        }
    }
    let problem = str_field(inner, "question")?.replace("\\underline{\\hspace{2cm}}", "");
    let parts: Vec<&str> = problem.split("\\end{problem}").collect();
    if parts.len() != 2 {
        return Err(format!(
            "`question` has {} `\\end{{problem}}` markers, expected 1",
            parts.len() - 1
        ));
    }
    let mut out = Map::new();
    out.insert("problem".into(), Value::String(parts[0].trim().to_string()));
    out.insert("expected_answer".into(), Value::String(answer));
    out.insert(
        "original_answer".into(),
        Value::String(original.to_string()),
    );
    out.insert(
        "reference_solution".into(),
        required(inner, "reasoning")?.clone(),
    );
    out.insert("label".into(), required(inner, "label")?.clone());
    out.insert("level".into(), required(inner, "level")?.clone());
    Ok(out)
}
