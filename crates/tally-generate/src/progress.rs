//! How far one output is, read from its files alone (for `tally status`): the finished output
//! and its run record, or the journal of a run in progress, and who holds its lock.

use std::collections::HashMap;
use std::path::Path;

use tally_core::OutputLock;

use crate::error::GenerateError;
use crate::journal::{journal_path, read_journal};
use crate::resume::{is_retryable, read_record, PassFiles};

/// Where one output stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PassState {
    /// Written and final (nothing to retry).
    Done,
    /// Written, but some samples failed for a transient reason: a rerun retries them.
    Retry,
    /// Being generated (a journal exists).
    InProgress,
    /// Nothing written yet.
    Missing,
}

impl PassState {
    pub fn as_str(&self) -> &'static str {
        match self {
            PassState::Done => "done",
            PassState::Retry => "needs rerun",
            PassState::InProgress => "in progress",
            PassState::Missing => "not started",
        }
    }
}

/// One output's progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassProgress {
    pub state: PassState,
    /// Samples finished (failures a rerun retries not counted) / problems, when known.
    pub done: usize,
    pub total: Option<usize>,
    /// Samples whose latest attempt failed.
    pub failures: usize,
    /// The process writing it now (`pid N on HOST`).
    pub writer: Option<String>,
}

/// Reads the progress of `output` (`output-rs3.jsonl`, or a chunk file).
pub fn pass_progress(output: &Path) -> Result<PassProgress, GenerateError> {
    let files = PassFiles::new(output.to_path_buf());
    let writer = OutputLock::holder(output);
    let record = read_record(&files.record)?;
    if let (true, Some(rec)) = (output.exists(), &record) {
        let total: usize = rec.statuses.values().sum();
        if rec.retryable == 0 || !journal_path(output).exists() {
            return Ok(PassProgress {
                state: PassState::Done,
                done: total,
                total: Some(total),
                failures: 0,
                writer,
            });
        }
    }
    let Some(journal) = read_journal(&files.journal)? else {
        return Ok(PassProgress {
            state: PassState::Missing,
            done: 0,
            total: None,
            failures: 0,
            writer,
        });
    };
    let mut latest = HashMap::new();
    for e in journal.entries {
        latest.insert(e.key, e.outcome.status);
    }
    let failures = latest.values().filter(|s| is_retryable(**s)).count();
    let state = if output.exists() && writer.is_none() {
        PassState::Retry
    } else {
        PassState::InProgress
    };
    Ok(PassProgress {
        state,
        done: latest.len() - failures,
        total: journal.header.map(|h| h.num_problems),
        failures,
        writer,
    })
}
