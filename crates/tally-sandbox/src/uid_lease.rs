//! Per-instance worker uids. Each slot's worker runs as a uid of its own, and a worker is killed
//! for good by killing every process of its uid; so two sandbox services on one machine (two
//! evaluations on one Slurm node) must never share a uid. Each service leases a block of
//! [`UID_BLOCK`] uids by holding an `flock` on the block's lease file under `uid_lease_dir`
//! (host-wide, root-only: `/run/tally-sandbox` by default). The lock lives exactly as long as
//! the service process, so a crashed service's block is free again at once; whoever takes it next
//! first kills whatever the crashed service left running under those uids.

use std::fs::File;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use crate::SandboxError;

/// Uids per lease block. A service with more workers leases consecutive blocks.
pub const UID_BLOCK: u32 = 256;
/// Blocks tried above `base_uid` (61000 + 64 × 256 = 77384 by default).
pub const UID_BLOCKS: u32 = 64;

/// A held range of uids; released when dropped (or when the process dies).
pub(crate) struct UidLease {
    first: u32,
    count: u32,
    _locks: Vec<File>,
}

impl UidLease {
    /// Leases `needed` consecutive uids at `base + k × UID_BLOCK` for the smallest free `k`.
    pub(crate) fn acquire(dir: &Path, base: u32, needed: u32) -> Result<UidLease, SandboxError> {
        use std::os::unix::fs::PermissionsExt;
        std::fs::create_dir_all(dir)
            .map_err(|e| SandboxError::io(format!("creating {}", dir.display()), e))?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| SandboxError::io(format!("chmod {}", dir.display()), e))?;
        let span = needed.max(1).div_ceil(UID_BLOCK);
        if span > UID_BLOCKS {
            return Err(SandboxError::Config(format!(
                "{needed} workers need more than {} uids",
                UID_BLOCK * UID_BLOCKS
            )));
        }
        if base
            .checked_add(UID_BLOCK * UID_BLOCKS)
            .is_none_or(|top| top > i32::MAX as u32)
        {
            return Err(SandboxError::Config(format!("base_uid {base} is too high")));
        }
        let mut start = 0;
        while start + span <= UID_BLOCKS {
            let mut locks = Vec::new();
            let mut blocked_at = None;
            for k in start..start + span {
                match try_lock(&lease_path(dir, base, k))? {
                    Some(f) => locks.push(f),
                    None => {
                        blocked_at = Some(k);
                        break;
                    }
                }
            }
            match blocked_at {
                None => {
                    let first = base + start * UID_BLOCK;
                    let count = span * UID_BLOCK;
                    for f in &mut locks {
                        // Informational only: the lock, not the text, is the lease.
                        let _ = f.set_len(0);
                        let _ = writeln!(f, "{}", std::process::id());
                    }
                    // Whatever a crashed earlier holder left running under these uids goes now.
                    crate::isolation::kill_uid_range(first, count);
                    return Ok(UidLease {
                        first,
                        count,
                        _locks: locks,
                    });
                }
                Some(k) => start = k + 1,
            }
        }
        Err(SandboxError::Config(format!(
            "no free block of {} sandbox uids above {base}: {} sandbox services already run on \
             this machine (leases in {})",
            span * UID_BLOCK,
            UID_BLOCKS / span,
            dir.display()
        )))
    }

    /// The uid of `slot`.
    pub(crate) fn uid(&self, slot: usize) -> u32 {
        debug_assert!((slot as u32) < self.count);
        self.first + slot as u32
    }

    /// The leased range, `first..first + count`.
    pub(crate) fn range(&self) -> std::ops::Range<u32> {
        self.first..self.first + self.count
    }
}

fn lease_path(dir: &Path, base: u32, block: u32) -> PathBuf {
    let first = base + block * UID_BLOCK;
    dir.join(format!("uids-{first}-{}.lock", first + UID_BLOCK - 1))
}

/// The lease file locked by this process, or None when another process holds it.
fn try_lock(path: &Path) -> Result<Option<File>, SandboxError> {
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| SandboxError::io(format!("opening {}", path.display()), e))?;
    // flock, not fcntl locks: these belong to the open file, so two services inside one process
    // exclude each other too, and closing an unrelated descriptor of the file releases nothing.
    if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
        return Ok(Some(f));
    }
    let e = std::io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
        Ok(None)
    } else {
        Err(SandboxError::io(format!("locking {}", path.display()), e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_leases_in_one_process_get_disjoint_blocks_and_a_dropped_one_is_reused() {
        let dir = std::env::temp_dir().join(format!("tally-uid-lease-test-{}", std::process::id()));
        // Far above any uid a real service uses, so the kill of leftovers touches nothing.
        let base = 1_500_000_000;
        let a = UidLease::acquire(&dir, base, 4).unwrap();
        let b = UidLease::acquire(&dir, base, 300).unwrap();
        let c = UidLease::acquire(&dir, base, 1).unwrap();
        assert_eq!(a.range(), base..base + UID_BLOCK);
        assert_eq!(b.range(), base + UID_BLOCK..base + 3 * UID_BLOCK);
        assert_eq!(c.range().start, base + 3 * UID_BLOCK);
        assert_eq!(b.uid(2), base + UID_BLOCK + 2);
        drop(a);
        let d = UidLease::acquire(&dir, base, 1).unwrap();
        assert_eq!(d.range().start, base, "a released block is taken again");
        drop((b, c, d));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
