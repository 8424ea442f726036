//! Decoding ggml's quantised blocks, as a GGUF file stores them, into [`QMatrix`] without changing
//! a value: every format here is "scale × small integer (+ offset)" per 16 or 32 values, which
//! `QMatrix` holds as is. Layouts follow ggml's `block_*` structs (little-endian, f16 scales).

use crate::quant::{ActFormat, QMatrix, BLOCK, SUPER_BLOCK};

/// The ggml block formats this crate keeps exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockFormat {
    Q4_0,
    Q4_1,
    Q5_0,
    Q5_1,
    Q8_0,
    Q4K,
    Q5K,
    Q6K,
}

impl BlockFormat {
    /// Values per block and bytes per block.
    pub(crate) fn geometry(self) -> (usize, usize) {
        match self {
            BlockFormat::Q4_0 => (32, 18),
            BlockFormat::Q4_1 => (32, 20),
            BlockFormat::Q5_0 => (32, 22),
            BlockFormat::Q5_1 => (32, 24),
            BlockFormat::Q8_0 => (32, 34),
            BlockFormat::Q4K => (256, 144),
            BlockFormat::Q5K => (256, 176),
            BlockFormat::Q6K => (256, 210),
        }
    }

    fn name(self) -> &'static str {
        match self {
            BlockFormat::Q4_0 => "Q4_0",
            BlockFormat::Q4_1 => "Q4_1",
            BlockFormat::Q5_0 => "Q5_0",
            BlockFormat::Q5_1 => "Q5_1",
            BlockFormat::Q8_0 => "Q8_0",
            BlockFormat::Q4K => "Q4_K",
            BlockFormat::Q5K => "Q5_K",
            BlockFormat::Q6K => "Q6_K",
        }
    }

    /// The activation quantisation llama.cpp pairs with this format (its `vec_dot_type`).
    fn act(self) -> ActFormat {
        match self {
            BlockFormat::Q4K | BlockFormat::Q5K | BlockFormat::Q6K => ActFormat::Q8K,
            _ => ActFormat::Q8_0,
        }
    }

    fn has_offset(self) -> bool {
        matches!(
            self,
            BlockFormat::Q4_1 | BlockFormat::Q5_1 | BlockFormat::Q4K | BlockFormat::Q5K
        )
    }
}

fn f16(b: &[u8]) -> f32 {
    f16_to_f32(u16::from_le_bytes([b[0], b[1]]))
}

/// IEEE half to single precision (exact).
pub fn f16_to_f32(h: u16) -> f32 {
    let sign = ((h as u32) & 0x8000) << 16;
    let exp = ((h >> 10) & 0x1f) as u32;
    let mant = (h & 0x3ff) as u32;
    let bits = match (exp, mant) {
        (0, 0) => sign,
        (0, m) => {
            // Subnormal: normalise.
            let shift = m.leading_zeros() - 21;
            sign | ((113 - shift) << 23) | ((m << shift) & 0x3ff) << 13
        }
        (0x1f, m) => sign | 0x7f80_0000 | (m << 13),
        (e, m) => sign | ((e + 112) << 23) | (m << 13),
    };
    f32::from_bits(bits)
}

/// Rounds to the nearest f16 and back (ties to even), as llama.cpp's f16 KV cache stores values.
pub fn round_to_f16(x: f32) -> f32 {
    let bits = x.to_bits();
    let sign = bits & 0x8000_0000;
    let abs = f32::from_bits(bits & 0x7fff_ffff);
    if abs.is_nan() || abs >= 65520.0 {
        return if abs.is_nan() {
            x
        } else {
            f32::from_bits(sign | 0x7f80_0000)
        };
    }
    let rounded = if abs < 6.103_515_6e-5 {
        // Subnormal halves are multiples of 2^-24.
        let step = 5.960_464_5e-8_f32;
        (abs / step).round_ties_even() * step
    } else {
        let b = abs.to_bits();
        let lsb = (b >> 13) & 1;
        let r = b + 0x0fff + lsb;
        f32::from_bits(r & !0x1fff)
    };
    f32::from_bits(sign | rounded.to_bits())
}

