//! One writer per output file, across processes and machines sharing a file system.
//!
//! Two `tally` processes writing the same output (a wrapper killed while its child lives on, a
//! job resubmitted while the first copy still runs) would interleave journals and remove each
//! other's state. [`OutputLock`] is an exclusive advisory lock (`flock`) on a sibling file
//! `<output>.tally-lock`, taken before anything of the output is read and held until the writer
//! is done. A second writer fails at once with the holder's pid and host instead of waiting.
//!
//! The lock file holds the holder's description and is removed by the holder when it releases
//! the lock, so a finished run leaves nothing behind. One killed with SIGKILL leaves the file
//! unlocked (the kernel drops the lock with the process); the next writer takes it over. Since a
//! file can be removed between being opened and being locked, the lock is only held once the
//! locked descriptor and the path name the same inode.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Why an output could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "{output} is being written by another tally process ({holder}); wait for it to finish or stop it — two writers on one output are refused"
    )]
    Held { output: PathBuf, holder: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// An exclusive lock on one output; released (and its file removed) on drop.
#[derive(Debug)]
pub struct OutputLock {
    path: PathBuf,
    file: Option<File>,
}

/// The lock file of an output.
pub fn lock_path(output: &Path) -> PathBuf {
    let mut s = output.as_os_str().to_os_string();
    s.push(".tally-lock");
    PathBuf::from(s)
}

fn host() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "this host".into())
}

impl OutputLock {
    /// Takes the lock of `output` or fails at once with [`LockError::Held`] naming the holder.
    pub fn acquire(output: &Path) -> Result<OutputLock, LockError> {
        let path = lock_path(output);
        let io = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(io)?;
        }
        loop {
            let mut file = OpenOptions::new()
                .create(true)
                .truncate(false)
                .read(true)
                .write(true)
                .open(&path)
                .map_err(io)?;
            match file.try_lock() {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) => {
                    let mut holder = String::new();
                    let _ = file.read_to_string(&mut holder);
                    let holder = holder.trim();
                    return Err(LockError::Held {
                        output: output.to_path_buf(),
                        holder: if holder.is_empty() {
                            "holder unknown".into()
                        } else {
                            holder.to_string()
                        },
                    });
                }
                Err(TryLockError::Error(e)) => return Err(io(e)),
            }
            // The previous holder may have removed the file between our open and our lock: then
            // we hold a lock on an orphan inode and must start again.
            let same = match (file.metadata(), fs::metadata(&path)) {
                (Ok(a), Ok(b)) => a.ino() == b.ino() && a.dev() == b.dev(),
                _ => false,
            };
            if !same {
                continue;
            }
            file.set_len(0).map_err(io)?;
            file.seek(SeekFrom::Start(0)).map_err(io)?;
            write!(file, "pid {} on {}", std::process::id(), host()).map_err(io)?;
            return Ok(OutputLock {
                path,
                file: Some(file),
            });
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Who holds the lock of `output` right now (`pid N on HOST`), if anyone; reads without
    /// taking it over.
    pub fn holder(output: &Path) -> Option<String> {
        let mut file = File::open(lock_path(output)).ok()?;
        match file.try_lock_shared() {
            Ok(()) => None,
            Err(TryLockError::WouldBlock) => {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                Some(text.trim().to_string())
            }
            Err(TryLockError::Error(_)) => None,
        }
    }
}

impl Drop for OutputLock {
    fn drop(&mut self) {
        // Remove while still holding the lock, so no one can take over a file about to vanish.
        let _ = fs::remove_file(&self.path);
        drop(self.file.take());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_writer_is_refused_with_the_holder_and_the_file_goes_with_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("output-rs0.jsonl");
        let first = OutputLock::acquire(&out).unwrap();
        // A second open file description conflicts with the first even in one process (flock).
        let err = OutputLock::acquire(&out).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("output-rs0.jsonl"), "{msg}");
        assert!(
            msg.contains(&format!("pid {}", std::process::id())),
            "{msg}"
        );
        assert_eq!(
            OutputLock::holder(&out).as_deref(),
            Some(format!("pid {} on {}", std::process::id(), host()).as_str())
        );
        drop(first);
        assert!(!lock_path(&out).exists());
        assert_eq!(OutputLock::holder(&out), None);
        let again = OutputLock::acquire(&out).unwrap();
        assert!(lock_path(&out).exists());
        drop(again);
    }

    #[test]
    fn a_stale_lock_file_left_by_a_killed_writer_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("o.jsonl");
        fs::write(lock_path(&out), "pid 1 on elsewhere").unwrap();
        let lock = OutputLock::acquire(&out).unwrap();
        let text = fs::read_to_string(lock.path()).unwrap();
        assert!(
            text.starts_with(&format!("pid {} ", std::process::id())),
            "{text}"
        );
    }
}
