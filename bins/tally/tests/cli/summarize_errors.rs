//! Bad input: an error naming file and line, the benchmark skipped, never a wrong number.

use serde_json::json;

use crate::common::*;

fn setup(tmp: &std::path::Path) -> std::path::PathBuf {
    let root = tmp.join("run/eval-results");
    let r = |id: &str, a: &str, c: bool| json!({"id": id, "predicted_answer": a, "is_correct": c});
    // A healthy benchmark next to the broken ones: it must still be summarized.
    write_jsonl(
        &root.join("good/output-rs0.jsonl"),
        &[r("p1", "1", true), r("p2", "2", false)],
    );
    write_jsonl(
        &root.join("good/output-rs1.jsonl"),
        &[r("p1", "1", true), r("p2", "3", true)],
    );
    root
}

/// A `bad` benchmark: one good answered record in rs0, and `rs1` written as given.
fn bad_benchmark(root: &std::path::Path, rs1: &str) {
    write_jsonl(
        &root.join("bad/output-rs0.jsonl"),
        &[json!({"predicted_answer": "1", "is_correct": true})],
    );
    std::fs::write(root.join("bad/output-rs1.jsonl"), rs1).unwrap();
}

fn check(tmp: &std::path::Path, mode: &[&str], want_in_stderr: &str) {
    let out = run(tally()
        .current_dir(tmp)
        .args(["summarize-results", "run"])
        .args(mode));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(want_in_stderr),
        "wanted `{want_in_stderr}` in:\n{err}"
    );
    let text = stdout(&out);
    assert!(
        text.contains("good"),
        "the healthy benchmark is still printed:\n{text}"
    );
    assert!(
        !text.contains(" bad "),
        "the broken benchmark printed numbers:\n{text}"
    );
}

#[test]
fn a_non_json_line_names_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let root = setup(tmp.path());
    bad_benchmark(
        &root,
        "{\"predicted_answer\": \"1\", \"is_correct\": true}\n{oops\n",
    );
    for mode in [&["--compat", "nemo-skills"][..], &[]] {
        check(tmp.path(), mode, "output-rs1.jsonl:2");
    }
}

#[test]
fn a_shorter_file_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let root = setup(tmp.path());
    let r = json!({"predicted_answer": "1", "is_correct": true});
    write_jsonl(&root.join("bad/output-rs0.jsonl"), &[r.clone(), r.clone()]);
    write_jsonl(&root.join("bad/output-rs1.jsonl"), std::slice::from_ref(&r));
    for mode in [&["--compat", "nemo-skills"][..], &[]] {
        check(tmp.path(), mode, "output-rs1.jsonl has 1 records but");
    }
}

#[test]
fn mismatched_problem_order_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let root = setup(tmp.path());
    let r = |id: &str| json!({"id": id, "predicted_answer": "1", "is_correct": true});
    write_jsonl(&root.join("bad/output-rs0.jsonl"), &[r("a"), r("b")]);
    write_jsonl(&root.join("bad/output-rs1.jsonl"), &[r("b"), r("a")]);
    for mode in [&["--compat", "nemo-skills"][..], &[]] {
        check(tmp.path(), mode, "output-rs1.jsonl:1: problem `b`");
    }
}

#[test]
fn a_missing_verdict_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let root = setup(tmp.path());
    write_jsonl(
        &root.join("bad/output-rs0.jsonl"),
        &[json!({"predicted_answer": "1", "is_correct": true})],
    );
    write_jsonl(
        &root.join("bad/output-rs1.jsonl"),
        &[json!({"predicted_answer": "1"})],
    );
    for mode in [&["--compat", "nemo-skills"][..], &[]] {
        check(
            tmp.path(),
            mode,
            "output-rs1.jsonl:1: `is_correct` is missing",
        );
    }
    // No predicted_answer at all: the file was never graded.
    write_jsonl(
        &root.join("bad/output-rs1.jsonl"),
        &[json!({"generation": "x", "is_correct": true})],
    );
    check(
        tmp.path(),
        &["--compat", "nemo-skills"],
        "missing field `predicted_answer`",
    );
}

#[test]
fn a_torn_last_line_is_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let root = setup(tmp.path());
    bad_benchmark(&root, "{\"predicted_answer\": \"1\", \"is_corr");
    check(tmp.path(), &[], "the last line is torn");
}

#[test]
fn unknown_metric_type_and_missing_dir_are_errors() {
    let tmp = tempfile::tempdir().unwrap();
    setup(tmp.path());
    let out = run(tally().current_dir(tmp.path()).args([
        "summarize-results",
        "run",
        "--metric_type",
        "code",
    ]));
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("unknown metric type `code`"));
    let out = run(tally()
        .current_dir(tmp.path())
        .args(["summarize-results", "nowhere"]));
    assert!(
        stderr(&out).contains("nowhere: not a directory"),
        "{}",
        stderr(&out)
    );
}
