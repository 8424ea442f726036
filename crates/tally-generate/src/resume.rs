//! Deciding, per output file, what a run still has to do.
//!
//! Three files belong to one pass (one seed):
//! - `output-rs3.jsonl`: the finished output, written once by atomic rewrite;
//! - `output-rs3.jsonl.tally-journal`: the in-progress journal ([`crate::journal`]);
//! - `output-rs3.jsonl.tally-run.json`: the run record written after the output: the header of
//!   the settings it was made with and its status counts.
//!
//! The header ([`RunHeader`]) holds everything that decides what a sample is: model, server
//! type, prompt hash, sampling parameters, seed, and a digest of the input records. A journal or
//! a finished output whose header differs from the current one is refused with the list of
//! changes (or discarded under `--override-resume`), never silently mixed.
//!
//! Samples that failed for a transient reason (`request_error`, `timeout`) are not counted as
//! done: the next run retries them, and a finished output that holds some keeps its journal so
//! that a rerun can retry exactly those.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tally_core::Status;

use crate::config::ResumePolicy;
use crate::error::GenerateError;
use crate::journal::{journal_path, read_journal, JournalContents};
use crate::record::SampleOutcome;

/// The settings an output file was produced with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunHeader {
    pub format: String,
    pub model: String,
    pub server_type: tally_core::ServerType,
    /// [`tally_prompt::Prompt::content_hash`].
    pub prompt_hash: String,
    /// `text` (a template was given) or `chat`.
    pub prompt_mode: String,
    /// The sampling parameters under their `inference.*` names, stop phrases included.
    pub sampling: Value,
    /// The pass's seed (`None`: the unseeded `output.jsonl`).
    pub seed: Option<u64>,
    /// Every seed of the run that wrote the file. Informational: adding seeds later does not
    /// change what an existing pass contains, so it is not compared.
    pub seeds: Vec<Option<u64>>,
    pub generation_key: String,
    pub num_problems: usize,
    /// sha256 of the input records as used (after `++max_samples`).
    pub input_sha256: String,
}

pub(crate) const HEADER_FORMAT: &str = "tally-generate/1";

impl RunHeader {
    /// What differs from `current`, one line per change, in words a user can act on; empty when
    /// the two describe the same pass.
    pub fn changes_to(&self, current: &RunHeader) -> Vec<String> {
        let mut out = Vec::new();
        let mut cmp = |what: &str, old: String, new: String| {
            if old != new {
                out.push(format!("{what}: {old} → {new}"));
            }
        };
        cmp("format", self.format.clone(), current.format.clone());
        cmp("model", self.model.clone(), current.model.clone());
        cmp(
            "server type",
            self.server_type.to_string(),
            current.server_type.to_string(),
        );
        cmp(
            "prompt (config/template/examples, content hash)",
            short(&self.prompt_hash),
            short(&current.prompt_hash),
        );
        cmp(
            "prompt mode",
            self.prompt_mode.clone(),
            current.prompt_mode.clone(),
        );
        cmp("seed", fmt_seed(self.seed), fmt_seed(current.seed));
        cmp(
            "generation key",
            self.generation_key.clone(),
            current.generation_key.clone(),
        );
        let keys: Vec<String> = match (&self.sampling, &current.sampling) {
            (Value::Object(a), Value::Object(b)) => {
                let mut k: Vec<String> = a.keys().cloned().collect();
                k.extend(b.keys().filter(|x| !a.contains_key(*x)).cloned());
                k
            }
            _ => vec![],
        };
        for k in keys {
            let get = |v: &Value| {
                v.get(&k)
                    .map(|x| x.to_string())
                    .unwrap_or_else(|| "unset".into())
            };
            let name = if k == "stop_phrases" {
                k.clone()
            } else {
                format!("inference.{k}")
            };
            cmp(&name, get(&self.sampling), get(&current.sampling));
        }
        if self.input_sha256 != current.input_sha256 || self.num_problems != current.num_problems {
            out.push(format!(
                "input data: {} problems (sha256 {}) → {} problems (sha256 {})",
                self.num_problems,
                short(&self.input_sha256),
                current.num_problems,
                short(&current.input_sha256)
            ));
        }
        out
    }
}

fn short(h: &str) -> String {
    h.chars().take(12).collect()
}

fn fmt_seed(s: Option<u64>) -> String {
    s.map(|s| s.to_string()).unwrap_or_else(|| "none".into())
}

/// The run record next to a finished output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub header: RunHeader,
    /// Samples per status.
    pub statuses: std::collections::BTreeMap<String, usize>,
    /// Samples that a rerun will retry (`request_error`, `timeout`).
    pub retryable: usize,
}

