//! The circuit breaker: after N consecutive connection failures the backend stops sending.
//!
//! A server that went away turns every remaining request into minutes of retries and a record
//! that says `request_error`. Counting consecutive *connection* failures — refused, reset, cut
//! short before an answer — and stopping at a threshold ends such a run quickly, with the samples
//! never sent left out of the journal so a rerun generates them. Any HTTP answer, even a 4xx or
//! 5xx, proves the server is there and resets the count; a timeout neither counts nor resets
//! (the server accepted the connection).

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

use tokio::sync::Notify;

/// Why a backend stopped sending: the server it talks to stopped accepting connections.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{failures} consecutive connection failures to {url} (last: {last_error})")]
pub struct Halted {
    /// The URL of the last failed attempt.
    pub url: String,
    /// Consecutive failed connection attempts when it tripped (the threshold).
    pub failures: u32,
    /// The last attempt's error (no secrets: transport errors carry none).
    pub last_error: String,
}

/// Shared across every request of one backend; trips once and stays tripped.
#[derive(Debug)]
pub struct CircuitBreaker {
    threshold: u32,
    consecutive: AtomicU32,
    halted: OnceLock<Halted>,
    tripped: Notify,
}

impl CircuitBreaker {
    /// Trips after `threshold` consecutive connection failures; 0 never trips.
    pub fn new(threshold: u32) -> Self {
        CircuitBreaker {
            threshold,
            consecutive: AtomicU32::new(0),
            halted: OnceLock::new(),
            tripped: Notify::new(),
        }
    }

    pub fn threshold(&self) -> u32 {
        self.threshold
    }

    /// The server answered (any HTTP status): it is there.
    pub fn answered(&self) {
        self.consecutive.store(0, Ordering::Relaxed);
    }

    /// An attempt got no HTTP answer (connection refused, reset, closed before or during the
    /// answer). Returns `true` when this failure tripped the breaker.
    pub fn connection_failed(&self, url: &str, error: &dyn std::fmt::Display) -> bool {
        if self.threshold == 0 {
            return false;
        }
        let n = self.consecutive.fetch_add(1, Ordering::Relaxed) + 1;
        if n < self.threshold || self.halted.get().is_some() {
            return false;
        }
        let first = self
            .halted
            .set(Halted {
                url: url.to_string(),
                failures: n,
                last_error: error.to_string(),
            })
            .is_ok();
        if first {
            self.tripped.notify_waiters();
        }
        first
    }

    /// Set once the breaker tripped.
    pub fn halted(&self) -> Option<&Halted> {
        self.halted.get()
    }

    /// Completes when the breaker trips (at once if it already has).
    pub async fn wait_tripped(&self) {
        let notified = self.tripped.notified();
        tokio::pin!(notified);
        // Registered before the check, so a trip between the two is not missed.
        notified.as_mut().enable();
        if self.halted.get().is_some() {
            return;
        }
        notified.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trips_after_threshold_consecutive_failures_only() {
        let b = CircuitBreaker::new(3);
        assert!(!b.connection_failed("http://h/v1/completions", &"refused"));
        assert!(!b.connection_failed("http://h/v1/completions", &"refused"));
        // An answer in between resets the count.
        b.answered();
        assert!(!b.connection_failed("http://h/v1/completions", &"refused"));
        assert!(!b.connection_failed("http://h/v1/completions", &"refused"));
        assert!(b.halted().is_none());
        assert!(b.connection_failed("http://h/v1/completions", &"reset"));
        let h = b.halted().unwrap();
        assert_eq!(h.failures, 3);
        assert_eq!(h.url, "http://h/v1/completions");
        assert_eq!(
            h.to_string(),
            "3 consecutive connection failures to http://h/v1/completions (last: reset)"
        );
        // Stays tripped; later failures do not trip it again, answers do not reopen it.
        assert!(!b.connection_failed("u", &"x"));
        b.answered();
        assert_eq!(b.halted().unwrap().failures, 3);
    }

    #[test]
    fn zero_never_trips() {
        let b = CircuitBreaker::new(0);
        for _ in 0..1000 {
            assert!(!b.connection_failed("u", &"refused"));
        }
        assert!(b.halted().is_none());
    }

    #[tokio::test]
    async fn waiters_wake_on_trip() {
        let b = std::sync::Arc::new(CircuitBreaker::new(1));
        let b2 = b.clone();
        let waiter = tokio::spawn(async move { b2.wait_tripped().await });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        b.connection_failed("u", &"refused");
        tokio::time::timeout(std::time::Duration::from_secs(5), waiter)
            .await
            .expect("woken")
            .unwrap();
        // Already tripped: returns at once.
        b.wait_tripped().await;
    }
}
