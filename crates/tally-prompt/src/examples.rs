//! Few-shot example sets: named lists of example records that a config's `examples_type` picks.
//! NeMo-Skills ships its sets inside its Python package; Tally takes them from the caller or from
//! a JSON/YAML file mapping each set name to a list of objects.

use std::path::Path;

use indexmap::IndexMap;
use serde_json::{Map, Value};

use crate::config::PromptTemplate;
use crate::error::PromptError;

/// Named lists of few-shot examples (each example is a record such as `{problem, solution}`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExampleSets {
    sets: IndexMap<String, Vec<Map<String, Value>>>,
}

impl ExampleSets {
    pub fn new() -> ExampleSets {
        ExampleSets::default()
    }

    /// Adds (or replaces) one named set.
    pub fn insert(&mut self, name: impl Into<String>, examples: Vec<Map<String, Value>>) {
        self.sets.insert(name.into(), examples);
    }

    pub fn get(&self, name: &str) -> Option<&[Map<String, Value>]> {
        self.sets.get(name).map(Vec::as_slice)
    }

    pub fn is_empty(&self) -> bool {
        self.sets.is_empty()
    }

    /// Reads `{"set name": [{...}, ...], ...}` from a `.json`, `.yaml` or `.yml` file.
    pub fn from_file(path: &Path) -> Result<ExampleSets, PromptError> {
        let text = std::fs::read_to_string(path).map_err(|source| PromptError::Io {
            kind: "examples",
            path: path.to_path_buf(),
            source,
        })?;
        let bad = |message: String| PromptError::BadExamples {
            path: path.to_path_buf(),
            message,
        };
        let is_yaml = matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        );
        let value: Value = if is_yaml {
            serde_norway::from_str(&text).map_err(|e| bad(e.to_string()))?
        } else {
            serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?
        };
        let Value::Object(top) = value else {
            return Err(bad("expected an object mapping set names to lists".into()));
        };
        let mut sets = ExampleSets::new();
        for (name, list) in top {
            let Value::Array(items) = list else {
                return Err(bad(format!("set '{name}' is not a list")));
            };
            let mut examples = Vec::with_capacity(items.len());
            for (i, item) in items.into_iter().enumerate() {
                let Value::Object(example) = item else {
                    return Err(bad(format!("set '{name}' item {i} is not an object")));
                };
                examples.push(example);
            }
            sets.insert(name, examples);
        }
        Ok(sets)
    }

    pub(crate) fn to_json(&self) -> Value {
        Value::Object(
            self.sets
                .iter()
                .map(|(k, v)| {
                    let items = v.iter().cloned().map(Value::Object).collect();
                    (k.clone(), Value::Array(items))
                })
                .collect(),
        )
    }
}

/// Rewrites the code placeholders of an example solution for the template's code tags:
/// `{code_output_begin}\n<out>{code_output_end}` becomes the template's formatted code output and
/// `{code_begin}` / `{code_end}` become its tags, so one example set serves every template.
pub(crate) fn apply_code_tags(
    solution: &str,
    template: &PromptTemplate,
) -> Result<String, PromptError> {
    const OUT_BEGIN: &str = "{code_output_begin}\n";
    const OUT_END: &str = "{code_output_end}";
    let mut text = String::with_capacity(solution.len());
    let mut rest = solution;
    // Non-greedy pairing, left to right, like the DOTALL regex NeMo-Skills uses.
    while let Some(start) = rest.find(OUT_BEGIN) {
        let after = &rest[start + OUT_BEGIN.len()..];
        let Some(end) = after.find(OUT_END) else {
            break;
        };
        text.push_str(&rest[..start]);
        text.push_str(&format_code_output(&after[..end], template)?);
        rest = &after[end + OUT_END.len()..];
    }
    text.push_str(rest);
    Ok(text
        .replace("{code_begin}", &template.code_begin)
        .replace("{code_end}", &template.code_end)
        .replace("{code_output_begin}", "")
        .replace("{code_output_end}", ""))
}

/// A completed execution with `stdout` and no stderr, in the template's output format.
fn format_code_output(stdout: &str, t: &PromptTemplate) -> Result<String, PromptError> {
    match t.code_output_format.as_str() {
        "qwen" => Ok(format!(
            "{}{}{}",
            t.code_output_begin, stdout, t.code_output_end
        )),
        "llama" => {
            let mut body = String::from("completed");
            if !stdout.is_empty() {
                body.push_str(&format!("\n[stdout]\n{stdout}[/stdout]"));
            }
            Ok(format!(
                "{}\n\n{}{}\n\n",
                t.code_output_begin, body, t.code_output_end
            ))
        }
        other => Err(PromptError::UnknownCodeOutputFormat {
            template: t.name.clone(),
            format: other.to_string(),
        }),
    }
}
