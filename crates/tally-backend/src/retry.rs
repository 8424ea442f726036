//! When and how long to wait before retrying a failed request.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Retries for transient failures: connection errors, HTTP 5xx, HTTP 429, broken bodies.
///
/// The wait before retry `n` (0-based) is `min(max_delay, initial_delay · 2ⁿ)`, scaled by a random
/// factor in `[0.5, 1.0]` ("equal jitter") so that a thousand requests failing together do not
/// come back together. A `Retry-After` header replaces the computed wait (capped at
/// `max_retry_after`).
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (NeMo-Skills: 3).
    pub max_retries: u32,
    pub initial_delay: Duration,
    pub max_delay: Duration,
    /// Upper bound on an honoured `Retry-After`, so a hostile or broken server cannot park a
    /// request for hours.
    pub max_retry_after: Duration,
    /// Whether a request that timed out is sent again. Off by default: a generation that ran past
    /// its deadline usually does so again, and the engine records `timeout` instead.
    pub retry_timeouts: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            initial_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(120),
            retry_timeouts: false,
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        }
    }

    /// The wait before retry number `retry` (0 for the first retry), without `Retry-After`.
    pub fn backoff(&self, retry: u32) -> Duration {
        let base = self
            .initial_delay
            .saturating_mul(2u32.saturating_pow(retry.min(31)))
            .min(self.max_delay);
        base.mul_f64(0.5 + 0.5 * unit_random())
    }

    /// The wait before retry `retry`, honouring a server's `Retry-After` if it sent one.
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        match retry_after {
            Some(d) => d.min(self.max_retry_after),
            None => self.backoff(retry),
        }
    }
}

/// Parses `Retry-After` given in seconds (`"3"`, `"1.5"`). The HTTP-date form is ignored (the
/// exponential backoff applies then): no API we talk to sends it.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let secs: f64 = value.trim().parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(86_400.0)))
}

/// A uniform number in `[0, 1)`. Jitter needs no quality randomness, only different values per
/// call and per process: std's randomly keyed hasher over a counter gives that without a crate.
fn unit_random() -> f64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    static KEYS: std::sync::OnceLock<RandomState> = std::sync::OnceLock::new();
    let mut h = KEYS.get_or_init(RandomState::new).build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_exponentially_within_jitter_and_is_capped() {
        let p = RetryPolicy {
            initial_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(700),
            ..RetryPolicy::default()
        };
        for _ in 0..200 {
            let d0 = p.backoff(0);
            assert!(
                d0 >= Duration::from_millis(50) && d0 <= Duration::from_millis(100),
                "{d0:?}"
            );
            let d2 = p.backoff(2);
            assert!(
                d2 >= Duration::from_millis(200) && d2 <= Duration::from_millis(400),
                "{d2:?}"
            );
            let d10 = p.backoff(10);
            assert!(
                d10 >= Duration::from_millis(350) && d10 <= Duration::from_millis(700),
                "{d10:?}"
            );
            assert!(p.backoff(u32::MAX) <= Duration::from_millis(700));
        }
    }

    #[test]
    fn jitter_varies() {
        let p = RetryPolicy::default();
        let a: Vec<_> = (0..20).map(|_| p.backoff(3)).collect();
        assert!(a.iter().any(|d| *d != a[0]));
    }

    #[test]
    fn retry_after_replaces_backoff_but_is_capped() {
        let p = RetryPolicy {
            max_retry_after: Duration::from_secs(10),
            ..RetryPolicy::default()
        };
        assert_eq!(
            p.delay(0, Some(Duration::from_secs(2))),
            Duration::from_secs(2)
        );
        assert_eq!(
            p.delay(0, Some(Duration::from_secs(999))),
            Duration::from_secs(10)
        );
    }

    #[test]
    fn parses_retry_after_seconds_only() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after(" 0.25 "),
            Some(Duration::from_millis(250))
        );
        assert_eq!(parse_retry_after("-1"), None);
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("NaN"), None);
    }
}
