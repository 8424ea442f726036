//! `prepare`: source → validated, converted, corrected problem file + manifest, atomically.

use std::collections::{BTreeMap, HashSet};
use std::io::Cursor;
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use tally_core::atomic::atomic_write_bytes;
use tally_core::jsonl::{JsonlLines, LineError};
use tally_core::pyjson;

use crate::convert::{convert, Converted};
use crate::errata::{self, Correction};
use crate::error::DataError;
use crate::fetch::Fetch;
use crate::registry::{self, BenchmarkInfo};

/// Where the source comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The benchmark's canonical public URL.
    Canonical,
    /// A local file (used for every split) or directory (`<split>.jsonl`, `test.jsonl`, …).
    Local(PathBuf),
}

#[derive(Debug, Clone)]
pub struct PrepareRequest {
    pub benchmark: String,
    /// `None`: every split (for a local directory: every split it has a file for).
    pub split: Option<String>,
    pub source: Source,
    /// Files go to `<out_dir>/<benchmark>/<split>.jsonl`.
    pub out_dir: PathBuf,
}

/// One prepared split.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    pub benchmark: String,
    pub split: String,
    pub path: PathBuf,
    pub manifest_path: PathBuf,
    pub records: usize,
    pub sha256: String,
    /// Source records left out, by reason.
    pub skipped: BTreeMap<String, usize>,
    pub corrections: Vec<Correction>,
    /// The URL or path read.
    pub source: String,
}

/// Prepares the requested splits. Each split is written atomically after the whole source has
/// been read and checked, so an error leaves earlier files as they were.
pub async fn prepare(
    req: &PrepareRequest,
    fetcher: &dyn Fetch,
) -> Result<Vec<Prepared>, DataError> {
    let info = registry::lookup(&req.benchmark).ok_or_else(|| DataError::UnknownBenchmark {
        name: req.benchmark.clone(),
        known: registry::names().join(", "),
    })?;
    let splits: Vec<String> = match &req.split {
        Some(s) if s == "all" => info.splits.iter().map(|s| s.to_string()).collect(),
        Some(s) => {
            if !info.splits.contains(&s.as_str()) {
                return Err(DataError::UnknownSplit {
                    benchmark: info.name.into(),
                    split: s.clone(),
                    splits: info.splits.join(", "),
                });
            }
            vec![s.clone()]
        }
        None => match &req.source {
            Source::Local(dir) if dir.is_dir() => {
                let found: Vec<String> = info
                    .splits
                    .iter()
                    .filter(|s| find_in_dir(dir, info, s).is_some())
                    .map(|s| s.to_string())
                    .collect();
                if found.is_empty() {
                    return Err(not_found(dir, info, info.default_split));
                }
                found
            }
            _ => info.splits.iter().map(|s| s.to_string()).collect(),
        },
    };
    // Read and convert everything first; write only when every split is good.
    let mut cache: Option<(String, Vec<u8>)> = None;
    let mut built = Vec::new();
    for split in &splits {
        let (origin, bytes) = match &req.source {
            Source::Canonical => {
                let url = info.url.replace("{split}", split);
                if cache.as_ref().map(|c| &c.0) != Some(&url) {
                    let bytes = fetcher.fetch(&url).await?;
                    cache = Some((url.clone(), bytes));
                }
                let (u, b) = cache.as_ref().expect("just filled");
                (u.clone(), b.clone())
            }
            Source::Local(p) => {
                let file = if p.is_dir() {
                    find_in_dir(p, info, split).ok_or_else(|| not_found(p, info, split))?
                } else {
                    p.clone()
                };
                let bytes =
                    std::fs::read(&file).map_err(|e| tally_core::CoreError::io(&file, e))?;
                (file.display().to_string(), bytes)
            }
        };
        built.push(build(info, split, &origin, &bytes)?);
    }
    let mut out = Vec::new();
    for (split, b) in splits.iter().zip(built) {
        let dir = req.out_dir.join(info.name);
        let path = dir.join(format!("{split}.jsonl"));
        let manifest_path = dir.join(format!("{split}.manifest.json"));
        atomic_write_bytes(&path, &b.bytes)?;
        let sha256 = hex::encode(Sha256::digest(&b.bytes));
        let manifest = json!({
            "benchmark": info.name,
            "split": split,
            "records": b.records,
            "sha256": sha256,
            "source": b.origin,
            "skipped": b.skipped,
            "errata_applied": b.corrections.iter().map(|c| json!({
                "id": c.erratum.id, "field": c.erratum.field, "was": c.was,
                "now": c.erratum.correct, "note": c.erratum.note,
            })).collect::<Vec<_>>(),
            "defaults": {
                "prompt_config": info.prompt_config,
                "metrics_type": info.metrics_type,
                "eval_args": info.eval_args,
                "generation_args": info.generation_args,
                "judge": info.judge.map(|j| json!({"prompt_config": j.prompt_config, "model": j.model, "server_type": j.server_type})),
            },
            "tally_version": env!("CARGO_PKG_VERSION"),
        });
        let mut text = pyjson::to_string_indent2(&manifest);
        text.push('\n');
        atomic_write_bytes(&manifest_path, text.as_bytes())?;
        out.push(Prepared {
            benchmark: info.name.into(),
            split: split.clone(),
            path,
            manifest_path,
            records: b.records,
            sha256,
            skipped: b.skipped,
            corrections: b.corrections,
            source: b.origin,
        });
    }
    Ok(out)
}

