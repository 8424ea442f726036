//! Grading sample files in place (`tally grade FILES...`) and pair files (`tally grade --pairs`).
//!
//! A sample file is rewritten atomically: every record gets `predicted_answer` (the extraction),
//! `is_correct` (NeMo-Skills' key), `symbolic_correct`, `answer_canonical` (equivalence classes for
//! the default summary's majority votes) and `grade_status` (`equal`, `not_equal`, `undecided` with
//! a `grade_reason`, `no_answer`, `not_graded`); a record without `status` gets `ok` or
//! `no_answer`. An existing non-null `is_correct` is kept unless `ignore_cache` (the seed does the
//! same, T22), so re-running on a graded file changes nothing — the file is not even rewritten.
//! A file with a bad line is left untouched and the error names the line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde_json::{Map, Value};
use tally_core::jsonl::{read_jsonl, Line};
use tally_core::{pyjson, CoreError, Status};

use crate::{
    canonical, catch_grader_panic, extract_answer, ExtractMode, ExtractStatus, Grader, GraderError,
    Outcome, Policy, Verdict,
};

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
    /// Records the model answered without a final answer (failed requests are not among them).
    pub no_answer: usize,
    /// Records whose request failed (`request_error`, `timeout`, …), per status: not graded,
    /// and neither wrong nor without answer.
    pub failed: BTreeMap<Status, usize>,
    pub undecided: usize,
    /// Records whose text ends inside an unclosed box (an answer was visible but unreadable).
    pub unreadable_answers: usize,
    /// Records on which the grader panicked (a bug): each is written with the failure status
    /// `grader_error`, the rest of the file is graded.
    pub grader_errors: Vec<RecordGraderError>,
    /// Whether the file changed on disk.
    pub rewritten: bool,
}

/// A record whose grading panicked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordGraderError {
    /// 1-based line in the file.
    pub line: usize,
    pub error: GraderError,
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
    /// A panic outside any one record (reading or writing the file); the file is untouched.
    #[error("{path}: {source}")]
    Panic { path: PathBuf, source: GraderError },
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

/// What grading one record found.
#[derive(Debug, Default)]
struct RecordOutcome {
    /// Graded now (not a kept verdict).
    graded: bool,
    correct: bool,
    no_answer: bool,
    undecided: bool,
    unreadable: bool,
    /// The record's failure status, if its request failed.
    failed: Option<Status>,
    /// The grader panicked on this record: the record is `grader_error`.
    grader_error: Option<GraderError>,
}

/// The fields of a record that grading reads.
struct RecordInput {
    generation: String,
    gold: String,
    /// The status before grading; for a `grader_error` record, the one it had before that.
    status: Option<Status>,
    /// The verdict to keep, if any (never for a `grader_error` record: it is graded again).
    cached: Option<(bool, Value)>,
    /// Written with `++parse_reasoning=True` and the reasoning never ended (NeMo-Skills'
    /// `_generation_finished_thinking: false`): there is no answer section.
    reasoning_unfinished: bool,
}

impl RecordInput {
    fn read(rec: &Map<String, Value>, opts: &FileGradeOptions) -> Result<Self, String> {
        let generation = match rec.get("generation") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => String::new(),
            Some(_) => return Err("`generation` must be a string".into()),
        };
        let gold = match rec.get("expected_answer") {
            Some(v) => answer_text(v).ok_or("`expected_answer` is null")?,
            None => return Err("missing field `expected_answer`".into()),
        };
        let parse_status = |key: &str| match rec.get(key) {
            Some(Value::String(s)) => Status::parse(s)
                .map(Some)
                .ok_or_else(|| format!("unknown {key} `{s}`")),
            _ => Ok(None),
        };
        let mut status = parse_status("status")?;
        let retry = status == Some(Status::GraderError);
        if retry {
            status = parse_status(PRE_ERROR_STATUS)?;
        }
        let cached = match rec.get("is_correct") {
            Some(Value::Bool(b)) if !opts.ignore_cache && !retry => Some((
                *b,
                rec.get("grade_status")
                    .cloned()
                    .unwrap_or(Value::String("cached".into())),
            )),
            _ => None,
        };
        let reasoning_unfinished = status == Some(Status::ReasoningUnfinished)
            || rec.get("_generation_finished_thinking") == Some(&Value::Bool(false));
        Ok(RecordInput {
            generation,
            gold,
            status,
            cached,
            reasoning_unfinished,
        })
    }
}

