//! The two YAML file kinds of NeMo-Skills' prompt system: a prompt *config* (what to say) and a
//! prompt *template* (how a model wraps turns), and how a name or path resolves to one.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::builtin;
use crate::error::PromptError;

/// A prompt config: system and user messages with `{field}` placeholders, plus optional few-shot
/// settings. `name` is where it came from (built-in name or path) and is used in messages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromptConfig {
    #[serde(skip)]
    pub name: String,
    #[serde(default)]
    pub system: String,
    pub user: String,
    #[serde(default)]
    pub few_shot_examples: FewShotConfig,
}

/// Few-shot block settings. With an examples type, `{examples}` becomes `prefix`, then each
/// example formatted with `template`, then `suffix`; without one it is empty.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FewShotConfig {
    #[serde(default)]
    pub prefix: String,
    #[serde(default)]
    pub template: String,
    #[serde(default)]
    pub suffix: String,
    /// Name of an example set; may itself contain `{field}` placeholders filled from the record.
    #[serde(default)]
    pub examples_type: Option<String>,
    /// Retrieval-based examples (BM25 over a file) are accepted in the file but not supported:
    /// setting `retrieval_field` makes filling fail rather than silently drop the examples.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retrieval_field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retrieval_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retrieved_entries: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retrieved_few_shots: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub randomize_retrieved_entries: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_retrieved_chars: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_retrieved_chars_field: Option<String>,
}

/// A prompt template: the literal strings around each turn (completion mode), the model's stop
/// phrases and the tags of the code-execution loop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromptTemplate {
    #[serde(skip)]
    pub name: String,
    pub text_begin: String,
    pub system_begin: String,
    pub system_end: String,
    pub user_begin: String,
    pub user_end: String,
    pub assistant_begin: String,
    pub assistant_end: String,
    pub stop_phrases: Vec<String>,
    #[serde(default = "defaults::code_begin")]
    pub code_begin: String,
    #[serde(default = "defaults::code_end")]
    pub code_end: String,
    #[serde(default = "defaults::code_output_begin")]
    pub code_output_begin: String,
    #[serde(default = "defaults::code_output_end")]
    pub code_output_end: String,
    #[serde(default = "defaults::code_output_format")]
    pub code_output_format: String,
}

/// The code tags NeMo-Skills uses when a template does not set them.
pub mod defaults {
    pub fn code_begin() -> String {
        "<llm-code>".into()
    }
    pub fn code_end() -> String {
        "</llm-code>".into()
    }
    pub fn code_output_begin() -> String {
        "<llm-code-output>".into()
    }
    pub fn code_output_end() -> String {
        "</llm-code-output>".into()
    }
    pub fn code_output_format() -> String {
        "qwen".into()
    }
}

impl PromptConfig {
    /// Resolves `++prompt_config=` values: a value ending in `.yaml` is a file path, anything
    /// else a built-in name such as `generic/math`.
    pub fn load(name_or_path: &str) -> Result<PromptConfig, PromptError> {
        let text = resolve("config", builtin::CONFIGS, name_or_path)?;
        PromptConfig::from_yaml(&text, name_or_path)
    }

    /// Parses config YAML; `name` is only used to label errors and the result.
    pub fn from_yaml(text: &str, name: &str) -> Result<PromptConfig, PromptError> {
        let mut config: PromptConfig =
            serde_norway::from_str(text).map_err(|source| PromptError::Yaml {
                kind: "config",
                name: name.to_string(),
                source,
            })?;
        config.name = name.to_string();
        Ok(config)
    }
}

impl PromptTemplate {
    /// Resolves `++prompt_template=` values: a value ending in `.yaml` is a file path, anything
    /// else a built-in name such as `qwen-instruct`.
    pub fn load(name_or_path: &str) -> Result<PromptTemplate, PromptError> {
        let text = resolve("template", builtin::TEMPLATES, name_or_path)?;
        PromptTemplate::from_yaml(&text, name_or_path)
    }

    /// Parses template YAML; `name` is only used to label errors and the result.
    pub fn from_yaml(text: &str, name: &str) -> Result<PromptTemplate, PromptError> {
        let mut template: PromptTemplate =
            serde_norway::from_str(text).map_err(|source| PromptError::Yaml {
                kind: "template",
                name: name.to_string(),
                source,
            })?;
        template.name = name.to_string();
        Ok(template)
    }

    /// The template's fields by name, as NeMo-Skills exposes them to few-shot templates.
    pub(crate) fn field(&self, key: &str) -> Option<serde_json::Value> {
        let s = match key {
            "text_begin" => &self.text_begin,
            "system_begin" => &self.system_begin,
            "system_end" => &self.system_end,
            "user_begin" => &self.user_begin,
            "user_end" => &self.user_end,
            "assistant_begin" => &self.assistant_begin,
            "assistant_end" => &self.assistant_end,
            "code_begin" => &self.code_begin,
            "code_end" => &self.code_end,
            "code_output_begin" => &self.code_output_begin,
            "code_output_end" => &self.code_output_end,
            "code_output_format" => &self.code_output_format,
            "stop_phrases" => return Some(serde_json::json!(self.stop_phrases)),
            _ => return None,
        };
        Some(serde_json::Value::String(s.clone()))
    }
}

fn resolve(
    kind: &'static str,
    table: &[(&str, &'static str)],
    name_or_path: &str,
) -> Result<String, PromptError> {
    if name_or_path.ends_with(".yaml") {
        let path = Path::new(name_or_path);
        return std::fs::read_to_string(path).map_err(|source| PromptError::Io {
            kind,
            path: path.to_path_buf(),
            source,
        });
    }
    builtin::find(table, name_or_path)
        .map(str::to_string)
        .ok_or_else(|| PromptError::UnknownBuiltin {
            kind,
            name: name_or_path.to_string(),
            known: builtin::names(table),
        })
}
