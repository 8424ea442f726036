//! Tally's embedded model: a GGUF llama or qwen2 (SmolLM2, Qwen2.5, OpenMath-Nemotron) running on
//! the CPU inside the process, behind the same [`Backend`](tally_backend::Backend) trait as the
//! HTTP servers.
//!
//! [`LocalBackend::load`] reads the model's metadata with tally-prompt's GGUF reader (the chat
//! template, the tokenizer vocabulary and merges, the hyper-parameters, the tensor index) and its
//! tensors itself (`tensors.rs`). The forward pass, the tokenizer and the scheduler are this
//! crate's own:
//!
//! - **Kernels** (`quant.rs`, `blocks.rs`, `vecops.rs`): weights keep the file's values (8-bit
//!   quants in blocks of 32 with per-half scales and offsets, which hold ggml's 4/5/6/8-bit
//!   formats exactly) and activations are quantised as llama.cpp quantises them for that format
//!   (Q8_0/Q8_1 or Q8_K), so linear layers are llama.cpp's integer dot products; AVX2 is chosen
//!   at run time, so no `target-cpu` flag is needed and the same binary runs everywhere.
//! - **Batching** (`worker.rs`, `model.rs`): one model thread serves all requests. Each step runs
//!   the next token of every decoding sequence plus a chunk of any prompt still being read
//!   through one pass of every layer; each sequence keeps its own KV cache and positions
//!   (continuous batching over ragged sequences, no padding).
//! - **Determinism**: a row's arithmetic is the same whatever else is in the batch and whatever
//!   the thread count, so greedy output alone equals greedy output under load, and each request
//!   samples from its own seeded generator.
//! - **Tokenizer** (`tokenizer.rs`): byte-level BPE with llama.cpp's pre-tokenizer regexes, giving
//!   llama-server's token ids.
//!
//! Generated text follows vLLM's convention: a matched stop phrase is left out of `text` and
//! returned as `stop_reason`; an end-of-generation token stops with no `stop_reason`.
//!
//! ```no_run
//! use tally_backend::{Backend, ChatMessage, GenerationRequest};
//! use tally_local::{LocalBackend, LocalOptions};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let model = LocalBackend::load("SmolLM2-135M-Instruct.Q4_1.gguf".as_ref(), LocalOptions::default())?;
//! let answer = model.generate(&GenerationRequest::chat(vec![ChatMessage::user("What is 2+3?")])).await?;
//! assert!(answer.text.contains('5'));
//! # Ok(()) }
//! ```

mod backend;
pub mod blocks;
mod error;
mod load;
pub mod model;
mod pool;
pub mod quant;
pub mod sampler;
pub mod tensors;
pub mod tokenizer;
mod vecops;
mod worker;

pub use backend::{LocalBackend, LocalOptions};
pub use error::LocalError;
pub use model::{LlamaConfig, LlamaModel, RopeStyle};
pub use tokenizer::Tokenizer;
