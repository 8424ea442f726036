//! The model worker's compute threads. One thread runs inline; more keep `threads - 1` helpers
//! alive for the pool's lifetime, the calling thread being the last one.
//!
//! A decoding step of a small model is hundreds of parallel regions of a few tens of
//! microseconds each, so handing work over must cost far less than that: a general-purpose pool
//! (rayon's `install` plus a parallel iterator) cost more per region than the second core saved.
//! Here a region is published by bumping a counter the helpers spin on, work is claimed in
//! chunks from one atomic counter, and the caller spins until the helpers are done. Helpers park
//! after spinning for a while without work, so an idle engine does not burn a core.

use std::cell::{Cell, UnsafeCell};
use std::marker::PhantomData;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long a helper spins for the next region before parking. Far longer than the serial gaps
/// inside a step (norms, sampling), far shorter than a person would notice as a busy core.
const SPIN: Duration = Duration::from_millis(2);

/// One region's work as the helpers see it. The lifetime is erased: `for_each` does not return
/// until every helper has finished calling it.
type Job = *const (dyn Fn() + Sync + 'static);

struct Shared {
    /// Bumped once per region (and once at shutdown); a helper runs each new value's job once.
    epoch: AtomicUsize,
    job: UnsafeCell<Option<Job>>,
    /// Helpers still inside the current region.
    pending: AtomicUsize,
    /// Per helper: parked, or about to park, so the publisher must unpark it.
    sleeping: Vec<AtomicBool>,
    panicked: AtomicBool,
    shutdown: AtomicBool,
}

// SAFETY: `job` is written only by the pool's owner while `pending` is zero (no helper reads
// it), and read by helpers only after they see the new `epoch`, which is published with
// SeqCst after the write; the job itself is `Sync`.
unsafe impl Sync for Shared {}
// SAFETY: as above; the raw job pointer is only dereferenced under that protocol.
unsafe impl Send for Shared {}

pub struct Pool {
    threads: usize,
    shared: Arc<Shared>,
    helpers: Vec<JoinHandle<()>>,
    /// One region at a time: `job` has a single slot, so the pool must not be shared.
    _not_sync: PhantomData<Cell<()>>,
}

impl Pool {
    pub fn new(threads: usize) -> Result<Pool, String> {
        let threads = threads.max(1);
        let shared = Arc::new(Shared {
            epoch: AtomicUsize::new(0),
            job: UnsafeCell::new(None),
            pending: AtomicUsize::new(0),
            sleeping: (1..threads).map(|_| AtomicBool::new(false)).collect(),
            panicked: AtomicBool::new(false),
            shutdown: AtomicBool::new(false),
        });
        let mut helpers = Vec::with_capacity(threads - 1);
        for i in 0..threads - 1 {
            let theirs = shared.clone();
            let handle = std::thread::Builder::new()
                .name(format!("tally-local-{}", i + 1))
                .spawn(move || helper(&theirs, i));
            match handle {
                Ok(h) => helpers.push(h),
                Err(e) => {
                    // Dropping the partial pool stops the helpers already started.
                    drop(Pool {
                        threads: helpers.len() + 1,
                        shared,
                        helpers,
                        _not_sync: PhantomData,
                    });
                    return Err(e.to_string());
                }
            }
        }
        Ok(Pool {
            threads,
            shared,
            helpers,
            _not_sync: PhantomData,
        })
    }

    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Runs `f(0..n)`, the indices claimed one at a time by whichever thread is free, so a
    /// thread slowed by other load does not hold up the rest.
    pub fn for_each(&self, n: usize, f: impl Fn(usize) + Sync) {
        if self.helpers.is_empty() || n <= 1 {
            (0..n).for_each(f);
            return;
        }
        let next = AtomicUsize::new(0);
        let job = || loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= n {
                break;
            }
            f(i);
        };
        self.run(&job);
    }

    fn run(&self, job: &(dyn Fn() + Sync)) {
        let s = &*self.shared;
        // SAFETY: only the lifetime is erased; `job` outlives every use because this function
        // waits below for all helpers to finish with it, even if `job` panics here.
        let erased: Job = unsafe { std::mem::transmute::<&(dyn Fn() + Sync), Job>(job) };
        // SAFETY: no helper is inside a region (`pending` reached zero at the end of the last
        // one, and `&self` is not shared across threads), so nothing reads the slot now.
        unsafe { *s.job.get() = Some(erased) };
        s.pending.store(self.helpers.len(), Ordering::SeqCst);
        s.epoch.fetch_add(1, Ordering::SeqCst);
        self.wake_sleepers();
        let mine = catch_unwind(AssertUnwindSafe(job));
        let mut spins = 0u32;
        while s.pending.load(Ordering::Acquire) != 0 {
            spins += 1;
            if spins < 1 << 12 {
                std::hint::spin_loop();
            } else {
                // A helper was descheduled (the machine is busy): let it have this core.
                std::thread::yield_now();
            }
        }
        let helper_panicked = s.panicked.swap(false, Ordering::Relaxed);
        if let Err(payload) = mine {
            resume_unwind(payload);
        }
        if helper_panicked {
            panic!("a tally-local compute thread panicked");
        }
    }

    fn wake_sleepers(&self) {
        for (flag, h) in self.shared.sleeping.iter().zip(&self.helpers) {
            // Pairs with the helper's SeqCst store-then-load of `sleeping` and `epoch`: either
            // it sees the new epoch and does not park, or this sees its flag and unparks it
            // (an unpark before the park makes the park return at once).
            if flag.load(Ordering::SeqCst) {
                h.thread().unpark();
            }
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::SeqCst);
        self.shared.epoch.fetch_add(1, Ordering::SeqCst);
        for h in &self.helpers {
            h.thread().unpark();
        }
        for h in self.helpers.drain(..) {
            let _ = h.join();
        }
    }
}