/// The verdict fields of a graded record.
struct Graded {
    answer: Option<String>,
    canonical: Option<String>,
    correct: bool,
    grade_status: Value,
    graded: bool,
    unfinished_reasoning: bool,
    unreadable: bool,
    /// Why the grader could not decide (an `undecided` verdict given now).
    reason: Option<String>,
}

/// Where a `grader_error` record keeps the status it had before (e.g. `truncated`), so that
/// grading it again restores it.
const PRE_ERROR_STATUS: &str = "pre_error_status";

/// Extraction and comparison for one record; a panic inside them is an `Err`.
fn decide(
    input: &RecordInput,
    grader: &Grader,
    opts: &FileGradeOptions,
) -> Result<Graded, GraderError> {
    let failed = input.status.is_some_and(Status::is_failure);
    let mut unfinished_reasoning = input.reasoning_unfinished;
    let text = if opts.strip_think {
        match strip_think(&input.generation) {
            Ok(t) => t,
            Err(()) => {
                unfinished_reasoning = true;
                ""
            }
        }
    } else {
        &input.generation
    };
    let extraction = if failed || unfinished_reasoning {
        None
    } else {
        let ex = extract_answer(text, extract_mode(grader));
        if ex.status == ExtractStatus::GraderError {
            return Err(GraderError {
                message: ex.warnings.join("; "),
            });
        }
        Some(ex)
    };
    let answer = extraction.as_ref().and_then(|e| e.answer.clone());
    let unreadable = extraction
        .as_ref()
        .is_some_and(|e| matches!(e.status, ExtractStatus::UnclosedBox));
    // Why the grader could not decide, for an `undecided` verdict given now.
    let mut reason: Option<String> = None;
    let (correct, grade_status, graded) = match &input.cached {
        Some((c, st)) => (*c, st.clone(), false),
        None => {
            let v = if failed || unfinished_reasoning {
                None
            } else {
                Some(grader.try_equal_extracted(answer.as_deref(), &input.gold)?)
            };
            let st = match (&v, answer.is_some()) {
                (None, _) => "not_graded",
                (Some(_), false) => "no_answer",
                (Some(v), true) => match v.outcome {
                    Outcome::Equal => "equal",
                    Outcome::NotEqual => "not_equal",
                    Outcome::Undecided(r) => {
                        reason = Some(r.to_string());
                        "undecided"
                    }
                    // `try_equal_extracted` returns a caught panic as its `Err`.
                    Outcome::GraderError => "grader_error",
                },
            };
            (
                v.is_some_and(|v| v.is_equal()),
                Value::String(st.into()),
                true,
            )
        }
    };
    let canonical = answer.as_deref().and_then(canonical);
    Ok(Graded {
        answer,
        canonical,
        correct,
        grade_status,
        graded,
        unfinished_reasoning,
        unreadable,
        reason,
    })
}

/// Grades one record in place. `Err` is bad input (the file is left untouched); a panic of
/// the grader is not an error but the record's `grader_error` status.
fn grade_record(
    rec: &mut Map<String, Value>,
    grader: &Grader,
    opts: &FileGradeOptions,
) -> Result<RecordOutcome, String> {
    let input = RecordInput::read(rec, opts)?;
    let g = match catch_grader_panic(|| decide(&input, grader, opts)).and_then(|r| r) {
        Ok(g) => g,
        Err(e) => {
            // Not an answer of the model: no verdict, a failure status, the message kept.
            for (k, v) in [
                ("predicted_answer", Value::Null),
                ("is_correct", Value::Bool(false)),
                ("symbolic_correct", Value::Bool(false)),
                ("answer_canonical", Value::Null),
                ("grade_status", Value::String("grader_error".into())),
                ("grader_error", Value::String(e.message.clone())),
            ] {
                rec.insert(k.into(), v);
            }
            match input.status {
                Some(s) => rec.insert(PRE_ERROR_STATUS.into(), Value::String(s.as_str().into())),
                None => rec.remove(PRE_ERROR_STATUS),
            };
            rec.insert(
                "status".into(),
                Value::String(Status::GraderError.as_str().into()),
            );
            return Ok(RecordOutcome {
                graded: true,
                grader_error: Some(e),
                ..Default::default()
            });
        }
    };
    // A record that was `grader_error` and now grades: its error is gone.
    rec.remove("grader_error");
    rec.remove(PRE_ERROR_STATUS);
    let undecided = g.grade_status.as_str() == Some("undecided");
    rec.insert(
        "predicted_answer".into(),
        g.answer.clone().map_or(Value::Null, Value::String),
    );
    rec.insert("is_correct".into(), Value::Bool(g.correct));
    rec.insert("symbolic_correct".into(), Value::Bool(g.correct));
    rec.insert(
        "answer_canonical".into(),
        g.canonical.map_or(Value::Null, Value::String),
    );
    rec.insert("grade_status".into(), g.grade_status);
    if let Some(r) = g.reason {
        rec.insert("grade_reason".into(), Value::String(r));
    } else if g.graded {
        rec.remove("grade_reason");
    }
    let new_status = match input.status {
        Some(s) if s.is_failure() || s == Status::Truncated => s,
        _ if g.unfinished_reasoning => Status::ReasoningUnfinished,
        _ if g.answer.is_none() => Status::NoAnswer,
        _ => Status::Ok,
    };
    rec.insert("status".into(), Value::String(new_status.as_str().into()));
    Ok(RecordOutcome {
        graded: g.graded,
        correct: g.correct,
        no_answer: g.answer.is_none() && !input.status.is_some_and(Status::is_failure),
        undecided,
        unreadable: g.unreadable,
        failed: input.status.filter(|s| s.is_failure()),
        grader_error: None,
    })
}

