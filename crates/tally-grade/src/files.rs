//! Grading sample files in place (`tally grade FILES...`) and pair files (`tally grade --pairs`).
//!
//! A sample file is rewritten atomically: every record gets `predicted_answer` (the extraction),
//! `is_correct` (NeMo-Skills' key), `symbolic_correct`, `answer_canonical` (equivalence classes for
//! the default summary's majority votes) and `grade_status`; a record without `status` gets `ok` or
//! `no_answer`. An existing non-null `is_correct` is kept unless `ignore_cache` (the seed does the
//! same, T22), so re-running on a graded file changes nothing — the file is not even rewritten.
//! A file with a bad line is left untouched and the error names the line.

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde_json::{Map, Value};
use tally_core::jsonl::{read_jsonl, Line};
use tally_core::{pyjson, CoreError, Status};

use crate::{canonical, extract_answer, ExtractMode, ExtractStatus, Grader, Outcome, Policy};

/// How to grade files.
#[derive(Debug, Clone, Default)]
pub struct FileGradeOptions {
    /// Re-grade records that already have a verdict.
    pub ignore_cache: bool,
    /// Drop a leading `<think>…</think>` block before extracting (a missing `</think>` is the
    /// `reasoning_unfinished` status, not an answer).
    pub strip_think: bool,
}

/// What grading one file did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileReport {
    pub path: PathBuf,
    pub records: usize,
    /// Records graded now (the rest kept their verdict).
    pub graded: usize,
    pub correct: usize,
    pub no_answer: usize,
    pub undecided: usize,
    /// Records whose text ends inside an unclosed box (an answer was visible but unreadable).
    pub unreadable_answers: usize,
    /// Whether the file changed on disk.
    pub rewritten: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum FileGradeError {
    #[error(transparent)]
    Core(#[from] CoreError),
    #[error("{path}:{line}: {message}")]
    Record {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{path}: the last line is torn (an interrupted writer); finish or repair the run before grading")]
    Torn { path: PathBuf },
}

/// Python's `str()` of a JSON value used as an answer (`18` → "18", `2.5` → "2.5").
pub fn answer_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Number(n) if n.is_f64() => Some(pyjson::float_repr(n.as_f64().unwrap_or(f64::NAN))),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(if *b { "True".into() } else { "False".into() }),
        other => Some(other.to_string()),
    }
}

fn extract_mode(grader: &Grader) -> ExtractMode {
    match grader.policy() {
        Policy::NemoSkills => ExtractMode::NemoSkills,
        Policy::Tally => ExtractMode::Tally,
    }
}

/// Splits off a leading reasoning block. `Err(())` when `<think>` is never closed.
fn strip_think(text: &str) -> Result<&str, ()> {
    let trimmed = text.trim_start();
    if let Some(rest) = trimmed.strip_prefix("<think>") {
        return rest
            .find("</think>")
            .map(|i| &rest[i + "</think>".len()..])
            .ok_or(());
    }
    // Reasoning models often omit the opening tag (it is in the prompt).
    match text.find("</think>") {
        Some(i) => Ok(&text[i + "</think>".len()..]),
        None => Ok(text),
    }
}

/// What grading one record found: (graded now, correct, no answer, undecided, unreadable).
type RecordOutcome = (bool, bool, bool, bool, bool);

