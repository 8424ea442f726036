//! Reading sample files into aligned rows: line `i` of every file is problem `i`.
//!
//! Only the fields summaries need are decoded (the long `generation` text is skipped without
//! being copied), files are read in parallel, and every problem with a file or record is reported
//! with its path and line.

use std::borrow::Cow;
use std::fs;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use tally_core::Status;

use crate::error::MetricsError;

/// A JSON field that may be absent, null, or set — NeMo-Skills tells the three apart
/// (`'is_correct' in record` switches a column on; `predicted_answer is None` means no answer).
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Field<T> {
    #[default]
    Missing,
    Null,
    Set(T),
}

impl<T> Field<T> {
    pub fn is_present(&self) -> bool {
        !matches!(self, Field::Missing)
    }
    pub fn get(&self) -> Option<&T> {
        match self {
            Field::Set(v) => Some(v),
            _ => None,
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Field<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match Option::<T>::deserialize(d)? {
            None => Field::Null,
            Some(v) => Field::Set(v),
        })
    }
}

/// A predicted answer as Python compares them: strings by content; numbers by value (`70 == 70.0`,
/// `True == 1`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AnswerKey {
    Str(String),
    /// The bits of an `f64` (normalised so `-0.0 == 0.0`).
    Num(u64),
    /// Lists and objects (unhashable in Python): their JSON text.
    Other(String),
}

impl AnswerKey {
    fn from_value(v: Value) -> AnswerKey {
        match v {
            Value::String(s) => AnswerKey::Str(s),
            Value::Bool(b) => AnswerKey::num(if b { 1.0 } else { 0.0 }),
            Value::Number(n) => AnswerKey::num(n.as_f64().unwrap_or(f64::NAN)),
            other => AnswerKey::Other(other.to_string()),
        }
    }
    fn num(f: f64) -> AnswerKey {
        AnswerKey::Num(if f == 0.0 {
            0.0f64.to_bits()
        } else {
            f.to_bits()
        })
    }
    /// The answer as text (for equivalence-free grouping and display).
    pub fn text(&self) -> Cow<'_, str> {
        match self {
            AnswerKey::Str(s) | AnswerKey::Other(s) => Cow::Borrowed(s),
            AnswerKey::Num(bits) => {
                Cow::Owned(tally_core::pyjson::float_repr(f64::from_bits(*bits)))
            }
        }
    }
}

/// The fields of one sample that summaries read.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub line: usize,
    pub predicted_answer: Field<AnswerKey>,
    /// `is_correct` as a number (booleans sum as 0/1 in Python).
    pub is_correct: Field<f64>,
    pub judgement: Field<String>,
    pub reward_model_score: Field<f64>,
    pub subset_for_metrics: Option<String>,
    /// `status` when Tally wrote it.
    pub status: Option<Status>,
    /// `judge_status` when `tally judge` wrote it: a failed judge call fails the sample.
    pub judge_status: Option<Status>,
    pub answer_canonical: Option<String>,
    /// `grade_status` is `undecided`: the grader could not decide (the sample counts as not
    /// correct, and summaries say how many there are).
    pub undecided: bool,
    /// `id`, `problem_id` or the problem text, to check that files are aligned.
    pub problem_key: Option<String>,
}

impl Row {
    pub fn answer(&self) -> Option<&AnswerKey> {
        self.predicted_answer.get()
    }
    /// How the sample ended: the written status (a failed judge call counts as the sample's
    /// failure: its verdict is unknown, not "no"), else derived from the answer.
    pub fn effective_status(&self) -> Status {
        if let Some(j) = self.judge_status.filter(|j| j.is_failure()) {
            if !self.status.is_some_and(|s| s.is_failure()) {
                return j;
            }
        }
        match self.status {
            Some(s) => s,
            None if self.answer().is_none() => Status::NoAnswer,
            None => Status::Ok,
        }
    }
}

#[derive(Deserialize)]
struct RawRow<'a> {
    #[serde(default)]
    predicted_answer: Field<Value>,
    #[serde(default)]
    is_correct: Field<Value>,
    #[serde(default)]
    judgement: Field<Value>,
    #[serde(default)]
    reward_model_score: Field<f64>,
    #[serde(default, borrow)]
    subset_for_metrics: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    status: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    judge_status: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    answer_canonical: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    grade_status: Option<Cow<'a, str>>,
    #[serde(default)]
    id: Option<Value>,
    #[serde(default)]
    problem_id: Option<Value>,
    #[serde(default, borrow)]
    problem: Option<Cow<'a, str>>,
}

/// The rows of one sample file.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleFile {
    pub path: PathBuf,
    pub rows: Vec<Row>,
}

/// Reads several sample files in parallel.
pub fn read_files(paths: &[PathBuf]) -> Result<Vec<SampleFile>, MetricsError> {
    paths.par_iter().map(|p| read_file(p)).collect()
}