/// Grades one sample file in place (atomic rewrite; untouched when nothing changes). A record
/// whose grading panics is written as `grader_error` and listed in
/// [`FileReport::grader_errors`]; a panic outside the records leaves the file untouched and is
/// [`FileGradeError::Panic`].
pub fn grade_file(
    path: &Path,
    grader: &Grader,
    opts: &FileGradeOptions,
) -> Result<FileReport, FileGradeError> {
    catch_grader_panic(|| grade_file_unguarded(path, grader, opts)).unwrap_or_else(|source| {
        Err(FileGradeError::Panic {
            path: path.to_path_buf(),
            source,
        })
    })
}

fn grade_file_unguarded(
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
    for (r, l) in results.into_iter().zip(&lines) {
        let r = r?;
        report.graded += r.graded as usize;
        report.correct += r.correct as usize;
        report.no_answer += (r.no_answer && r.grader_error.is_none()) as usize;
        report.undecided += r.undecided as usize;
        report.unreadable_answers += r.unreadable as usize;
        if let Some(s) = r.failed {
            *report.failed.entry(s).or_insert(0) += 1;
        }
        if let Some(error) = r.grader_error {
            report.grader_errors.push(RecordGraderError {
                line: l.number,
                error,
            });
        }
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

/// Grades many files in parallel; one result per file, in the order given. Each record whose
/// grading panicked is also a warning through `reporter` (file, line, message).
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
            if let Ok(rep) = &r {
                for e in &rep.grader_errors {
                    reporter.warn(&format!(
                        "{}:{}: {} (record marked `grader_error`, not counted)",
                        p.display(),
                        e.line,
                        e.error
                    ));
                }
            }
            reporter.advance(1);
            r
        })
        .collect();
    reporter.finish();
    out
}

