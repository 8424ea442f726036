//! A GGUF file's tensors: the index (through tally-prompt's reader), their bytes, and the
//! formats decoded to f32 that have no exact block form in `blocks.rs` (f32, f16, bf16 and the 2-
//! and 3-bit k-quants). Layouts follow ggml's `block_q2_K` / `block_q3_K` structs and its
//! `dequantize_row_*` functions.

use std::collections::HashMap;
use std::fs::File;
use std::io::BufReader;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use tally_prompt::{GgufLimits, GgufMetadata, GgufTensorInfo};

use crate::blocks::{decode, f16_to_f32, BlockFormat};
use crate::error::LocalError;
use crate::quant::QMatrix;

/// The ggml types a model may store its tensors in, with how each is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GgmlType {
    F32,
    F16,
    Bf16,
    Q2K,
    Q3K,
    /// A format `blocks.rs` keeps exactly.
    Block(BlockFormat),
}

impl GgmlType {
    pub fn from_id(id: u32) -> Option<GgmlType> {
        Some(match id {
            0 => GgmlType::F32,
            1 => GgmlType::F16,
            30 => GgmlType::Bf16,
            10 => GgmlType::Q2K,
            11 => GgmlType::Q3K,
            2 => GgmlType::Block(BlockFormat::Q4_0),
            3 => GgmlType::Block(BlockFormat::Q4_1),
            6 => GgmlType::Block(BlockFormat::Q5_0),
            7 => GgmlType::Block(BlockFormat::Q5_1),
            8 => GgmlType::Block(BlockFormat::Q8_0),
            12 => GgmlType::Block(BlockFormat::Q4K),
            13 => GgmlType::Block(BlockFormat::Q5K),
            14 => GgmlType::Block(BlockFormat::Q6K),
            _ => return None,
        })
    }

    /// Values per block and bytes per block.
    pub fn geometry(self) -> (usize, usize) {
        match self {
            GgmlType::F32 => (1, 4),
            GgmlType::F16 | GgmlType::Bf16 => (1, 2),
            GgmlType::Q2K => (256, 84),
            GgmlType::Q3K => (256, 110),
            GgmlType::Block(f) => f.geometry(),
        }
    }

    /// Bytes of `n` values, or `None` when `n` is not a whole number of blocks.
    pub fn bytes_for(self, n: usize) -> Option<usize> {
        let (per, size) = self.geometry();
        n.is_multiple_of(per).then(|| n / per * size)
    }
}

/// `bytes` (a whole number of blocks of `ty`) decoded to f32, as ggml dequantises them.
pub fn to_f32(ty: GgmlType, bytes: &[u8]) -> Option<Vec<f32>> {
    let (per, size) = ty.geometry();
    if !bytes.len().is_multiple_of(size) {
        return None;
    }
    let n = bytes.len() / size * per;
    let mut out = Vec::with_capacity(n);
    match ty {
        GgmlType::F32 => out.extend(
            bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        ),
        GgmlType::F16 => out.extend(
            bytes
                .chunks_exact(2)
                .map(|b| f16_to_f32(u16::from_le_bytes([b[0], b[1]]))),
        ),
        GgmlType::Bf16 => out.extend(
            bytes
                .chunks_exact(2)
                .map(|b| f32::from_bits(u32::from(u16::from_le_bytes([b[0], b[1]])) << 16)),
        ),
        GgmlType::Q2K => bytes.chunks_exact(size).for_each(|b| q2_k(b, &mut out)),
        GgmlType::Q3K => bytes.chunks_exact(size).for_each(|b| q3_k(b, &mut out)),
        GgmlType::Block(f) => {
            let m = decode(f, bytes, 1, n)?;
            out.resize(n, 0.0);
            m.dequantize_row(0, &mut out);
        }
    }
    Some(out)
}

fn half(b: &[u8], at: usize) -> f32 {
    f16_to_f32(u16::from_le_bytes([b[at], b[at + 1]]))
}

