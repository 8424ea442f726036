//! The model worker's compute threads. One thread runs inline (no pool, no hand-offs); more use a
//! private rayon pool so the engine's own threads are never borrowed.

use rayon::prelude::*;

pub struct Pool {
    pool: Option<rayon::ThreadPool>,
    threads: usize,
}

impl Pool {
    pub fn new(threads: usize) -> Result<Pool, String> {
        let threads = threads.max(1);
        let pool = if threads == 1 {
            None
        } else {
            Some(
                rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .thread_name(|i| format!("tally-local-{i}"))
                    .build()
                    .map_err(|e| e.to_string())?,
            )
        };
        Ok(Pool { pool, threads })
    }

    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Runs `f(0..n)`, in parallel when the pool has more than one thread.
    pub fn for_each(&self, n: usize, f: impl Fn(usize) + Sync + Send) {
        match &self.pool {
            Some(pool) if n > 1 => pool.install(|| (0..n).into_par_iter().for_each(f)),
            _ => (0..n).for_each(f),
        }
    }
}
