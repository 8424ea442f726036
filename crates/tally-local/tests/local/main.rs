//! tally-local's integration tests, one binary.

mod llama_cpp_parity;
mod real_model;
mod tensors_vs_gguf;
mod tiny_model;