/// `block_q2_K`: 16 bytes of 4-bit scale/min pairs, 64 bytes of 2-bit quants, f16 `d`, f16
/// `dmin`.
fn q2_k(b: &[u8], out: &mut Vec<f32>) {
    let (scales, qs) = (&b[..16], &b[16..80]);
    let (d, dmin) = (half(b, 80), half(b, 82));
    let mut is = 0;
    for q in qs.chunks_exact(32) {
        for shift in [0, 2, 4, 6] {
            for part in [&q[..16], &q[16..]] {
                let sc = scales[is];
                is += 1;
                let (dl, ml) = (d * f32::from(sc & 0xf), dmin * f32::from(sc >> 4));
                out.extend(part.iter().map(|&x| dl * f32::from((x >> shift) & 3) - ml));
            }
        }
    }
}

/// `block_q3_K`: 32 bytes of high bits, 64 bytes of 2-bit low quants, 12 bytes of sixteen 6-bit
/// scales, f16 `d`.
fn q3_k(b: &[u8], out: &mut Vec<f32>) {
    let (hmask, qs, packed) = (&b[..32], &b[32..96], &b[96..108]);
    let d = half(b, 108);
    // Sixteen 6-bit scales: low 4 bits from bytes 0–7, high 2 bits from bytes 8–11.
    let mut scales = [0i8; 16];
    for (j, s) in scales.iter_mut().enumerate() {
        let low = if j < 8 {
            packed[j] & 0xf
        } else {
            packed[j - 8] >> 4
        };
        let high = (packed[8 + j % 4] >> (2 * (j / 4))) & 3;
        *s = ((low | (high << 4)) as i8) - 32;
    }
    let mut is = 0;
    let mut m = 1u8;
    for q in qs.chunks_exact(32) {
        for shift in [0, 2, 4, 6] {
            for (part, hm) in [(&q[..16], &hmask[..16]), (&q[16..], &hmask[16..])] {
                let dl = d * f32::from(scales[is]);
                is += 1;
                out.extend(part.iter().zip(hm).map(|(&x, &h)| {
                    let low = i8::try_from((x >> shift) & 3).unwrap_or(0);
                    let sub = if h & m != 0 { 0 } else { 4 };
                    dl * f32::from(low - sub)
                }));
            }
            m <<= 1;
        }
    }
}

/// An open GGUF file and its tensor index.
pub struct TensorFile {
    path: PathBuf,
    file: File,
    len: u64,
    index: HashMap<String, GgufTensorInfo>,
}

impl TensorFile {
    pub fn open(path: &Path) -> Result<TensorFile, LocalError> {
        let load_err = |message: String| LocalError::Load {
            path: path.to_path_buf(),
            message,
        };
        let file = File::open(path).map_err(|e| load_err(e.to_string()))?;
        let len = file.metadata().map_err(|e| load_err(e.to_string()))?.len();
        let origin = path.display().to_string();
        let (_, tensors) =
            GgufMetadata::read_with_tensors(BufReader::new(&file), &origin, &GgufLimits::default())
                .map_err(|e| load_err(e.to_string()))?;
        let index = tensors.into_iter().map(|t| (t.name.clone(), t)).collect();
        Ok(TensorFile {
            path: path.to_path_buf(),
            file,
            len,
            index,
        })
    }

    pub fn contains(&self, name: &str) -> bool {
        self.index.contains_key(name)
    }

    fn unsupported(&self, message: String) -> LocalError {
        LocalError::Unsupported {
            path: self.path.clone(),
            message,
        }
    }

    /// The type and bytes of tensor `name`, checked to be `rows × cols` (a vector when `rows`
    /// is 1).
    pub fn raw(
        &self,
        name: &str,
        rows: usize,
        cols: usize,
    ) -> Result<(GgmlType, Vec<u8>), LocalError> {
        let info = self
            .index
            .get(name)
            .ok_or_else(|| self.unsupported(format!("no tensor {name}")))?;
        let want: Vec<u64> = if rows == 1 {
            vec![cols as u64]
        } else {
            vec![cols as u64, rows as u64]
        };
        if info.dims != want {
            return Err(self.unsupported(format!(
                "tensor {name} has dimensions {:?}, expected {want:?}",
                info.dims
            )));
        }
        let ty = GgmlType::from_id(info.ggml_type).ok_or_else(|| {
            self.unsupported(format!(
                "tensor {name} has ggml type {}, which is not supported (f32, f16, bf16, Q4_0, \
                 Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K are)",
                info.ggml_type
            ))
        })?;
        let n = ty.bytes_for(rows * cols).ok_or_else(|| {
            self.unsupported(format!(
                "tensor {name}: {rows}×{cols} is not whole {ty:?} blocks"
            ))
        })?;
        if info.offset.saturating_add(n as u64) > self.len {
            return Err(LocalError::Load {
                path: self.path.clone(),
                message: format!("tensor {name} runs past the end of the file"),
            });
        }
        let mut bytes = vec![0u8; n];
        self.file
            .read_exact_at(&mut bytes, info.offset)
            .map_err(|e| LocalError::Load {
                path: self.path.clone(),
                message: format!("tensor {name}: {e}"),
            })?;
        Ok((ty, bytes))
    }

