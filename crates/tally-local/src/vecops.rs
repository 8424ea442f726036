//! Float kernels of the forward pass (dot products, scaled adds, RMS norm), compiled twice: with
//! AVX2/FMA enabled for CPUs that have it (chosen at run time) and for the baseline target.
//!
//! The sums use eight independent accumulators in a fixed order and never fuse multiply-adds,
//! so both builds return the same bits, and LLVM can vectorise them without reassociating.

macro_rules! kernels {
    ($($attr:meta)?) => {
        $(#[$attr])?
        pub unsafe fn dot(a: &[f32], b: &[f32]) -> f32 {
            let n = a.len().min(b.len());
            let (a, b) = (&a[..n], &b[..n]);
            let mut acc = [0f32; 8];
            let chunks = n / 8;
            for c in 0..chunks {
                let (x, y) = (&a[c * 8..c * 8 + 8], &b[c * 8..c * 8 + 8]);
                for l in 0..8 {
                    acc[l] += x[l] * y[l];
                }
            }
            let mut tail = 0f32;
            for i in chunks * 8..n {
                tail += a[i] * b[i];
            }
            ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail
        }

        /// `g = silu(g) * u`, as ggml's vectorised SwiGLU computes it (`ggml_v_silu` with its
        /// own polynomial `exp`, every fused multiply-add where ggml has one), so the result is
        /// bit-identical to llama.cpp's: it feeds an 8-bit quantisation (see [`rms_norm`]).
        $(#[$attr])?
        pub unsafe fn swiglu(g: &mut [f32], u: &[f32]) {
            for (g, u) in g.iter_mut().zip(u) {
                let x = *g;
                *g = x / (1.0 + ggml_expf(0.0 - x)) * u;
            }
        }

        $(#[$attr])?
        #[inline]
        unsafe fn ggml_expf(x: f32) -> f32 {
            let c = f32::from_bits;
            let r = c(0x4b40_0000);
            let z = x.mul_add(c(0x3fb8_aa3b), r);
            let n = z - r;
            let b = (-n).mul_add(c(0x35bf_be8e), (-n).mul_add(c(0x3f31_7200), x));
            let e = z.to_bits() << 23;
            let k = c(e.wrapping_add(1f32.to_bits()));
            let u = b * b;
            let j = c(0x3c07_2010)
                .mul_add(b, c(0x3d2b_9f17))
                .mul_add(u, c(0x3e2a_af33).mul_add(b, c(0x3eff_fedb)))
                .mul_add(u, c(0x3f7f_fff6) * b);
            if n.abs() <= 126.0 {
                return j.mul_add(k, k);
            }
            // Out of the polynomial's range: scale in two steps, or saturate.
            let g: u32 = if n <= 0.0 { 0x8200_0000 } else { 0 };
            let s1 = c(g.wrapping_add(0x7f00_0000));
            let s2 = c(e.wrapping_sub(g));
            if n.abs() > 192.0 {
                s1 * s1
            } else {
                s2.mul_add(j, s2) * s1
            }
        }

        $(#[$attr])?
        pub unsafe fn axpy(y: &mut [f32], s: f32, x: &[f32]) {
            for (y, x) in y.iter_mut().zip(x) {
                *y += s * x;
            }
        }
    };
}

mod base {
    kernels!();
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    kernels!(target_feature(enable = "avx2,fma"));
}

fn use_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        static DETECTED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        *DETECTED
            .get_or_init(|| is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"))
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if use_avx2() {
        // SAFETY: AVX2 and FMA were detected.
        return unsafe { avx2::dot(a, b) };
    }
    // SAFETY: the baseline build needs no CPU feature.
    unsafe { base::dot(a, b) }
}

/// `y += s * x`.
pub fn axpy(y: &mut [f32], s: f32, x: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    if use_avx2() {
        // SAFETY: AVX2 and FMA were detected.
        return unsafe { avx2::axpy(y, s, x) };
    }
    // SAFETY: the baseline build needs no CPU feature.
    unsafe { base::axpy(y, s, x) }
}

/// `g = silu(g) * u` elementwise (the gated unit of the feed-forward block).
pub fn swiglu(g: &mut [f32], u: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    if use_avx2() {
        // SAFETY: AVX2 and FMA were detected.
        return unsafe { avx2::swiglu(g, u) };
    }
    // SAFETY: the baseline build needs no CPU feature.
    unsafe { base::swiglu(g, u) }
}

/// `out = x / rms(x) * w`, as ggml computes it: squares summed in f64 in order, the mean
/// rounded to f32. A scale one ulp off flips a few roundings when the next product quantises
/// its input to 8 bits, which moved llama.cpp's log-probabilities by up to 0.1 over a prompt.
pub fn rms_norm(x: &[f32], w: &[f32], eps: f32, out: &mut [f32]) {
    let sum: f64 = x.iter().map(|&v| (v * v) as f64).sum();
    let mean = (sum / x.len() as f64) as f32;
    let scale = 1.0 / (mean + eps).sqrt();
    for ((o, v), g) in out.iter_mut().zip(x).zip(w) {
        *o = v * scale * g;
    }
}

pub fn softmax_in_place(x: &mut [f32]) {
    let max = x.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    let mut sum = 0f32;
    for v in x.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    let inv = 1.0 / sum;
    for v in x.iter_mut() {
        *v *= inv;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispatched_and_baseline_kernels_agree_bit_for_bit() {
        let a: Vec<f32> = (0..67).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..67).map(|i| (i as f32 * 0.11).cos()).collect();
        // SAFETY: the baseline build needs no CPU feature.
        assert_eq!(
            dot(&a, &b).to_bits(),
            unsafe { base::dot(&a, &b) }.to_bits()
        );
        let naive: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert!((dot(&a, &b) - naive).abs() < 1e-4);
        let mut g: Vec<f32> = (0..400).map(|i| (i as f32 - 200.0) * 0.7).collect();
        let u: Vec<f32> = (0..400).map(|i| (i as f32 * 0.13).cos()).collect();
        let mut g_base = g.clone();
        swiglu(&mut g, &u);
        // SAFETY: the baseline build needs no CPU feature.
        unsafe { base::swiglu(&mut g_base, &u) };
        assert_eq!(g, g_base);
        for (i, (&y, &u)) in g.iter().zip(&u).enumerate() {
            let x = (i as f32 - 200.0) * 0.7;
            let exact = (x as f64 / (1.0 + (-x as f64).exp()) * u as f64) as f32;
            assert!(
                (y - exact).abs() <= 1e-5 * exact.abs().max(1e-3),
                "{x}: {y} vs {exact}"
            );
        }
    }
}
