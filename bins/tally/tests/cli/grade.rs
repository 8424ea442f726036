//! `tally grade`: files graded in place, idempotent, bad input named; pair mode.

use serde_json::{json, Value};

use crate::common::*;

fn lines(path: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn grades_in_place_and_a_rerun_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("output-rs0.jsonl");
    write_jsonl(
        &f,
        &[
            json!({"id": "a", "expected_answer": "70", "generation": "so the answer is $\\boxed{70}$."}),
            json!({"id": "b", "expected_answer": "0.5", "generation": "giving \\boxed{\\dfrac{1}{2}}"}),
            json!({"id": "c", "expected_answer": 18, "generation": "I ran out of tokens \\boxed{1"}),
            json!({"id": "d", "expected_answer": "3", "generation": "", "status": "request_error"}),
        ],
    );
    let out = run(tally().arg("grade").arg(&f));
    assert!(out.status.success(), "{}", stderr(&out));
    let recs = lines(&f);
    assert_eq!(recs[0]["predicted_answer"], "70");
    assert_eq!(recs[0]["is_correct"], true);
    assert_eq!(recs[1]["is_correct"], true);
    assert_eq!(
        recs[1]["answer_canonical"],
        recs.iter().find(|r| r["id"] == "b").unwrap()["answer_canonical"]
    );
    assert_eq!(recs[2]["predicted_answer"], Value::Null);
    assert_eq!(recs[2]["status"], "no_answer");
    assert_eq!(
        recs[3]["status"], "request_error",
        "a failed request keeps its status"
    );
    assert!(
        stderr(&out).contains("1 end inside an unclosed box"),
        "{}",
        stderr(&out)
    );
    // NeMo-Skills' keys follow the input fields, in its order.
    let keys: Vec<&String> = recs[0].as_object().unwrap().keys().collect();
    assert_eq!(
        &keys[..5],
        [
            "id",
            "expected_answer",
            "generation",
            "predicted_answer",
            "is_correct"
        ]
    );

    let before = std::fs::read(&f).unwrap();
    let again = run(tally().arg("grade").arg(&f));
    assert!(again.status.success());
    assert_eq!(std::fs::read(&f).unwrap(), before);
    assert!(stderr(&again).contains("(unchanged)"), "{}", stderr(&again));
}

/// An answer the grader cannot decide is marked `undecided` with a reason, counted as not
/// correct, and counted apart in the default summary.
#[test]
fn an_undecided_answer_is_marked_and_counted_in_the_summary() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("bench");
    let f = dir.join("output-rs0.jsonl");
    write_jsonl(
        &f,
        &[
            json!({"id": "a", "expected_answer": "\\text{Alice beats Bob}", "generation": "so \\boxed{\\text{Bob beats Alice}}"}),
            json!({"id": "b", "expected_answer": "\\text{the second player wins}", "generation": "\\boxed{\\text{second player}}"}),
            json!({"id": "c", "expected_answer": "3", "generation": "\\boxed{4}"}),
        ],
    );
    let out = run(tally().arg("grade").arg(&f));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("1 undecided"), "{}", stderr(&out));
    let recs = lines(&f);
    assert_eq!(recs[0]["grade_status"], "undecided");
    assert_eq!(recs[0]["is_correct"], false);
    assert!(recs[0]["grade_reason"].is_string(), "{:?}", recs[0]);
    assert_eq!(recs[1]["grade_status"], "equal");
    assert_eq!(recs[2]["grade_status"], "not_equal");
    assert!(recs[2].get("grade_reason").is_none());

    let out = run(tally().current_dir(tmp.path()).args([
        "summarize-results",
        "bench",
        "--format",
        "json",
    ]));
    assert!(out.status.success(), "{}", stderr(&out));
    let m: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(m["_tally"]["undecided"]["bench"], 1, "{m}");
    let out = run(tally()
        .current_dir(tmp.path())
        .args(["summarize-results", "bench"]));
    assert!(
        stdout(&out).contains("1 answers the grader could not decide"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn compat_policy_applies_the_seeds_quirks() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("o.jsonl");
    // Seed: ×100 percentage rule makes 700 equal to 7; \fbox alone is no answer (T8, T9).
    write_jsonl(
        &f,
        &[
            json!({"expected_answer": "7", "generation": "\\boxed{700}"}),
            json!({"expected_answer": "7", "generation": "\\fbox{7}"}),
        ],
    );
    let out = run(tally().args(["grade", "--compat", "nemo-skills"]).arg(&f));
    assert!(out.status.success(), "{}", stderr(&out));
    let recs = lines(&f);
    assert_eq!(recs[0]["is_correct"], true);
    assert_eq!(recs[1]["predicted_answer"], Value::Null);
    let out = run(tally().args(["grade", "--ignore-cache"]).arg(&f));
    assert!(out.status.success());
    let recs = lines(&f);
    assert_eq!(
        recs[0]["is_correct"], false,
        "the tally policy does not accept 700 for 7"
    );
    assert_eq!(recs[1]["is_correct"], true, "the tally policy reads \\fbox");
}

#[test]
fn a_bad_line_is_named_and_the_file_left_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let good = tmp.path().join("good.jsonl");
    write_jsonl(
        &good,
        &[json!({"expected_answer": "1", "generation": "\\boxed{1}"})],
    );
    let bad = tmp.path().join("bad.jsonl");
    let text =
        "{\"expected_answer\": \"1\", \"generation\": \"\\\\boxed{1}\"}\n{\"generation\": \"x\"}\n";
    std::fs::write(&bad, text).unwrap();
    let out = run(tally().arg("grade").arg(&good).arg(&bad));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("bad.jsonl:2: missing field `expected_answer`"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read_to_string(&bad).unwrap(), text);
    assert_eq!(
        lines(&good)[0]["is_correct"],
        true,
        "the good file is still graded"
    );
}

