//! A prompt = config + optional template + example sets; filling it with a record gives the text
//! (completion mode) or the chat messages (chat mode) sent to a model.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::config::{PromptConfig, PromptTemplate};
use crate::error::PromptError;
use crate::examples::{apply_code_tags, ExampleSets};
use crate::pyformat::py_format;

/// One OpenAI-style chat message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub role: String,
    pub content: String,
}

impl ChatMessage {
    pub fn new(role: impl Into<String>, content: impl Into<String>) -> ChatMessage {
        ChatMessage {
            role: role.into(),
            content: content.into(),
        }
    }
}

/// What a filled prompt is: one string for `/v1/completions`-style calls (a template was
/// given), or messages for `/v1/chat/completions` (no template; the server's chat template
/// wraps them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Filled {
    Text(String),
    Messages(Vec<ChatMessage>),
}

impl Filled {
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Filled::Text(t) => Some(t),
            Filled::Messages(_) => None,
        }
    }

    pub fn as_messages(&self) -> Option<&[ChatMessage]> {
        match self {
            Filled::Text(_) => None,
            Filled::Messages(m) => Some(m),
        }
    }
}

/// The code-execution tags a template defines, for the TIR loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeTags {
    pub code_begin: String,
    pub code_end: String,
    pub code_output_begin: String,
    pub code_output_end: String,
    pub code_output_format: String,
}

/// A ready prompt. Immutable and cheap to share between concurrent requests.
#[derive(Debug, Clone, PartialEq)]
pub struct Prompt {
    config: PromptConfig,
    template: Option<PromptTemplate>,
    examples: ExampleSets,
}

impl Prompt {
    /// A prompt in completion mode when `template` is given, chat mode otherwise.
    pub fn new(config: PromptConfig, template: Option<PromptTemplate>) -> Prompt {
        Prompt {
            config,
            template,
            examples: ExampleSets::new(),
        }
    }

    /// Resolves `++prompt_config=` and `++prompt_template=` values (built-in name, or a path
    /// ending in `.yaml`).
    pub fn load(config: &str, template: Option<&str>) -> Result<Prompt, PromptError> {
        let config = PromptConfig::load(config)?;
        let template = template.map(PromptTemplate::load).transpose()?;
        Ok(Prompt::new(config, template))
    }

    /// `++examples_type=`: overrides the config's examples type when `Some`.
    pub fn with_examples_type(mut self, examples_type: Option<String>) -> Prompt {
        if examples_type.is_some() {
            self.config.few_shot_examples.examples_type = examples_type;
        }
        self
    }

    /// The example sets that `examples_type` names are looked up in.
    pub fn with_example_sets(mut self, examples: ExampleSets) -> Prompt {
        self.examples = examples;
        self
    }

    pub fn config(&self) -> &PromptConfig {
        &self.config
    }

    pub fn template(&self) -> Option<&PromptTemplate> {
        self.template.as_ref()
    }

    /// Fills the prompt with one input record.
    ///
    /// Completion mode: `text_begin + system_begin + system + system_end + user_begin + user +
    /// user_end + assistant_begin`, the system block present even when empty. Chat mode: a system
    /// message only when the config's system text is non-empty (sent unformatted, as NeMo-Skills
    /// does), then the user message.
    pub fn fill(&self, record: &Map<String, Value>) -> Result<Filled, PromptError> {
        let user = self.user_message(record)?;
        match &self.template {
            Some(t) => {
                let context = format!("prompt config '{}' (system)", self.config.name);
                let system = py_format(&self.config.system, &|k| record.get(k).cloned(), &context)?;
                let mut text =
                    String::with_capacity(t.text_begin.len() + system.len() + user.len() + 128);
                for part in [
                    &t.text_begin,
                    &t.system_begin,
                    &system,
                    &t.system_end,
                    &t.user_begin,
                    &user,
                    &t.user_end,
                    &t.assistant_begin,
                ] {
                    text.push_str(part);
                }
                Ok(Filled::Text(text))
            }
            None => {
                let mut messages = Vec::with_capacity(2);
                if !self.config.system.is_empty() {
                    messages.push(ChatMessage::new("system", self.config.system.clone()));
                }
                messages.push(ChatMessage::new("user", user));
                Ok(Filled::Messages(messages))
            }
        }
    }

    /// The user message alone: the config's `user` with `{examples}` and the record's fields.
    pub fn user_message(&self, record: &Map<String, Value>) -> Result<String, PromptError> {
        let context = format!("prompt config '{}' (user)", self.config.name);
        if record.contains_key("examples") {
            return Err(PromptError::ExamplesKeyTaken { context });
        }
        let examples = Value::String(self.examples_block(record)?);
        py_format(
            &self.config.user,
            &|k| {
                if k == "examples" {
                    Some(examples.clone())
                } else {
                    record.get(k).cloned()
                }
            },
            &context,
        )
    }

