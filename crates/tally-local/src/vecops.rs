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

/// `out = x / rms(x) * w`.
pub fn rms_norm(x: &[f32], w: &[f32], eps: f32, out: &mut [f32]) {
    let mean = dot(x, x) / x.len() as f32;
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
    }
}