fn not_found(dir: &Path, info: &BenchmarkInfo, split: &str) -> DataError {
    DataError::SourceNotFound {
        path: dir.to_path_buf(),
        benchmark: info.name.into(),
        split: split.into(),
        looked_for: candidates(split).join(", ") + ", *.parquet",
    }
}

fn candidates(split: &str) -> Vec<String> {
    let mut c = vec![format!("{split}.jsonl"), format!("{split}.txt")];
    if split == "test" {
        c.push("test.parquet".into());
    }
    c
}

fn find_in_dir(dir: &Path, info: &BenchmarkInfo, split: &str) -> Option<PathBuf> {
    for c in candidates(split) {
        let p = dir.join(c);
        if p.is_file() {
            return Some(p);
        }
    }
    // A single parquet file (HF layout) serves every split: filters pick the split.
    if info.format == registry::SourceFormat::Hle {
        let mut parquet: Vec<PathBuf> = std::fs::read_dir(dir)
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
            .collect();
        parquet.sort();
        return parquet.into_iter().next();
    }
    None
}

/// (line number, record, the line's bytes when it came from JSONL).
type SourceRow<'a> = (usize, Map<String, Value>, Option<&'a [u8]>);

struct Built {
    bytes: Vec<u8>,
    records: usize,
    skipped: BTreeMap<String, usize>,
    corrections: Vec<Correction>,
    origin: String,
}

