//! The in-progress state of one output file: an append-only JSONL journal next to it
//! (`output-rs3.jsonl.tally-journal`).
//!
//! The first line is the run header; every other line is one finished sample:
//! `{"index": 3, "key": "<sha256>", "outcome": {...}}`. Lines are appended as samples finish and
//! fsynced every few completions, so after `kill -9` the journal holds every sample finished
//! before the last sync (a torn last line is cut when the journal is reopened). Samples finished
//! after the last sync are simply generated again: a key is written once per attempt and the
//! latest entry of a key is the one used, so nothing appears twice in the output.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use tally_core::jsonl::{read_jsonl, AppendWriter};

use crate::error::GenerateError;
use crate::record::SampleOutcome;
use crate::resume::RunHeader;

/// One finished sample as journalled.
#[derive(Debug, Clone, PartialEq)]
pub struct JournalEntry {
    pub index: usize,
    pub key: String,
    pub outcome: SampleOutcome,
}

/// What a journal holds.
#[derive(Debug, Clone, PartialEq)]
pub struct JournalContents {
    /// `None` when even the header line was torn (treated as an empty journal).
    pub header: Option<RunHeader>,
    pub entries: Vec<JournalEntry>,
    /// Bytes of a torn last line (cut when the journal is reopened for appending).
    pub torn_bytes: Option<usize>,
}

/// The journal path of an output file.
pub fn journal_path(output: &Path) -> PathBuf {
    let mut s = output.as_os_str().to_os_string();
    s.push(".tally-journal");
    PathBuf::from(s)
}

/// Reads a journal; `Ok(None)` when there is none.
pub fn read_journal(path: &Path) -> Result<Option<JournalContents>, GenerateError> {
    if !path.exists() {
        return Ok(None);
    }
    let read = read_jsonl(path)?;
    let torn_bytes = read.torn_tail.as_ref().map(|t| t.bytes);
    let mut lines = read.lines.into_iter();
    let bad = |line: usize, reason: String| GenerateError::Journal {
        path: path.to_path_buf(),
        line,
        reason,
    };
    let header = match lines.next() {
        None => None,
        Some(first) => {
            let h = first
                .record
                .get("header")
                .filter(|_| first.record.contains_key("tally_generate_journal"))
                .ok_or_else(|| {
                    bad(
                        first.number,
                        "the first line is not a journal header".into(),
                    )
                })?;
            Some(
                serde_json::from_value::<RunHeader>(h.clone())
                    .map_err(|e| bad(first.number, format!("unreadable header: {e}")))?,
            )
        }
    };
    let mut entries = Vec::new();
    for line in lines {
        let r = &line.record;
        let index = r
            .get("index")
            .and_then(Value::as_u64)
            .ok_or_else(|| bad(line.number, "no `index`".into()))? as usize;
        let key = r
            .get("key")
            .and_then(Value::as_str)
            .ok_or_else(|| bad(line.number, "no `key`".into()))?
            .to_string();
        let outcome = SampleOutcome::from_json(r.get("outcome").unwrap_or(&Value::Null))
            .map_err(|e| bad(line.number, e))?;
        entries.push(JournalEntry {
            index,
            key,
            outcome,
        });
    }
    Ok(Some(JournalContents {
        header,
        entries,
        torn_bytes,
    }))
}

/// Appends finished samples to a journal.
pub struct JournalWriter {
    out: AppendWriter,
}

impl JournalWriter {
    /// Opens (repairing a torn tail) or creates the journal; a new or emptied one gets `header`
    /// as its first line, synced before any sample is written.
    pub fn open(path: &Path, header: &RunHeader) -> Result<JournalWriter, GenerateError> {
        let mut out = AppendWriter::open(path)?;
        let empty = std::fs::metadata(path)
            .map_err(|e| GenerateError::io(path, e))?
            .len()
            == 0;
        if empty {
            out.append(&json!({"tally_generate_journal": 1, "header": header}))?;
            out.sync()?;
        }
        Ok(JournalWriter { out })
    }

    pub fn append(&mut self, entry: &JournalEntry) -> Result<(), GenerateError> {
        self.out.append(&json!({
            "index": entry.index,
            "key": entry.key,
            "outcome": entry.outcome.to_json(),
        }))?;
        Ok(())
    }

    /// Entries appended since the last sync.
    pub fn pending(&self) -> usize {
        self.out.pending()
    }

    /// Flush + fsync: every entry appended so far survives a crash.
    pub fn sync(&mut self) -> Result<(), GenerateError> {
        if self.out.pending() > 0 {
            self.out.sync()?;
        }
        Ok(())
    }
}
