//! Building a [`LlamaModel`] from a GGUF file: hyper-parameters from the metadata (read by
//! tally-prompt), tensors through candle, which decodes every ggml quantisation. Matrices are
//! re-quantised to Q8_0 (see `quant.rs` for why), norms kept in f32.

use std::path::Path;

use tally_prompt::GgufMetadata;

use crate::error::LocalError;
use crate::model::{LlamaConfig, LlamaModel};

/// The llama hyper-parameters in `meta`.
pub fn config_from_gguf(meta: &GgufMetadata, path: &Path) -> Result<LlamaConfig, LocalError> {
    let unsupported = |message: String| LocalError::Unsupported {
        path: path.to_path_buf(),
        message,
    };
    let arch = meta.get_str("general.architecture").unwrap_or("");
    if arch != "llama" {
        return Err(unsupported(format!("architecture '{arch}' (only 'llama')")));
    }
    let int = |key: &str| {
        meta.get(&format!("llama.{key}"))
            .and_then(|v| v.as_u64())
            .map(|v| v as usize)
            .ok_or_else(|| unsupported(format!("no integer metadata 'llama.{key}'")))
    };
    let float = |key: &str, default: f32| match meta.get(&format!("llama.{key}")) {
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
        || config.dim % config.heads != 0
        || config.heads % config.kv_heads != 0
    {
        return Err(unsupported(format!("inconsistent head counts: {config:?}")));
    }
    if config.dim % 32 != 0 || config.ffn % 32 != 0 || config.head_dim() % 2 != 0 {
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
        .get("llama.rope.scaling.type")
        .is_some_and(|v| v.as_str() != Some("none"))
    {
        return Err(unsupported("rope scaling is not supported".into()));
    }
    Ok(config)
}

#[cfg(feature = "candle")]
pub fn load_weights(path: &Path, config: LlamaConfig) -> Result<LlamaModel, LocalError> {
    use candle_core::quantized::gguf_file;
    use candle_core::Device;

    use crate::model::LayerWeights;
    use crate::quant::Q8Rows;

    let load_err = |message: String| LocalError::Load {
        path: path.to_path_buf(),
        message,
    };
    let mut file =
        std::io::BufReader::new(std::fs::File::open(path).map_err(|e| load_err(e.to_string()))?);
    let content = gguf_file::Content::read(&mut file).map_err(|e| load_err(e.to_string()))?;
    let mut tensor = |name: &str, rows: usize, cols: usize| -> Result<Vec<f32>, LocalError> {
        let qt = content
            .tensor(&mut file, name, &Device::Cpu)
            .map_err(|e| load_err(format!("tensor {name}: {e}")))?;
        let dims = qt.shape().dims().to_vec();
        let want: Vec<usize> = if rows == 1 {
            vec![cols]
        } else {
            vec![rows, cols]
        };
        if dims != want {
            return Err(LocalError::Unsupported {
                path: path.to_path_buf(),
                message: format!("tensor {name} has shape {dims:?}, expected {want:?}"),
            });
        }
        qt.dequantize(&Device::Cpu)
            .and_then(|t| t.flatten_all())
            .and_then(|t| t.to_vec1::<f32>())
            .map_err(|e| load_err(format!("tensor {name}: {e}")))
    };
    let c = &config;
    let (dim, kv_dim) = (c.dim, c.kv_dim());
    let embed = Q8Rows::from_f32(&tensor("token_embd.weight", c.vocab, dim)?, dim);
    let mut layers = Vec::with_capacity(c.layers);
    for l in 0..c.layers {
        let mut q8 = |name: &str, rows: usize, cols: usize| {
            tensor(&format!("blk.{l}.{name}.weight"), rows, cols)
                .map(|v| Q8Rows::from_f32(&v, cols))
        };
        let wq = q8("attn_q", dim, dim)?;
        let wk = q8("attn_k", kv_dim, dim)?;
        let wv = q8("attn_v", kv_dim, dim)?;
        let wo = q8("attn_output", dim, dim)?;
        let w_gate = q8("ffn_gate", c.ffn, dim)?;
        let w_up = q8("ffn_up", c.ffn, dim)?;
        let w_down = q8("ffn_down", dim, c.ffn)?;
        layers.push(LayerWeights {
            attn_norm: tensor(&format!("blk.{l}.attn_norm.weight"), 1, dim)?,
            wq,
            wk,
            wv,
            wo,
            ffn_norm: tensor(&format!("blk.{l}.ffn_norm.weight"), 1, dim)?,
            w_gate,
            w_up,
            w_down,
        });
    }
    let out_norm = tensor("output_norm.weight", 1, dim)?;
    let output = if content.tensor_infos.contains_key("output.weight") {
        Some(Q8Rows::from_f32(
            &tensor("output.weight", c.vocab, dim)?,
            dim,
        ))
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

#[cfg(not(feature = "candle"))]
pub fn load_weights(path: &Path, _config: LlamaConfig) -> Result<LlamaModel, LocalError> {
    Err(LocalError::NoGgufReader(path.to_path_buf()))
}
