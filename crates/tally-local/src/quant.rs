//! Integer matrix products in ggml's block formats: weights are held as signed 8-bit quants in
//! blocks of 32 values (two scales per block, one per half, and an optional per-block offset),
//! which represents exactly what a GGUF file stores in Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K and
//! Q6_K (see `blocks.rs`); activations are quantised before each product the way llama.cpp
//! quantises them for that weight type (Q8_0/Q8_1 for the 32-value formats, Q8_K for the k-quants),
//! so a product is llama.cpp's integer dot product, up to the order of float additions.
//! Re-quantising a Q4_1 file to Q8_0, as this crate once did, moved every weight by up to half a
//! Q8 step, enough for greedy text to leave llama.cpp's after a dozen words.
//!
//! The AVX2 path is picked at run time (`is_x86_feature_detected!`), so the workspace needs no
//! `target-cpu` flags. Every output element is computed by the same instruction sequence whatever
//! the other rows in the batch are, so batching never changes a result (greedy output is
//! identical alone or batched), and rows are split across threads by output row, never inside a
//! dot product, so the thread count does not change results either.

use crate::blocks::round_to_f16;

pub const BLOCK: usize = 32;
/// Values per Q8_K activation block (one scale for 256 values).
pub const SUPER_BLOCK: usize = 256;

/// How activations are quantised before a product with a given weight matrix: llama.cpp pairs
/// each weight type with one (`vec_dot_type`), and matching it makes the products equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ActFormat {
    /// Blocks of 32, scale `max|x| / 127` (Q8_0, and Q8_1 which adds the block sum).
    #[default]
    Q8_0,
    /// Blocks of 256, scale from the signed value of largest magnitude (Q8_K).
    Q8K,
}

/// Quantised activation rows: `scales[r * blocks + b]`, `quants[(r * blocks + b) * 32 ..][..32]`
/// and `sums[r * blocks + b]` = scale × the sum of the block's quants (Q8_1's `s`, which the
/// offset of Q4_1/Q5_1/k-quant weights multiplies). Q8_K rows repeat their scale per 32-block.
#[derive(Debug, Clone, Default)]
pub struct Q8Rows {
    pub rows: usize,
    pub cols: usize,
    pub format: ActFormat,
    pub scales: Vec<f32>,
    pub quants: Vec<i8>,
    pub sums: Vec<f32>,
}

impl Q8Rows {
    /// An empty buffer for `cols`-wide rows (`cols` a multiple of 32).
    pub fn new(cols: usize) -> Q8Rows {
        debug_assert_eq!(cols % BLOCK, 0);
        Q8Rows {
            cols,
            ..Q8Rows::default()
        }
    }

    pub fn blocks_per_row(&self) -> usize {
        self.cols / BLOCK
    }

    /// Empties the buffer for rows of width `cols` in `format`, keeping its allocation.
    pub fn reset(&mut self, cols: usize, format: ActFormat) {
        self.rows = 0;
        self.cols = cols;
        self.format = format;
        self.scales.clear();
        self.quants.clear();
        self.sums.clear();
    }

    /// Appends one row quantised in `self.format`.
    pub fn push_row(&mut self, row: &[f32]) {
        debug_assert_eq!(row.len(), self.cols);
        let start = self.quants.len();
        self.quants.resize(start + row.len(), 0);
        let blocks = self.scales.len();
        self.scales.resize(blocks + row.len() / BLOCK, 0.0);
        self.sums.resize(blocks + row.len() / BLOCK, 0.0);
        quantize_activations(
            self.format,
            row,
            &mut self.scales[blocks..],
            &mut self.quants[start..],
            &mut self.sums[blocks..],
        );
        self.rows += 1;
    }

    /// Makes room for `rows` rows of width `cols`, contents unspecified, keeping the
    /// allocation: for filling in parallel with [`quantize_activations`].
    pub fn set_rows(&mut self, rows: usize, cols: usize, format: ActFormat) {
        debug_assert_eq!(cols % BLOCK, 0);
        self.rows = rows;
        self.cols = cols;
        self.format = format;
        self.scales.resize(rows * cols / BLOCK, 0.0);
        self.sums.resize(rows * cols / BLOCK, 0.0);
        self.quants.resize(rows * cols, 0);
    }
}

/// A weight matrix in blocks of 32: value `i` of block `b` is
/// `half_scales[2b + i / 16] * quants[32b + i] + mins[b]` (`mins` empty when the format has no
/// offset). Two scales per block because Q6_K scales each 16 values on its own.
#[derive(Debug, Clone, Default)]
pub struct QMatrix {
    pub rows: usize,
    pub cols: usize,
    pub quants: Vec<i8>,
    pub half_scales: Vec<f32>,
    pub mins: Vec<f32>,
    /// How activations are quantised for products with this matrix.
    pub act: ActFormat,
    /// The GGUF type the values came from (for messages and benchmarks).
    pub source: &'static str,
}

