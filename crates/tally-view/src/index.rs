//! A lazily read results directory: per sample file, the byte range of every line and the few
//! fields the grid needs; a sample's text is read from disk only when it is shown.

use std::borrow::Cow;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde_json::Value;
use tally_core::judgement::{parse_verdict, ParseMode, Verdict};
use tally_metrics::greedy_layout;
use tally_metrics::layout::{self, BenchmarkFiles};
use tally_metrics::load::RecordFields;

use crate::error::ViewError;
use crate::outcome::{classify, Outcome, Verdicts};

/// How much of a problem's text is kept in memory for search and the grid's tooltips.
const PROBLEM_TEXT_KEPT: usize = 400;

/// One indexed results directory.
#[derive(Debug)]
pub struct RunIndex {
    /// The directory as given.
    pub root: PathBuf,
    /// A short name (the directory's last component(s)).
    pub name: String,
    pub benchmarks: Vec<BenchIndex>,
}

/// One benchmark: its sample files (greedy first, then seeds in order) aligned by line.
#[derive(Debug)]
pub struct BenchIndex {
    pub name: String,
    pub files: Vec<FileIndex>,
    /// Problem `i` is line `i` of every file.
    pub problems: Vec<ProblemInfo>,
}

#[derive(Debug)]
pub struct FileIndex {
    pub path: PathBuf,
    /// `greedy` or `rs<seed>`.
    pub label: String,
    pub greedy: bool,
    pub samples: Vec<SampleInfo>,
}

/// What the grid, votes and comparisons need of one sample (the text stays on disk).
#[derive(Debug, Clone)]
pub struct SampleInfo {
    pub offset: u64,
    pub len: u32,
    pub line: usize,
    pub outcome: Outcome,
    /// The rule verdict (`is_correct`, else `symbolic_correct`), if any.
    pub correct: Option<bool>,
    pub answer: Option<String>,
    /// What a majority vote groups by: `answer_canonical`, else the answer's text.
    pub vote_key: Option<String>,
    pub tokens: Option<f64>,
    pub time: Option<f64>,
    /// `status` as written (`None`: absent or unknown).
    pub status: Option<tally_core::Status>,
    /// The judge's verdict, when a judgement was written and could be read.
    pub judge: Option<bool>,
}

#[derive(Debug, Clone, Default)]
pub struct ProblemInfo {
    /// `id`, `problem_id`, else the line number.
    pub key: String,
    pub subset: Option<String>,
    pub expected: Option<String>,
    /// The first characters of the problem's text, when records carry it.
    pub text: Option<String>,
}

impl BenchIndex {
    pub fn seed_files(&self) -> impl Iterator<Item = &FileIndex> {
        self.files.iter().filter(|f| !f.greedy)
    }
    pub fn greedy(&self) -> Option<&FileIndex> {
        self.files.iter().find(|f| f.greedy)
    }
    /// Subsets in first-seen order.
    pub fn subsets(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for p in &self.problems {
            if let Some(s) = &p.subset {
                if !out.contains(s) {
                    out.push(s.clone());
                }
            }
        }
        out
    }
    /// Fraction of judged seed samples of problem `i` that are correct (`None`: none judged).
    pub fn difficulty(&self, i: usize) -> Option<f64> {
        let (mut c, mut n) = (0usize, 0usize);
        for f in self.seed_files() {
            let s = &f.samples[i];
            if s.outcome.is_judged() {
                n += 1;
                c += (s.outcome == Outcome::Correct) as usize;
            }
        }
        (n > 0).then(|| c as f64 / n as f64)
    }
}

impl RunIndex {
    /// Indexes every benchmark of a results directory (any layout `summarize-results` reads).
    pub fn open(root: &Path) -> Result<RunIndex, ViewError> {
        let layout = layout::detect(root, None)?;
        let benchmarks = layout
            .benchmarks
            .iter()
            .map(|b| index_benchmark(&greedy_layout::with_greedy_beside(&layout, b)))
            .collect::<Result<Vec<_>, _>>()?;
        let name = short_name(root);
        Ok(RunIndex {
            root: root.to_path_buf(),
            name,
            benchmarks,
        })
    }

    pub fn benchmark(&self, name: &str) -> Option<&BenchIndex> {
        self.benchmarks.iter().find(|b| b.name == name)
    }

    pub fn num_samples(&self) -> usize {
        self.benchmarks
            .iter()
            .flat_map(|b| &b.files)
            .map(|f| f.samples.len())
            .sum()
    }
}

