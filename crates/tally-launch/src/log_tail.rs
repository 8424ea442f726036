//! The end of a log file, for error messages.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// How much of a log an error carries: enough for a Python traceback, not a whole model load.
const TAIL_BYTES: u64 = 8 * 1024;
const TAIL_LINES: usize = 40;

/// The last lines of `path` (at most 40 lines and 8 KiB), or a note saying why there are none.
pub fn log_tail(path: &Path) -> String {
    match read_tail(path) {
        Ok(text) if text.trim().is_empty() => "(the log is empty)".to_string(),
        Ok(text) => text,
        Err(e) => format!("(cannot read the log: {e})"),
    }
}

fn read_tail(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    let start = len.saturating_sub(TAIL_BYTES);
    file.seek(SeekFrom::Start(start))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    let text = String::from_utf8_lossy(&bytes);
    // Starting mid-file, the first line is probably cut; drop it unless it is all there is.
    let text = match (start > 0, text.split_once('\n')) {
        (true, Some((_, rest))) => rest,
        _ => &text,
    };
    let lines: Vec<&str> = text.trim_end().lines().collect();
    let keep = lines.len().saturating_sub(TAIL_LINES);
    Ok(lines[keep..].join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_lines() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("log");
        let body: String = (0..100).map(|i| format!("line {i}\n")).collect();
        std::fs::write(&p, body).unwrap();
        let tail = log_tail(&p);
        assert!(tail.starts_with("line 60\n"), "{tail}");
        assert!(tail.ends_with("line 99"), "{tail}");

        std::fs::write(&p, "x".repeat(20_000) + "\nlast\n").unwrap();
        assert_eq!(log_tail(&p), "last");

        std::fs::write(&p, "").unwrap();
        assert_eq!(log_tail(&p), "(the log is empty)");
        assert!(log_tail(&dir.path().join("none")).starts_with("(cannot read the log"));
    }
}