impl QMatrix {
    /// Quantises a row-major `rows × cols` f32 matrix to Q8_0 (the values change: used for
    /// formats that have no exact block form here, and for tests).
    pub fn from_f32(values: &[f32], cols: usize) -> QMatrix {
        let mut act = Q8Rows::new(cols);
        act.reset(cols, ActFormat::Q8_0);
        for row in values.chunks_exact(cols) {
            act.push_row(row);
        }
        QMatrix {
            rows: act.rows,
            cols,
            half_scales: act.scales.iter().flat_map(|&d| [d, d]).collect(),
            quants: act.quants,
            mins: Vec::new(),
            act: ActFormat::Q8_0,
            source: "Q8_0 (re-quantised)",
        }
    }

    pub fn blocks_per_row(&self) -> usize {
        self.cols / BLOCK
    }

    /// Row `r` in f32 (embedding look-ups): exactly the file's values.
    pub fn dequantize_row(&self, r: usize, out: &mut [f32]) {
        let nb = self.blocks_per_row();
        for b in r * nb..(r + 1) * nb {
            let min = self.mins.get(b).copied().unwrap_or(0.0);
            let q = &self.quants[b * BLOCK..][..BLOCK];
            let o = &mut out[(b - r * nb) * BLOCK..][..BLOCK];
            for (i, (o, &v)) in o.iter_mut().zip(q).enumerate() {
                *o = self.half_scales[2 * b + i / 16] * v as f32 + min;
            }
        }
    }

    pub fn bytes(&self) -> usize {
        self.quants.len() + (self.half_scales.len() + self.mins.len()) * 4
    }
}

/// Quantises `row` in `format` into `scales`/`quants`/`sums` (one scale and sum per 32 values).
/// Blocks are independent (256-value blocks for Q8_K), so any such-aligned part of a row may be
/// quantised on its own.
pub fn quantize_activations(
    format: ActFormat,
    row: &[f32],
    scales: &mut [f32],
    quants: &mut [i8],
    sums: &mut [f32],
) {
    match format {
        ActFormat::Q8_0 => quantize_blocks(row, scales, quants),
        ActFormat::Q8K => quantize_k(row, scales, quants),
    }
    for ((s, d), q) in sums
        .iter_mut()
        .zip(scales.iter_mut())
        .zip(quants.chunks_exact(BLOCK))
    {
        *s = *d * q.iter().map(|&v| v as i32).sum::<i32>() as f32;
        if format == ActFormat::Q8_0 {
            // Q8_0/Q8_1 blocks store their scale and sum as f16 (Q8_K keeps f32): the
            // products use the rounded values.
            *s = round_to_f16(*s);
            *d = round_to_f16(*d);
        }
    }
}