/// Reads one sample file; a torn last line is an error (the run that wrote it is unfinished).
pub fn read_file(path: &Path) -> Result<SampleFile, MetricsError> {
    let bytes = fs::read(path).map_err(|e| tally_core::CoreError::io(path, e))?;
    let mut rows = Vec::new();
    let mut line_no = 0usize;
    let ends_with_newline = bytes.last() == Some(&b'\n');
    let total_lines = bytes.split(|&b| b == b'\n').count();
    for chunk in bytes.split(|&b| b == b'\n') {
        line_no += 1;
        let chunk = chunk.strip_suffix(b"\r").unwrap_or(chunk);
        if chunk.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<RawRow>(chunk) {
            Ok(raw) => rows.push(convert(raw, path, line_no)?),
            Err(e) => {
                let last_unterminated = !ends_with_newline && line_no == total_lines;
                return Err(diagnose(path, chunk, line_no, last_unterminated, e));
            }
        }
    }
    Ok(SampleFile {
        path: path.to_path_buf(),
        rows,
    })
}

/// Says precisely what is wrong with a line the fast decoder rejected.
fn diagnose(
    path: &Path,
    chunk: &[u8],
    line: usize,
    last_unterminated: bool,
    err: serde_json::Error,
) -> MetricsError {
    match serde_json::from_slice::<Value>(chunk) {
        Err(_) if last_unterminated => MetricsError::TornFile {
            path: path.to_path_buf(),
        },
        Err(source) => tally_core::CoreError::Json {
            path: path.to_path_buf(),
            line,
            source,
        }
        .into(),
        Ok(Value::Object(_)) => MetricsError::Record {
            path: path.to_path_buf(),
            line,
            message: format!("unexpected field type: {err}"),
        },
        Ok(other) => MetricsError::Record {
            path: path.to_path_buf(),
            line,
            message: format!(
                "expected a JSON object, found {}",
                tally_core::record::kind(&other)
            ),
        },
    }
}

fn convert(raw: RawRow<'_>, path: &Path, line: usize) -> Result<Row, MetricsError> {
    let bad = |message: String| MetricsError::Record {
        path: path.to_path_buf(),
        line,
        message,
    };
    let is_correct = match raw.is_correct {
        Field::Missing => Field::Missing,
        Field::Null => Field::Null,
        Field::Set(Value::Bool(b)) => Field::Set(if b { 1.0 } else { 0.0 }),
        Field::Set(Value::Number(n)) => Field::Set(n.as_f64().unwrap_or(f64::NAN)),
        Field::Set(other) => {
            return Err(bad(format!(
                "`is_correct` must be a boolean, found {}",
                tally_core::record::kind(&other)
            )))
        }
    };
    let judgement = match raw.judgement {
        Field::Missing => Field::Missing,
        Field::Null => Field::Null,
        Field::Set(Value::String(s)) => Field::Set(s),
        Field::Set(other) => {
            return Err(bad(format!(
                "`judgement` must be a string, found {}",
                tally_core::record::kind(&other)
            )))
        }
    };
    let status = match raw.status {
        None => None,
        Some(s) => Some(Status::parse(&s).ok_or_else(|| bad(format!("unknown status `{s}`")))?),
    };
    let judge_status = match raw.judge_status {
        None => None,
        Some(s) => {
            Some(Status::parse(&s).ok_or_else(|| bad(format!("unknown judge_status `{s}`")))?)
        }
    };
    let key_of = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    let problem_key = raw
        .id
        .as_ref()
        .and_then(key_of)
        .or_else(|| raw.problem_id.as_ref().and_then(key_of))
        .or_else(|| raw.problem.map(|p| p.into_owned()));
    Ok(Row {
        line,
        predicted_answer: match raw.predicted_answer {
            Field::Missing => Field::Missing,
            Field::Null => Field::Null,
            Field::Set(v) => Field::Set(AnswerKey::from_value(v)),
        },
        is_correct,
        judgement,
        reward_model_score: raw.reward_model_score,
        subset_for_metrics: raw.subset_for_metrics.map(Cow::into_owned),
        status,
        judge_status,
        answer_canonical: raw.answer_canonical.map(Cow::into_owned),
        undecided: raw.grade_status.as_deref() == Some("undecided"),
        problem_key,
    })
}

/// Checks that files can be read in lock-step over the first `limit` problems: same number of
/// lines and, where records identify their problem, the same problem on each line.
pub fn check_alignment(files: &[SampleFile], limit: Option<usize>) -> Result<usize, MetricsError> {
    let Some(first) = files.first() else {
        return Ok(0);
    };
    let n = first.rows.len();
    let wanted = limit.map_or(n, |l| l.min(n));
    for f in &files[1..] {
        if f.rows.len() < wanted || (limit.is_none() && f.rows.len() != n) {
            let (short, long) = if f.rows.len() < n {
                (f, first)
            } else {
                (first, f)
            };
            return Err(MetricsError::LineCountMismatch {
                path: short.path.clone(),
                found: short.rows.len(),
                reference: long.path.clone(),
                expected: long.rows.len(),
            });
        }
        for (a, b) in first.rows.iter().zip(&f.rows).take(wanted) {
            if let (Some(ka), Some(kb)) = (&a.problem_key, &b.problem_key) {
                if ka != kb {
                    return Err(MetricsError::ProblemOrderMismatch {
                        path: f.path.clone(),
                        line: b.line,
                        found: shorten(kb),
                        reference: first.path.clone(),
                        expected: shorten(ka),
                    });
                }
            }
        }
    }
    Ok(wanted)
}

fn shorten(s: &str) -> String {
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s.to_string()
    }
}
