//! tally-local's GGUF reader against ggml's reference dequantisation in llama.cpp's own `gguf`
//! Python package (PyPI, pinned in `scripts/llama-server.sh gguf-python`): a file written by
//! that package with one random tensor per ggml type the crate reads, and the first layer of
//! each real model the tests use, decoded by both and compared value for value. Block formats
//! are kept exactly, so their values must be identical; the rest are decoded to f32 the same way.
//!
//! Without the Python environment or a model file the test prints a note and passes, except
//! under `CI`, where it fails.

use std::path::{Path, PathBuf};
use std::process::Command;

use tally_local::tensors::{to_f32, GgmlType, TensorFile};

use super::llama_cpp_parity::{cache, required};

fn python() -> Option<PathBuf> {
    required(
        cache()?.join("llama-server/venv-gguf/bin/python"),
        "gguf Python environment",
    )
}

fn reference(py: &Path, args: &[&str]) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/gguf_reference.py");
    let out = Command::new(py).arg(script).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "gguf_reference.py {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn reference_values(dir: &Path, name: &str) -> Vec<f32> {
    let bytes = std::fs::read(dir.join(format!("{name}.f32"))).unwrap();
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// Tensor `name` (`rows × cols`) read by tally-local, both as raw values and, for matrices, as
/// the kernel's matrix form row by row, against the reference.
fn compare(file: &TensorFile, dir: &Path, name: &str, rows: usize, cols: usize) -> GgmlType {
    let want = reference_values(dir, name);
    assert_eq!(want.len(), rows * cols, "{name}");
    let (ty, bytes) = file.raw(name, rows, cols).unwrap();
    let got = to_f32(ty, &bytes).unwrap();
    for (i, (a, b)) in got.iter().zip(&want).enumerate() {
        assert!(
            a == b || (a - b).abs() <= 1e-6 * b.abs().max(1.0),
            "{name} ({ty:?}) value {i}: {a} vs {b}"
        );
    }
    if let (GgmlType::Block(_), true) = (ty, rows > 1) {
        let m = file.matrix(name, rows, cols).unwrap();
        let mut row = vec![0f32; cols];
        for r in 0..rows {
            m.dequantize_row(r, &mut row);
            assert_eq!(row, want[r * cols..][..cols], "{name} ({ty:?}) row {r}");
        }
    }
    ty
}

#[test]
fn every_supported_type_decodes_as_ggml_does() {
    let Some(py) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    reference(&py, &["random", d]);
    let gguf = dir.path().join("random.gguf");
    reference(&py, &["decode", gguf.to_str().unwrap(), d]);
    let file = TensorFile::open(&gguf).unwrap();
    let names = [
        "f32", "f16", "bf16", "q4_0", "q4_1", "q5_0", "q5_1", "q8_0", "q2_k", "q3_k", "q4_k",
        "q5_k", "q6_k",
    ];
    let mut types = Vec::new();
    for name in names {
        types.push(compare(&file, dir.path(), name, 4, 512));
    }
    types.dedup();
    assert_eq!(types.len(), names.len(), "one tensor per type: {types:?}");
}

fn real_model(file: &str, arch_tensors: &[(&str, usize, usize)]) {
    let Some(py) = python() else { return };
    let Some(cache) = cache() else { return };
    let Some(path) = required(cache.join("llama-server/models").join(file), "model file") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let names: Vec<&str> = arch_tensors.iter().map(|t| t.0).collect();
    let mut args = vec![
        "decode",
        path.to_str().unwrap(),
        dir.path().to_str().unwrap(),
    ];
    args.extend(&names);
    reference(&py, &args);
    let tf = TensorFile::open(&path).unwrap();
    for &(name, rows, cols) in arch_tensors {
        compare(&tf, dir.path(), name, rows, cols);
    }
}

#[test]
fn smollm2_q4_1_first_layer_decodes_as_ggml_does() {
    // SmolLM2-135M: width 576, feed-forward 1536, 3 KV heads of 64.
    real_model(
        "SmolLM2-135M-Instruct.Q4_1.gguf",
        &[
            ("blk.0.attn_norm.weight", 1, 576),
            ("blk.0.attn_q.weight", 576, 576),
            ("blk.0.attn_k.weight", 192, 576),
            ("blk.0.ffn_down.weight", 576, 1536),
            ("blk.0.ffn_up.weight", 1536, 576),
            ("output_norm.weight", 1, 576),
        ],
    );
}

#[test]
fn qwen_q4_k_m_first_layer_decodes_as_ggml_does() {
    // Qwen2.5-0.5B: width 896, feed-forward 4864, 2 KV heads of 64, q/k/v biases.
    real_model(
        "Qwen2.5-Coder-0.5B-Instruct.Q4_K_M.gguf",
        &[
            ("blk.0.attn_q.weight", 896, 896),
            ("blk.0.attn_q.bias", 1, 896),
            ("blk.0.attn_k.weight", 128, 896),
            ("blk.0.attn_v.weight", 128, 896),
            ("blk.0.ffn_down.weight", 896, 4864),
            ("blk.0.ffn_gate.weight", 4864, 896),
            ("output_norm.weight", 1, 896),
        ],
    );
}
