//! Building a [`LlamaModel`] from a GGUF file (llama or qwen2 architecture): hyper-parameters
//! from the metadata (read by tally-prompt), tensors through candle. Matrices in a block format
//! `blocks.rs` knows keep the file's exact values; others (f16, bf16, the 2- and 3-bit k-quants)
//! are decoded by candle and re-quantised to Q8_0, which changes them slightly. Norms and biases
//! stay in f32.

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

#[cfg(feature = "candle")]
pub fn load_weights(path: &Path, config: LlamaConfig) -> Result<LlamaModel, LocalError> {
    use candle_core::quantized::{gguf_file, GgmlDType};
    use candle_core::Device;

    use crate::blocks::{decode, BlockFormat};
    use crate::model::LayerWeights;
    use crate::quant::QMatrix;

    let load_err = |message: String| LocalError::Load {
        path: path.to_path_buf(),
        message,
    };
    let mut file =
        std::io::BufReader::new(std::fs::File::open(path).map_err(|e| load_err(e.to_string()))?);
    let content = gguf_file::Content::read(&mut file).map_err(|e| load_err(e.to_string()))?;
    let read = |file: &mut std::io::BufReader<std::fs::File>, name: &str, rows, cols| {
        let qt = content
            .tensor(file, name, &Device::Cpu)
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
        Ok(qt)
    };
    let vector = |qt: candle_core::quantized::QTensor, name: &str| {
        qt.dequantize(&Device::Cpu)
            .and_then(|t| t.flatten_all())
            .and_then(|t| t.to_vec1::<f32>())
            .map_err(|e| load_err(format!("tensor {name}: {e}")))
    };
    let matrix = |file: &mut _, name: &str, rows, cols| -> Result<QMatrix, LocalError> {
        let qt = read(file, name, rows, cols)?;
        let format = match qt.dtype() {
            GgmlDType::Q4_0 => Some(BlockFormat::Q4_0),
            GgmlDType::Q4_1 => Some(BlockFormat::Q4_1),
            GgmlDType::Q5_0 => Some(BlockFormat::Q5_0),
            GgmlDType::Q5_1 => Some(BlockFormat::Q5_1),
            GgmlDType::Q8_0 => Some(BlockFormat::Q8_0),
            GgmlDType::Q4K => Some(BlockFormat::Q4K),
            GgmlDType::Q5K => Some(BlockFormat::Q5K),
            GgmlDType::Q6K => Some(BlockFormat::Q6K),
            _ => None,
        };
        if let Some(format) = format {
            let bytes = qt
                .data()
                .map_err(|e| load_err(format!("tensor {name}: {e}")))?;
            return decode(format, &bytes, rows, cols).ok_or_else(|| {
                load_err(format!("tensor {name}: {format:?} data of the wrong size"))
            });
        }
        Ok(QMatrix::from_f32(&vector(qt, name)?, cols))
    };
    let c = &config;
    let (dim, kv_dim) = (c.dim, c.kv_dim());
    let embed = matrix(&mut file, "token_embd.weight", c.vocab, dim)?;
    let mut layers = Vec::with_capacity(c.layers);
    for l in 0..c.layers {
        let mut m = |name: &str, rows: usize, cols: usize| {
            matrix(&mut file, &format!("blk.{l}.{name}.weight"), rows, cols)
        };
        let (wq, wk, wv) = (
            m("attn_q", dim, dim)?,
            m("attn_k", kv_dim, dim)?,
            m("attn_v", kv_dim, dim)?,
        );
        let (wo, w_gate, w_up, w_down) = (
            m("attn_output", dim, dim)?,
            m("ffn_gate", c.ffn, dim)?,
            m("ffn_up", c.ffn, dim)?,
            m("ffn_down", dim, c.ffn)?,
        );
        let mut vec = |name: String, len: usize| -> Result<Vec<f32>, LocalError> {
            let qt = read(&mut file, &name, 1, len)?;
            vector(qt, &name)
        };
        let mut bias = |name: &str, len: usize| {
            let name = format!("blk.{l}.{name}.bias");
            if content.tensor_infos.contains_key(&name) {
                vec(name, len).map(Some)
            } else {
                Ok(None)
            }
        };
        let (bq, bk, bv) = (
            bias("attn_q", dim)?,
            bias("attn_k", kv_dim)?,
            bias("attn_v", kv_dim)?,
        );
        layers.push(LayerWeights {
            attn_norm: vec(format!("blk.{l}.attn_norm.weight"), dim)?,
            wq,
            wk,
            wv,
            bq,
            bk,
            bv,
            wo,
            ffn_norm: vec(format!("blk.{l}.ffn_norm.weight"), dim)?,
            w_gate,
            w_up,
            w_down,
        });
    }
    let out_norm = vector(
        read(&mut file, "output_norm.weight", 1, dim)?,
        "output_norm.weight",
    )?;
    let output = if content.tensor_infos.contains_key("output.weight") {
        Some(matrix(&mut file, "output.weight", c.vocab, dim)?)
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
