//! Hugging Face chat templates: the Jinja program a model ships (in `tokenizer_config.json`,
//! `chat_template.jinja` or GGUF metadata) that turns chat messages into the model's prompt text.
//! Rendered with MiniJinja, configured the way `transformers` configures Jinja2.

use std::path::Path;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use indexmap::IndexMap;
use minijinja::value::Kwargs;
use minijinja::{AutoEscape, Environment, Error, ErrorKind};
use serde_json::{Map, Value};

use crate::error::PromptError;
use crate::gguf::{GgufMetadata, GgufValue};
use crate::prompt::ChatMessage;
use crate::strftime::strftime_utc;
use tally_core::pyjson::{dumps, DumpOptions};

const TEMPLATE_NAME: &str = "chat_template";

/// Per-call knobs of [`ChatTemplate::render`].
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// Append the opening of an assistant turn (what generation continues from).
    pub add_generation_prompt: bool,
    /// Extra template variables (`tools`, `documents`, `enable_thinking`, …).
    pub extra: Map<String, Value>,
}

/// A compiled chat template plus the special tokens it may reference. Immutable and cheap to
/// clone; render it from many threads.
#[derive(Clone)]
pub struct ChatTemplate {
    origin: String,
    source: Arc<str>,
    special_tokens: IndexMap<String, String>,
    env: Arc<Environment<'static>>,
}

impl std::fmt::Debug for ChatTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatTemplate")
            .field("origin", &self.origin)
            .field("special_tokens", &self.special_tokens)
            .finish_non_exhaustive()
    }
}

impl ChatTemplate {
    /// Compiles `source`. `origin` names where it came from in error messages;
    /// `special_tokens` are variables such as `bos_token` and `eos_token`. `strftime_now` reads
    /// the system clock; use [`ChatTemplate::with_fixed_time`] for reproducible prompts.
    pub fn new(
        source: &str,
        origin: &str,
        special_tokens: IndexMap<String, String>,
    ) -> Result<ChatTemplate, PromptError> {
        ChatTemplate::build(source, origin, special_tokens, None)
    }

    /// The same template with `strftime_now` pinned to `unix_seconds` (UTC).
    pub fn with_fixed_time(self, unix_seconds: i64) -> Result<ChatTemplate, PromptError> {
        ChatTemplate::build(
            &self.source,
            &self.origin,
            self.special_tokens,
            Some(unix_seconds),
        )
    }

    fn build(
        source: &str,
        origin: &str,
        special_tokens: IndexMap<String, String>,
        fixed_time: Option<i64>,
    ) -> Result<ChatTemplate, PromptError> {
        let mut env = Environment::new();
        // transformers: ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
        // extensions=[loopcontrols]) with tojson/raise_exception/strftime_now added.
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.set_auto_escape_callback(|_| AutoEscape::None);
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.add_function("raise_exception", |message: String| -> Result<(), Error> {
            Err(Error::new(ErrorKind::InvalidOperation, message))
        });
        env.add_function(
            "strftime_now",
            move |format: String| -> Result<String, Error> {
                let now = fixed_time.unwrap_or_else(|| {
                    SystemTime::now()
                        .duration_since(UNIX_EPOCH)
                        .map(|d| d.as_secs() as i64)
                        .unwrap_or(0)
                });
                strftime_utc(&format, now).map_err(|m| {
                    Error::new(ErrorKind::InvalidOperation, format!("strftime_now: {m}"))
                })
            },
        );
        env.add_filter("tojson", tojson);
        env.add_template_owned(TEMPLATE_NAME, source.to_string())
            .map_err(|e| PromptError::ChatTemplateSource {
                origin: origin.to_string(),
                message: format!("chat template does not compile: {}", describe(&e)),
            })?;
        Ok(ChatTemplate {
            origin: origin.to_string(),
            source: Arc::from(source),
            special_tokens,
            env: Arc::new(env),
        })
    }