/// The files of one pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassFiles {
    pub output: PathBuf,
    pub journal: PathBuf,
    pub record: PathBuf,
}

impl PassFiles {
    pub fn new(output: PathBuf) -> PassFiles {
        let mut rec = output.as_os_str().to_os_string();
        rec.push(".tally-run.json");
        PassFiles {
            journal: journal_path(&output),
            record: PathBuf::from(rec),
            output,
        }
    }
}

/// Whether a failed sample is worth another request on the next run.
pub fn is_retryable(status: Status) -> bool {
    matches!(status, Status::RequestError | Status::Timeout)
}

/// Where a pass starts.
#[derive(Debug)]
pub(crate) enum PassStart {
    /// The output exists, matches and holds nothing to retry.
    Finished,
    /// Generate what `done` lacks (`done`: key → latest outcome from the journal).
    Continue {
        done: HashMap<String, SampleOutcome>,
        /// Journal entries found (0 for a fresh pass).
        journalled: usize,
        torn_bytes: Option<usize>,
        /// Entries whose key matches no current sample.
        stale: usize,
    },
}

/// Reads what exists of a pass and decides where it starts, or refuses.
pub(crate) fn plan_pass(
    files: &PassFiles,
    header: &RunHeader,
    keys: &[String],
    policy: ResumePolicy,
) -> Result<PassStart, GenerateError> {
    if policy == ResumePolicy::Restart {
        discard(files)?;
        return Ok(fresh());
    }
    let record = read_record(&files.record)?;
    let output_exists = files.output.exists();
    let journal_exists = files.journal.exists();
    if output_exists {
        match &record {
            Some(rec) => {
                let changes = rec.header.changes_to(header);
                if !changes.is_empty() {
                    if policy == ResumePolicy::Override {
                        discard(files)?;
                        return Ok(fresh());
                    }
                    return Err(GenerateError::ResumeMismatch {
                        path: files.output.clone(),
                        changes,
                    });
                }
                if rec.retryable == 0 || !journal_exists {
                    remove_if_exists(&files.journal)?;
                    return Ok(PassStart::Finished);
                }
                // Fall through: retry the transient failures recorded in the journal.
            }
            None if !journal_exists => {
                if policy == ResumePolicy::Override {
                    discard(files)?;
                    return Ok(fresh());
                }
                return Err(GenerateError::ForeignOutput {
                    path: files.output.clone(),
                    meta: files
                        .record
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                });
            }
            // Killed between writing the output and its run record: the journal decides.
            None => {}
        }
    }
    let Some(journal) = read_journal(&files.journal)? else {
        return Ok(fresh());
    };
    if let Some(h) = &journal.header {
        let changes = h.changes_to(header);
        if !changes.is_empty() {
            if policy == ResumePolicy::Override {
                discard(files)?;
                return Ok(fresh());
            }
            return Err(GenerateError::ResumeMismatch {
                path: files.journal.clone(),
                changes,
            });
        }
    }
    Ok(continue_from(journal, keys))
}

fn fresh() -> PassStart {
    PassStart::Continue {
        done: HashMap::new(),
        journalled: 0,
        torn_bytes: None,
        stale: 0,
    }
}

/// The latest outcome per current key; transient failures are left out so they are retried.
fn continue_from(journal: JournalContents, keys: &[String]) -> PassStart {
    let journalled = journal.entries.len();
    let mut latest: HashMap<String, SampleOutcome> = HashMap::new();
    let mut stale = 0;
    for e in journal.entries {
        if keys.get(e.index) == Some(&e.key) {
            latest.insert(e.key, e.outcome);
        } else {
            stale += 1;
        }
    }
    latest.retain(|_, o| !is_retryable(o.status));
    PassStart::Continue {
        done: latest,
        journalled,
        torn_bytes: journal.torn_bytes,
        stale,
    }
}

pub(crate) fn read_record(path: &Path) -> Result<Option<RunRecord>, GenerateError> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| GenerateError::Journal {
                path: path.to_path_buf(),
                line: 1,
                reason: format!("unreadable run record: {e}"),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(GenerateError::io(path, e)),
    }
}

fn discard(files: &PassFiles) -> Result<(), GenerateError> {
    // The record goes first: an output without a record is never taken as finished.
    remove_if_exists(&files.record)?;
    remove_if_exists(&files.output)?;
    remove_if_exists(&files.journal)
}

pub(crate) fn remove_if_exists(path: &Path) -> Result<(), GenerateError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(GenerateError::io(path, e)),
    }
}
