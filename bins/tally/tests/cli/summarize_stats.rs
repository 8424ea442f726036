//! `summarize-results --spread` and `--split-greedy` from the command line: what `±` shows is
//! said and chosen, metrics.json carries NeMo-Skills' statistics, and a May-layout directory
//! becomes one newer NeMo-Skills reads.

use serde_json::{json, Value};

use crate::common::*;

/// Two problems × two seeds: p0 right twice, p1 wrong then right. Run averages 1/2 and 1:
/// std-dev √(1/8) = 35.36 points, std-err 25.00; greedy gets p0 only (50%).
fn write_run(dir: &std::path::Path) {
    let bench = dir.join("out/eval-results/toy");
    let r = |p: &str, c: bool| {
        json!({"problem": p, "predicted_answer": if c { "1" } else { "2" }, "is_correct": c,
               "symbolic_correct": c, "num_generated_tokens": 10, "status": "ok"})
    };
    write_jsonl(
        &bench.join("output.jsonl"),
        &[r("p0", true), r("p1", false)],
    );
    write_jsonl(
        &bench.join("output-rs0.jsonl"),
        &[r("p0", true), r("p1", false)],
    );
    write_jsonl(
        &bench.join("output-rs1.jsonl"),
        &[r("p0", true), r("p1", true)],
    );
}

#[test]
fn spread_flag_and_statistics_in_metrics_json() {
    let tmp = tempfile::tempdir().unwrap();
    write_run(tmp.path());
    let out = run(tally().current_dir(tmp.path()).args([
        "summarize-results",
        "out",
        "--spread",
        "std-dev",
    ]));
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.lines()
            .next()
            .unwrap()
            .contains("± = std-dev across runs"),
        "{text}"
    );
    let avg = text
        .lines()
        .find(|l| l.starts_with("pass@1[avg-of-2]"))
        .unwrap();
    assert!(avg.contains("75.00% ± 35.36"), "{text}");
    // Newer NeMo-Skills refuses this folder; the summary says so and how to fix it.
    assert!(text.contains("--split-greedy"), "{text}");
    let m: Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("out/eval-results/metrics.json")).unwrap(),
    )
    .unwrap();
    let stats = &m["toy"]["pass@1[avg-of-2]"]["symbolic_correct_statistics"];
    assert!((stats["std_dev_across_runs"].as_f64().unwrap() - 0.125f64.sqrt()).abs() < 1e-12);
    assert!((stats["std_err_across_runs"].as_f64().unwrap() - 0.25).abs() < 1e-12);
    assert_eq!(m["toy"]["pass@1[avg-of-2]"]["avg_tokens"], 10);
    assert_eq!(m["_tally"]["spread"], "std-dev");

    // A bad value is refused with the choices named.
    let bad =
        run(tally()
            .current_dir(tmp.path())
            .args(["summarize-results", "out", "--spread", "sd"]));
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("std-dev"), "{}", stderr(&bad));
}

#[test]
fn split_greedy_moves_greedy_into_its_own_evaluation() {
    let tmp = tempfile::tempdir().unwrap();
    write_run(tmp.path());
    let out = run(tally().current_dir(tmp.path()).args([
        "summarize-results",
        "out",
        "--split-greedy",
        "--format",
        "json",
    ]));
    assert!(out.status.success(), "{}", stderr(&out));
    let greedy = tmp.path().join("out/greedy/eval-results/toy/output.jsonl");
    assert!(greedy.is_file());
    assert!(!tmp
        .path()
        .join("out/eval-results/toy/output.jsonl")
        .exists());
    let m: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert!((m["toy"]["greedy"]["symbolic_correct"].as_f64().unwrap() - 50.0).abs() < 1e-9);
    assert!(!m["_tally"]["notes"].to_string().contains("--split-greedy"));
    // The greedy evaluation summarizes on its own, in NeMo-Skills' mode too.
    let g = run(tally().current_dir(tmp.path()).args([
        "summarize-results",
        "out/greedy",
        "--compat",
        "nemo-skills",
        "--format",
        "json",
    ]));
    assert!(g.status.success(), "{}", stderr(&g));
    let g: Value = serde_json::from_str(&stdout(&g)).unwrap();
    assert!((g["toy"]["greedy"]["symbolic_correct"].as_f64().unwrap() - 50.0).abs() < 1e-9);
}