    /// Reads a `tokenizer_config.json`: `chat_template` as a string, or as a list of
    /// `{name, template}` (then `name` picks one, `default` when `None`); special tokens
    /// (`bos_token`, `eos_token`, …) as strings or `{"content": …}` objects.
    pub fn from_tokenizer_config(
        json_text: &str,
        origin: &str,
        name: Option<&str>,
    ) -> Result<ChatTemplate, PromptError> {
        let bad = |message: String| PromptError::ChatTemplateSource {
            origin: origin.to_string(),
            message,
        };
        let config: Map<String, Value> =
            serde_json::from_str(json_text).map_err(|e| bad(format!("not a JSON object: {e}")))?;
        let source = match config.get("chat_template") {
            Some(Value::String(s)) => match name {
                None | Some("default") => s.clone(),
                Some(other) => {
                    return Err(bad(format!(
                        "has a single chat template; no template named '{other}'"
                    )))
                }
            },
            Some(Value::Array(list)) => {
                let wanted = name.unwrap_or("default");
                let mut names = Vec::new();
                let mut found = None;
                for item in list {
                    let n = item.get("name").and_then(Value::as_str).unwrap_or("");
                    names.push(n.to_string());
                    if n == wanted {
                        found = item.get("template").and_then(Value::as_str);
                    }
                }
                found.map(str::to_string).ok_or_else(|| {
                    bad(format!(
                        "no chat template named '{wanted}' (has: {})",
                        names.join(", ")
                    ))
                })?
            }
            Some(_) => return Err(bad("'chat_template' is neither a string nor a list".into())),
            None => return Err(bad("has no 'chat_template'".into())),
        };
        let special_tokens = special_tokens_of(&config);
        ChatTemplate::new(&source, origin, special_tokens)
    }

    /// Reads a model directory as transformers does: `chat_template.jinja` when present (special
    /// tokens still from `tokenizer_config.json`), else `tokenizer_config.json`'s template.
    pub fn from_model_dir(dir: &Path, name: Option<&str>) -> Result<ChatTemplate, PromptError> {
        let read = |path: &Path| {
            std::fs::read_to_string(path).map_err(|source| PromptError::Io {
                kind: "chat template",
                path: path.to_path_buf(),
                source,
            })
        };
        let config_path = dir.join("tokenizer_config.json");
        let jinja_path = dir.join("chat_template.jinja");
        if jinja_path.is_file() && name.is_none() {
            let source = read(&jinja_path)?;
            let mut special_tokens = IndexMap::new();
            if config_path.is_file() {
                let config: Map<String, Value> = serde_json::from_str(&read(&config_path)?)
                    .map_err(|e| PromptError::ChatTemplateSource {
                        origin: config_path.display().to_string(),
                        message: format!("not a JSON object: {e}"),
                    })?;
                special_tokens = special_tokens_of(&config);
            }
            return ChatTemplate::new(&source, &jinja_path.display().to_string(), special_tokens);
        }
        let origin = config_path.display().to_string();
        ChatTemplate::from_tokenizer_config(&read(&config_path)?, &origin, name)
    }

    /// Takes `tokenizer.chat_template` (or `tokenizer.chat_template.<name>`) from GGUF metadata,
    /// with `bos_token`/`eos_token` looked up by id in `tokenizer.ggml.tokens`.
    pub fn from_gguf(meta: &GgufMetadata, name: Option<&str>) -> Result<ChatTemplate, PromptError> {
        let key = match name {
            None | Some("default") => "tokenizer.chat_template".to_string(),
            Some(n) => format!("tokenizer.chat_template.{n}"),
        };
        let source = meta.get_str(&key).ok_or_else(|| PromptError::Gguf {
            origin: meta.origin().to_string(),
            message: format!("no string metadata key '{key}'"),
        })?;
        let mut special_tokens = IndexMap::new();
        for (var, id_key) in [
            ("bos_token", "tokenizer.ggml.bos_token_id"),
            ("eos_token", "tokenizer.ggml.eos_token_id"),
            ("unk_token", "tokenizer.ggml.unknown_token_id"),
            ("pad_token", "tokenizer.ggml.padding_token_id"),
        ] {
            let token = meta
                .get(id_key)
                .and_then(GgufValue::as_u64)
                .and_then(|id| meta.token(id as usize));
            if let Some(token) = token {
                special_tokens.insert(var.to_string(), token.to_string());
            }
        }
        ChatTemplate::new(source, meta.origin(), special_tokens)
    }

