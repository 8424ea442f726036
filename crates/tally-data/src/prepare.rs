//! `prepare`: source → validated, converted, corrected problem file + manifest, atomically.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tally_core::atomic::atomic_write_bytes;
use tally_core::pyjson::{self, DumpOptions};

use crate::convert::{convert, Converted};
use crate::decode;
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
    let mut cache: Vec<(String, Vec<u8>)> = Vec::new();
    let mut built = Vec::new();
    for split in &splits {
        let sources = match &req.source {
            Source::Canonical => {
                if let Some(how) = info.local_only {
                    return Err(DataError::NeedsLocalSource {
                        benchmark: info.name.into(),
                        url: info.url.into(),
                        how: how.into(),
                    });
                }
                let mut sources = Vec::new();
                for part in parts(info) {
                    let url = info
                        .url
                        .replace("{split}", split)
                        .replace("{part}", part.unwrap_or(""));
                    if !cache.iter().any(|c| c.0 == url) {
                        let bytes = fetcher.fetch(&url).await?;
                        cache.push((url.clone(), bytes));
                    }
                    let (u, b) = cache.iter().find(|c| c.0 == url).expect("just filled");
                    sources.push(SourceFile::Bytes {
                        origin: u.clone(),
                        part,
                        bytes: b.clone(),
                    });
                }
                sources
            }
            Source::Local(p) => local_sources(p, info, split)?,
        };
        built.push(build(info, split, &sources)?);
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
                "judge": info.judge.map(|j| json!({"prompt_config": j.prompt_config, "model": j.model, "server_type": j.server_type, "server_address": j.server_address})),
                "requires_sandbox": info.requires_sandbox,
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
        looked_for: candidates(info, split, info.parts.first().copied()).join(", ") + ", *.parquet",
    }
}

/// The file names a local directory may hold for `split` (or one of its parts): Tally's own
/// `<split>.jsonl`, the other containers by extension, and the upstream file's own name.
fn candidates(info: &BenchmarkInfo, split: &str, part: Option<&str>) -> Vec<String> {
    let stem = part.unwrap_or(split);
    let mut c: Vec<String> = ["jsonl", "txt", "json", "parquet", "csv", "xml"]
        .iter()
        .map(|ext| format!("{stem}.{ext}"))
        .collect();
    c.push(info.upstream_file_name(split, part));
    c.dedup();
    c
}

/// `[None]` for one source per split, else each part's name.
fn parts(info: &BenchmarkInfo) -> Vec<Option<&'static str>> {
    if info.parts.is_empty() {
        vec![None]
    } else {
        info.parts.iter().map(|p| Some(*p)).collect()
    }
}

/// One source file of a split.
enum SourceFile {
    Bytes {
        origin: String,
        part: Option<&'static str>,
        bytes: Vec<u8>,
    },
    /// A directory of Lean files (PutnamBench), each read as one record.
    Lean {
        origin: String,
        files: Vec<(PathBuf, String)>,
    },
}