macro_rules! quantize_kernel {
    ($($attr:meta)?) => {
        $(#[$attr])?
        pub unsafe fn quantize_row(row: &[f32], scales: &mut [f32], quants: &mut [i8]) {
            for ((block, d_out), q_out) in row
                .chunks_exact(super::BLOCK)
                .zip(scales.iter_mut())
                .zip(quants.chunks_exact_mut(super::BLOCK))
            {
                let amax = block.iter().fold(0f32, |m, v| m.max(v.abs()));
                // ggml's AVX2 `quantize_row_q8_0`: id = 127 / max, round half to even.
                let id = if amax == 0.0 { 0.0 } else { 127.0 / amax };
                *d_out = amax / 127.0;
                for (q, v) in q_out.iter_mut().zip(block) {
                    *q = (v * id).round_ties_even() as i8;
                }
            }
        }
    };
}

mod quantize_base {
    quantize_kernel!();
}

#[cfg(target_arch = "x86_64")]
mod quantize_avx2 {
    quantize_kernel!(target_feature(enable = "avx2,fma"));
}

/// Q8_0 blocks of 32, as ggml's `quantize_row_q8_0` (and `_q8_1`, whose quants are the same).
/// The baseline build calls libm per value, which dominated decoding, hence the AVX2 build
/// (same results: rounding is exact either way).
pub fn quantize_blocks(row: &[f32], scales: &mut [f32], quants: &mut [i8]) {
    #[cfg(target_arch = "x86_64")]
    if avx2::available() {
        // SAFETY: AVX2 and FMA were detected.
        return unsafe { quantize_avx2::quantize_row(row, scales, quants) };
    }
    // SAFETY: the baseline build needs no CPU feature.
    unsafe { quantize_base::quantize_row(row, scales, quants) }
}

/// Q8_K blocks of 256, as ggml's `quantize_row_q8_K_ref`: the scale comes from the first value
/// of largest magnitude, with its sign; each 32-block gets a copy of the scale.
pub fn quantize_k(row: &[f32], scales: &mut [f32], quants: &mut [i8]) {
    for ((block, d_out), q_out) in row
        .chunks_exact(SUPER_BLOCK)
        .zip(scales.chunks_exact_mut(SUPER_BLOCK / BLOCK))
        .zip(quants.chunks_exact_mut(SUPER_BLOCK))
    {
        let (mut amax, mut max) = (0f32, 0f32);
        for &x in block {
            if x.abs() > amax {
                amax = x.abs();
                max = x;
            }
        }
        if amax == 0.0 {
            d_out.fill(0.0);
            q_out.fill(0);
            continue;
        }
        let iscale = -127.0 / max;
        for (q, &x) in q_out.iter_mut().zip(block) {
            *q = (iscale * x).round_ties_even().min(127.0) as i8;
        }
        d_out.fill(1.0 / iscale);
    }
}

/// `out[t * w.rows + r] = w[r] · a[t]` for the output rows in `rows`. `out` must hold
/// `a.rows * w.rows` values; only the given rows' entries are written.
pub fn matmul_rows(w: &QMatrix, a: &Q8Rows, rows: std::ops::Range<usize>, out: OutPtr) {
    debug_assert_eq!(w.cols, a.cols);
    #[cfg(target_arch = "x86_64")]
    {
        if avx2::available() {
            // SAFETY: the CPU supports AVX2 and FMA (checked just above).
            unsafe { avx2::matmul_rows(w, a, rows, out) };
            return;
        }
    }
    scalar::matmul_rows(w, a, rows, out)
}

/// A raw output pointer shared by the threads of one parallel region; each writes disjoint
/// entries.
pub struct OutPtr<T = f32>(pub *mut T);
// SAFETY: callers split the output into disjoint parts, so no two threads write one element.
unsafe impl<T: Send> Send for OutPtr<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for OutPtr<T> {}

// Derived impls would require `T: Clone`; the pointer is always copyable.
impl<T> Clone for OutPtr<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for OutPtr<T> {}

impl<T> OutPtr<T> {
    pub fn new(buf: &mut [T]) -> OutPtr<T> {
        OutPtr(buf.as_mut_ptr())
    }

    /// The pointer; a method so closures capture the whole (thread-safe) wrapper.
    pub fn get(self) -> *mut T {
        self.0
    }

    /// `len` elements from `start`.
    ///
    /// # Safety
    /// The range must lie inside the buffer this was made from, that buffer must outlive the
    /// slice, and no other live reference may overlap the range.
    pub unsafe fn slice<'a>(self, start: usize, len: usize) -> &'a mut [T] {
        std::slice::from_raw_parts_mut(self.0.add(start), len)
    }
}

mod scalar {
    use super::{OutPtr, Q8Rows, QMatrix, BLOCK};

    pub fn matmul_rows(w: &QMatrix, a: &Q8Rows, rows: std::ops::Range<usize>, out: OutPtr) {
        let nb = w.blocks_per_row();
        for r in rows {
            for t in 0..a.rows {
                let (mut acc, mut offset) = (0f32, 0f32);
                for b in 0..nb {
                    let (wb, ab) = (r * nb + b, t * nb + b);
                    let qw = &w.quants[wb * BLOCK..][..BLOCK];
                    let qa = &a.quants[ab * BLOCK..][..BLOCK];
                    for half in 0..2 {
                        let dot: i32 = qw[half * 16..][..16]
                            .iter()
                            .zip(&qa[half * 16..][..16])
                            .map(|(&x, &y)| x as i32 * y as i32)
                            .sum();
                        acc += w.half_scales[2 * wb + half] * a.scales[ab] * dot as f32;
                    }
                    if let Some(m) = w.mins.get(wb) {
                        offset += m * a.sums[ab];
                    }
                }
                // SAFETY: `t * w.rows + r` is inside the caller's buffer and owned by this call.
                unsafe { *out.0.add(t * w.rows + r) = acc + offset };
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;
    use std::sync::OnceLock;

    use super::{OutPtr, Q8Rows, QMatrix, BLOCK};

    pub fn available() -> bool {
        static DETECTED: OnceLock<bool> = OnceLock::new();
        *DETECTED
            .get_or_init(|| is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"))
    }

    /// Activations at a time per weight row: each weight block is loaded once for all of them.
    const GROUP: usize = 4;

    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn matmul_rows(w: &QMatrix, a: &Q8Rows, rows: std::ops::Range<usize>, out: OutPtr) {
        let nb = w.blocks_per_row();
        let with_mins = !w.mins.is_empty();
        for r in rows {
            let mut t = 0;
            while t + GROUP <= a.rows {
                let sums = dot_group::<GROUP>(w, r, a, t, nb, with_mins);
                for (k, s) in sums.iter().enumerate() {
                    *out.0.add((t + k) * w.rows + r) = *s;
                }
                t += GROUP;
            }
            while t < a.rows {
                let [s] = dot_group::<1>(w, r, a, t, nb, with_mins);
                *out.0.add(t * w.rows + r) = s;
                t += 1;
            }
        }
    }

    /// Weight row `r` against activation rows `t0..t0+N`. Each lane's arithmetic is the same
    /// for every `N`, which keeps batched and single results bit-identical. Pointers advance by
    /// increments so the loop carries no index arithmetic or bounds checks.
    #[inline(always)]
    unsafe fn dot_group<const N: usize>(
        w: &QMatrix,
        r: usize,
        a: &Q8Rows,
        t0: usize,
        nb: usize,
        with_mins: bool,
    ) -> [f32; N] {
        let ones = _mm256_set1_epi16(1);
        let mut acc = [_mm256_setzero_ps(); N];
        let mut offset = [0f32; N];
        let mut wq = w.quants.as_ptr().add(r * nb * BLOCK);
        let mut ws = w.half_scales.as_ptr().add(2 * r * nb);
        let mut wm = w.mins.as_ptr().wrapping_add(r * nb);
        let mut aq: [*const i8; N] = [std::ptr::null(); N];
        let mut asc: [*const f32; N] = [std::ptr::null(); N];
        let mut asum: [*const f32; N] = [std::ptr::null(); N];
        for k in 0..N {
            aq[k] = a.quants.as_ptr().add((t0 + k) * nb * BLOCK);
            asc[k] = a.scales.as_ptr().add((t0 + k) * nb);
            asum[k] = a.sums.as_ptr().add((t0 + k) * nb);
        }
        for _ in 0..nb {
            let qw = _mm256_loadu_si256(wq as *const __m256i);
            // maddubs multiplies unsigned by signed bytes: move the weight's sign onto the
            // activation and take the weight's magnitude.
            let abs_w = _mm256_sign_epi8(qw, qw);
            // Lanes 0-3 hold sums over the first 16 values, lanes 4-7 over the second.
            let dw = _mm256_set_m128(_mm_set1_ps(*ws.add(1)), _mm_set1_ps(*ws));
            for k in 0..N {
                let qa = _mm256_loadu_si256(aq[k] as *const __m256i);
                let signed_a = _mm256_sign_epi8(qa, qw);
                let pairs = _mm256_maddubs_epi16(abs_w, signed_a);
                let quads = _mm256_madd_epi16(pairs, ones);
                let d = _mm256_mul_ps(dw, _mm256_set1_ps(*asc[k]));
                acc[k] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(quads), acc[k]);
                if with_mins {
                    offset[k] += *wm * *asum[k];
                }
                aq[k] = aq[k].wrapping_add(BLOCK);
                asc[k] = asc[k].wrapping_add(1);
                asum[k] = asum[k].wrapping_add(1);
            }
            wq = wq.wrapping_add(BLOCK);
            ws = ws.wrapping_add(2);
            wm = wm.wrapping_add(1);
        }
        let mut res = [0f32; N];
        for k in 0..N {
            res[k] = hsum(acc[k]) + offset[k];
        }
        res
    }

    #[inline(always)]
    unsafe fn hsum(v: __m256) -> f32 {
        let lo = _mm256_castps256_ps128(v);
        let hi = _mm256_extractf128_ps(v, 1);
        let s = _mm_add_ps(lo, hi);
        let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        let s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
        _mm_cvtss_f32(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn act(values: &[f32], cols: usize, format: ActFormat) -> Q8Rows {
        let mut a = Q8Rows::new(cols);
        a.reset(cols, format);
        for row in values.chunks_exact(cols) {
            a.push_row(row);
        }
        a
    }

    fn product(w: &QMatrix, a: &Q8Rows) -> Vec<f32> {
        let mut out = vec![0f32; w.rows * a.rows];
        matmul_rows(w, a, 0..w.rows, OutPtr(out.as_mut_ptr()));
        out
    }

    fn pseudo(n: usize, seed: u32) -> Vec<f32> {
        let mut x = seed.wrapping_mul(2654435761).wrapping_add(1);
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                (x % 2001) as f32 / 1000.0 - 1.0
            })
            .collect()
    }

    /// A matrix with per-half scales and per-block offsets, as Q4_K/Q6_K-style files give.
    fn offset_matrix(rows: usize, cols: usize, seed: u32) -> (QMatrix, Vec<f32>) {
        let noise = pseudo(rows * cols + rows * cols / 8, seed);
        let blocks = rows * cols / BLOCK;
        let quants: Vec<i8> = noise[..rows * cols]
            .iter()
            .map(|v| (v * 15.0) as i8)
            .collect();
        let half_scales: Vec<f32> = (0..2 * blocks).map(|i| 0.01 + noise[i] * 0.003).collect();
        let mins: Vec<f32> = (0..blocks).map(|i| noise[rows * cols + i] * 0.05).collect();
        let m = QMatrix {
            rows,
            cols,
            quants,
            half_scales,
            mins,
            act: ActFormat::Q8_0,
            source: "test",
        };
        let mut dense = vec![0f32; rows * cols];
        for r in 0..rows {
            m.dequantize_row(r, &mut dense[r * cols..][..cols]);
        }
        (m, dense)
    }

    #[test]
    fn quantised_product_is_close_to_the_float_product() {
        let (rows, cols, n) = (5, 512, 7);
        let (w, wf) = offset_matrix(rows, cols, 1);
        let af = pseudo(n * cols, 2);
        for format in [ActFormat::Q8_0, ActFormat::Q8K] {
            let out = product(&w, &act(&af, cols, format));
            for t in 0..n {
                for r in 0..rows {
                    let exact: f32 = (0..cols).map(|c| wf[r * cols + c] * af[t * cols + c]).sum();
                    let got = out[t * rows + r];
                    assert!(
                        (got - exact).abs() < 0.02,
                        "{format:?} {t},{r}: {got} vs {exact}"
                    );
                }
            }
        }
        // The Q8_0 matrix of the same values is close too.
        let out = product(
            &QMatrix::from_f32(&wf, cols),
            &act(&af, cols, ActFormat::Q8_0),
        );
        let exact: f32 = (0..cols).map(|c| wf[c] * af[c]).sum();
        assert!((out[0] - exact).abs() < 0.05);
    }

    #[test]
    fn scalar_and_simd_kernels_agree() {
        let (rows, cols) = (4, 256);
        let (w, _) = offset_matrix(rows, cols, 7);
        let a = act(&pseudo(5 * cols, 8), cols, ActFormat::Q8K);
        let mut scalar_out = vec![0f32; rows * 5];
        scalar::matmul_rows(&w, &a, 0..rows, OutPtr::new(&mut scalar_out));
        for (s, v) in scalar_out.iter().zip(product(&w, &a)) {
            assert!((s - v).abs() <= 1e-4 * s.abs().max(1.0), "{s} vs {v}");
        }
    }

    #[test]
    fn q8k_uses_the_signed_extreme_as_scale() {
        let mut row = vec![0.5f32; 256];
        row[3] = 2.0;
        row[9] = -2.0;
        let a = act(&row, 256, ActFormat::Q8K);
        // ggml keeps the first value of largest magnitude (2.0): scale -2/127, its quant -127.
        assert!(a.scales.iter().all(|&d| d == 1.0 / (-127.0 / 2.0)));
        assert_eq!((a.quants[3], a.quants[9], a.quants[0]), (-127, 127, -32));
    }

    #[test]
    fn a_row_gives_the_same_bits_alone_and_in_a_batch() {
        let (rows, cols) = (3, 64);
        let (w, _) = offset_matrix(rows, cols, 3);
        let af = pseudo(9 * cols, 4);
        let batch = product(&w, &act(&af, cols, ActFormat::Q8_0));
        for t in 0..9 {
            let alone = product(&w, &act(&af[t * cols..][..cols], cols, ActFormat::Q8_0));
            assert_eq!(alone, batch[t * rows..][..rows]);
        }
    }

    #[test]
    fn q8_0_round_trips_within_half_a_step() {
        let v = pseudo(64, 5);
        let q = QMatrix::from_f32(&v, 64);
        let mut back = vec![0f32; 64];
        q.dequantize_row(0, &mut back);
        for (i, (x, y)) in v.iter().zip(&back).enumerate() {
            assert!((x - y).abs() <= q.half_scales[i / 16] * 0.5 + 1e-6);
        }
    }
}
