//! A judgement cache so that a rerun (or a second benchmark sharing samples) never pays for the
//! same judgement twice. Keyed by content: judge model, rendered prompt and inference
//! parameters; an append-only JSONL file of `{"key": …, "output": {…}}` lines.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
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

/// The cache file, loaded into memory and open for appending.
#[derive(Debug)]
pub struct JudgeCache {
    path: PathBuf,
    file: File,
    entries: HashMap<String, Map<String, Value>>,
    repaired_bytes: u64,
}

impl JudgeCache {
    /// Opens (creating) the cache at `path`. A torn last line (a writer killed mid-line) is cut
    /// off; any other line that is not a cache entry is an error naming the line.
    pub fn open(path: &Path) -> Result<JudgeCache, JudgeError> {
        let io = |source| JudgeError::CacheIo {
            path: path.to_path_buf(),
            source,
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(path)
            .map_err(io)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(io)?;

        let mut entries = HashMap::new();
        let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        for (i, line) in bytes[..complete].split(|&b| b == b'\n').enumerate() {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let (key, output) = parse_entry(line).map_err(|message| JudgeError::CacheLine {
                path: path.to_path_buf(),
                line: i + 1,
                message,
            })?;
            entries.insert(key, output);
        }
        let tail = &bytes[complete..];
        let mut repaired_bytes = 0;
        if !tail.is_empty() {
            match parse_entry(tail) {
                // Complete but unterminated: keep it and end the line.
                Ok((key, output)) => {
                    entries.insert(key, output);
                    file.write_all(b"\n").map_err(io)?;
                }
                Err(_) => {
                    file.set_len(complete as u64).map_err(io)?;
                    file.seek(SeekFrom::End(0)).map_err(io)?;
                    repaired_bytes = tail.len() as u64;
                }
            }
        }
        Ok(JudgeCache {
            path: path.to_path_buf(),
            file,
            entries,
            repaired_bytes,
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
        self.repaired_bytes
    }

    /// Records a judge output and appends it to the file (one write, flushed), so a crash
    /// right after loses at most this line.
    pub fn insert(&mut self, key: String, output: Map<String, Value>) -> Result<(), JudgeError> {
        let mut line = serde_json::to_vec(&serde_json::json!({"key": key, "output": output}))
            .expect("cache entry serializes");
        line.push(b'\n');
        let io = |source| JudgeError::CacheIo {
            path: self.path.clone(),
            source,
        };
        self.file.write_all(&line).map_err(io)?;
        self.file.flush().map_err(io)?;
        self.entries.insert(key, output);
        Ok(())
    }

    /// fsyncs the file: everything inserted so far survives a power loss.
    pub fn sync(&mut self) -> Result<(), JudgeError> {
        self.file.sync_data().map_err(|source| JudgeError::CacheIo {
            path: self.path.clone(),
            source,
        })
    }
}

fn parse_entry(line: &[u8]) -> Result<(String, Map<String, Value>), String> {
    let value: Value = serde_json::from_slice(line).map_err(|e| format!("not JSON: {e}"))?;
    let Value::Object(mut obj) = value else {
        return Err("not a JSON object".into());
    };
    let Some(Value::String(key)) = obj.remove("key") else {
        return Err("no string 'key'".into());
    };
    let Some(Value::Object(output)) = obj.remove("output") else {
        return Err("no object 'output'".into());
    };
    Ok((key, output))
}
