//! A child's process group: signalling it, and knowing when all of it is gone.
//!
//! Servers fork workers (vLLM's engine core, SGLang's schedulers and tokenizer manager, MPI ranks),
//! and a wrapper may exit while they run on. Every process Tally starts therefore leads its own
//! process group, and stopping means signalling the group and waiting until no live member is
//! left, not just reaping the first child.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::error::{LaunchError, Result};

/// How often stopping checks whether the group is gone.
const POLL: Duration = Duration::from_millis(50);
/// After SIGKILL the kernel needs a moment to tear processes down (a GPU process can take
/// seconds to release its device memory).
const KILL_WAIT: Duration = Duration::from_secs(10);

/// The process ids (not zombies) whose process group is `pgid`, from `/proc`.
///
/// Zombies are left out: they hold no resources, cannot be signalled away, and an orphaned one
/// waits for whoever reaps it (in a container that may be never). Where `/proc` is missing this
/// falls back to asking the kernel whether the group exists, zombies included.
pub fn live_members(pgid: i32) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        // SAFETY: signal 0 only checks for existence; no signal is delivered.
        let exists = unsafe { libc::killpg(pgid, 0) } == 0;
        return if exists { vec![pgid] } else { Vec::new() };
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|stat| parse_stat(&stat))
                .is_some_and(|(state, group)| group == pgid && state != 'Z' && state != 'X')
        })
        .collect()
}

/// `(state, pgrp)` from a `/proc/<pid>/stat` line. The command name sits in parentheses and may
/// itself contain spaces and parentheses, so fields are counted from the last `)`.
fn parse_stat(stat: &str) -> Option<(char, i32)> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let _ppid = fields.next()?;
    let pgrp = fields.next()?.parse().ok()?;
    Some((state, pgrp))
}

/// A process group Tally started, shared by the owner and any [`Stopper`](crate::Stopper).
#[derive(Debug)]
pub(crate) struct Group {
    pgid: i32,
    /// Set once the group is known to be gone, so a later stop never signals a recycled id.
    gone: AtomicBool,
}

impl Group {
    pub(crate) fn new(pgid: i32) -> Arc<Self> {
        Arc::new(Group {
            pgid,
            gone: AtomicBool::new(false),
        })
    }

    pub(crate) fn pgid(&self) -> i32 {
        self.pgid
    }

    pub(crate) fn is_alive(&self) -> bool {
        if self.gone.load(Ordering::SeqCst) {
            return false;
        }
        let alive = !live_members(self.pgid).is_empty();
        if !alive {
            self.gone.store(true, Ordering::SeqCst);
        }
        alive
    }

    fn signal(&self, signal: libc::c_int) -> Result<()> {
        // SAFETY: killpg has no memory-safety preconditions.
        if unsafe { libc::killpg(self.pgid, signal) } == 0 {
            return Ok(());
        }
        let err = std::io::Error::last_os_error();
        // ESRCH: the whole group exited between the check and the signal.
        if err.raw_os_error() == Some(libc::ESRCH) {
            self.gone.store(true, Ordering::SeqCst);
            return Ok(());
        }
        Err(LaunchError::Stop {
            pgid: self.pgid,
            source: err,
        })
    }

    /// SIGTERM to the group, SIGKILL to whatever is left after `grace`, then wait until none of
    /// it is alive.
    pub(crate) async fn terminate(&self, grace: Duration) -> Result<()> {
        if !self.is_alive() {
            return Ok(());
        }
        self.signal(libc::SIGTERM)?;
        if self.wait_gone(grace).await {
            return Ok(());
        }
        tracing::warn!(
            pgid = self.pgid,
            ?grace,
            "process group ignored SIGTERM; sending SIGKILL"
        );
        self.signal(libc::SIGKILL)?;
        if self.wait_gone(KILL_WAIT).await {
            return Ok(());
        }
        Err(self.still_alive_error())
    }

    /// [`Group::terminate`] for `Drop`, where nothing can be awaited.
    pub(crate) fn terminate_blocking(&self, grace: Duration) -> Result<()> {
        if !self.is_alive() {
            return Ok(());
        }
        self.signal(libc::SIGTERM)?;
        if self.wait_gone_blocking(grace) {
            return Ok(());
        }
        tracing::warn!(
            pgid = self.pgid,
            ?grace,
            "process group ignored SIGTERM; sending SIGKILL"
        );
        self.signal(libc::SIGKILL)?;
        if self.wait_gone_blocking(KILL_WAIT) {
            return Ok(());
        }
        Err(self.still_alive_error())
    }

    async fn wait_gone(&self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        loop {
            if !self.is_alive() {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    fn wait_gone_blocking(&self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        loop {
            if !self.is_alive() {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(POLL);
        }
    }

    fn still_alive_error(&self) -> LaunchError {
        LaunchError::Stop {
            pgid: self.pgid,
            source: std::io::Error::other(format!(
                "processes {:?} survived SIGKILL",
                live_members(self.pgid)
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_lines_with_awkward_names() {
        assert_eq!(parse_stat("42 (sleep) S 1 42 42 0 -1"), Some(('S', 42)));
        assert_eq!(
            parse_stat("7 (a (b) c) R 3 99 99 0 -1 4194560"),
            Some(('R', 99))
        );
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn sees_its_own_group() {
        // SAFETY: getpgrp cannot fail.
        let own = unsafe { libc::getpgrp() };
        assert!(live_members(own).contains(&(std::process::id() as i32)));
    }
}