    /// Reads only the metadata of a GGUF file and takes its chat template.
    pub fn from_gguf_file(path: &Path, name: Option<&str>) -> Result<ChatTemplate, PromptError> {
        let meta = GgufMetadata::read_file(path, &Default::default())?;
        ChatTemplate::from_gguf(&meta, name)
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn special_tokens(&self) -> &IndexMap<String, String> {
        &self.special_tokens
    }

    /// Renders `messages` (role/content pairs).
    pub fn render(
        &self,
        messages: &[ChatMessage],
        options: &RenderOptions,
    ) -> Result<String, PromptError> {
        let messages = serde_json::to_value(messages).expect("messages serialize");
        self.render_json(&messages, options)
    }

    /// Renders messages given as JSON (for list-form content, tool calls and other fields).
    pub fn render_json(
        &self,
        messages: &Value,
        options: &RenderOptions,
    ) -> Result<String, PromptError> {
        let mut ctx = Map::new();
        for (k, v) in &self.special_tokens {
            ctx.insert(k.clone(), Value::String(v.clone()));
        }
        for (k, v) in &options.extra {
            ctx.insert(k.clone(), v.clone());
        }
        ctx.insert("messages".into(), messages.clone());
        ctx.insert(
            "add_generation_prompt".into(),
            Value::Bool(options.add_generation_prompt),
        );
        let template = self
            .env
            .get_template(TEMPLATE_NAME)
            .expect("template added at construction");
        template
            .render(minijinja::Value::from_serialize(&ctx))
            .map_err(|e| PromptError::ChatTemplateRender {
                origin: self.origin.clone(),
                message: describe(&e),
            })
    }
}

/// `bos_token`, `eos_token`, … of a tokenizer config, given as strings or `{"content": …}`.
fn special_tokens_of(config: &Map<String, Value>) -> IndexMap<String, String> {
    let mut tokens = IndexMap::new();
    for (key, value) in config {
        if !key.ends_with("_token") {
            continue;
        }
        let token = match value {
            Value::String(s) => Some(s.clone()),
            Value::Object(o) => o.get("content").and_then(Value::as_str).map(str::to_string),
            _ => None,
        };
        if let Some(token) = token {
            tokens.insert(key.clone(), token);
        }
    }
    tokens
}

fn describe(e: &Error) -> String {
    let mut message = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        message.push_str(&format!(": {s}"));
        source = s.source();
    }
    message
}

/// transformers' `tojson`: `json.dumps(x, ensure_ascii=False, indent=…, separators=…,
/// sort_keys=…)` rather than MiniJinja's HTML-safe compact JSON.
fn tojson(value: minijinja::Value, kwargs: Kwargs) -> Result<String, Error> {
    let json = serde_json::to_value(&value)
        .map_err(|e| Error::new(ErrorKind::InvalidOperation, format!("tojson: {e}")))?;
    let indent: Option<minijinja::Value> = kwargs.get("indent")?;
    let indent = match indent {
        None => None,
        Some(v) if v.is_none() => None,
        Some(v) => match (v.as_i64(), v.as_str()) {
            (Some(n), _) => Some(" ".repeat(n.max(0) as usize)),
            (_, Some(s)) => Some(s.to_string()),
            _ => {
                return Err(Error::new(
                    ErrorKind::InvalidOperation,
                    "tojson: bad indent",
                ))
            }
        },
    };
    let separators: Option<Vec<String>> = kwargs.get("separators")?;
    let separators = match separators.as_deref() {
        None => None,
        Some([item, key]) => Some((item.clone(), key.clone())),
        Some(_) => {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                "tojson: separators must be two strings",
            ))
        }
    };
    let sort_keys: Option<bool> = kwargs.get("sort_keys")?;
    let ensure_ascii: Option<bool> = kwargs.get("ensure_ascii")?;
    kwargs.assert_all_used()?;
    Ok(dumps(
        &json,
        &DumpOptions {
            indent,
            separators,
            sort_keys: sort_keys.unwrap_or(false),
            ensure_ascii: ensure_ascii.unwrap_or(false),
        },
    ))
}
