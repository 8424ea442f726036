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
    /// `is_correct` as a number (booleans sum as 0/1 in Python); after [`settle_verdicts`], newer
    /// NeMo-Skills' `symbolic_correct` when that is the file's verdict.
    pub is_correct: Field<f64>,
    /// `symbolic_correct` as written (newer NeMo-Skills grades during generation under this name).
    pub symbolic_correct: Field<f64>,
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
    /// Token counts and generation times, where the record carries them.
    pub usage: Usage,
    /// `num_solutions` of a GenSelect record: how many candidates the choice was made among.
    pub num_solutions: Option<u64>,
}

/// What a sample cost: `num_generated_tokens`, newer NeMo-Skills' `num_reasoning_tokens` /
/// `num_answer_tokens`, and `generation_start_time` / `generation_end_time` (seconds).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Usage {
    pub generated_tokens: Option<f64>,
    pub reasoning_tokens: Option<f64>,
    pub answer_tokens: Option<f64>,
    pub start_time: Option<f64>,
    pub end_time: Option<f64>,
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

/// The fields of a sample record that summaries and the viewer read, decoded in one pass (the
/// long texts are skipped without being copied). [`Row`] is what summaries make of them.
#[derive(Debug, Deserialize)]
pub struct RecordFields<'a> {
    #[serde(default)]
    pub predicted_answer: Field<Value>,
    #[serde(default)]
    pub is_correct: Field<Value>,
    #[serde(default)]
    pub symbolic_correct: Field<Value>,
    #[serde(default)]
    pub judgement: Field<Value>,
    #[serde(default)]
    pub reward_model_score: Field<f64>,
    #[serde(default, borrow)]
    pub subset_for_metrics: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub status: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub judge_status: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub answer_canonical: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub grade_status: Option<Cow<'a, str>>,
    #[serde(default)]
    pub id: Option<Value>,
    #[serde(default)]
    pub problem_id: Option<Value>,
    #[serde(default, borrow)]
    pub problem: Option<Cow<'a, str>>,
    #[serde(default)]
    pub num_generated_tokens: Option<f64>,
    #[serde(default)]
    pub num_reasoning_tokens: Option<f64>,
    #[serde(default)]
    pub num_answer_tokens: Option<f64>,
    #[serde(default)]
    pub generation_start_time: Option<f64>,
    #[serde(default)]
    pub generation_end_time: Option<f64>,
    #[serde(default)]
    pub num_solutions: Option<u64>,
    /// Read by the viewer only.
    #[serde(default)]
    pub expected_answer: Option<Value>,
    #[serde(default)]
    pub generation_time: Option<f64>,
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
        match serde_json::from_slice::<RecordFields>(chunk) {
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

fn convert(raw: RecordFields<'_>, path: &Path, line: usize) -> Result<Row, MetricsError> {
    let bad = |message: String| MetricsError::Record {
        path: path.to_path_buf(),
        line,
        message,
    };
    let verdict = |name: &str, v: Field<Value>| match v {
        Field::Missing => Ok(Field::Missing),
        Field::Null => Ok(Field::Null),
        Field::Set(Value::Bool(b)) => Ok(Field::Set(if b { 1.0 } else { 0.0 })),
        Field::Set(Value::Number(n)) => Ok(Field::Set(n.as_f64().unwrap_or(f64::NAN))),
        Field::Set(other) => Err(bad(format!(
            "`{name}` must be a boolean, found {}",
            tally_core::record::kind(&other)
        ))),
    };
    let is_correct = verdict("is_correct", raw.is_correct)?;
    let symbolic_correct = verdict("symbolic_correct", raw.symbolic_correct)?;
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
        symbolic_correct,
        judgement,
        reward_model_score: raw.reward_model_score,
        subset_for_metrics: raw.subset_for_metrics.map(Cow::into_owned),
        status,
        judge_status,
        answer_canonical: raw.answer_canonical.map(Cow::into_owned),
        undecided: raw.grade_status.as_deref() == Some("undecided"),
        problem_key,
        usage: Usage {
            generated_tokens: raw.num_generated_tokens,
            reasoning_tokens: raw.num_reasoning_tokens,
            answer_tokens: raw.num_answer_tokens,
            start_time: raw.generation_start_time,
            end_time: raw.generation_end_time,
        },
        num_solutions: raw.num_solutions,
    })
}

