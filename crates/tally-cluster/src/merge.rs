//! Merging chunk files into the file they were cut from (`nemo_skills.inference.merge_chunks`).
//!
//! The order of steps is what makes a crash harmless: the merged file is written atomically while
//! every chunk is still on disk, then `<merged>.done` is made durable, and only then are chunks
//! deleted. A crash therefore leaves either all chunks (the next call merges again) or a complete
//! merged file with its marker (the next call finishes the clean-up).

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use tally_core::atomic::atomic_write;

use crate::chunks::{chunk_id_of, done_marker, mark_done, remove_if_present, sync_parent};
use crate::error::Result;

/// What [`merge_chunks`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MergeOutcome {
    /// The chunks were concatenated into the merged file and removed.
    Merged { chunks: usize, bytes: u64 },
    /// `<merged>.done` already existed; chunk files a crash left behind were removed.
    AlreadyMerged { removed: usize },
    /// Some chunks are not finished (no `.done` marker); nothing was touched.
    Waiting { not_done: Vec<PathBuf> },
    /// Another process holds the merged file's lock and merges it; nothing was touched.
    BeingMerged { holder: String },
}

/// Concatenates `chunks` into `merged` once every chunk's `.done` marker exists, marks `merged`
/// done and deletes the chunk files and their markers.
///
/// Chunks are concatenated in chunk-id order when every name carries one (as [`chunk_path`]
/// makes them), otherwise in the order given. Unlike `cat`, a chunk whose last line lacks its
/// newline gets one, so two records never share a line. Calling it again after success, or after a
/// crash at any point, is safe; see the module notes.
///
/// [`chunk_path`]: crate::chunk_path
pub fn merge_chunks(merged: &Path, chunks: &[PathBuf]) -> Result<MergeOutcome> {
    // Two runs finishing their last chunks at once must not merge (and delete chunks) together;
    // the one that finds the lock taken leaves the merge to the holder.
    let _lock = match tally_core::OutputLock::acquire(merged) {
        Ok(l) => l,
        Err(tally_core::LockError::Held { holder, .. }) => {
            return Ok(MergeOutcome::BeingMerged { holder })
        }
        Err(e) => return Err(e.into()),
    };
    if done_marker(merged).exists() {
        return Ok(MergeOutcome::AlreadyMerged {
            removed: remove_finished_chunks(chunks)?,
        });
    }
    let not_done: Vec<PathBuf> = chunks
        .iter()
        .filter(|c| !done_marker(c).exists())
        .cloned()
        .collect();
    if !not_done.is_empty() {
        return Ok(MergeOutcome::Waiting { not_done });
    }
    let ordered = in_chunk_order(chunks);
    let mut bytes = 0u64;
    atomic_write(merged, |out| {
        bytes = 0;
        for chunk in &ordered {
            bytes += append_file(chunk, out)?;
        }
        Ok(())
    })?;
    mark_done(merged)?;
    remove_finished_chunks(chunks)?;
    tracing::info!(merged = %merged.display(), chunks = chunks.len(), bytes, "merged chunks");
    Ok(MergeOutcome::Merged {
        chunks: chunks.len(),
        bytes,
    })
}

fn in_chunk_order(chunks: &[PathBuf]) -> Vec<&Path> {
    let ids: Option<Vec<usize>> = chunks.iter().map(|c| chunk_id_of(c)).collect();
    let mut ordered: Vec<(usize, &Path)> = match ids {
        Some(ids) => ids
            .into_iter()
            .zip(chunks.iter().map(PathBuf::as_path))
            .collect(),
        None => chunks.iter().map(PathBuf::as_path).enumerate().collect(),
    };
    ordered.sort_by_key(|(id, _)| *id);
    ordered.into_iter().map(|(_, p)| p).collect()
}

/// Copies `path` to `out`, adding a final newline when the file lacks one. Returns bytes written.
fn append_file(path: &Path, out: &mut dyn Write) -> io::Result<u64> {
    let with_path = |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", path.display()));
    let mut file = File::open(path).map_err(with_path)?;
    let mut buf = vec![0u8; 1 << 16];
    let mut written = 0u64;
    let mut last = b'\n';
    loop {
        let n = file.read(&mut buf).map_err(with_path)?;
        if n == 0 {
            break;
        }
        out.write_all(&buf[..n])?;
        written += n as u64;
        last = buf[n - 1];
    }
    if last != b'\n' {
        out.write_all(b"\n")?;
        written += 1;
    }
    Ok(written)
}

