//! A judgement cache so that a rerun (or a second benchmark sharing samples) never pays for the
//! same judgement twice. Keyed by content: judge model, rendered prompt and inference
//! parameters; an append-only JSONL file of `{"key": …, "output": {…}}` lines.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use tally_core::jsonl::{read_jsonl, AppendWriter};
use tally_core::CoreError;
use tally_prompt::Filled;

use crate::error::JudgeError;

/// sha256 (hex) identifying one judge call: the model id, the rendered prompt (text, or
/// messages) and the inference parameters (object key order does not matter). Each part is
/// length-prefixed so no two different calls share a byte string.
pub fn cache_key(model: &str, prompt: &Filled, inference: &Value) -> String {
    let mut h = Sha256::new();
    let mut part = |bytes: &[u8]| {
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    };
    part(b"tally-judge-cache/1");
    part(model.as_bytes());
    let prompt_json = serde_json::to_string(prompt).expect("prompt serializes");
    part(prompt_json.as_bytes());
    part(canonical(inference).to_string().as_bytes());
    hex::encode(h.finalize())
}

/// `value` with every object's keys sorted.
fn canonical(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), canonical(&map[k])))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

/// The cache file, loaded into memory and open for appending (through tally-core's
/// [`AppendWriter`], which repairs a torn last line on open).
pub struct JudgeCache {
    path: PathBuf,
    writer: AppendWriter,
    entries: HashMap<String, Map<String, Value>>,
}

impl std::fmt::Debug for JudgeCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JudgeCache")
            .field("path", &self.path)
            .field("entries", &self.entries.len())
            .finish()
    }
}

/// A core error about the cache file, as the judge reports it.
fn cache_error(path: &Path, e: CoreError) -> JudgeError {
    match e {
        CoreError::Io { source, .. } => JudgeError::CacheIo {
            path: path.to_path_buf(),
            source,
        },
        CoreError::Json { line, source, .. } => JudgeError::CacheLine {
            path: path.to_path_buf(),
            line,
            message: format!("not JSON: {source}"),
        },
        CoreError::NotAnObject { line, .. } => JudgeError::CacheLine {
            path: path.to_path_buf(),
            line,
            message: "not a JSON object".into(),
        },
        other => JudgeError::CacheLine {
            path: path.to_path_buf(),
            line: 0,
            message: other.to_string(),
        },
    }
}

impl JudgeCache {
    /// Opens (creating) the cache at `path`. A torn last line (a writer killed mid-line) is cut
    /// off; any other line that is not a cache entry is an error naming the line.
    pub fn open(path: &Path) -> Result<JudgeCache, JudgeError> {
        let writer = AppendWriter::open(path).map_err(|e| cache_error(path, e))?;
        let read = read_jsonl(path).map_err(|e| cache_error(path, e))?;
        let mut entries = HashMap::new();
        for line in read.lines {
            let (key, output) =
                parse_entry(line.record).map_err(|message| JudgeError::CacheLine {
                    path: path.to_path_buf(),
                    line: line.number,
                    message,
                })?;
            entries.insert(key, output);
        }
        Ok(JudgeCache {
            path: path.to_path_buf(),
            writer,
            entries,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The cached judge output (the dict a backend returned, with `generation`).
    pub fn get(&self, key: &str) -> Option<&Map<String, Value>> {
        self.entries.get(key)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Bytes of a torn last line removed at open (0 for a clean file).
    pub fn repaired_bytes(&self) -> u64 {
        self.writer.repaired_bytes()
    }

    /// Records a judge output and appends it to the file (flushed), so a crash right after loses
    /// at most this line.
    pub fn insert(&mut self, key: String, output: Map<String, Value>) -> Result<(), JudgeError> {
        let entry = serde_json::json!({"key": key, "output": output});
        self.writer
            .append(&entry)
            .map_err(|e| cache_error(&self.path, e))?;
        self.writer
            .flush()
            .map_err(|e| cache_error(&self.path, e))?;
        self.entries.insert(key, output);
        Ok(())
    }

    /// fsyncs the file: everything inserted so far survives a power loss.
    pub fn sync(&mut self) -> Result<(), JudgeError> {
        self.writer.sync().map_err(|e| cache_error(&self.path, e))
    }
}

fn parse_entry(mut obj: Map<String, Value>) -> Result<(String, Map<String, Value>), String> {
    let Some(Value::String(key)) = obj.remove("key") else {
        return Err("no string 'key'".into());
    };
    let Some(Value::Object(output)) = obj.remove("output") else {
        return Err("no object 'output'".into());
    };
    Ok((key, output))
}