#[test]
fn pairs_mode_writes_verdicts_in_order() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("pairs.jsonl");
    write_jsonl(
        &f,
        &[
            json!({"gold": "\\frac{1}{2}", "pred": "$0.5$", "tag": 1}),
            json!({"gold": "(1,2)", "pred": "[1,2]", "tag": 2}),
            json!({"gold": "10", "pred": "10^{10^{10^{10}}}", "tag": 3}),
        ],
    );
    let out = run(tally().args(["grade", "--pairs"]).arg(&f));
    assert!(out.status.success(), "{}", stderr(&out));
    let recs: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        recs.iter().map(|r| r["tag"].clone()).collect::<Vec<_>>(),
        [json!(1), json!(2), json!(3)]
    );
    assert_eq!(recs[0]["verdict"], true);
    assert_eq!(recs[1]["verdict"], false);
    assert_ne!(
        recs[2]["verdict"], true,
        "a tower of powers is not 10: {:?}",
        recs[2]
    );

    let resp = tmp.path().join("resp.jsonl");
    write_jsonl(
        &resp,
        &[
            json!({"gold": "42", "pred": "Reasoning... #### 42"}),
            json!({"gold": "42", "pred": "I do not know."}),
        ],
    );
    let out_file = tmp.path().join("graded.jsonl");
    let out = run(tally()
        .args(["grade", "--pairs", "--extract", "--output"])
        .arg(&out_file)
        .arg(&resp));
    assert!(out.status.success(), "{}", stderr(&out));
    let recs = lines(&out_file);
    assert_eq!(recs[0]["verdict"], true);
    assert_eq!(recs[1]["status"], "no_answer");
}

/// The reported crash: `tally grade --pairs --extract` panicked (`begin > end`) on a response
/// whose last characters are `\boxed{}}` (a box inside a box). Each pair is graded now, none
/// as a grader error, and the run exits 0.
#[test]
fn nested_boxes_in_pair_mode_grade_without_a_grader_error() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("pairs.jsonl");
    let physics = "The block slides down the incline, so energy is conserved: the potential \
        energy mgh becomes kinetic energy. Solving for the speed at the bottom gives \
        $v = \\sqrt{2gh}$, and the kinetic energy there is $E = \\boxed{\\frac{1}{2} m v^2 \\boxed{}}";
    write_jsonl(
        &f,
        &[
            json!({"gold": "\\frac{1}{2}mv^2", "pred": physics}),
            json!({"gold": "5", "pred": "\\boxed{\\boxed{5}}"}),
            json!({"gold": "(3, 4)", "pred": "We get \\boxed{x = \\boxed{3}} and \\boxed{4}."}),
            json!({"gold": "\\boxed{\\boxed{7}}}", "pred": "so \\boxed{7}"}),
        ],
    );
    let out = run(tally().args(["grade", "--pairs", "--extract"]).arg(&f));
    assert!(out.status.success(), "{}", stderr(&out));
    let recs: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(recs.len(), 4);
    assert!(
        recs.iter().all(|r| r["status"] != "grader_error"),
        "{recs:?}"
    );
    assert_eq!(recs[0]["extracted"], "");
    assert_eq!(recs[1]["status"], "equal");
    assert_eq!(recs[3]["status"], "equal");
}

/// A record an earlier run could not grade (`grader_error`) is graded again, not kept as a
/// verdict, and gets back the status it had before.
#[test]
fn a_grader_error_record_is_graded_again() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("output-rs0.jsonl");
    write_jsonl(
        &f,
        &[
            json!({"expected_answer": "2", "generation": "so \\boxed{2}", "predicted_answer": null,
                   "is_correct": false, "symbolic_correct": false, "answer_canonical": null,
                   "grade_status": "grader_error", "grader_error": "an old bug",
                   "pre_error_status": "truncated", "status": "grader_error"}),
            json!({"expected_answer": "3", "generation": "so \\boxed{3}"}),
        ],
    );
    let out = run(tally().arg("grade").arg(&f));
    assert!(out.status.success(), "{}", stderr(&out));
    let recs = lines(&f);
    assert_eq!(recs[0]["status"], "truncated");
    assert_eq!(recs[0]["is_correct"], true);
    assert_eq!(recs[0]["grade_status"], "equal");
    assert!(recs[0].get("grader_error").is_none());
    assert!(recs[0].get("pre_error_status").is_none());
    assert_eq!(recs[1]["is_correct"], true);
    assert!(!stderr(&out).contains("grader_error"), "{}", stderr(&out));
}
