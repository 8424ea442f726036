//! 8-bit block quantisation (ggml's Q8_0 layout: blocks of 32 values sharing one scale) and the
//! matrix-times-rows kernel every linear layer runs through.
//!
//! Weights are stored as Q8_0 whatever the GGUF file held, and activations are quantised to Q8_0
//! before each product, as llama.cpp does: the inner loop is then an integer dot product, which
//! AVX2 does 32 lanes at a time. The AVX2 path is picked at run time (`is_x86_feature_detected!`),
//! so the workspace needs no `target-cpu` flags.
//!
//! Every output element is computed by the same instruction sequence whatever the other rows in
//! the batch are, so batching never changes a result (greedy output is identical alone or
//! batched), and rows are split across threads by output row, never inside a dot product, so
//! the thread count does not change results either.

pub const BLOCK: usize = 32;

/// Rows of Q8_0 blocks: `scales[r * blocks + b]` and `quants[(r * blocks + b) * 32 ..][..32]`.
#[derive(Debug, Clone, Default)]
pub struct Q8Rows {
    pub rows: usize,
    pub cols: usize,
    pub scales: Vec<f32>,
    pub quants: Vec<i8>,
}

impl Q8Rows {
    /// An empty buffer for `cols`-wide rows (`cols` a multiple of 32).
    pub fn new(cols: usize) -> Q8Rows {
        debug_assert_eq!(cols % BLOCK, 0);
        Q8Rows {
            rows: 0,
            cols,
            scales: Vec::new(),
            quants: Vec::new(),
        }
    }

    /// Quantises a row-major `rows × cols` f32 matrix.
    pub fn from_f32(values: &[f32], cols: usize) -> Q8Rows {
        let mut q = Q8Rows::new(cols);
        q.reset(cols);
        for row in values.chunks_exact(cols) {
            q.push_row(row);
        }
        q
    }

    pub fn blocks_per_row(&self) -> usize {
        self.cols / BLOCK
    }

    /// Empties the buffer for rows of width `cols`, keeping its allocation.
    pub fn reset(&mut self, cols: usize) {
        self.rows = 0;
        self.cols = cols;
        self.scales.clear();
        self.quants.clear();
    }

    /// Appends one row, rounding to nearest with the scale `max|x| / 127`, as ggml's
    /// `quantize_row_q8_0` does.
    pub fn push_row(&mut self, row: &[f32]) {
        debug_assert_eq!(row.len(), self.cols);
        let start = self.quants.len();
        self.quants.resize(start + row.len(), 0);
        let scales = self.scales.len();
        self.scales.resize(scales + row.len() / BLOCK, 0.0);
        quantize_blocks(row, &mut self.scales[scales..], &mut self.quants[start..]);
        self.rows += 1;
    }

    /// Row `r` back in f32 (embedding look-ups).
    pub fn dequantize_row(&self, r: usize, out: &mut [f32]) {
        let nb = self.blocks_per_row();
        for b in 0..nb {
            let d = self.scales[r * nb + b];
            let q = &self.quants[(r * nb + b) * BLOCK..][..BLOCK];
            for (o, &v) in out[b * BLOCK..][..BLOCK].iter_mut().zip(q) {
                *o = d * v as f32;
            }
        }
    }

    /// Makes room for `rows` rows of width `cols`, contents unspecified, keeping the
    /// allocation: for filling block by block in parallel with [`quantize_blocks`].
    pub fn set_rows(&mut self, rows: usize, cols: usize) {
        debug_assert_eq!(cols % BLOCK, 0);
        self.rows = rows;
        self.cols = cols;
        self.scales.resize(rows * cols / BLOCK, 0.0);
        self.quants.resize(rows * cols, 0);
    }

