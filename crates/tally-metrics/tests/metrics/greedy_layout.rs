//! Greedy beside seeds in newer NeMo-Skills' layout, with the record keys each NeMo-Skills
//! version writes: May's (`is_correct`, spec §1.7) and 0b012df8's (`symbolic_correct`, token
//! counts, generation times, as in its own test fixture), and Tally's (both verdict keys).

use std::path::Path;

use serde_json::{json, Value};
use tally_core::NoopReporter;
use tally_metrics::greedy_layout::{self, mixed_benchmarks};
use tally_metrics::layout::detect;
use tally_metrics::render::metrics_json;
use tally_metrics::{summarize, SummarizeOptions, SummaryMode};

fn write(path: &Path, rows: &[Value]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let text: String = rows.iter().map(|r| format!("{r}\n")).collect();
    std::fs::write(path, text).unwrap();
}

/// May's vllm record: `num_generated_tokens, generation, <input…>, predicted_answer, is_correct`.
fn may(problem: &str, answer: &str, correct: bool) -> Value {
    json!({"num_generated_tokens": 10, "generation": format!("\\boxed{{{answer}}}"),
           "problem": problem, "expected_answer": "1", "predicted_answer": answer,
           "is_correct": correct})
}

/// Newer NeMo-Skills' record: verdicts in `symbolic_correct`, generation times.
fn newer(problem: &str, answer: &str, correct: bool, tokens: u64) -> Value {
    json!({"num_generated_tokens": tokens, "generation_start_time": 100.0,
           "generation_end_time": 160.5, "generation": format!("\\boxed{{{answer}}}"),
           "problem": problem, "expected_answer": "1", "predicted_answer": answer,
           "symbolic_correct": correct})
}

/// What `tally generate` + `tally grade` leave: both verdict keys, a status.
fn tally(problem: &str, answer: &str, correct: bool) -> Value {
    json!({"generation": format!("\\boxed{{{answer}}}"), "num_generated_tokens": 12,
           "problem": problem, "expected_answer": "1", "status": "ok",
           "predicted_answer": answer, "is_correct": correct, "symbolic_correct": correct})
}

fn summary_json(dir: &Path, mode: SummaryMode) -> Value {
    let opts = SummarizeOptions {
        mode,
        ..SummarizeOptions::default()
    };
    let s = summarize(dir, &opts, &NoopReporter).unwrap();
    assert!(s.skipped.is_empty(), "{:?}", s.skipped);
    metrics_json(&s)
}

#[test]
fn greedy_in_its_own_evaluation_is_the_greedy_row_for_every_key_set() {
    for (name, greedy_row, seed_row) in [
        (
            "may greedy, newer seeds",
            may as fn(&str, &str, bool) -> Value,
            (|p: &str, a: &str, c: bool| newer(p, a, c, 20)) as fn(&str, &str, bool) -> Value,
        ),
        (
            "newer greedy, may seeds",
            |p: &str, a: &str, c: bool| newer(p, a, c, 20),
            may,
        ),
        ("tally everywhere", tally, tally),
    ] {
        let t = tempfile::tempdir().unwrap();
        let out = t.path().join("run");
        let bench = out.join("eval-results/aime24");
        // Greedy: p0 right, p1 wrong → 50%. Seeds: p0 right twice, p1 right once → 75%.
        write(
            &bench.join("output.jsonl"),
            &[greedy_row("p0", "1", true), greedy_row("p1", "2", false)],
        );
        write(
            &bench.join("output-rs0.jsonl"),
            &[seed_row("p0", "1", true), seed_row("p1", "1", true)],
        );
        write(
            &bench.join("output-rs1.jsonl"),
            &[seed_row("p0", "1", true), seed_row("p1", "3", false)],
        );
        let before = summary_json(&out, SummaryMode::Tally);
        let notes = before["_tally"]["notes"].to_string();
        assert!(notes.contains("--split-greedy"), "{name}: {notes}");

        let layout = detect(&out, None).unwrap();
        greedy_layout::apply(&greedy_layout::plan_split(&layout).unwrap()).unwrap();
        // Newer NeMo-Skills' rule holds for both evaluations: no folder has both kinds.
        assert!(
            mixed_benchmarks(&detect(&out, None).unwrap()).is_empty(),
            "{name}"
        );
        assert!(mixed_benchmarks(&detect(&out.join("greedy"), None).unwrap()).is_empty());
        assert!(out
            .join("greedy/eval-results/aime24/output.jsonl")
            .is_file());

        // Tally's default summary of the output directory still shows the greedy row.
        let after = summary_json(&out, SummaryMode::Tally);
        let t = &after["aime24"];
        assert!(
            (t["greedy"]["symbolic_correct"].as_f64().unwrap() - 50.0).abs() < 1e-9,
            "{name}: {t}"
        );
        assert!(
            (t["pass@1[avg-of-2]"]["symbolic_correct"].as_f64().unwrap() - 75.0).abs() < 1e-9,
            "{name}"
        );
        assert!(
            !after["_tally"]["notes"]
                .to_string()
                .contains("--split-greedy"),
            "{name}"
        );
        // The seed-compatible mode reads what NeMo-Skills would: the seeds alone here ...
        let compat = summary_json(&out, SummaryMode::NemoSkills);
        assert!(compat["aime24"].get("greedy").is_none(), "{name}: {compat}");
        // ... and the greedy evaluation on its own.
        let g = summary_json(&out.join("greedy"), SummaryMode::NemoSkills);
        assert!(
            (g["aime24"]["greedy"]["symbolic_correct"].as_f64().unwrap() - 50.0).abs() < 1e-9,
            "{name}: {g}"
        );
    }
}