/// Ggml's 6-bit scale and min of sub-block `j` in a Q4_K/Q5_K block's 12 scale bytes.
fn scale_min_k4(j: usize, q: &[u8]) -> (u8, u8) {
    if j < 4 {
        (q[j] & 63, q[j + 4] & 63)
    } else {
        (
            (q[j + 4] & 0xf) | ((q[j - 4] >> 6) << 4),
            (q[j + 4] >> 4) | ((q[j] >> 6) << 4),
        )
    }
}

/// Decodes a `rows × cols` matrix stored in `format`. `None` when the sizes do not fit.
pub fn decode(format: BlockFormat, bytes: &[u8], rows: usize, cols: usize) -> Option<QMatrix> {
    let (per_block, block_bytes) = format.geometry();
    if !cols.is_multiple_of(per_block) || bytes.len() != rows * cols / per_block * block_bytes {
        return None;
    }
    let n = rows * cols;
    let mut m = QMatrix {
        rows,
        cols,
        quants: vec![0; n],
        half_scales: vec![0.0; n / 16],
        mins: if format.has_offset() {
            vec![0.0; n / BLOCK]
        } else {
            Vec::new()
        },
        act: format.act(),
        source: format.name(),
    };
    for (bi, blk) in bytes.chunks_exact(block_bytes).enumerate() {
        let base = bi * per_block;
        let q = &mut m.quants[base..][..per_block];
        let hs = &mut m.half_scales[base / 16..][..per_block / 16];
        let mins = if m.mins.is_empty() {
            &mut [][..]
        } else {
            &mut m.mins[base / BLOCK..][..per_block / BLOCK]
        };
        match format {
            BlockFormat::Q8_0 => {
                hs.fill(f16(blk));
                for (o, &b) in q.iter_mut().zip(&blk[2..34]) {
                    *o = b as i8;
                }
            }
            BlockFormat::Q4_0 | BlockFormat::Q4_1 => {
                let qs = if format == BlockFormat::Q4_0 {
                    &blk[2..18]
                } else {
                    mins[0] = f16(&blk[2..]);
                    &blk[4..20]
                };
                let bias = if format == BlockFormat::Q4_0 { 8 } else { 0 };
                hs.fill(f16(blk));
                for j in 0..16 {
                    q[j] = (qs[j] & 0xf) as i8 - bias;
                    q[j + 16] = (qs[j] >> 4) as i8 - bias;
                }
            }
            BlockFormat::Q5_0 | BlockFormat::Q5_1 => {
                let (qh, qs, bias) = if format == BlockFormat::Q5_0 {
                    (&blk[2..6], &blk[6..22], 16)
                } else {
                    mins[0] = f16(&blk[2..]);
                    (&blk[4..8], &blk[8..24], 0)
                };
                let qh = u32::from_le_bytes([qh[0], qh[1], qh[2], qh[3]]);
                hs.fill(f16(blk));
                for j in 0..16 {
                    let h0 = ((qh >> j) << 4) & 0x10;
                    let h1 = (qh >> (j + 12)) & 0x10;
                    q[j] = ((qs[j] as u32 & 0xf) | h0) as i8 - bias;
                    q[j + 16] = ((qs[j] as u32 >> 4) | h1) as i8 - bias;
                }
            }
            BlockFormat::Q4K | BlockFormat::Q5K => {
                let (d, dmin) = (f16(blk), f16(&blk[2..]));
                let scales = &blk[4..16];
                let (qh, qs) = if format == BlockFormat::Q4K {
                    (&[][..], &blk[16..144])
                } else {
                    (&blk[16..48], &blk[48..176])
                };
                for pair in 0..SUPER_BLOCK / 64 {
                    for half in 0..2 {
                        let sub = 2 * pair + half;
                        let (sc, mn) = scale_min_k4(sub, scales);
                        hs[2 * sub] = d * sc as f32;
                        hs[2 * sub + 1] = d * sc as f32;
                        mins[sub] = -(dmin * mn as f32);
                        for l in 0..32 {
                            let byte = qs[pair * 32 + l];
                            let low = if half == 0 { byte & 0xf } else { byte >> 4 };
                            let high = if qh.is_empty() {
                                0
                            } else {
                                ((qh[l] >> sub) & 1) << 4
                            };
                            q[sub * 32 + l] = (low | high) as i8;
                        }
                    }
                }
            }
            BlockFormat::Q6K => {
                let (ql, qh, sc) = (&blk[..128], &blk[128..192], &blk[192..208]);
                let d = f16(&blk[208..]);
                for (h, s) in hs.iter_mut().zip(sc) {
                    *h = d * (*s as i8) as f32;
                }
                for n in 0..2 {
                    let (ql, qh) = (&ql[n * 64..], &qh[n * 32..]);
                    let q = &mut q[n * 128..];
                    for l in 0..32 {
                        let v =
                            |low: u8, shift: u32| ((low | ((qh[l] >> shift) & 3) << 4) as i8) - 32;
                        q[l] = v(ql[l] & 0xf, 0);
                        q[l + 32] = v(ql[l + 32] & 0xf, 2);
                        q[l + 64] = v(ql[l] >> 4, 4);
                        q[l + 96] = v(ql[l + 32] >> 4, 6);
                    }
                }
            }
        }
    }
    Some(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_convert_exactly() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x0001), 5.960_464_5e-8);
        assert_eq!(f16_to_f32(0x7bff), 65504.0);
        assert_eq!(round_to_f16(1.0 + 1.0 / 4096.0), 1.0);
        assert_eq!(round_to_f16(1.0 + 3.0 / 2048.0), 1.0 + 2.0 / 1024.0);
        assert_eq!(round_to_f16(-0.333_333_34), -0.333_251_95);
    }

    #[test]
    fn q4_1_block_keeps_scale_offset_and_nibbles() {
        // d = 0.5, m = -1.0, bytes 0x21: low nibble 1 (value j), high nibble 2 (value j + 16).
        let mut blk = vec![0x00, 0x38, 0x00, 0xbc];
        blk.extend(std::iter::repeat_n(0x21u8, 16));
        let m = decode(BlockFormat::Q4_1, &blk, 1, 32).unwrap();
        let mut row = vec![0f32; 32];
        m.dequantize_row(0, &mut row);
        assert_eq!(row[0], 0.5 * 1.0 - 1.0);
        assert_eq!(row[16], 0.5 * 2.0 - 1.0);
        assert_eq!(m.act, ActFormat::Q8_0);
    }

    #[test]
    fn q6_k_scales_each_sixteen_values() {
        let mut blk = vec![0u8; 210];
        blk[..128].fill(0x11); // low bits 1 everywhere
        for (i, s) in blk[192..208].iter_mut().enumerate() {
            *s = i as u8 + 1;
        }
        blk[208..210].copy_from_slice(&0x3c00u16.to_le_bytes()); // d = 1
        let m = decode(BlockFormat::Q6K, &blk, 1, 256).unwrap();
        let mut row = vec![0f32; 256];
        m.dequantize_row(0, &mut row);
        // value = d * scale[i / 16] * (1 - 32)
        for (i, v) in row.iter().enumerate() {
            assert_eq!(*v, (i / 16 + 1) as f32 * -31.0, "{i}");
        }
        assert_eq!(m.act, ActFormat::Q8K);
    }

    #[test]
    fn sizes_that_do_not_fit_are_refused() {
        assert!(decode(BlockFormat::Q8_0, &[0; 33], 1, 32).is_none());
        assert!(decode(BlockFormat::Q4K, &[0; 144], 1, 128).is_none());
    }
}