    fn examples_block(&self, record: &Map<String, Value>) -> Result<String, PromptError> {
        let shots = &self.config.few_shot_examples;
        if shots.retrieval_field.is_some() {
            return Err(PromptError::RetrievalUnsupported {
                config: self.config.name.clone(),
            });
        }
        let Some(examples_type) = shots.examples_type.as_deref() else {
            return Ok(String::new());
        };
        let context = format!("prompt config '{}' (examples_type)", self.config.name);
        let examples_type = py_format(examples_type, &|k| record.get(k).cloned(), &context)?;
        let examples =
            self.examples
                .get(&examples_type)
                .ok_or_else(|| PromptError::UnknownExamples {
                    config: self.config.name.clone(),
                    examples_type: examples_type.clone(),
                })?;
        // Chat mode has no template; the default code tags stand in for it (NeMo-Skills would
        // fail on examples with a solution here).
        let default_template;
        let template = match &self.template {
            Some(t) => t,
            None => {
                default_template = PromptTemplate::with_default_code_tags();
                &default_template
            }
        };
        let context = format!(
            "prompt config '{}' (few-shot template, examples '{examples_type}')",
            self.config.name
        );
        let mut filled = String::new();
        for example in examples {
            let mut example = example.clone();
            if let Some(Value::String(solution)) = example.get("solution") {
                let solution = apply_code_tags(solution, template)?;
                example.insert("solution".into(), Value::String(solution));
            }
            let with_template = self.template.as_ref();
            filled.push_str(&py_format(
                &shots.template,
                &|k| {
                    example
                        .get(k)
                        .cloned()
                        .or_else(|| with_template.and_then(|t| t.field(k)))
                },
                &context,
            )?);
        }
        if filled.is_empty() {
            return Ok(String::new());
        }
        Ok(format!("{}{}{}", shots.prefix, filled, shots.suffix))
    }

    /// Stop phrases to send: the template's, then `extra` (`++extra_stop_phrases`). In chat mode
    /// only `extra` is sent.
    pub fn stop_phrases(&self, extra: &[String]) -> Vec<String> {
        let mut phrases = self
            .template
            .as_ref()
            .map(|t| t.stop_phrases.clone())
            .unwrap_or_default();
        phrases.extend(extra.iter().cloned());
        phrases
    }

    /// The template's code tags; `None` in chat mode, where code execution is not supported.
    pub fn code_tags(&self) -> Option<CodeTags> {
        self.template.as_ref().map(|t| CodeTags {
            code_begin: t.code_begin.clone(),
            code_end: t.code_end.clone(),
            code_output_begin: t.code_output_begin.clone(),
            code_output_end: t.code_output_end.clone(),
            code_output_format: t.code_output_format.clone(),
        })
    }

    /// sha256 (hex) of everything that shapes the filled text: the config, the template and the
    /// example sets, but not where they were loaded from. The generation engine stores it with
    /// its output so a resume under a changed prompt is detected.
    ///
    /// The hashed bytes are [`Prompt::canonical_json`].
    pub fn content_hash(&self) -> String {
        hex::encode(Sha256::digest(self.canonical_json().as_bytes()))
    }

    /// Compact JSON `{"format":"tally-prompt/1","config":…,"template":…|null,"examples":…}`
    /// with fields in declaration order; the input of [`Prompt::content_hash`].
    pub fn canonical_json(&self) -> String {
        let doc = serde_json::json!({
            "format": "tally-prompt/1",
            "config": &self.config,
            "template": &self.template,
            "examples": self.examples.to_json(),
        });
        serde_json::to_string(&doc).expect("prompt parts serialize to JSON")
    }
}

impl PromptTemplate {
    fn with_default_code_tags() -> PromptTemplate {
        use crate::config::defaults;
        PromptTemplate {
            name: "<chat mode>".into(),
            text_begin: String::new(),
            system_begin: String::new(),
            system_end: String::new(),
            user_begin: String::new(),
            user_end: String::new(),
            assistant_begin: String::new(),
            assistant_end: String::new(),
            stop_phrases: Vec::new(),
            code_begin: defaults::code_begin(),
            code_end: defaults::code_end(),
            code_output_begin: defaults::code_output_begin(),
            code_output_end: defaults::code_output_end(),
            code_output_format: defaults::code_output_format(),
        }
    }
}
