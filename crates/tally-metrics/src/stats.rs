//! The statistics behind the default summary: the unbiased pass@k estimator and 95% intervals.

/// Unbiased pass@k for a problem with `n` samples of which `c` are correct (Chen et al. 2021):
/// `1 - C(n-c, k) / C(n, k)`, computed as a product so it stays exact-ish for large `n`.
/// With `k > n` there is no unbiased estimate; the caller decides (we use `k = n`).
pub fn pass_at_k(n: u64, c: u64, k: u64) -> f64 {
    debug_assert!(c <= n);
    let k = k.min(n);
    if k == 0 {
        return 0.0;
    }
    if n - c < k {
        return 1.0;
    }
    let mut prob_all_wrong = 1.0f64;
    for i in (n - c + 1)..=n {
        prob_all_wrong *= 1.0 - k as f64 / i as f64;
    }
    1.0 - prob_all_wrong
}

/// Mean and sample standard deviation (n − 1 in the denominator; 0 for fewer than 2 values).
pub fn mean_sd(values: &[f64]) -> (f64, f64) {
    let n = values.len();
    if n == 0 {
        return (0.0, 0.0);
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    if n < 2 {
        return (mean, 0.0);
    }
    let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1) as f64;
    (mean, var.sqrt())
}

/// Two-sided 95% quantile of Student's t with `df` degrees of freedom.
pub fn t975(df: usize) -> f64 {
    const TABLE: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::INFINITY,
        1..=30 => TABLE[df - 1],
        _ => {
            // Cornish-Fisher expansion around the normal quantile; < 1e-3 off for df > 30.
            let z = 1.959_963_984_540_054_f64;
            let d = df as f64;
            z + (z.powi(3) + z) / (4.0 * d)
                + (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / (96.0 * d * d)
        }
    }
}

/// A 95% confidence interval for a mean of per-unit values (problems or seeds), clamped to
/// `[0, 1]` since every value here is a rate. Uses Student's t for the mean. With no values
/// there is no mean: every field is NaN and `n` is 0 ([`Interval::is_empty`]); with one, no
/// width ([`Interval::has_width`]).
pub fn mean_ci95(values: &[f64]) -> Interval {
    let n = values.len();
    if n == 0 {
        return Interval {
            mean: f64::NAN,
            low: f64::NAN,
            high: f64::NAN,
            n: 0,
        };
    }
    let (mean, sd) = mean_sd(values);
    let half = if n < 2 {
        f64::NAN
    } else {
        t975(n - 1) * sd / (n as f64).sqrt()
    };
    Interval {
        mean,
        low: (mean - half).max(0.0),
        high: (mean + half).min(1.0),
        n,
    }
}

/// A mean with its 95% interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    pub mean: f64,
    pub low: f64,
    pub high: f64,
    /// Number of units (problems or seeds) behind it.
    pub n: usize,
}

impl Interval {
    /// No unit behind it: there is no estimate (shown as `n/a`).
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// At least two units: the interval means something.
    pub fn has_width(&self) -> bool {
        self.n > 1
    }

    pub fn half_width(&self) -> f64 {
        ((self.high - self.mean).max(self.mean - self.low)).max(0.0)
    }
}

pub use tally_core::SplitMix64;

#[cfg(test)]
mod tests {
    use super::*;

    fn binom(n: u64, k: u64) -> f64 {
        if k > n {
            return 0.0;
        }
        (0..k).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64)
    }

    #[test]
    fn pass_at_k_matches_the_binomial_definition() {
        for n in 1..=20u64 {
            for c in 0..=n {
                for k in 1..=n {
                    let direct = 1.0 - binom(n - c, k) / binom(n, k);
                    let got = pass_at_k(n, c, k);
                    assert!(
                        (got - direct).abs() < 1e-12,
                        "n={n} c={c} k={k}: {got} vs {direct}"
                    );
                }
            }
        }
        // Hand-derived: n=4, c=1, k=2 → 1 - C(3,2)/C(4,2) = 1 - 3/6.
        assert!((pass_at_k(4, 1, 2) - 0.5).abs() < 1e-15);
        assert_eq!(pass_at_k(4, 0, 2), 0.0);
        assert_eq!(pass_at_k(4, 3, 2), 1.0);
    }

    #[test]
    fn pass_at_1_is_the_mean() {
        assert!((pass_at_k(64, 17, 1) - 17.0 / 64.0).abs() < 1e-15);
    }

    #[test]
    fn t_quantiles_are_close_to_tables() {
        assert_eq!(t975(1), 12.706);
        assert!((t975(60) - 2.000).abs() < 2e-3);
        assert!((t975(120) - 1.980).abs() < 2e-3);
        assert!((t975(100_000) - 1.960).abs() < 1e-3);
    }

    #[test]
    fn no_values_no_estimate() {
        let ci = mean_ci95(&[]);
        assert!(ci.is_empty() && !ci.has_width());
        assert!(ci.mean.is_nan() && ci.low.is_nan() && ci.high.is_nan());
        let one = mean_ci95(&[1.0]);
        assert!(!one.is_empty() && !one.has_width());
        assert_eq!(one.mean, 1.0);
    }

    #[test]
    fn ci_of_known_values() {
        // values 0,1,0,1: mean .5, sd = sqrt(1/3), half = 3.182 * 0.57735 / 2.
        let ci = mean_ci95(&[0.0, 1.0, 0.0, 1.0]);
        let half = 3.182 * (1.0f64 / 3.0).sqrt() / 2.0;
        assert!((ci.mean - 0.5).abs() < 1e-15);
        assert!((ci.high - (0.5 + half).min(1.0)).abs() < 1e-12);
        assert!((ci.low - (0.5 - half).max(0.0)).abs() < 1e-12);
    }
}
