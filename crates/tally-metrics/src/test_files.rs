//! Hand-made sample files for the unit tests: written to a temporary directory and read back with
//! [`read_file`], so the tests see exactly what a summary of real files sees.

use serde_json::{json, Value};

use crate::load::{read_file, SampleFile};

/// One graded sample: its answer (`None`: no answer) and its verdict.
pub fn sample(answer: Option<&str>, correct: bool) -> Value {
    json!({"predicted_answer": answer, "is_correct": correct, "status": "ok"})
}

/// A sample whose request failed: no generation, no verdict to trust.
pub fn failed() -> Value {
    json!({"predicted_answer": null, "is_correct": false, "status": "request_error"})
}

/// Writes `lines` (one per problem) as `<dir>/<name>` and reads it back.
pub fn file(dir: &tempfile::TempDir, name: &str, lines: &[Value]) -> SampleFile {
    let path = dir.path().join(name);
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(&path, text).unwrap();
    read_file(&path).unwrap()
}

/// Seed files from a problem-major table: `problems[p][s]` is problem `p`'s sample in seed `s`.
pub fn seed_files(dir: &tempfile::TempDir, problems: &[Vec<Value>]) -> Vec<SampleFile> {
    let seeds = problems[0].len();
    (0..seeds)
        .map(|s| {
            let lines: Vec<Value> = problems.iter().map(|p| p[s].clone()).collect();
            file(dir, &format!("output-rs{s}.jsonl"), &lines)
        })
        .collect()
}

/// The three problems × three seeds both modes are checked on:
/// - P1: `A` (correct), `B` (wrong), `A` (correct);
/// - P2: `5` (wrong), `7` (correct), no answer — `5` and `7` tie in every vote;
/// - P3: no answer in any seed.
pub fn three_by_three() -> Vec<Vec<Value>> {
    vec![
        vec![
            sample(Some("A"), true),
            sample(Some("B"), false),
            sample(Some("A"), true),
        ],
        vec![
            sample(Some("5"), false),
            sample(Some("7"), true),
            sample(None, false),
        ],
        vec![
            sample(None, false),
            sample(None, false),
            sample(None, false),
        ],
    ]
}

/// Asserts `got` is `want` to within rounding.
pub fn close(got: Option<f64>, want: f64, what: &str) {
    let got = got.unwrap_or_else(|| panic!("{what}: no value"));
    assert!((got - want).abs() < 1e-9, "{what}: got {got}, want {want}");
}
