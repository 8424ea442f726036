use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::error::CoreError;
use crate::record::kind;

/// One record and the 1-based line it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub number: usize,
    pub record: Map<String, Value>,
}

/// The last line of a file had no newline and did not parse: a writer was interrupted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TornTail {
    pub line: usize,
    /// Byte offset where the torn line starts (the file's valid length).
    pub offset: u64,
    pub bytes: usize,
}

/// Every complete record of a file, plus the torn tail if there was one.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadOutcome {
    pub lines: Vec<Line>,
    pub torn_tail: Option<TornTail>,
}

/// Reads a whole JSONL file. Blank lines are skipped. A line that is not a JSON object is an error
/// naming the file and line, except an unterminated last line, which is reported as
/// [`TornTail`].
pub fn read_jsonl(path: &Path) -> Result<ReadOutcome, CoreError> {
    let bytes = fs::read(path).map_err(|e| CoreError::io(path, e))?;
    read_jsonl_bytes(path, &bytes)
}

/// As [`read_jsonl`], over bytes already in memory (`path` is only used in messages).
pub fn read_jsonl_bytes(path: &Path, bytes: &[u8]) -> Result<ReadOutcome, CoreError> {
    let mut lines = Vec::new();
    let mut torn_tail = None;
    for item in JsonlLines::new(path, bytes) {
        match item {
            Ok(line) => lines.push(line),
            Err(LineError::Torn(t)) => torn_tail = Some(t),
            Err(LineError::Bad(e)) => return Err(e),
        }
    }
    Ok(ReadOutcome { lines, torn_tail })
}

/// Why a line could not be turned into a record.
#[derive(Debug)]
pub enum LineError {
    /// The unterminated last line did not parse.
    Torn(TornTail),
    Bad(CoreError),
}

/// An iterator over the records of a JSONL buffer, for callers that stream.
pub struct JsonlLines<'a> {
    path: PathBuf,
    bytes: &'a [u8],
    pos: usize,
    line: usize,
}

impl<'a> JsonlLines<'a> {
    pub fn new(path: &Path, bytes: &'a [u8]) -> Self {
        JsonlLines {
            path: path.to_path_buf(),
            bytes,
            pos: 0,
            line: 0,
        }
    }
}

impl Iterator for JsonlLines<'_> {
    type Item = Result<Line, LineError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.pos >= self.bytes.len() {
                return None;
            }
            let start = self.pos;
            let rest = &self.bytes[start..];
            let (text, terminated) = match rest.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    self.pos = start + i + 1;
                    (&rest[..i], true)
                }
                None => {
                    self.pos = self.bytes.len();
                    (rest, false)
                }
            };
            self.line += 1;
            let text = text.strip_suffix(b"\r").unwrap_or(text);
            if text.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            return Some(match serde_json::from_slice::<Value>(text) {
                Ok(Value::Object(record)) => Ok(Line {
                    number: self.line,
                    record,
                }),
                Ok(other) => Err(LineError::Bad(CoreError::NotAnObject {
                    path: self.path.clone(),
                    line: self.line,
                    found: kind(&other),
                })),
                Err(_) if !terminated => Err(LineError::Torn(TornTail {
                    line: self.line,
                    offset: start as u64,
                    bytes: text.len(),
                })),
                Err(source) => Err(LineError::Bad(CoreError::Json {
                    path: self.path.clone(),
                    line: self.line,
                    source,
                })),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(s: &str) -> Result<ReadOutcome, CoreError> {
        read_jsonl_bytes(Path::new("f.jsonl"), s.as_bytes())
    }

    #[test]
    fn reads_records_with_line_numbers_and_skips_blank_lines() {
        let out = read("{\"a\":1}\n\n{\"a\":2}\n").unwrap();
        assert_eq!(out.lines.len(), 2);
        assert_eq!(out.lines[1].number, 3);
        assert_eq!(out.lines[1].record["a"], 2);
        assert!(out.torn_tail.is_none());
    }

    #[test]
    fn a_complete_last_line_without_newline_is_fine() {
        let out = read("{\"a\":1}\n{\"a\":2}").unwrap();
        assert_eq!(out.lines.len(), 2);
        assert!(out.torn_tail.is_none());
    }

    #[test]
    fn a_torn_last_line_is_reported_not_fatal() {
        let out = read("{\"a\":1}\n{\"a\":2, \"b\": \"hal").unwrap();
        assert_eq!(out.lines.len(), 1);
        let torn = out.torn_tail.unwrap();
        assert_eq!(torn.line, 2);
        assert_eq!(torn.offset, 8);
    }

    #[test]
    fn a_bad_line_in_the_middle_names_file_and_line() {
        let err = read("{\"a\":1}\nnot json\n{\"a\":2}\n").unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("f.jsonl:2:"), "{msg}");
    }

    #[test]
    fn a_non_object_line_is_an_error() {
        let err = read("[1,2]\n").unwrap_err();
        assert!(err
            .to_string()
            .contains("f.jsonl:1: expected a JSON object, found an array"));
    }
}