/// Grades one record in place.
fn grade_record(
    rec: &mut Map<String, Value>,
    grader: &Grader,
    opts: &FileGradeOptions,
) -> Result<RecordOutcome, String> {
    let generation = match rec.get("generation") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(_) => return Err("`generation` must be a string".into()),
    };
    let gold = match rec.get("expected_answer") {
        Some(v) => answer_text(v).ok_or("`expected_answer` is null")?,
        None => return Err("missing field `expected_answer`".into()),
    };
    let status = match rec.get("status") {
        Some(Value::String(s)) => {
            Some(Status::parse(s).ok_or_else(|| format!("unknown status `{s}`"))?)
        }
        _ => None,
    };
    let failed = status.is_some_and(Status::is_failure);
    // A generation written with `++parse_reasoning=True` whose reasoning never ended (NeMo-Skills'
    // `_generation_finished_thinking: false`) has no answer section: it stays unfinished.
    let mut unfinished_reasoning = status == Some(Status::ReasoningUnfinished)
        || rec.get("_generation_finished_thinking") == Some(&Value::Bool(false));
    let text = if opts.strip_think {
        match strip_think(&generation) {
            Ok(t) => t.to_string(),
            Err(()) => {
                unfinished_reasoning = true;
                String::new()
            }
        }
    } else {
        generation.clone()
    };
    let extraction = if failed || unfinished_reasoning {
        None
    } else {
        Some(extract_answer(&text, extract_mode(grader)))
    };
    let answer = extraction.as_ref().and_then(|e| e.answer.clone());
    let unreadable = extraction
        .as_ref()
        .is_some_and(|e| matches!(e.status, ExtractStatus::UnclosedBox));
    let cached = match rec.get("is_correct") {
        Some(Value::Bool(b)) if !opts.ignore_cache => Some(*b),
        _ => None,
    };
    let (correct, grade_status, graded) = match cached {
        Some(c) => (
            c,
            rec.get("grade_status")
                .cloned()
                .unwrap_or(Value::String("cached".into())),
            false,
        ),
        None => {
            let v = if failed || unfinished_reasoning {
                None
            } else {
                Some(grader.equal_extracted(answer.as_deref(), &gold))
            };
            let st = match (&v, answer.is_some()) {
                (None, _) => "not_graded",
                (Some(_), false) => "no_answer",
                (Some(v), true) => match v.outcome {
                    Outcome::Equal => "equal",
                    Outcome::NotEqual => "not_equal",
                    Outcome::Undecided(_) => "undecided",
                },
            };
            (
                v.is_some_and(|v| v.is_equal()),
                Value::String(st.into()),
                true,
            )
        }
    };
    let undecided = grade_status.as_str() == Some("undecided");
    rec.insert(
        "predicted_answer".into(),
        answer.clone().map_or(Value::Null, Value::String),
    );
    rec.insert("is_correct".into(), Value::Bool(correct));
    rec.insert("symbolic_correct".into(), Value::Bool(correct));
    rec.insert(
        "answer_canonical".into(),
        answer
            .as_deref()
            .and_then(canonical)
            .map_or(Value::Null, Value::String),
    );
    rec.insert("grade_status".into(), grade_status);
    let new_status = match status {
        Some(s) if s.is_failure() || s == Status::Truncated => s,
        _ if unfinished_reasoning => Status::ReasoningUnfinished,
        _ if answer.is_none() => Status::NoAnswer,
        _ => Status::Ok,
    };
    rec.insert("status".into(), Value::String(new_status.as_str().into()));
    Ok((graded, correct, answer.is_none(), undecided, unreadable))
}

/// Grades one sample file in place (atomic rewrite; untouched when nothing changes).
pub fn grade_file(
    path: &Path,
    grader: &Grader,
    opts: &FileGradeOptions,
) -> Result<FileReport, FileGradeError> {
    let original = std::fs::read(path).map_err(|e| CoreError::io(path, e))?;
    let outcome = read_jsonl(path)?;
    if outcome.torn_tail.is_some() {
        return Err(FileGradeError::Torn {
            path: path.to_path_buf(),
        });
    }
    let mut lines: Vec<Line> = outcome.lines;
    let results: Vec<Result<RecordOutcome, FileGradeError>> = lines
        .par_iter_mut()
        .map(|l| {
            grade_record(&mut l.record, grader, opts).map_err(|message| FileGradeError::Record {
                path: path.to_path_buf(),
                line: l.number,
                message,
            })
        })
        .collect();
    let mut report = FileReport {
        path: path.to_path_buf(),
        records: lines.len(),
        ..Default::default()
    };
    for r in results {
        let (graded, correct, no_answer, undecided, unreadable) = r?;
        report.graded += graded as usize;
        report.correct += correct as usize;
        report.no_answer += no_answer as usize;
        report.undecided += undecided as usize;
        report.unreadable_answers += unreadable as usize;
    }
    let mut out = Vec::with_capacity(original.len() + lines.len() * 64);
    for l in &lines {
        out.extend_from_slice(pyjson::to_string(&Value::Object(l.record.clone())).as_bytes());
        out.push(b'\n');
    }
    if out != original {
        tally_core::atomic::atomic_write_bytes(path, &out)?;
        report.rewritten = true;
    }
    Ok(report)
}