fn helper(s: &Shared, index: usize) {
    // The epoch the pool was built with, not a fresh load: the first region may be published
    // before this thread gets to run, and it must not be skipped.
    let mut seen = 0;
    loop {
        seen = wait_for_epoch(s, index, seen);
        if s.shutdown.load(Ordering::SeqCst) {
            return;
        }
        // SAFETY: the owner wrote the slot before publishing the epoch just seen and keeps the
        // job alive until `pending` reaches zero, which this helper has not yet signalled.
        let job = unsafe { (*s.job.get()).expect("a published region has a job") };
        // SAFETY: as above, the pointee is alive for the whole call.
        if catch_unwind(AssertUnwindSafe(|| unsafe { (*job)() })).is_err() {
            s.panicked.store(true, Ordering::Relaxed);
        }
        s.pending.fetch_sub(1, Ordering::Release);
    }
}

/// Spins until `epoch` moves past `seen`, parking after [`SPIN`] without news.
fn wait_for_epoch(s: &Shared, index: usize, seen: usize) -> usize {
    let mut since = Instant::now();
    let mut spins = 0u32;
    loop {
        let e = s.epoch.load(Ordering::Acquire);
        if e != seen {
            return e;
        }
        spins = spins.wrapping_add(1);
        if !spins.is_multiple_of(256) || since.elapsed() < SPIN {
            std::hint::spin_loop();
            continue;
        }
        s.sleeping[index].store(true, Ordering::SeqCst);
        if s.epoch.load(Ordering::SeqCst) == seen {
            std::thread::park();
        }
        s.sleeping[index].store(false, Ordering::SeqCst);
        since = Instant::now();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_index_runs_once_across_many_regions() {
        let pool = Pool::new(3).unwrap();
        for n in [0, 1, 2, 7, 100] {
            let hits: Vec<AtomicUsize> = (0..n).map(|_| AtomicUsize::new(0)).collect();
            for _ in 0..50 {
                pool.for_each(n, |i| {
                    hits[i].fetch_add(1, Ordering::Relaxed);
                });
            }
            assert!(hits.iter().all(|h| h.load(Ordering::Relaxed) == 50));
        }
    }

    #[test]
    fn parked_helpers_wake_for_the_next_region() {
        let pool = Pool::new(2).unwrap();
        let count = AtomicUsize::new(0);
        pool.for_each(4, |_| {
            count.fetch_add(1, Ordering::Relaxed);
        });
        std::thread::sleep(SPIN * 3);
        pool.for_each(4, |_| {
            count.fetch_add(1, Ordering::Relaxed);
        });
        assert_eq!(count.load(Ordering::Relaxed), 8);
    }

    #[test]
    fn a_panic_in_a_region_reaches_the_caller_and_the_pool_survives() {
        let pool = Pool::new(2).unwrap();
        let r = catch_unwind(AssertUnwindSafe(|| {
            pool.for_each(64, |i| {
                if i == 40 {
                    panic!("boom");
                }
            })
        }));
        assert!(r.is_err());
        let count = AtomicUsize::new(0);
        pool.for_each(10, |_| {
            count.fetch_add(1, Ordering::Relaxed);
        });
        assert_eq!(count.load(Ordering::Relaxed), 10);
    }
}