/// Deletes each chunk that has a `.done` marker: the file first, then the marker, so a file that
/// is still on disk always has its marker and a chunk without one (a rerun writing it now) is
/// never touched.
fn remove_finished_chunks(chunks: &[PathBuf]) -> Result<usize> {
    let mut removed = 0;
    for chunk in chunks {
        let marker = done_marker(chunk);
        if !marker.exists() {
            continue;
        }
        // The generator's run record (and a journal a rerun kept) go with the chunk; the marker
        // goes last, so a crash part-way is finished by the next call.
        for suffix in [".tally-run.json", ".tally-journal"] {
            let mut side = chunk.as_os_str().to_os_string();
            side.push(suffix);
            remove_if_present(Path::new(&side))?;
        }
        if remove_if_present(chunk)? {
            removed += 1;
        }
        remove_if_present(&marker)?;
    }
    if let Some(first) = chunks.first() {
        sync_parent(first);
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunks::{chunk_path, chunk_paths};
    use std::fs;

    fn write_chunks(dir: &Path, contents: &[&str]) -> (PathBuf, Vec<PathBuf>) {
        let merged = dir.join("output-rs0.jsonl");
        let chunks = chunk_paths(&merged, contents.len());
        for (c, text) in chunks.iter().zip(contents) {
            fs::write(c, text).unwrap();
            mark_done(c).unwrap();
        }
        (merged, chunks)
    }

    fn listing(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn merges_in_chunk_order_and_cleans_up() {
        let dir = tempfile::tempdir().unwrap();
        let (merged, mut chunks) =
            write_chunks(dir.path(), &["{\"a\":0}\n{\"a\":1}\n", "{\"a\":2}\n", ""]);
        chunks.reverse();
        let outcome = merge_chunks(&merged, &chunks).unwrap();
        assert_eq!(
            outcome,
            MergeOutcome::Merged {
                chunks: 3,
                bytes: 24
            }
        );
        assert_eq!(
            fs::read_to_string(&merged).unwrap(),
            "{\"a\":0}\n{\"a\":1}\n{\"a\":2}\n"
        );
        assert_eq!(
            listing(dir.path()),
            vec!["output-rs0.jsonl", "output-rs0.jsonl.done"]
        );
        // Idempotent.
        assert_eq!(
            merge_chunks(&merged, &chunks).unwrap(),
            MergeOutcome::AlreadyMerged { removed: 0 }
        );
        assert_eq!(fs::read_to_string(&merged).unwrap().lines().count(), 3);
    }

    #[test]
    fn waits_until_every_chunk_is_done() {
        let dir = tempfile::tempdir().unwrap();
        let (merged, chunks) = write_chunks(dir.path(), &["1\n", "2\n"]);
        fs::remove_file(done_marker(&chunks[1])).unwrap();
        let before = listing(dir.path());
        assert_eq!(
            merge_chunks(&merged, &chunks).unwrap(),
            MergeOutcome::Waiting {
                not_done: vec![chunks[1].clone()]
            }
        );
        assert_eq!(listing(dir.path()), before);
        mark_done(&chunks[1]).unwrap();
        assert!(matches!(
            merge_chunks(&merged, &chunks).unwrap(),
            MergeOutcome::Merged { .. }
        ));
    }

    #[test]
    fn a_chunk_without_final_newline_does_not_join_lines() {
        let dir = tempfile::tempdir().unwrap();
        let (merged, chunks) = write_chunks(dir.path(), &["1\n2", "3"]);
        merge_chunks(&merged, &chunks).unwrap();
        assert_eq!(fs::read_to_string(&merged).unwrap(), "1\n2\n3\n");
    }

    #[test]
    fn a_crash_before_the_marker_merges_again() {
        // Merged file written, process died before `<merged>.done`: chunks are all still there.
        let dir = tempfile::tempdir().unwrap();
        let (merged, chunks) = write_chunks(dir.path(), &["1\n", "2\n"]);
        fs::write(&merged, "1\n").unwrap();
        merge_chunks(&merged, &chunks).unwrap();
        assert_eq!(fs::read_to_string(&merged).unwrap(), "1\n2\n");
    }

    #[test]
    fn a_crash_during_clean_up_is_finished_later() {
        let dir = tempfile::tempdir().unwrap();
        let (merged, chunks) = write_chunks(dir.path(), &["1\n", "2\n", "3\n"]);
        fs::write(&merged, "1\n2\n3\n").unwrap();
        mark_done(&merged).unwrap();
        // Chunk 0 fully removed, chunk 1 lost its file but kept its marker, chunk 2 untouched.
        fs::remove_file(&chunks[0]).unwrap();
        fs::remove_file(done_marker(&chunks[0])).unwrap();
        fs::remove_file(&chunks[1]).unwrap();
        assert_eq!(
            merge_chunks(&merged, &chunks).unwrap(),
            MergeOutcome::AlreadyMerged { removed: 1 }
        );
        assert_eq!(
            listing(dir.path()),
            vec!["output-rs0.jsonl", "output-rs0.jsonl.done"]
        );
        assert_eq!(fs::read_to_string(&merged).unwrap(), "1\n2\n3\n");
    }

    #[test]
    fn an_unfinished_chunk_of_a_rerun_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let merged = dir.path().join("output.jsonl");
        fs::write(&merged, "old\n").unwrap();
        mark_done(&merged).unwrap();
        let chunk = chunk_path(&merged, 0);
        fs::write(&chunk, "partial").unwrap();
        assert_eq!(
            merge_chunks(&merged, std::slice::from_ref(&chunk)).unwrap(),
            MergeOutcome::AlreadyMerged { removed: 0 }
        );
        assert!(chunk.exists());
    }
}