    /// A weight matrix: block formats kept exactly, the others decoded and re-quantised to
    /// Q8_0.
    pub fn matrix(&self, name: &str, rows: usize, cols: usize) -> Result<QMatrix, LocalError> {
        let (ty, bytes) = self.raw(name, rows, cols)?;
        let bad = || LocalError::Load {
            path: self.path.clone(),
            message: format!("tensor {name}: {ty:?} data of the wrong size"),
        };
        match ty {
            GgmlType::Block(f) => decode(f, &bytes, rows, cols).ok_or_else(bad),
            _ => Ok(QMatrix::from_f32(
                &to_f32(ty, &bytes).ok_or_else(bad)?,
                cols,
            )),
        }
    }

    /// A vector (norm weights, biases) in f32.
    pub fn vector(&self, name: &str, len: usize) -> Result<Vec<f32>, LocalError> {
        let (ty, bytes) = self.raw(name, 1, len)?;
        to_f32(ty, &bytes).ok_or_else(|| LocalError::Load {
            path: self.path.clone(),
            message: format!("tensor {name}: {ty:?} data of the wrong size"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_and_brain_floats_decode_exactly() {
        let v = to_f32(GgmlType::F16, &[0x00, 0x3c, 0x00, 0xc0]).unwrap();
        assert_eq!(v, vec![1.0, -2.0]);
        let v = to_f32(GgmlType::Bf16, &[0x80, 0x3f, 0x40, 0xc0]).unwrap();
        assert_eq!(v, vec![1.0, -3.0]);
    }

    #[test]
    fn a_q2_k_block_is_scale_times_quant_minus_min() {
        let mut b = vec![0u8; 84];
        // Sub-block 0: scale 3, min 1; d = 1, dmin = 0.5 (f16 0x3c00, 0x3800).
        b[0] = 0x13;
        b[16] = 0b10; // first value's quant 2
        b[80..82].copy_from_slice(&0x3c00u16.to_le_bytes());
        b[82..84].copy_from_slice(&0x3800u16.to_le_bytes());
        let v = to_f32(GgmlType::Q2K, &b).unwrap();
        assert_eq!(v.len(), 256);
        assert_eq!(v[0], 3.0 * 2.0 - 0.5);
        assert_eq!(v[1], -0.5);
        // Sub-block 1 (values 16..32) has scale 0 and min 0.
        assert_eq!(v[16], 0.0);
    }

    #[test]
    fn a_q3_k_block_subtracts_four_where_the_high_bit_is_clear() {
        let mut b = vec![0u8; 110];
        // Scale 0: low 4 bits 5, high bits 2 → 37 - 32 = 5. d = 1.
        b[96] = 5;
        b[104] = 2;
        b[32] = 3; // value 0: low quant 3
        b[0] = 1; // value 0: high bit set (no subtraction)
        b[108..110].copy_from_slice(&0x3c00u16.to_le_bytes());
        let v = to_f32(GgmlType::Q3K, &b).unwrap();
        assert_eq!(v[0], 5.0 * 3.0);
        // Value 1: quant 0, high bit clear → (0 - 4) × 5.
        assert_eq!(v[1], -20.0);
    }

    #[test]
    fn sizes_that_are_not_whole_blocks_are_refused() {
        assert_eq!(to_f32(GgmlType::Q3K, &[0u8; 109]), None);
        assert_eq!(GgmlType::Q2K.bytes_for(255), None);
        assert_eq!(GgmlType::Q2K.bytes_for(512), Some(168));
    }
}
