use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::CoreError;
use crate::pyjson;

/// An append-only JSONL writer for files that must survive `kill -9`.
///
/// Opening repairs a torn tail (an unterminated last line left by an interrupted writer) by
/// truncating the file to its last newline, so new records never merge with a half-written one.
/// Records are buffered; [`AppendWriter::sync`] flushes and fsyncs — call it at safe points
/// (after a batch of completed samples). Records are written in NeMo-Skills' `json.dumps` form.
pub struct AppendWriter {
    path: PathBuf,
    out: BufWriter<File>,
    repaired_bytes: u64,
    pending: usize,
}

impl AppendWriter {
    pub fn open(path: &Path) -> Result<AppendWriter, CoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(parent).map_err(|e| CoreError::io(parent, e))?;
        }
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(path)
            .map_err(|e| CoreError::io(path, e))?;
        let repaired_bytes = repair_torn_tail(&mut file).map_err(|e| CoreError::io(path, e))?;
        Ok(AppendWriter {
            path: path.to_path_buf(),
            out: BufWriter::new(file),
            repaired_bytes,
            pending: 0,
        })
    }

    /// Bytes of a torn last line removed when the file was opened (0 for a clean file).
    pub fn repaired_bytes(&self) -> u64 {
        self.repaired_bytes
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one record (buffered until [`AppendWriter::sync`] or drop).
    pub fn append(&mut self, record: &Value) -> Result<(), CoreError> {
        let mut line = pyjson::to_string(record);
        line.push('\n');
        self.append_raw(line.as_bytes())
    }

    /// Appends bytes that already form complete lines (each ending in `\n`).
    pub fn append_raw(&mut self, bytes: &[u8]) -> Result<(), CoreError> {
        self.out
            .write_all(bytes)
            .map_err(|e| CoreError::io(&self.path, e))?;
        self.pending += 1;
        Ok(())
    }

    /// Hands buffered records to the OS (they survive a crash of this process, not of the
    /// machine; [`AppendWriter::sync`] for that).
    pub fn flush(&mut self) -> Result<(), CoreError> {
        self.out.flush().map_err(|e| CoreError::io(&self.path, e))
    }

    /// Flushes buffered records and fsyncs the file: everything appended so far survives a crash.
    pub fn sync(&mut self) -> Result<(), CoreError> {
        self.out.flush().map_err(|e| CoreError::io(&self.path, e))?;
        self.out
            .get_ref()
            .sync_data()
            .map_err(|e| CoreError::io(&self.path, e))?;
        self.pending = 0;
        Ok(())
    }

    /// Records appended since the last sync.
    pub fn pending(&self) -> usize {
        self.pending
    }
}

impl Drop for AppendWriter {
    fn drop(&mut self) {
        // Best effort: an explicit `sync` is the durable path; dropping must not lose buffered
        // records on an orderly exit.
        let _ = self.out.flush();
    }
}

/// Makes the file end at a line boundary. An unterminated last line that is a complete JSON
/// object gets its newline (the writer died between the two writes); any other unterminated tail
/// is truncated. Returns the bytes removed.
fn repair_torn_tail(file: &mut File) -> std::io::Result<u64> {
    let len = file.metadata()?.len();
    if len == 0 {
        return Ok(0);
    }
    let tail = last_line_bytes(file, len)?;
    if let Some(tail) = tail {
        if serde_json::from_slice::<serde_json::Map<String, Value>>(&tail).is_ok() {
            file.write_all(b"\n")?;
            file.sync_data()?;
            return Ok(0);
        }
    } else {
        return Ok(0);
    }
    // Scan backwards in blocks for the last newline.
    let mut end = len;
    let mut buf = vec![0u8; 64 * 1024];
    while end > 0 {
        let start = end.saturating_sub(buf.len() as u64);
        let n = (end - start) as usize;
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut buf[..n])?;
        if let Some(i) = buf[..n].iter().rposition(|&b| b == b'\n') {
            let keep = start + i as u64 + 1;
            if keep < len {
                file.set_len(keep)?;
                file.sync_data()?;
            }
            return Ok(len - keep);
        }
        end = start;
    }
    file.set_len(0)?;
    file.sync_data()?;
    Ok(len)
}

/// The bytes after the last newline, or `None` when the file ends with a newline. Only the tail
/// is read (records can be large, files larger).
fn last_line_bytes(file: &mut File, len: u64) -> std::io::Result<Option<Vec<u8>>> {
    let mut tail = Vec::new();
    let mut end = len;
    let mut buf = vec![0u8; 64 * 1024];
    while end > 0 {
        let start = end.saturating_sub(buf.len() as u64);
        let n = (end - start) as usize;
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut buf[..n])?;
        match buf[..n].iter().rposition(|&b| b == b'\n') {
            Some(i) if start + i as u64 + 1 == len => return Ok(None),
            Some(i) => {
                let mut out = buf[i + 1..n].to_vec();
                out.extend_from_slice(&tail);
                return Ok(Some(out));
            }
            None => {
                let mut out = buf[..n].to_vec();
                out.extend_from_slice(&tail);
                tail = out;
            }
        }
        end = start;
    }
    Ok(Some(tail))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jsonl::read_jsonl;
    use serde_json::json;

    #[test]
    fn appends_in_python_json_form_and_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/out.jsonl");
        {
            let mut w = AppendWriter::open(&path).unwrap();
            w.append(&json!({"b": 1, "a": "é"})).unwrap();
            w.sync().unwrap();
        }
        {
            let mut w = AppendWriter::open(&path).unwrap();
            assert_eq!(w.repaired_bytes(), 0);
            w.append(&json!({"b": 2})).unwrap();
        }
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(text, "{\"b\": 1, \"a\": \"\\u00e9\"}\n{\"b\": 2}\n");
    }

    #[test]
    fn a_torn_tail_is_cut_before_appending() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");
        fs::write(&path, "{\"a\": 1}\n{\"a\": 2, \"gen").unwrap();
        let mut w = AppendWriter::open(&path).unwrap();
        assert_eq!(w.repaired_bytes(), 13);
        w.append(&json!({"a": 3})).unwrap();
        w.sync().unwrap();
        let out = read_jsonl(&path).unwrap();
        assert!(out.torn_tail.is_none());
        let values: Vec<_> = out.lines.iter().map(|l| l.record["a"].clone()).collect();
        assert_eq!(values, vec![json!(1), json!(3)]);
    }

    #[test]
    fn a_complete_record_missing_its_newline_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");
        fs::write(&path, "{\"a\": 1}\n{\"a\": 2}").unwrap();
        let mut w = AppendWriter::open(&path).unwrap();
        assert_eq!(w.repaired_bytes(), 0);
        w.append(&json!({"a": 3})).unwrap();
        drop(w);
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "{\"a\": 1}\n{\"a\": 2}\n{\"a\": 3}\n"
        );
    }

    #[test]
    fn a_file_that_is_only_a_torn_line_becomes_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");
        fs::write(&path, "{\"a\": ").unwrap();
        let w = AppendWriter::open(&path).unwrap();
        assert_eq!(w.repaired_bytes(), 6);
        drop(w);
        assert_eq!(fs::read(&path).unwrap(), b"");
    }
}