/// Where a benchmark's verdicts come from.
pub const IS_CORRECT: &str = "is_correct";
pub const SYMBOLIC_CORRECT: &str = "symbolic_correct";
pub const JUDGEMENT: &str = "judgement";

/// Settles which field holds each file's verdicts and returns the fields used (in the order
/// rule verdict, judge verdict). A file without `is_correct` whose records carry
/// `symbolic_correct` (newer NeMo-Skills grades inside generation under that name) is read
/// through it. When no file carries any verdict field although some record should have been
/// graded, the error names the first such file: summarizing would print a table without
/// accuracy. (A file missing verdicts that its siblings have is left to the per-record check,
/// which names the line.)
pub fn settle_verdicts(files: &mut [SampleFile]) -> Result<Vec<&'static str>, MetricsError> {
    let mut used = Vec::new();
    let mut ungraded = None;
    for file in files.iter_mut() {
        let any = |f: fn(&Row) -> bool| file.rows.iter().any(f);
        let has_is = any(|r| r.is_correct.is_present());
        let has_sym = any(|r| r.symbolic_correct.is_present());
        let has_judge = any(|r| r.judgement.is_present());
        let gradable = any(|r| !r.effective_status().is_failure());
        let rule = match (has_is, has_sym) {
            (true, _) => Some(IS_CORRECT),
            (false, true) => {
                for r in &mut file.rows {
                    r.is_correct = r.symbolic_correct.clone();
                }
                Some(SYMBOLIC_CORRECT)
            }
            (false, false) => None,
        };
        if rule.is_none() && !has_judge && gradable && ungraded.is_none() {
            ungraded = Some(file.path.clone());
        }
        for f in rule.into_iter().chain(has_judge.then_some(JUDGEMENT)) {
            if !used.contains(&f) {
                used.push(f);
            }
        }
    }
    if let (true, Some(path)) = (used.is_empty(), ungraded) {
        return Err(MetricsError::NoVerdict { path });
    }
    used.sort_by_key(|f| {
        [IS_CORRECT, SYMBOLIC_CORRECT, JUDGEMENT]
            .iter()
            .position(|x| x == f)
    });
    Ok(used)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::MetricValue;
    use crate::summarize::{summarize, SummarizeOptions, SummaryMode};

    fn write(dir: &Path, name: &str, lines: &[&str]) -> PathBuf {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, lines.join("\n") + "\n").unwrap();
        p
    }

    /// A newer NeMo-Skills file: verdicts only in `symbolic_correct`.
    const NEWER: [&str; 4] = [
        r#"{"problem": "p1", "predicted_answer": "3", "symbolic_correct": true}"#,
        r#"{"problem": "p2", "predicted_answer": "5", "symbolic_correct": false}"#,
        r#"{"problem": "p3", "predicted_answer": null, "symbolic_correct": false}"#,
        r#"{"problem": "p4", "predicted_answer": "7", "symbolic_correct": true}"#,
    ];

    #[test]
    fn symbolic_correct_is_the_verdict_when_is_correct_is_absent() {
        let tmp = tempfile::tempdir().unwrap();
        let p = write(tmp.path(), "output-rs0.jsonl", &NEWER);
        let mut files = vec![read_file(&p).unwrap()];
        assert_eq!(settle_verdicts(&mut files).unwrap(), [SYMBOLIC_CORRECT]);
        let got: Vec<_> = files[0].rows.iter().map(|r| r.is_correct.clone()).collect();
        assert_eq!(
            got,
            [
                Field::Set(1.0),
                Field::Set(0.0),
                Field::Set(0.0),
                Field::Set(1.0)
            ]
        );
    }

    #[test]
    fn is_correct_wins_when_a_file_has_both() {
        let tmp = tempfile::tempdir().unwrap();
        let p = write(
            tmp.path(),
            "output.jsonl",
            &[
                r#"{"predicted_answer": "3", "is_correct": false, "symbolic_correct": true, "judgement": "Judgement: Yes"}"#,
            ],
        );
        let mut files = vec![read_file(&p).unwrap()];
        assert_eq!(
            settle_verdicts(&mut files).unwrap(),
            [IS_CORRECT, JUDGEMENT]
        );
        assert_eq!(files[0].rows[0].is_correct, Field::Set(0.0));
    }

    #[test]
    fn files_without_any_verdict_are_an_error_naming_one() {
        let tmp = tempfile::tempdir().unwrap();
        let ungraded = |name: &str| {
            write(
                tmp.path(),
                name,
                &[r#"{"problem": "p1", "predicted_answer": "3"}"#],
            )
        };
        let (a, b) = (ungraded("output-rs0.jsonl"), ungraded("output-rs1.jsonl"));
        let mut files = vec![read_file(&a).unwrap(), read_file(&b).unwrap()];
        let e = settle_verdicts(&mut files).unwrap_err();
        assert!(matches!(&e, MetricsError::NoVerdict { path } if *path == a));
        assert!(e.to_string().contains("output-rs0.jsonl"), "{e}");
        // Beside a graded sibling, the per-record check names the line instead.
        let graded = write(tmp.path(), "output-rs2.jsonl", &NEWER);
        let mut files = vec![read_file(&graded).unwrap(), read_file(&b).unwrap()];
        assert_eq!(settle_verdicts(&mut files).unwrap(), [SYMBOLIC_CORRECT]);
        // Only failed samples: nothing to grade, so nothing is missing.
        let failed = write(
            tmp.path(),
            "failed.jsonl",
            &[r#"{"problem": "p1", "predicted_answer": null, "status": "request_error"}"#],
        );
        let mut files = vec![read_file(&failed).unwrap()];
        assert_eq!(settle_verdicts(&mut files).unwrap(), Vec::<&str>::new());
    }

    /// Default mode over a newer file: 2 of 4 correct (hand count of NEWER), p3 unanswered.
    #[test]
    fn default_summary_of_a_newer_file_has_accuracy_and_says_where_it_came_from() {
        let tmp = tempfile::tempdir().unwrap();
        write(tmp.path(), "eval-results/aime25/output-rs0.jsonl", &NEWER);
        let s = summarize(
            tmp.path(),
            &SummarizeOptions::default(),
            &tally_core::NoopReporter,
        )
        .unwrap();
        assert!(s.skipped.is_empty(), "{:?}", s.skipped);
        assert_eq!(s.verdict_fields["aime25"], [SYMBOLIC_CORRECT]);
        let table = &s.tables.tables["aime25"];
        let (_, first) = table.iter().next().unwrap();
        let value = |m: &str| match first.get(m) {
            Some(MetricValue::Float(f)) => *f,
            other => panic!("{m}: {other:?}"),
        };
        assert!((value("symbolic_correct") - 50.0).abs() < 1e-9);
        assert!((value("no_answer") - 25.0).abs() < 1e-9);
        let text = crate::render::render(&s, crate::render::Format::Table);
        assert!(
            text.lines()
                .nth(1)
                .is_some_and(|l| l.contains("`symbolic_correct`") && l.contains("aime25")),
            "{text}"
        );
        let json = crate::render::metrics_json(&s);
        assert_eq!(
            json["_tally"]["verdict_fields"]["aime25"],
            serde_json::json!(["symbolic_correct"])
        );

        // Compat mode reads the same verdicts: NeMo-Skills' greedy table, 2/4 = 50%.
        let c = summarize(
            tmp.path(),
            &SummarizeOptions {
                mode: SummaryMode::NemoSkills,
                ..SummarizeOptions::default()
            },
            &tally_core::NoopReporter,
        )
        .unwrap();
        let t = &c.tables.tables["aime25"];
        let (_, m) = t.iter().next().unwrap();
        assert!(
            matches!(m.get("symbolic_correct"), Some(MetricValue::Float(f)) if (*f - 50.0).abs() < 1e-9),
            "{m:?}"
        );
    }

    #[test]
    fn an_ungraded_directory_is_skipped_with_the_file_named() {
        let tmp = tempfile::tempdir().unwrap();
        write(
            tmp.path(),
            "eval-results/gsm8k/output-rs0.jsonl",
            &[r#"{"problem": "p1", "predicted_answer": "3"}"#],
        );
        let s = summarize(
            tmp.path(),
            &SummarizeOptions::default(),
            &tally_core::NoopReporter,
        )
        .unwrap();
        assert!(s.tables.tables.is_empty());
        assert_eq!(s.skipped.len(), 1);
        assert!(s.skipped[0].error.to_string().contains("output-rs0.jsonl"));
    }
}
