//! Building a [`LlamaModel`] from a GGUF file (llama or qwen2 architecture): hyper-parameters
//! from the metadata, tensors from the file's index (both read by tally-prompt's GGUF reader;
//! `tensors.rs` reads the bytes). Matrices in a block format `blocks.rs` knows keep the file's
//! exact values; others (f16, bf16, the 2- and 3-bit k-quants) are decoded and re-quantised to
//! Q8_0, which changes them slightly. Norms and biases stay in f32.

use std::path::Path;

use tally_prompt::GgufMetadata;

use crate::error::LocalError;
use crate::model::{LlamaConfig, LlamaModel, RopeStyle};

/// The hyper-parameters in `meta`, whose keys are prefixed by the architecture's name.
pub fn config_from_gguf(meta: &GgufMetadata, path: &Path) -> Result<LlamaConfig, LocalError> {
    let unsupported = |message: String| LocalError::Unsupported {
        path: path.to_path_buf(),
        message,
    };
    let arch = meta.get_str("general.architecture").unwrap_or("");
    // llama.cpp's rope type per architecture: qwen2 is converted without the Q/K permutation.
    let rope_style = match arch {
        "llama" => RopeStyle::Normal,
        "qwen2" => RopeStyle::Neox,
        _ => {
            return Err(unsupported(format!(
                "architecture '{arch}' (supported: llama, qwen2)"
            )))
        }
    };
    let int = |key: &str| {
        meta.get(&format!("{arch}.{key}"))
            .and_then(|v| v.as_u64())
            .map(|v| v as usize)
            .ok_or_else(|| unsupported(format!("no integer metadata '{arch}.{key}'")))
    };
    let float = |key: &str, default: f32| match meta.get(&format!("{arch}.{key}")) {
        Some(tally_prompt::GgufValue::F32(v)) => *v,
        Some(tally_prompt::GgufValue::F64(v)) => *v as f32,
        _ => default,
    };
    let vocab = meta
        .get("tokenizer.ggml.tokens")
        .and_then(|v| v.as_array())
        .map(<[_]>::len)
        .ok_or_else(|| unsupported("no tokenizer.ggml.tokens".into()))?;
    let heads = int("attention.head_count")?;
    let config = LlamaConfig {
        rope_style,
        vocab,
        dim: int("embedding_length")?,
        layers: int("block_count")?,
        heads,
        kv_heads: int("attention.head_count_kv").unwrap_or(heads),
        ffn: int("feed_forward_length")?,
        rms_eps: float("attention.layer_norm_rms_epsilon", 1e-5),
        rope_base: float("rope.freq_base", 10_000.0),
        context: int("context_length")?,
    };
    if config.heads == 0
        || config.kv_heads == 0
        || !config.dim.is_multiple_of(config.heads)
        || !config.heads.is_multiple_of(config.kv_heads)
    {
        return Err(unsupported(format!("inconsistent head counts: {config:?}")));
    }
    if !config.dim.is_multiple_of(32)
        || !config.ffn.is_multiple_of(32)
        || !config.head_dim().is_multiple_of(2)
    {
        return Err(unsupported(format!(
            "widths must be multiples of 32 (dim {}, ffn {})",
            config.dim, config.ffn
        )));
    }
    if let Ok(rope_dims) = int("rope.dimension_count") {
        if rope_dims != config.head_dim() {
            return Err(unsupported(format!(
                "partial rotary embeddings ({rope_dims} of {} dims)",
                config.head_dim()
            )));
        }
    }
    if meta
        .get(&format!("{arch}.rope.scaling.type"))
        .is_some_and(|v| v.as_str() != Some("none"))
    {
        return Err(unsupported("rope scaling is not supported".into()));
    }
    Ok(config)
}

pub fn load_weights(path: &Path, config: LlamaConfig) -> Result<LlamaModel, LocalError> {
    use crate::model::LayerWeights;
    use crate::tensors::TensorFile;

    let file = TensorFile::open(path)?;
    let c = &config;
    let (dim, kv_dim) = (c.dim, c.kv_dim());
    let embed = file.matrix("token_embd.weight", c.vocab, dim)?;
    let mut layers = Vec::with_capacity(c.layers);
    for l in 0..c.layers {
        let m = |name: &str, rows: usize, cols: usize| {
            file.matrix(&format!("blk.{l}.{name}.weight"), rows, cols)
        };
        let bias = |name: &str, len: usize| {
            let name = format!("blk.{l}.{name}.bias");
            if file.contains(&name) {
                file.vector(&name, len).map(Some)
            } else {
                Ok(None)
            }
        };
        layers.push(LayerWeights {
            attn_norm: file.vector(&format!("blk.{l}.attn_norm.weight"), dim)?,
            wq: m("attn_q", dim, dim)?,
            wk: m("attn_k", kv_dim, dim)?,
            wv: m("attn_v", kv_dim, dim)?,
            bq: bias("attn_q", dim)?,
            bk: bias("attn_k", kv_dim)?,
            bv: bias("attn_v", kv_dim)?,
            wo: m("attn_output", dim, dim)?,
            ffn_norm: file.vector(&format!("blk.{l}.ffn_norm.weight"), dim)?,
            w_gate: m("ffn_gate", c.ffn, dim)?,
            w_up: m("ffn_up", c.ffn, dim)?,
            w_down: m("ffn_down", dim, c.ffn)?,
        });
    }
    let out_norm = file.vector("output_norm.weight", dim)?;
    let output = if file.contains("output.weight") {
        Some(file.matrix("output.weight", c.vocab, dim)?)
    } else {
        None
    };
    Ok(LlamaModel {
        config,
        embed,
        layers,
        out_norm,
        output,
    })
}