/// Grades many files in parallel; one result per file, in the order given.
pub fn grade_files(
    paths: &[PathBuf],
    grader: &Grader,
    opts: &FileGradeOptions,
    reporter: &dyn tally_core::Reporter,
) -> Vec<Result<FileReport, FileGradeError>> {
    reporter.start("grade", Some(paths.len() as u64));
    let out = paths
        .par_iter()
        .map(|p| {
            let r = grade_file(p, grader, opts);
            reporter.advance(1);
            r
        })
        .collect();
    reporter.finish();
    out
}

/// One pair of `--pairs` mode: the object back with `verdict` (true/false/null when undecided)
/// and `status` (`equal`, `not_equal`, `undecided`, `no_answer`).
pub fn grade_pair_record(
    rec: &mut Map<String, Value>,
    grader: &Grader,
    extract: bool,
) -> Result<(), String> {
    let gold = rec.get("gold").ok_or("missing field `gold`")?;
    let gold = answer_text(gold).ok_or("`gold` is null")?;
    let pred = rec.get("pred").ok_or("missing field `pred`")?.clone();
    let pred = answer_text(&pred);
    let (answer, verdict) = match (pred, extract) {
        (None, _) => (None, None),
        (Some(p), true) => {
            let (ex, v) = grader.grade_pair_extracting(&p, &gold);
            let v = ex.answer.is_some().then_some(v);
            (ex.answer, v)
        }
        (Some(p), false) => {
            let gold = strip_math_delimiters(&gold);
            let p = strip_math_delimiters(&p).to_string();
            let v = grader.equal(&p, gold);
            (Some(p), Some(v))
        }
    };
    let (value, status) = match verdict {
        None => (Value::Bool(false), "no_answer"),
        Some(v) => match v.outcome {
            Outcome::Equal => (Value::Bool(true), "equal"),
            Outcome::NotEqual => (Value::Bool(false), "not_equal"),
            Outcome::Undecided(_) => (Value::Null, "undecided"),
        },
    };
    if extract {
        rec.insert(
            "extracted".into(),
            answer.map_or(Value::Null, Value::String),
        );
    }
    rec.insert("verdict".into(), value);
    rec.insert("status".into(), Value::String(status.into()));
    Ok(())
}

