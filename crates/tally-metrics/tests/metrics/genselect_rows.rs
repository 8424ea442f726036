//! The `genselect@k` row: GenSelect's chosen solutions (`<bench>/genselect/output-rs*.jsonl`)
//! summarized beside the seeds they were chosen from.

use std::path::Path;

use serde_json::{json, Value};
use tally_core::NoopReporter;
use tally_metrics::render::{metrics_json, render, Format};
use tally_metrics::{summarize, SummarizeOptions};

fn write(path: &Path, rows: &[Value]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let text: String = rows.iter().map(|r| format!("{r}\n")).collect();
    std::fs::write(path, text).unwrap();
}

/// Seeds carry token counts, the GenSelect records none: the row still prints, with the
/// columns it has. Chosen: p0 right on both GenSelect seeds, p1 right on one, p2 no candidate
/// → (1 + 1/2 + 0)/3 = 50%; no_answer (0 + 0 + 1)/3; k = 4, the most candidates of a choice.
#[test]
fn genselect_row_is_the_mean_of_the_chosen_verdicts() {
    let t = tempfile::tempdir().unwrap();
    let bench = t.path().join("eval-results/aime25");
    let seed = |c: [bool; 3]| -> Vec<Value> {
        (0..3)
            .map(|i| {
                json!({"id": format!("p{i}"), "predicted_answer": "1", "is_correct": c[i],
                            "num_generated_tokens": 100, "status": "ok"})
            })
            .collect()
    };
    write(&bench.join("output-rs0.jsonl"), &seed([true, false, false]));
    write(&bench.join("output-rs1.jsonl"), &seed([true, true, false]));
    let chosen = |p1: bool| -> Vec<Value> {
        vec![
            json!({"id": "p0", "num_solutions": 4, "predicted_answer": "1", "is_correct": true, "status": "ok"}),
            json!({"id": "p1", "num_solutions": 2, "predicted_answer": "1", "is_correct": p1, "status": "ok"}),
            json!({"id": "p2", "num_solutions": 0, "predicted_answer": null, "is_correct": false, "status": "no_answer"}),
        ]
    };
    write(&bench.join("genselect/output-rs0.jsonl"), &chosen(true));
    write(&bench.join("genselect/output-rs1.jsonl"), &chosen(false));
    let s = summarize(t.path(), &SummarizeOptions::default(), &NoopReporter).unwrap();
    assert!(s.skipped.is_empty(), "{:?}", s.skipped);
    let m = metrics_json(&s);
    let row = &m["aime25"]["genselect@4"];
    assert!(
        (row["symbolic_correct"].as_f64().unwrap() - 50.0).abs() < 1e-9,
        "{row}"
    );
    assert!(
        (row["no_answer"].as_f64().unwrap() - 100.0 / 3.0).abs() < 1e-9,
        "{row}"
    );
    // Two GenSelect seeds: runs average 2/3 and 1/3, so the std-dev across runs is √(1/18).
    let sd = row["symbolic_correct_statistics"]["std_dev_across_runs"]
        .as_f64()
        .unwrap();
    assert!((sd - (1.0f64 / 18.0).sqrt()).abs() < 1e-12, "{sd}");
    let text = render(&s, Format::Table);
    let line = text
        .lines()
        .find(|l| l.starts_with("genselect@4"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(line.contains("50.00%"), "{text}");
    // NeMo-Skills' folder rule: the genselect files are not seeds of the benchmark.
    assert_eq!(s.details["aime25"].details["aime25"].num_seeds, 2);
}

/// GenSynthesis' graded new solutions (`<bench>/gensynthesis/`) get their own `gensynthesis@k`
/// row beside `genselect@k`: p0 right, p1 wrong, p2 right → 2/3; k = 3. Neither folder's files
/// are seeds of the benchmark.
#[test]
fn gensynthesis_row_sits_beside_the_genselect_row() {
    let t = tempfile::tempdir().unwrap();
    let bench = t.path().join("eval-results/aime25");
    let rows = |c: [bool; 3], n: u64| -> Vec<Value> {
        (0..3)
            .map(|i| {
                json!({"id": format!("p{i}"), "num_solutions": n, "predicted_answer": "1",
                       "symbolic_correct": c[i], "status": "ok"})
            })
            .collect()
    };
    write(&bench.join("output-rs0.jsonl"), &rows([false; 3], 0));
    write(
        &bench.join("genselect/output-rs0.jsonl"),
        &rows([true; 3], 2),
    );
    write(
        &bench.join("gensynthesis/output-rs0.jsonl"),
        &rows([true, false, true], 3),
    );
    let s = summarize(t.path(), &SummarizeOptions::default(), &NoopReporter).unwrap();
    assert!(s.skipped.is_empty(), "{:?}", s.skipped);
    let m = metrics_json(&s);
    let synth = m["aime25"]["gensynthesis@3"]["symbolic_correct"]
        .as_f64()
        .unwrap_or_else(|| panic!("{m}"));
    assert!((synth - 200.0 / 3.0).abs() < 1e-9, "{m}");
    let select = m["aime25"]["genselect@2"]["symbolic_correct"]
        .as_f64()
        .unwrap();
    assert!((select - 100.0).abs() < 1e-9, "{m}");
    assert_eq!(s.details["aime25"].details["aime25"].num_seeds, 1);
}