/// One pair of `--pairs` mode: the object back with `verdict` (true/false/null when undecided
/// or failed) and `status` (`equal`, `not_equal`, `undecided` with a `reason`, `no_answer`,
/// `grader_error`). `Err` is bad input; `Ok(Some(e))` says the grader panicked on this pair (a
/// bug, caught): it is written as `grader_error` with the message in `grader_error`, and the
/// caller goes on.
pub fn grade_pair_record(
    rec: &mut Map<String, Value>,
    grader: &Grader,
    extract: bool,
) -> Result<Option<GraderError>, String> {
    let gold = rec.get("gold").ok_or("missing field `gold`")?;
    let gold = answer_text(gold).ok_or("`gold` is null")?;
    let pred = rec.get("pred").ok_or("missing field `pred`")?.clone();
    let pred = answer_text(&pred);
    let decided = catch_grader_panic(|| -> Result<_, GraderError> {
        Ok(match (pred, extract) {
            (None, _) => (None, None),
            (Some(p), true) => {
                let (ex, v) = grader.try_grade_pair_extracting(&p, &gold)?;
                let v = ex.answer.is_some().then_some(v);
                (ex.answer, v)
            }
            (Some(p), false) => {
                let gold = strip_math_delimiters(&gold);
                let p = strip_math_delimiters(&p).to_string();
                let v = grader.try_equal(&p, gold)?;
                (Some(p), Some(v))
            }
        })
    })
    .and_then(|r| r);
    let (answer, verdict, error) = match decided {
        Ok((a, v)) => (a, v, None),
        Err(e) => (None, Some(Verdict::GRADER_ERROR), Some(e)),
    };
    let (value, status) = match verdict {
        None => (Value::Bool(false), "no_answer"),
        Some(v) => match v.outcome {
            Outcome::Equal => (Value::Bool(true), "equal"),
            Outcome::NotEqual => (Value::Bool(false), "not_equal"),
            Outcome::Undecided(r) => {
                rec.insert("reason".into(), Value::String(r.to_string()));
                (Value::Null, "undecided")
            }
            Outcome::GraderError => (Value::Null, "grader_error"),
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
    match &error {
        Some(e) => rec.insert("grader_error".into(), Value::String(e.message.clone())),
        None => rec.remove("grader_error"),
    };
    Ok(error)
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

/// `--pairs` over one file: every pair graded (rayon), the file's objects written back as JSONL
/// bytes with their verdicts, and the pairs the grader failed on (marked `grader_error`).
pub fn grade_pair_file(
    path: &Path,
    grader: &Grader,
    extract: bool,
) -> Result<(Vec<u8>, Vec<RecordGraderError>), FileGradeError> {
    let outcome = read_jsonl(path)?;
    let record_error = |line: usize, message: String| FileGradeError::Record {
        path: path.to_path_buf(),
        line,
        message,
    };
    if let Some(t) = outcome.torn_tail {
        return Err(record_error(t.line, "the last line is cut off".into()));
    }
    let mut lines = outcome.lines;
    let errors = lines
        .par_iter_mut()
        .map(|l| {
            grade_pair_record(&mut l.record, grader, extract)
                .map(|e| {
                    e.map(|error| RecordGraderError {
                        line: l.number,
                        error,
                    })
                })
                .map_err(|m| record_error(l.number, m))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut out = Vec::new();
    for l in &lines {
        serde_json::to_writer(&mut out, &l.record)
            .map_err(|e| record_error(l.number, e.to_string()))?;
        out.push(b'\n');
    }
    Ok((out, errors.into_iter().flatten().collect()))
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
    fn a_file_report_counts_failed_requests_apart_from_missing_answers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("output-rs0.jsonl");
        let rows = [
            json!({"generation": "\\boxed{1}", "expected_answer": "1", "status": "ok"}),
            json!({"generation": "no box here", "expected_answer": "2", "status": "ok"}),
            json!({"generation": null, "expected_answer": "3", "status": "request_error"}),
            json!({"generation": null, "expected_answer": "4", "status": "request_error"}),
            json!({"generation": null, "expected_answer": "5", "status": "timeout"}),
        ];
        let text: String = rows.iter().map(|r| format!("{r}\n")).collect();
        std::fs::write(&path, text).unwrap();
        let rep = grade_file(&path, &Grader::default(), &FileGradeOptions::default()).unwrap();
        assert_eq!(rep.records, 5);
        assert_eq!(rep.correct, 1);
        // Only the answered-without-a-box sample; the three failed requests are not "no answer".
        assert_eq!(rep.no_answer, 1);
        assert_eq!(
            rep.failed.into_iter().collect::<Vec<_>>(),
            vec![(Status::RequestError, 2), (Status::Timeout, 1)]
        );
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
    fn an_undecided_verdict_says_why() {
        let m = graded(
            json!({"generation": "\\boxed{\\text{Bob beats Alice}}", "expected_answer": "\\text{Alice beats Bob}"}),
            Policy::Tally,
        );
        assert_eq!(m["grade_status"], "undecided");
        assert_eq!(m["is_correct"], false);
        assert!(
            m["grade_reason"].as_str().unwrap().contains("words"),
            "{m:?}"
        );
        let m = graded(
            json!({"generation": "\\boxed{7}", "expected_answer": "8"}),
            Policy::Tally,
        );
        assert_eq!(m["grade_status"], "not_equal");
        assert!(!m.contains_key("grade_reason"));
        let mut r = json!({"gold": "\\text{Alice beats Bob}", "pred": "\\text{Bob beats Alice}"})
            .as_object()
            .unwrap()
            .clone();
        grade_pair_record(&mut r, &Grader::default(), false).unwrap();
        assert_eq!(
            (r["status"].clone(), r["verdict"].clone()),
            (json!("undecided"), Value::Null)
        );
        assert!(r["reason"].is_string());
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

    /// A record whose grading panics is `grader_error` (a failure, never a wrong answer), the
    /// warning names its file and line, and every other record of the file is graded.
    #[test]
    fn a_panicking_record_becomes_grader_error_and_the_rest_is_graded() {
        use crate::guard::TEST_PANIC;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("output-rs0.jsonl");
        let rows = [
            json!({"generation": "so \\boxed{2}", "expected_answer": "2"}),
            json!({"generation": format!("so \\boxed{{{TEST_PANIC}}}"), "expected_answer": "2", "status": "truncated"}),
            json!({"generation": "so \\boxed{3}", "expected_answer": "2"}),
            json!({"generation": "no box", "expected_answer": "2"}),
        ];
        let text: String = rows.iter().map(|r| format!("{r}\n")).collect();
        std::fs::write(&path, text).unwrap();
        let reporter = tally_core::progress::CollectingReporter::default();
        let reports = grade_files(
            std::slice::from_ref(&path),
            &Grader::default(),
            &FileGradeOptions::default(),
            &reporter,
        );
        let rep = reports[0].as_ref().unwrap();
        assert_eq!(
            (rep.records, rep.graded, rep.correct, rep.no_answer),
            (4, 4, 1, 1)
        );
        assert_eq!(rep.grader_errors.len(), 1);
        assert_eq!(rep.grader_errors[0].line, 2);
        assert_eq!(rep.grader_errors[0].error.message, "forced by a test");
        assert!(rep.rewritten);
        let w = reporter.warnings();
        assert_eq!(w.len(), 1);
        assert!(
            w[0].contains(&format!("{}:2: ", path.display())) && w[0].contains("forced by a test"),
            "{w:?}"
        );
        let out: Vec<Value> = std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(
            (&out[0]["status"], &out[0]["is_correct"]),
            (&json!("ok"), &json!(true))
        );
        let e = &out[1];
        assert_eq!(e["status"], "grader_error");
        assert_eq!(e["grade_status"], "grader_error");
        assert_eq!(e["is_correct"], false);
        assert_eq!(e["predicted_answer"], Value::Null);
        assert_eq!(e["grader_error"], "forced by a test");
        assert_eq!(e["pre_error_status"], "truncated");
        assert_eq!(
            (&out[2]["status"], &out[2]["is_correct"]),
            (&json!("ok"), &json!(false))
        );
        assert_eq!(out[3]["status"], "no_answer");

        // Grading again retries the failed record (its cached `is_correct: false` is not a
        // verdict) and restores the status it had; here the bug is "fixed" by a new text.
        let mut fixed = out[1].as_object().unwrap().clone();
        fixed.insert("generation".into(), json!("so \\boxed{2}"));
        let mut lines: Vec<String> = out.iter().map(Value::to_string).collect();
        lines[1] = Value::Object(fixed).to_string();
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        let rep = grade_file(&path, &Grader::default(), &FileGradeOptions::default()).unwrap();
        assert!(rep.grader_errors.is_empty());
        assert_eq!(rep.graded, 1, "only the failed record is graded again");
        let again: Value = serde_json::from_str(
            std::fs::read_to_string(&path)
                .unwrap()
                .lines()
                .nth(1)
                .unwrap(),
        )
        .unwrap();
        assert_eq!(again["status"], "truncated");
        assert_eq!(again["is_correct"], true);
        assert_eq!(again["grade_status"], "equal");
        assert!(again.get("grader_error").is_none() && again.get("pre_error_status").is_none());
    }

    #[test]
    fn a_panicking_pair_becomes_grader_error() {
        use crate::guard::TEST_PANIC;
        let g = Grader::default();
        for extract in [false, true] {
            let pred = if extract {
                format!("so \\boxed{{{TEST_PANIC}}}")
            } else {
                TEST_PANIC.to_string()
            };
            let mut r = json!({"gold": "2", "pred": pred})
                .as_object()
                .unwrap()
                .clone();
            let e = grade_pair_record(&mut r, &g, extract).unwrap().unwrap();
            assert_eq!(e.message, "forced by a test");
            assert_eq!(r["status"], "grader_error");
            assert_eq!(r["verdict"], Value::Null);
            assert_eq!(r["grader_error"], "forced by a test");
            // The same record graded normally afterwards loses the error.
            r.insert("pred".into(), json!("2"));
            assert_eq!(grade_pair_record(&mut r, &g, extract).unwrap(), None);
            assert_eq!(r["status"], "equal");
            assert!(r.get("grader_error").is_none());
        }
    }
}
