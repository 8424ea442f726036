//! tally-prompt's integration tests, one binary.

mod chat_template;
mod gguf;
mod render;