fn short_name(root: &Path) -> String {
    let comps: Vec<String> = root
        .components()
        .filter_map(|c| match c {
            std::path::Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    match comps.as_slice() {
        [] => ".".into(),
        [.., last] => last.clone(),
    }
}

fn index_benchmark(b: &BenchmarkFiles) -> Result<BenchIndex, ViewError> {
    let mut paths: Vec<(PathBuf, bool)> = b.greedy.iter().map(|p| (p.clone(), true)).collect();
    paths.extend(b.seeds.iter().map(|p| (p.clone(), false)));
    let indexed: Vec<(FileIndex, Vec<ProblemInfo>)> = paths
        .par_iter()
        .map(|(p, greedy)| index_file(p, *greedy))
        .collect::<Result<_, _>>()?;
    let mut files = Vec::new();
    let mut problems: Vec<ProblemInfo> = Vec::new();
    for (f, probs) in indexed {
        if let Some(first) = files.first() {
            let first: &FileIndex = first;
            if first.samples.len() != f.samples.len() {
                return Err(ViewError::Misaligned {
                    path: f.path.clone(),
                    found: f.samples.len(),
                    reference: first.path.clone(),
                    expected: first.samples.len(),
                });
            }
        } else {
            problems = probs;
        }
        files.push(f);
    }
    Ok(BenchIndex {
        name: b.name.clone(),
        files,
        problems,
    })
}

/// A JSON scalar as text (`"70"`, `70`, `true` → `70`, `70`, `True`).
pub fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(if *b { "True" } else { "False" }.into()),
        Value::Number(n) => Some(n.to_string()),
        other => Some(other.to_string()),
    }
}

fn as_bool(v: Option<&Value>) -> Option<bool> {
    match v {
        Some(Value::Bool(b)) => Some(*b),
        Some(Value::Number(n)) => n.as_f64().map(|f| f != 0.0),
        _ => None,
    }
}

fn index_file(path: &Path, greedy: bool) -> Result<(FileIndex, Vec<ProblemInfo>), ViewError> {
    let bytes = std::fs::read(path).map_err(|e| ViewError::io(path, e))?;
    let mut samples = Vec::new();
    let mut problems = Vec::new();
    let mut offset = 0usize;
    for (n, raw) in bytes.split_inclusive(|&b| b == b'\n').enumerate() {
        let start = offset;
        offset += raw.len();
        let line = raw.strip_suffix(b"\n").unwrap_or(raw);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let bad = |message: String| ViewError::Record {
            path: path.to_path_buf(),
            line: n + 1,
            message,
        };
        let r: RecordFields = serde_json::from_slice(line).map_err(|e| bad(e.to_string()))?;
        let answer = r.predicted_answer.get().and_then(value_text);
        let rule = as_bool(r.is_correct.get()).or_else(|| as_bool(r.symbolic_correct.get()));
        let judgement = r.judgement.get().and_then(Value::as_str);
        let outcome = classify(&Verdicts {
            status: r.status.as_deref(),
            judge_status: r.judge_status.as_deref(),
            grade_status: r.grade_status.as_deref(),
            rule,
            judgement,
            has_answer: answer.is_some(),
        });
        let vote_key = r
            .answer_canonical
            .as_deref()
            .map(str::to_string)
            .or_else(|| answer.clone());
        samples.push(SampleInfo {
            offset: start as u64,
            len: line.len() as u32,
            line: n + 1,
            outcome,
            correct: rule,
            answer,
            vote_key,
            tokens: r.num_generated_tokens,
            time: r.generation_time,
            status: r.status.as_deref().and_then(tally_core::Status::parse),
            judge: judgement.and_then(|j| match parse_verdict(j, ParseMode::Default) {
                Verdict::Yes => Some(true),
                Verdict::No => Some(false),
                _ => None,
            }),
        });
        let key =
            r.id.as_ref()
                .or(r.problem_id.as_ref())
                .and_then(value_text)
                .unwrap_or_else(|| format!("#{}", problems.len()));
        problems.push(ProblemInfo {
            key,
            subset: r.subset_for_metrics.map(Cow::into_owned),
            expected: r.expected_answer.as_ref().and_then(value_text),
            text: r
                .problem
                .map(|t| t.chars().take(PROBLEM_TEXT_KEPT).collect()),
        });
    }
    let label = if greedy {
        "greedy".to_string()
    } else {
        path.file_stem()
            .map(|s| {
                s.to_string_lossy()
                    .trim_start_matches("output-")
                    .to_string()
            })
            .unwrap_or_default()
    };
    Ok((
        FileIndex {
            path: path.to_path_buf(),
            label,
            greedy,
            samples,
        },
        problems,
    ))
}

/// Reads one sample's full record from disk.
pub fn read_sample(
    file: &FileIndex,
    i: usize,
) -> Result<serde_json::Map<String, Value>, ViewError> {
    let s = &file.samples[i];
    let mut f = File::open(&file.path).map_err(|e| ViewError::io(&file.path, e))?;
    f.seek(SeekFrom::Start(s.offset))
        .map_err(|e| ViewError::io(&file.path, e))?;
    let mut buf = vec![0u8; s.len as usize];
    f.read_exact(&mut buf)
        .map_err(|e| ViewError::io(&file.path, e))?;
    match serde_json::from_slice::<Value>(&buf) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(ViewError::Record {
            path: file.path.clone(),
            line: s.line,
            message: "not a JSON object".into(),
        }),
        Err(e) => Err(ViewError::Record {
            path: file.path.clone(),
            line: s.line,
            message: format!("{e} (the file changed since it was indexed?)"),
        }),
    }
}
