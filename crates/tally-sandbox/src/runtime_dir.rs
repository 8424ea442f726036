//! The service's runtime directory (the fork-server, the seccomp programs, the fallback modes'
//! private `/tmp`s): created at start, removed at shutdown, and — when a service died without
//! shutting down — removed by the next service that starts beside it.
//!
//! Default name: `<temp dir>/tally-sandbox-<pid>-<n>` (`n` counts services in the process). The
//! owner holds an `flock` on `owner.lock` inside for its whole life, so a directory whose lock is
//! free belongs to nobody, even when its pid has been reused since.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use crate::SandboxError;

const PREFIX: &str = "tally-sandbox-";
const LOCK: &str = "owner.lock";
/// A lock file younger than this is never judged stale (its owner may be between creating and
/// locking it).
const YOUNG: Duration = Duration::from_secs(30);

/// A fresh default path for a service of this process.
pub(crate) fn default_path() -> PathBuf {
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("{PREFIX}{}-{n}", std::process::id()))
}

/// The live runtime directory of a service.
pub(crate) struct RuntimeDir {
    path: PathBuf,
    lock: Option<File>,
}

impl RuntimeDir {
    /// Removes stale siblings, then creates `path` (world-readable: the sandbox uids read the
    /// fork-server from it) and locks it.
    pub(crate) fn create(path: &Path) -> Result<RuntimeDir, SandboxError> {
        use std::os::unix::fs::PermissionsExt;
        if let Some(parent) = path.parent() {
            remove_stale(parent);
        }
        std::fs::create_dir_all(path)
            .map_err(|e| SandboxError::io(format!("creating {}", path.display()), e))?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| SandboxError::io(format!("chmod {}", path.display()), e))?;
        let lock_path = path.join(LOCK);
        let lock = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .map_err(|e| SandboxError::io(format!("opening {}", lock_path.display()), e))?;
        if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            return Err(SandboxError::Config(format!(
                "runtime directory {} is in use by another sandbox service",
                path.display()
            )));
        }
        Ok(RuntimeDir {
            path: path.to_path_buf(),
            lock: Some(lock),
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Removes the directory (idempotent). Call after the workers are dead.
    pub(crate) fn remove(&mut self) {
        if self.lock.is_some() {
            let _ = std::fs::remove_dir_all(&self.path);
            self.lock = None;
        }
    }
}

impl Drop for RuntimeDir {
    fn drop(&mut self) {
        self.remove();
    }
}

/// Removes `tally-sandbox-<pid>[-<n>]` directories under `parent` that no live service owns:
/// their pid is dead, or their lock file is old and nobody holds it. Directories of this process
/// and of other users are left alone.
pub(crate) fn remove_stale(parent: &Path) {
    use std::os::unix::fs::MetadataExt;
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    let me = std::process::id();
    let euid = unsafe { libc::geteuid() };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(pid) = name.to_str().and_then(owner_pid) else {
            continue;
        };
        if pid == me {
            continue;
        }
        let path = e.path();
        // symlink_metadata: a symlink named like ours is not ours.
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if !meta.is_dir() || meta.uid() != euid {
            continue;
        }
        let stale = !pid_alive(pid) || lock_is_free_and_old(&path.join(LOCK));
        if stale {
            tracing::info!(
                "removing stale sandbox runtime directory {}",
                path.display()
            );
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}

/// The pid in `tally-sandbox-<pid>` or `tally-sandbox-<pid>-<n>`.
fn owner_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix(PREFIX)?;
    let (pid, n) = match rest.split_once('-') {
        Some((p, n)) => (p, Some(n)),
        None => (rest, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(pid) || n.is_some_and(|n| !digits(n)) {
        return None;
    }
    pid.parse().ok().filter(|&p| p > 0)
}

fn pid_alive(pid: u32) -> bool {
    let Ok(pid) = i32::try_from(pid) else {
        return false;
    };
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

fn lock_is_free_and_old(lock: &Path) -> bool {
    let Ok(f) = File::open(lock) else {
        return false;
    };
    let old = f
        .metadata()
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| SystemTime::now().duration_since(t).ok())
        .is_some_and(|age| age > YOUNG);
    old && unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_pids() {
        assert_eq!(owner_pid("tally-sandbox-123"), Some(123));
        assert_eq!(owner_pid("tally-sandbox-123-4"), Some(123));
        assert_eq!(owner_pid("tally-sandbox-123-x"), None);
        assert_eq!(owner_pid("tally-sandbox-"), None);
        assert_eq!(owner_pid("tally-sandbox-0"), None);
        assert_eq!(owner_pid("other-123"), None);
    }

    #[test]
    fn a_dead_owners_directory_is_removed_a_live_one_is_kept() {
        let parent = tempfile_dir();
        // A pid that just exited.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let stale = parent.join(format!("tally-sandbox-{dead}"));
        std::fs::create_dir_all(stale.join("slot-0-tmp")).unwrap();
        std::fs::write(stale.join("forkserver.py"), "x").unwrap();
        // A live directory of this process (pid = ours) and one of a live other pid (1).
        let mine =
            RuntimeDir::create(&parent.join(format!("tally-sandbox-{}-77", std::process::id())))
                .unwrap();
        let init = parent.join("tally-sandbox-1");
        std::fs::create_dir_all(&init).unwrap();
        remove_stale(&parent);
        assert!(!stale.exists());
        assert!(mine.path().exists());
        assert!(init.exists(), "pid 1 is alive and its lock file is missing");
        let path = mine.path().to_path_buf();
        drop(mine);
        assert!(!path.exists(), "removed when the service ends");
        let _ = std::fs::remove_dir_all(&parent);
    }

    fn tempfile_dir() -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "tally-runtime-dir-test-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&d).unwrap();
        d
    }
}