fn build(
    info: &BenchmarkInfo,
    split: &str,
    origin: &str,
    bytes: &[u8],
) -> Result<Built, DataError> {
    let path = PathBuf::from(origin);
    let rows: Vec<SourceRow> = if bytes.starts_with(b"PAR1") {
        parquet_rows(&path, bytes)?
            .into_iter()
            .enumerate()
            .map(|(i, r)| (i + 1, r, None))
            .collect()
    } else {
        let mut rows = Vec::new();
        let mut offsets = line_spans(bytes).into_iter();
        for item in JsonlLines::new(&path, bytes) {
            match item {
                Ok(line) => {
                    let span = offsets
                        .find(|(n, _)| *n == line.number)
                        .map(|(_, s)| &bytes[s.0..s.1]);
                    rows.push((line.number, line.record, span));
                }
                Err(LineError::Torn(t)) => {
                    return Err(DataError::BadRecord {
                        path,
                        line: t.line,
                        message: "the last line is cut off (incomplete download?)".into(),
                    })
                }
                Err(LineError::Bad(e)) => return Err(e.into()),
            }
        }
        rows
    };
    let mut out = Vec::with_capacity(bytes.len());
    let mut kept = 0usize;
    let mut skipped: BTreeMap<String, usize> = BTreeMap::new();
    let mut corrections = Vec::new();
    let mut ids = HashSet::new();
    for (line, mut rec, raw) in rows {
        let bad = |message: String| DataError::BadRecord {
            path: path.clone(),
            line,
            message,
        };
        match convert(info.format, info.name, split, kept, &rec).map_err(bad)? {
            Converted::Skip(reason) => {
                *skipped.entry(reason.as_str().to_string()).or_default() += 1;
                continue;
            }
            Converted::Verbatim => {
                let made = errata::apply(info.name, &mut rec);
                match (made.is_empty(), raw) {
                    (true, Some(raw)) => out.extend_from_slice(raw),
                    _ => out.extend_from_slice(
                        pyjson::to_string(&Value::Object(rec.clone())).as_bytes(),
                    ),
                }
                corrections.extend(made);
            }
            Converted::Record(mut r) => {
                corrections.extend(errata::apply(info.name, &mut r));
                rec = r;
                out.extend_from_slice(pyjson::to_string(&Value::Object(rec.clone())).as_bytes());
            }
        }
        out.push(b'\n');
        if let Some(id) = rec.get("id").filter(|v| !v.is_null()) {
            if !ids.insert(id.to_string()) {
                return Err(DataError::BadRecord {
                    path: path.clone(),
                    line,
                    message: format!("duplicate id {id}"),
                });
            }
        }
        kept += 1;
    }
    if kept == 0 {
        return Err(DataError::Empty { path });
    }
    Ok(Built {
        bytes: out,
        records: kept,
        skipped,
        corrections,
        origin: origin.to_string(),
    })
}

/// (1-based line number, byte span without the newline) of every line.
fn line_spans(bytes: &[u8]) -> Vec<(usize, (usize, usize))> {
    let mut spans = Vec::new();
    let mut start = 0;
    for (n, chunk) in bytes.split(|&b| b == b'\n').enumerate() {
        let end = start + chunk.len();
        let trimmed_end = if chunk.ends_with(b"\r") { end - 1 } else { end };
        spans.push((n + 1, (start, trimmed_end)));
        start = end + 1;
    }
    spans
}

/// Rows of a parquet file (the Hugging Face layout of HLE) as JSON objects.
fn parquet_rows(path: &Path, bytes: &[u8]) -> Result<Vec<Map<String, Value>>, DataError> {
    use polars::prelude::*;
    let err = |e: PolarsError| DataError::Parquet {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let df = ParquetReader::new(Cursor::new(bytes.to_vec()))
        .finish()
        .map_err(err)?;
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    let columns = df.columns();
    let mut rows = Vec::with_capacity(df.height());
    for i in 0..df.height() {
        let mut m = Map::new();
        for (name, c) in names.iter().zip(columns) {
            let v = c.get(i).map_err(err)?;
            m.insert(name.clone(), any_to_json(&v));
        }
        rows.push(m);
    }
    Ok(rows)
}

fn any_to_json(v: &polars::prelude::AnyValue) -> Value {
    use polars::prelude::AnyValue as A;
    match v {
        A::Null => Value::Null,
        A::Boolean(b) => Value::Bool(*b),
        A::String(s) => Value::String(s.to_string()),
        A::StringOwned(s) => Value::String(s.to_string()),
        A::Int8(x) => json!(x),
        A::Int16(x) => json!(x),
        A::Int32(x) => json!(x),
        A::Int64(x) => json!(x),
        A::UInt8(x) => json!(x),
        A::UInt16(x) => json!(x),
        A::UInt32(x) => json!(x),
        A::UInt64(x) => json!(x),
        A::Float32(x) => json!(x),
        A::Float64(x) => json!(x),
        // Binary columns (e.g. embedded images) only matter as "present or not".
        A::Binary(b) => Value::String(if b.is_empty() {
            String::new()
        } else {
            "<binary>".into()
        }),
        A::BinaryOwned(b) => Value::String(if b.is_empty() {
            String::new()
        } else {
            "<binary>".into()
        }),
        other => Value::String(other.to_string()),
    }
}
