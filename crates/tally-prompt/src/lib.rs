//! Prompts for math LLMs in NeMo-Skills' format, rendered byte for byte as NeMo-Skills renders
//! them, plus Hugging Face chat templates.
//!
//! A [`Prompt`] is a *config* ([`PromptConfig`]: `system` and `user` text with `{field}`
//! placeholders and optional few-shot settings) and an optional *template* ([`PromptTemplate`]:
//! the literal strings around each turn, stop phrases and code-execution tags). Both are the YAML
//! files of NeMo-Skills; `generic/math`, `openmath/tir`, `judge/math`, `genselect/math`, `gensynthesis/math`, `qwen-instruct` and
//! `openmath-instruct` are built in, and a value ending in `.yaml` is read as a path, exactly
//! like `++prompt_config=` / `++prompt_template=`.
//!
//! [`Prompt::fill`] takes one input record. With a template it returns the completion text
//! (`text_begin`, the system block — present even when empty —, the user turn and
//! `assistant_begin`); without one it returns OpenAI chat messages. Placeholders follow Python
//! `str.format` ([`py_format`]): fields are inserted as Python's `str()` would print them, `{{`
//! and `}}` are literal braces, and a missing field is an error naming it and the config.
//! [`Prompt::content_hash`] identifies a prompt's content, so a resumed run can detect a changed
//! prompt.
//!
//! [`ChatTemplate`] renders the Jinja chat template a model ships — from `tokenizer_config.json`,
//! `chat_template.jinja` or a GGUF file's metadata ([`GgufMetadata`]) — with MiniJinja set up like
//! `transformers` (trimmed blocks, Python string methods, `tojson`, `raise_exception`,
//! `strftime_now`).
//!
//! ```
//! use serde_json::json;
//! use tally_prompt::Prompt;
//!
//! let prompt = Prompt::load("openmath/tir", Some("qwen-instruct"))?;
//! let record = json!({"problem": "What is $2+2$?", "total_code_executions": 8});
//! let text = prompt.fill(record.as_object().unwrap())?;
//! let text = text.as_text().unwrap();
//! assert!(text.starts_with("<|im_start|>system\n<|im_end|>\n<|im_start|>user\n"));
//! assert!(text.contains("You may perform up to 8 Python code calls"));
//! assert!(text.ends_with("What is $2+2$?<|im_end|>\n<|im_start|>assistant\n"));
//! assert_eq!(prompt.stop_phrases(&[]), ["<|im_end|>", "<|endoftext|>"]);
//!
//! // Without `total_code_executions` the error names the key and the config.
//! let err = prompt.fill(json!({"problem": "x"}).as_object().unwrap()).unwrap_err();
//! assert!(err.to_string().contains("total_code_executions"));
//! assert!(err.to_string().contains("openmath/tir"));
//! # Ok::<(), tally_prompt::PromptError>(())
//! ```

pub mod builtin;
pub mod chat_template;
pub mod config;
pub mod error;
pub mod examples;
pub mod gguf;
pub mod prompt;
pub mod pyformat;
pub mod pystr;
mod strftime;

pub use chat_template::{ChatTemplate, RenderOptions};
pub use config::{FewShotConfig, PromptConfig, PromptTemplate};
pub use error::PromptError;
pub use examples::ExampleSets;
pub use gguf::{GgufLimits, GgufMetadata, GgufTensorInfo, GgufValue};
pub use prompt::{ChatMessage, CodeTags, Filled, Prompt};
pub use pyformat::py_format;
pub use pystr::{py_repr, py_str, py_strip};