    pub fn bytes(&self) -> usize {
        self.scales.len() * 4 + self.quants.len()
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
                let d = amax / 127.0;
                let inv = if d == 0.0 { 0.0 } else { 1.0 / d };
                *d_out = d;
                for (q, v) in q_out.iter_mut().zip(block) {
                    *q = (v * inv).round() as i8;
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

/// Rounds each 32-value block to nearest with the scale `max|x| / 127`, as ggml's
/// `quantize_row_q8_0` does. The baseline build calls libm's `roundf` per value, which
/// dominated decoding, hence the AVX2 build (same results: `round` is exact either way).
/// Blocks are independent, so any block-aligned part of a row may be quantised on its own.
pub fn quantize_blocks(row: &[f32], scales: &mut [f32], quants: &mut [i8]) {
    #[cfg(target_arch = "x86_64")]
    if avx2::available() {
        // SAFETY: AVX2 and FMA were detected.
        return unsafe { quantize_avx2::quantize_row(row, scales, quants) };
    }
    // SAFETY: the baseline build needs no CPU feature.
    unsafe { quantize_base::quantize_row(row, scales, quants) }
}

/// `out[t * w.rows + r] = w[r] · a[t]` for the output rows in `rows`. `out` must hold
/// `a.rows * w.rows` values; only the given rows' entries are written.
pub fn matmul_rows(w: &Q8Rows, a: &Q8Rows, rows: std::ops::Range<usize>, out: OutPtr) {
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
    use super::{OutPtr, Q8Rows, BLOCK};

    pub fn matmul_rows(w: &Q8Rows, a: &Q8Rows, rows: std::ops::Range<usize>, out: OutPtr) {
        let nb = w.blocks_per_row();
        for r in rows {
            for t in 0..a.rows {
                let mut acc = 0f32;
                for b in 0..nb {
                    let qw = &w.quants[(r * nb + b) * BLOCK..][..BLOCK];
                    let qa = &a.quants[(t * nb + b) * BLOCK..][..BLOCK];
                    let dot: i32 = qw.iter().zip(qa).map(|(&x, &y)| x as i32 * y as i32).sum();
                    acc += w.scales[r * nb + b] * a.scales[t * nb + b] * dot as f32;
                }
                // SAFETY: `t * w.rows + r` is inside the caller's buffer and owned by this call.
                unsafe { *out.0.add(t * w.rows + r) = acc };
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;
    use std::sync::OnceLock;

    use super::{OutPtr, Q8Rows, BLOCK};

    pub fn available() -> bool {
        static DETECTED: OnceLock<bool> = OnceLock::new();
        *DETECTED
            .get_or_init(|| is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"))
    }

    /// Activations at a time per weight row: each weight block is loaded once for all of them.
    const GROUP: usize = 4;

    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn matmul_rows(w: &Q8Rows, a: &Q8Rows, rows: std::ops::Range<usize>, out: OutPtr) {
        let nb = w.blocks_per_row();
        for r in rows {
            let mut t = 0;
            while t + GROUP <= a.rows {
                let sums = dot_group::<GROUP>(w, r, a, t, nb);
                for (k, s) in sums.iter().enumerate() {
                    *out.0.add((t + k) * w.rows + r) = *s;
                }
                t += GROUP;
            }
            while t < a.rows {
                let [s] = dot_group::<1>(w, r, a, t, nb);
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
        w: &Q8Rows,
        r: usize,
        a: &Q8Rows,
        t0: usize,
        nb: usize,
    ) -> [f32; N] {
        let ones = _mm256_set1_epi16(1);
        let mut acc = [_mm256_setzero_ps(); N];
        let mut wq = w.quants.as_ptr().add(r * nb * BLOCK);
        let mut ws = w.scales.as_ptr().add(r * nb);
        let mut aq: [*const i8; N] = [std::ptr::null(); N];
        let mut asc: [*const f32; N] = [std::ptr::null(); N];
        for k in 0..N {
            aq[k] = a.quants.as_ptr().add((t0 + k) * nb * BLOCK);
            asc[k] = a.scales.as_ptr().add((t0 + k) * nb);
        }
        for _ in 0..nb {
            let qw = _mm256_loadu_si256(wq as *const __m256i);
            // maddubs multiplies unsigned by signed bytes: move the weight's sign onto the
            // activation and take the weight's magnitude.
            let abs_w = _mm256_sign_epi8(qw, qw);
            let dw = *ws;
            for k in 0..N {
                let qa = _mm256_loadu_si256(aq[k] as *const __m256i);
                let signed_a = _mm256_sign_epi8(qa, qw);
                let pairs = _mm256_maddubs_epi16(abs_w, signed_a);
                let quads = _mm256_madd_epi16(pairs, ones);
                let d = _mm256_set1_ps(dw * *asc[k]);
                acc[k] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(quads), acc[k]);
                aq[k] = aq[k].wrapping_add(BLOCK);
                asc[k] = asc[k].wrapping_add(1);
            }
            wq = wq.wrapping_add(BLOCK);
            ws = ws.wrapping_add(1);
        }
        let mut res = [0f32; N];
        for k in 0..N {
            res[k] = hsum(acc[k]);
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

    fn product(w: &Q8Rows, a: &Q8Rows) -> Vec<f32> {
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

    #[test]
    fn quantised_product_is_close_to_the_float_product() {
        let (rows, cols, n) = (5, 96, 7);
        let wf = pseudo(rows * cols, 1);
        let af = pseudo(n * cols, 2);
        let out = product(&Q8Rows::from_f32(&wf, cols), &Q8Rows::from_f32(&af, cols));
        for t in 0..n {
            for r in 0..rows {
                let exact: f32 = (0..cols).map(|c| wf[r * cols + c] * af[t * cols + c]).sum();
                assert!((out[t * rows + r] - exact).abs() < 0.05, "{t},{r}");
            }
        }
    }

    #[test]
    fn a_row_gives_the_same_bits_alone_and_in_a_batch() {
        let (rows, cols) = (3, 64);
        let w = Q8Rows::from_f32(&pseudo(rows * cols, 3), cols);
        let af = pseudo(9 * cols, 4);
        let batch = product(&w, &Q8Rows::from_f32(&af, cols));
        for t in 0..9 {
            let alone = product(&w, &Q8Rows::from_f32(&af[t * cols..][..cols], cols));
            assert_eq!(alone, batch[t * rows..][..rows]);
        }
    }

    #[test]
    fn dequantised_row_round_trips_within_half_a_step() {
        let v = pseudo(64, 5);
        let q = Q8Rows::from_f32(&v, 64);
        let mut back = vec![0f32; 64];
        q.dequantize_row(0, &mut back);
        for (b, (x, y)) in v.iter().zip(&back).enumerate() {
            assert!((x - y).abs() <= q.scales[b / 32] * 0.5 + 1e-6);
        }
    }
}