fn local_sources(
    p: &Path,
    info: &BenchmarkInfo,
    split: &str,
) -> Result<Vec<SourceFile>, DataError> {
    if info.format == registry::SourceFormat::PutnamLean {
        if !p.is_dir() {
            return Err(DataError::BadSource {
                path: p.to_path_buf(),
                message: "putnam-bench reads a directory of .lean files".into(),
            });
        }
        let files = decode::lean_files(p)?;
        if files.is_empty() {
            return Err(DataError::SourceNotFound {
                path: p.to_path_buf(),
                benchmark: info.name.into(),
                split: split.into(),
                looked_for: "*.lean".into(),
            });
        }
        return Ok(vec![SourceFile::Lean {
            origin: p.display().to_string(),
            files,
        }]);
    }
    let mut sources = Vec::new();
    for part in parts(info) {
        let file = if p.is_dir() {
            find_part_in_dir(p, info, split, part).ok_or_else(|| not_found(p, info, split))?
        } else if part.is_some() {
            return Err(DataError::BadSource {
                path: p.to_path_buf(),
                message: format!(
                    "{} is read from one file per subset: pass a directory with {}",
                    info.name,
                    info.parts
                        .iter()
                        .map(|p| format!("{p}.jsonl"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        } else {
            p.to_path_buf()
        };
        let bytes = std::fs::read(&file).map_err(|e| tally_core::CoreError::io(&file, e))?;
        sources.push(SourceFile::Bytes {
            origin: file.display().to_string(),
            part,
            bytes,
        });
    }
    Ok(sources)
}

fn find_in_dir(dir: &Path, info: &BenchmarkInfo, split: &str) -> Option<PathBuf> {
    if info.format == registry::SourceFormat::PutnamLean {
        return std::fs::read_dir(dir)
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| p.extension().is_some_and(|e| e == "lean"));
    }
    match parts(info)
        .into_iter()
        .map(|part| find_part_in_dir(dir, info, split, part))
        .collect::<Option<Vec<_>>>()
    {
        Some(mut found) => found.pop(),
        None => None,
    }
}

fn find_part_in_dir(
    dir: &Path,
    info: &BenchmarkInfo,
    split: &str,
    part: Option<&str>,
) -> Option<PathBuf> {
    for c in candidates(info, split, part) {
        let p = dir.join(c);
        if p.is_file() {
            return Some(p);
        }
    }
    // A single parquet file (HF layout) serves every split: filters pick the split.
    if matches!(
        info.format,
        registry::SourceFormat::Hle | registry::SourceFormat::AnswerRenamed
    ) {
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

struct Built {
    bytes: Vec<u8>,
    records: usize,
    skipped: BTreeMap<String, usize>,
    corrections: Vec<Correction>,
    origin: String,
}

fn build(info: &BenchmarkInfo, split: &str, sources: &[SourceFile]) -> Result<Built, DataError> {
    let mut origins = Vec::new();
    let mut rows: Vec<(PathBuf, Option<&'static str>, decode::Row)> = Vec::new();
    for source in sources {
        match source {
            SourceFile::Bytes {
                origin,
                part,
                bytes,
            } => {
                let path = PathBuf::from(origin);
                for row in decode::rows(info.format, &path, bytes)? {
                    rows.push((path.clone(), *part, row));
                }
                origins.push(origin.clone());
            }
            SourceFile::Lean { origin, files } => {
                for row in decode::lean_rows(files) {
                    rows.push((PathBuf::from(origin), None, row));
                }
                origins.push(origin.clone());
            }
        }
    }
    let origin = origins.join(", ");
    let total_len: usize = sources
        .iter()
        .map(|s| match s {
            SourceFile::Bytes { bytes, .. } => bytes.len(),
            SourceFile::Lean { files, .. } => files.iter().map(|f| f.1.len()).sum(),
        })
        .sum();
    let mut out = Vec::with_capacity(total_len);
    let mut kept = 0usize;
    let mut skipped: BTreeMap<String, usize> = BTreeMap::new();
    let mut corrections = Vec::new();
    let mut ids = HashSet::new();
    for (source_path, part, row) in rows {
        let path = row.file.unwrap_or(source_path);
        let (line, mut rec, raw) = (row.line, row.rec, row.raw);
        let bad = |message: String| DataError::BadRecord {
            path: path.clone(),
            line,
            message,
        };
        match convert(info.format, info.name, split, part, kept, &rec).map_err(bad)? {
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
                let opts = DumpOptions {
                    ensure_ascii: info.ensure_ascii(),
                    ..DumpOptions::default()
                };
                out.extend_from_slice(pyjson::dumps(&Value::Object(rec.clone()), &opts).as_bytes());
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
        return Err(DataError::Empty {
            path: PathBuf::from(&origin),
        });
    }
    Ok(Built {
        bytes: out,
        records: kept,
        skipped,
        corrections,
        origin,
    })
}
