//! NeMo-Skills' chunking: which problems a chunk holds, what its files are called, and the `.done`
//! markers that say a file is complete.
//!
//! `ns generate --num_chunks C` splits the problem list into `C` contiguous chunks, the first
//! `n % C` of them one problem larger, and writes chunk `i` of `<base>.jsonl` to
//! `<base>_chunk_<i>.jsonl` (spec §9). A finished file gets an empty sibling `<file>.done`.

use std::fs::{self, File};
use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::error::{ClusterError, Result};

/// The problems (indices into the problem list) of chunk `chunk_id` of `num_chunks`, for a list
/// of `n` problems.
///
/// Chunks are contiguous and cover `0..n` in order; the first `n % num_chunks` are one larger.
/// With more chunks than problems the last chunks are empty.
///
/// # Panics
/// When `num_chunks` is 0 or `chunk_id >= num_chunks`; check user input with
/// [`parse_chunk_ids`] first.
pub fn chunk_range(n: usize, num_chunks: usize, chunk_id: usize) -> Range<usize> {
    assert!(num_chunks > 0, "num_chunks must be at least 1");
    assert!(
        chunk_id < num_chunks,
        "chunk_id {chunk_id} out of range for {num_chunks} chunks"
    );
    let size = n / num_chunks;
    let remainder = n % num_chunks;
    if chunk_id < remainder {
        let start = chunk_id * (size + 1);
        start..start + size + 1
    } else {
        let start = chunk_id * size + remainder;
        start..start + size
    }
}

/// The file chunk `chunk_id` of `output` is written to: `<base>_chunk_<id>.jsonl` for
/// `<base>.jsonl`.
///
/// NeMo-Skills cuts the last six characters (`.jsonl`) off whatever name it is given; for a name
/// without that extension Tally keeps the whole name instead of cutting into it.
pub fn chunk_path(output: &Path, chunk_id: usize) -> PathBuf {
    let name = output
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let base = name.strip_suffix(".jsonl").unwrap_or(&name);
    output.with_file_name(format!("{base}_chunk_{chunk_id}.jsonl"))
}

/// Every chunk file of `output`, in chunk-id order.
pub fn chunk_paths(output: &Path, num_chunks: usize) -> Vec<PathBuf> {
    (0..num_chunks).map(|id| chunk_path(output, id)).collect()
}

/// The chunk id in a name made by [`chunk_path`], if it is one.
pub fn chunk_id_of(path: &Path) -> Option<usize> {
    let name = path.file_name()?.to_str()?;
    let stem = name.strip_suffix(".jsonl")?;
    let (_, id) = stem.rsplit_once("_chunk_")?;
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    id.parse().ok()
}

/// `<file>.done`: present once `file` is complete.
pub fn done_marker(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".done");
    PathBuf::from(name)
}

/// Whether `path`'s `.done` marker exists.
pub fn is_done(path: &Path) -> bool {
    done_marker(path).exists()
}

/// Creates `path`'s `.done` marker and makes it durable: a marker that could vanish in a crash
/// would let a merge or a skip run on an incomplete file's say-so, or lose a finished one.
pub fn mark_done(path: &Path) -> Result<()> {
    let marker = done_marker(path);
    let file = File::create(&marker).map_err(|e| ClusterError::io(&marker, e))?;
    file.sync_all().map_err(|e| ClusterError::io(&marker, e))?;
    sync_parent(&marker);
    Ok(())
}

/// Persists a directory entry change (a created or removed file). Best effort: not every file
/// system lets a directory be opened for syncing.
pub(crate) fn sync_parent(path: &Path) {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Removes a file that may already be gone.
pub(crate) fn remove_if_present(path: &Path) -> Result<bool> {
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(ClusterError::io(path, e)),
    }
}

