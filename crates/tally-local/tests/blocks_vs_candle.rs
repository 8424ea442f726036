//! Every matrix of the real GGUF files, decoded by `blocks.rs`, equals candle's dequantisation of
//! the same tensor value for value (the formats are kept exactly, not re-quantised).
#![cfg(feature = "candle")]

use std::path::PathBuf;

use candle_core::quantized::{gguf_file, GgmlDType};
use candle_core::Device;
use tally_local::blocks::{decode, BlockFormat};

fn check(file: &str) {
    let Some(home) = std::env::var_os("HOME") else {
        return;
    };
    let path = PathBuf::from(home)
        .join(".cache/tally/llama-server/models")
        .join(file);
    if !path.is_file() {
        assert!(
            std::env::var_os("CI").is_none(),
            "no model file {}",
            path.display()
        );
        eprintln!("skipped: no model file {}", path.display());
        return;
    }
    let mut f = std::io::BufReader::new(std::fs::File::open(&path).unwrap());
    let content = gguf_file::Content::read(&mut f).unwrap();
    let mut names: Vec<_> = content.tensor_infos.keys().cloned().collect();
    names.sort();
    let mut checked = 0;
    for name in names {
        // Two of each kind is enough to catch a layout error and keeps the test quick.
        if name.starts_with("blk.") && !name.starts_with("blk.0.") && !name.starts_with("blk.1.") {
            continue;
        }
        let qt = content.tensor(&mut f, &name, &Device::Cpu).unwrap();
        let format = match qt.dtype() {
            GgmlDType::Q4_0 => BlockFormat::Q4_0,
            GgmlDType::Q4_1 => BlockFormat::Q4_1,
            GgmlDType::Q5_0 => BlockFormat::Q5_0,
            GgmlDType::Q5_1 => BlockFormat::Q5_1,
            GgmlDType::Q8_0 => BlockFormat::Q8_0,
            GgmlDType::Q4K => BlockFormat::Q4K,
            GgmlDType::Q5K => BlockFormat::Q5K,
            GgmlDType::Q6K => BlockFormat::Q6K,
            _ => continue,
        };
        let dims = qt.shape().dims().to_vec();
        let (rows, cols) = (dims[0], dims[1]);
        let m = decode(format, &qt.data().unwrap(), rows, cols).unwrap();
        let want = qt
            .dequantize(&Device::Cpu)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        let mut row = vec![0f32; cols];
        for r in (0..rows).step_by((rows / 64).max(1)) {
            m.dequantize_row(r, &mut row);
            for (c, (a, b)) in row.iter().zip(&want[r * cols..][..cols]).enumerate() {
                assert!(
                    (a - b).abs() <= 1e-6 * b.abs().max(1.0),
                    "{name} {format:?} [{r}, {c}]: {a} vs {b}"
                );
            }
        }
        checked += 1;
    }
    assert!(checked > 0);
}

#[test]
fn smollm2_q4_1_matrices_decode_exactly() {
    check("SmolLM2-135M-Instruct.Q4_1.gguf");
}

#[test]
fn qwen_q4_k_m_matrices_decode_exactly() {
    check("Qwen2.5-Coder-0.5B-Instruct.Q4_K_M.gguf");
}
