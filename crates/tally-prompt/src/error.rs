use std::path::PathBuf;

/// Everything that can go wrong while loading or rendering a prompt. Each variant names the
/// config, template, file or key involved so the message alone tells a user what to fix.
#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    #[error("unknown built-in prompt {kind} '{name}' (built-ins: {known}); a value ending in .yaml is read as a path")]
    UnknownBuiltin {
        kind: &'static str,
        name: String,
        known: String,
    },

    #[error("cannot read prompt {kind} file {path}")]
    Io {
        kind: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("prompt {kind} '{name}' is not valid YAML for a {kind}")]
    Yaml {
        kind: &'static str,
        name: String,
        #[source]
        source: serde_norway::Error,
    },

    #[error(
        "{context}: placeholder {{{key}}} has no value (the input record has no field '{key}')"
    )]
    MissingKey { context: String, key: String },

    #[error("{context}: the input record has a field 'examples', which the prompt reserves for few-shot examples")]
    ExamplesKeyTaken { context: String },

    #[error("{context}: bad format string at byte {offset}: {message}")]
    BadFormat {
        context: String,
        offset: usize,
        message: String,
    },

    #[error("prompt config '{config}': unknown examples type '{examples_type}'")]
    UnknownExamples {
        config: String,
        examples_type: String,
    },

    #[error("prompt template '{template}': unknown code_output_format '{format}' (expected qwen or llama)")]
    UnknownCodeOutputFormat { template: String, format: String },

    #[error("prompt config '{config}': retrieval-based few-shot examples (retrieval_field) are not supported")]
    RetrievalUnsupported { config: String },

    #[error("few-shot examples file {path}: {message}")]
    BadExamples { path: PathBuf, message: String },

    #[error("{origin}: {message}")]
    ChatTemplateSource { origin: String, message: String },

    #[error("chat template from {origin} failed to render: {message}")]
    ChatTemplateRender { origin: String, message: String },

    #[error("GGUF file {origin}: {message}")]
    Gguf { origin: String, message: String },
}