/// Parses `--chunk_ids` (`"0,2,5"` or an inclusive range `"0..3"`, as NeMo-Skills writes it) and
/// checks every id against `num_chunks`. `None` means every chunk.
pub fn parse_chunk_ids(spec: Option<&str>, num_chunks: usize) -> Result<Vec<usize>> {
    let err = |reason: String| ClusterError::ChunkIds {
        spec: spec.unwrap_or_default().to_string(),
        reason,
    };
    if num_chunks == 0 {
        return Err(err("--num_chunks must be at least 1".into()));
    }
    let Some(spec) = spec else {
        return Ok((0..num_chunks).collect());
    };
    let number = |s: &str| {
        s.trim()
            .parse::<usize>()
            .map_err(|_| err(format!("`{}` is not a non-negative integer", s.trim())))
    };
    let ids: Vec<usize> = if let Some((a, b)) = spec.split_once("..") {
        let (a, b) = (number(a)?, number(b)?);
        if b < a {
            return Err(err("range end is below its start".into()));
        }
        // Checked before building the list, so "0..999999999999" cannot allocate a huge vector.
        if b >= num_chunks {
            return Err(err(format!(
                "chunk {b} does not exist with {num_chunks} chunks"
            )));
        }
        (a..=b).collect()
    } else {
        spec.split(',').map(number).collect::<Result<_>>()?
    };
    if let Some(bad) = ids.iter().find(|&&id| id >= num_chunks) {
        return Err(err(format!(
            "chunk {bad} does not exist with {num_chunks} chunks"
        )));
    }
    let mut seen = std::collections::BTreeSet::new();
    if let Some(dup) = ids.iter().find(|id| !seen.insert(**id)) {
        return Err(err(format!("chunk {dup} is listed twice")));
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sizes(n: usize, c: usize) -> Vec<usize> {
        (0..c).map(|id| chunk_range(n, c, id).len()).collect()
    }

    #[test]
    fn first_n_mod_c_chunks_are_one_larger() {
        assert_eq!(sizes(10, 3), vec![4, 3, 3]);
        assert_eq!(chunk_range(10, 3, 0), 0..4);
        assert_eq!(chunk_range(10, 3, 1), 4..7);
        assert_eq!(chunk_range(10, 3, 2), 7..10);
        assert_eq!(sizes(11, 3), vec![4, 4, 3]);
        assert_eq!(sizes(9, 3), vec![3, 3, 3]);
        assert_eq!(sizes(2, 4), vec![1, 1, 0, 0]);
        assert_eq!(chunk_range(2, 4, 3), 2..2);
        assert_eq!(sizes(0, 2), vec![0, 0]);
        assert_eq!(sizes(7, 1), vec![7]);
    }

    #[test]
    fn chunks_tile_the_list_in_order() {
        for n in 0..40 {
            for c in 1..12 {
                let mut next = 0;
                for id in 0..c {
                    let r = chunk_range(n, c, id);
                    assert_eq!(r.start, next, "n={n} c={c} id={id}");
                    next = r.end;
                }
                assert_eq!(next, n);
            }
        }
    }

    #[test]
    #[should_panic(expected = "out of range")]
    fn a_chunk_id_past_the_end_panics() {
        chunk_range(10, 3, 3);
    }

    #[test]
    fn names_follow_nemo_skills() {
        let out = Path::new("/r/eval-results/aime24/output-rs3.jsonl");
        assert_eq!(
            chunk_path(out, 2),
            Path::new("/r/eval-results/aime24/output-rs3_chunk_2.jsonl")
        );
        assert_eq!(
            chunk_path(Path::new("out"), 0),
            Path::new("out_chunk_0.jsonl")
        );
        assert_eq!(
            done_marker(&chunk_path(out, 0)),
            Path::new("/r/eval-results/aime24/output-rs3_chunk_0.jsonl.done")
        );
        assert_eq!(chunk_paths(out, 3).len(), 3);
        assert_eq!(chunk_id_of(&chunk_path(out, 17)), Some(17));
        assert_eq!(chunk_id_of(out), None);
        assert_eq!(chunk_id_of(Path::new("a_chunk_.jsonl")), None);
        assert_eq!(chunk_id_of(Path::new("a_chunk_x1.jsonl")), None);
    }

    #[test]
    fn chunk_id_lists_are_checked() {
        assert_eq!(parse_chunk_ids(None, 3).unwrap(), vec![0, 1, 2]);
        assert_eq!(parse_chunk_ids(Some("0,2"), 3).unwrap(), vec![0, 2]);
        assert_eq!(parse_chunk_ids(Some("1..2"), 3).unwrap(), vec![1, 2]);
        for bad in ["3", "0..3", "2..1", "a", "1,1", "0..99999999999999"] {
            assert!(parse_chunk_ids(Some(bad), 3).is_err(), "{bad}");
        }
        assert!(parse_chunk_ids(None, 0).is_err());
    }

    #[test]
    fn done_markers_are_created_and_seen() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("output.jsonl");
        assert!(!is_done(&f));
        mark_done(&f).unwrap();
        assert!(is_done(&f));
        assert!(dir.path().join("output.jsonl.done").exists());
    }
}