/// `$…$`, `$$…$$`, `\(…\)` and `\[…\]` around a bare answer.
fn strip_math_delimiters(s: &str) -> &str {
    let t = s.trim();
    for (open, close) in [("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")] {
        if t.len() >= open.len() + close.len() && t.starts_with(open) && t.ends_with(close) {
            return t[open.len()..t.len() - close.len()].trim();
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn graded(rec: Value, policy: Policy) -> Map<String, Value> {
        let mut m = rec.as_object().unwrap().clone();
        grade_record(
            &mut m,
            &Grader::builder().policy(policy).build(),
            &FileGradeOptions::default(),
        )
        .unwrap();
        m
    }

    #[test]
    fn appends_nemo_keys_after_the_input_fields() {
        let m = graded(
            json!({"generation": "so \\boxed{\\frac12}", "expected_answer": "0.5"}),
            Policy::Tally,
        );
        let keys: Vec<&str> = m.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "generation",
                "expected_answer",
                "predicted_answer",
                "is_correct",
                "symbolic_correct",
                "answer_canonical",
                "grade_status",
                "status"
            ]
        );
        assert_eq!(m["is_correct"], true);
        assert_eq!(m["status"], "ok");
    }

    #[test]
    fn failed_requests_are_not_graded_and_keep_their_status() {
        let m = graded(
            json!({"generation": "", "expected_answer": "1", "status": "request_error"}),
            Policy::Tally,
        );
        assert_eq!(m["status"], "request_error");
        assert_eq!(m["grade_status"], "not_graded");
        assert_eq!(m["predicted_answer"], Value::Null);
    }

    #[test]
    fn an_existing_verdict_is_kept_unless_asked() {
        let m = graded(
            json!({"generation": "\\boxed{2}", "expected_answer": "2", "is_correct": false}),
            Policy::Tally,
        );
        assert_eq!(m["is_correct"], false);
        let mut rec =
            json!({"generation": "\\boxed{2}", "expected_answer": "2", "is_correct": false})
                .as_object()
                .unwrap()
                .clone();
        let opts = FileGradeOptions {
            ignore_cache: true,
            ..Default::default()
        };
        grade_record(&mut rec, &Grader::default(), &opts).unwrap();
        assert_eq!(rec["is_correct"], true);
    }

    #[test]
    fn unclosed_reasoning_is_a_status() {
        let mut rec =
            json!({"generation": "<think>still going \\boxed{3}", "expected_answer": "3"})
                .as_object()
                .unwrap()
                .clone();
        let opts = FileGradeOptions {
            strip_think: true,
            ..Default::default()
        };
        grade_record(&mut rec, &Grader::default(), &opts).unwrap();
        assert_eq!(rec["status"], "reasoning_unfinished");
        assert_eq!(rec["is_correct"], false);
    }

    /// Records as `++parse_reasoning=True` writes them (NeMo-Skills' `parse_reasoning`): the
    /// finished one is graded on the text after `</think>`; the unfinished one (generation
    /// emptied, `_generation_finished_thinking: false`) has no answer and keeps its status.
    #[test]
    fn parsed_reasoning_records_are_graded_on_their_answer_part() {
        let mut done = json!({"generation": "So \\boxed{4}.", "expected_answer": "4",
            "_generation_finished_thinking": true,
            "_full_generation": "<think>not \\boxed{5}</think>So \\boxed{4}.", "status": "ok"})
        .as_object()
        .unwrap()
        .clone();
        grade_record(&mut done, &Grader::default(), &FileGradeOptions::default()).unwrap();
        assert_eq!(
            (
                &done["predicted_answer"],
                &done["is_correct"],
                &done["status"]
            ),
            (&json!("4"), &json!(true), &json!("ok"))
        );
        let mut open = json!({"generation": "", "expected_answer": "7",
            "_generation_finished_thinking": false,
            "_full_generation": "<think>try \\boxed{7}", "status": "reasoning_unfinished"})
        .as_object()
        .unwrap()
        .clone();
        grade_record(&mut open, &Grader::default(), &FileGradeOptions::default()).unwrap();
        assert_eq!(
            (
                &open["predicted_answer"],
                &open["is_correct"],
                &open["status"]
            ),
            (&Value::Null, &json!(false), &json!("reasoning_unfinished"))
        );
    }

    #[test]
    fn pairs_mode_with_and_without_extraction() {
        let g = Grader::default();
        let mut r = json!({"gold": "$\\frac{1}{2}$", "pred": "0.5"})
            .as_object()
            .unwrap()
            .clone();
        grade_pair_record(&mut r, &g, false).unwrap();
        assert_eq!(
            (r["verdict"].clone(), r["status"].clone()),
            (json!(true), json!("equal"))
        );
        let mut r = json!({"gold": "7", "pred": "Thinking... The final answer is 7"})
            .as_object()
            .unwrap()
            .clone();
        grade_pair_record(&mut r, &g, true).unwrap();
        assert_eq!(r["verdict"], true, "{r:?}");
        let mut r = json!({"gold": "7", "pred": "no idea"})
            .as_object()
            .unwrap()
            .clone();
        grade_pair_record(&mut r, &g, true).unwrap();
        assert_eq!(
            (r["verdict"].clone(), r["status"].clone()),
            (json!(false), json!("no_answer"))
        );
        let mut r = json!({"pred": "1"}).as_object().unwrap().clone();
        assert!(grade_pair_record(&mut r, &g, false)
            .unwrap_err()
            .contains("gold"));
    }
}
