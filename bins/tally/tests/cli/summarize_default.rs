//! Tally's default summary: unbiased estimates, real no_answer, failures excluded, intervals.

use serde_json::{json, Value};

use crate::common::*;

fn metrics(tmp: &std::path::Path, dir: &str) -> Value {
    let out = run(tally()
        .current_dir(tmp)
        .args(["summarize-results", dir, "--format", "json"]));
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).unwrap()
}

fn close(v: &Value, want: f64) {
    let got = v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"));
    assert!((got - want).abs() < 1e-9, "{got} vs {want}");
}

/// Three problems × four seeds, by hand:
/// P1 = [1 ✓, 1 ✓, 2 ✗, request error] → n=3, c=2;  P2 = [3 ✗, 4 ✓, none, 3 ✗] → n=4, c=1;
/// P3 = [5 ✓, 6 ✗, 7 ✗, 8 ✗] → n=4, c=1, a four-way tie.
/// pass@1[avg-of-4] = (2/3 + 1/4 + 1/4)/3; pass@2 = (1 + (1 - C(3,2)/C(4,2)) + 0.5)/3;
/// pass@4 = (1 [k capped at n=3] + 1 + 1)/3; majority@4 = (1 + 0 + 1/4 [tie split])/3;
/// no_answer(pass@1) = (0 + 1/4 + 0)/3. The failed request counts nowhere but in the statuses.
#[test]
fn hand_derived_default_metrics() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("toy");
    let ok = |a: &str, c: bool| json!({"predicted_answer": a, "is_correct": c});
    let none = json!({"predicted_answer": null, "is_correct": false});
    let failed = json!({"predicted_answer": null, "status": "request_error", "error": "HTTP 500"});
    let seeds = [
        [ok("1", true), ok("3", false), ok("5", true)],
        [ok("1", true), ok("4", true), ok("6", false)],
        [ok("2", false), none.clone(), ok("7", false)],
        [failed, ok("3", false), ok("8", false)],
    ];
    for (i, rows) in seeds.iter().enumerate() {
        write_jsonl(&dir.join(format!("output-rs{i}.jsonl")), rows);
    }
    let m = metrics(tmp.path(), "toy");
    let t = &m["toy"];
    close(
        &t["pass@1[avg-of-4]"]["symbolic_correct"],
        (2.0 / 3.0 + 0.25 + 0.25) / 3.0 * 100.0,
    );
    close(
        &t["pass@2"]["symbolic_correct"],
        (1.0 + 0.5 + 0.5) / 3.0 * 100.0,
    );
    close(&t["pass@4"]["symbolic_correct"], 100.0);
    close(
        &t["majority@4"]["symbolic_correct"],
        (1.0 + 0.0 + 0.25) / 3.0 * 100.0,
    );
    close(&t["pass@1[avg-of-4]"]["no_answer"], 0.25 / 3.0 * 100.0);
    // pass@1 = majority@1 = pass@1[avg]: one sample carries the same information.
    close(
        &t["pass@1"]["symbolic_correct"],
        (2.0 / 3.0 + 0.25 + 0.25) / 3.0 * 100.0,
    );
    close(
        &t["majority@1"]["symbolic_correct"],
        (2.0 / 3.0 + 0.25 + 0.25) / 3.0 * 100.0,
    );
    assert_eq!(t["pass@4"]["num_entries"], 3);
    let ci = t["pass@1[avg-of-4]"]["symbolic_correct_ci95"]
        .as_array()
        .unwrap();
    assert!(ci[0].as_f64().unwrap() <= 38.89 && ci[1].as_f64().unwrap() >= 38.88);
    assert_eq!(
        m["_tally"]["status_counts"]["toy"],
        json!({"ok": 10, "no_answer": 1, "request_error": 1})
    );
    assert_eq!(m["_tally"]["mode"], "default");

    // The table says what mode it is in, and reports the failed sample.
    let out = run(tally()
        .current_dir(tmp.path())
        .args(["summarize-results", "toy"]));
    let text = stdout(&out);
    assert!(text.starts_with("tally summary (default mode)"), "{text}");
    assert!(text.contains("1 problems have failed samples"), "{text}");
    assert!(
        text.contains("toy: 12 samples: ok 10, no_answer 1, request_error 1"),
        "{text}"
    );
}

/// File order never changes default-mode numbers (ties are split, not broken by position).
#[test]
fn default_numbers_do_not_depend_on_seed_order() {
    let tmp = tempfile::tempdir().unwrap();
    let r = |a: &str, c: bool| json!({"predicted_answer": a, "is_correct": c});
    let rows = [
        [r("5", true), r("1", false)],
        [r("6", false), r("1", false)],
        [r("7", false), r("2", true)],
    ];
    for (name, order) in [("a", [0, 1, 2]), ("b", [2, 1, 0])] {
        for (seed, &i) in order.iter().enumerate() {
            write_jsonl(
                &tmp.path().join(name).join(format!("output-rs{seed}.jsonl")),
                &rows[i],
            );
        }
    }
    let a = metrics(tmp.path(), "a");
    let b = metrics(tmp.path(), "b");
    assert_json_close(&a["a"], &b["b"], 1e-12, "a vs b");
    // P1: three-way tie 5✓/6✗/7✗ → 1/3; P2: 1✗ ×2 beats 2✓ → 0.
    close(
        &a["a"]["majority@3"]["symbolic_correct"],
        (1.0 / 3.0) / 2.0 * 100.0,
    );
}

/// On the 256×64 example the default mode agrees with the seed wherever the seed is unbiased:
/// pass@1[avg-of-64] = pass@1[64] (40.70%), pass@64 = any-correct (80.86%), and, the example having
/// no majority ties, majority@64 (53.12%). no_answer is real: 1,735 of 16,384 samples.
#[test]
fn graded_64_default_mode_cross_checks() {
    let shared = shared();
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&shared.join("bench/graded-64"), &tmp.path().join("g"));
    let m = metrics(tmp.path(), "g");
    let t = &m["comp-math-24-25-all"];
    close(&t["pass@1[avg-of-64]"]["symbolic_correct"], 40.6982421875);
    close(&t["pass@64"]["symbolic_correct"], 80.859375);
    close(&t["majority@64"]["symbolic_correct"], 53.125);
    close(
        &t["pass@1[avg-of-64]"]["no_answer"],
        1735.0 / 16384.0 * 100.0,
    );
    assert_eq!(
        m["_tally"]["status_counts"]["comp-math-24-25"],
        json!({"ok": 16384 - 1735, "no_answer": 1735})
    );
    let seeds = t["pass@1[avg-of-64]"]["symbolic_correct_ci95_across_seeds"]
        .as_array()
        .unwrap();
    assert!(seeds[0].as_f64().unwrap() < 40.70 && seeds[1].as_f64().unwrap() > 40.69);
    for sub in ["aime25", "aime24", "hmmt-24-25"] {
        assert!(m.get(format!("comp-math-24-25-{sub}")).is_some(), "{sub}");
    }
}

#[test]
fn formats_and_plots() {
    let shared = shared();
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&shared.join("bench/graded-64"), &tmp.path().join("g"));
    let csv =
        run(tally()
            .current_dir(tmp.path())
            .args(["summarize-results", "g", "--format", "csv"]));
    assert!(stdout(&csv).starts_with("table,mode,metric,value,ci95_low,ci95_high\n"));
    assert!(stdout(&csv).contains("comp-math-24-25-all,pass@64,symbolic_correct,80.859375,"));
    let md = run(tally().current_dir(tmp.path()).args([
        "summarize-results",
        "g",
        "--format",
        "markdown",
        "--compat",
        "nemo-skills",
    ]));
    assert!(
        stdout(&md).contains("| `pass@64` | 256 | 80.86% | 0.00% |"),
        "{}",
        stdout(&md)
    );

    let svg = tmp.path().join("p.svg");
    let out = run(tally()
        .current_dir(tmp.path())
        .args(["summarize-results", "g", "--plot"])
        .arg(&svg));
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(
        text.starts_with("<svg")
            && text.contains("comp-math-24-25-aime24")
            && text.contains("majority@k")
    );
    let png = tmp.path().join("p.png");
    let out = run(tally()
        .current_dir(tmp.path())
        .args([
            "summarize-results",
            "g",
            "--compat",
            "nemo-skills",
            "--plot",
        ])
        .arg(&png));
    assert!(out.status.success(), "{}", stderr(&out));
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
}

/// A failed judge call is a failed sample, not a "no": two problems × two seeds, by hand:
/// P1 = [judge Yes, judge call failed] → judge_correct over the one valid sample = 1;
/// P2 = [judge No, judge No] → 0. pass@1[avg-of-2] judge_correct = (1 + 0)/2.
#[test]
fn a_failed_judge_call_is_excluded_and_counted() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("judged");
    let rec = |j: Option<&str>, judge_status: &str| {
        json!({"predicted_answer": "1", "is_correct": false, "status": "ok", "judgement": j,
               "judge_status": judge_status})
    };
    write_jsonl(
        &dir.join("output-rs0.jsonl"),
        &[
            rec(Some("Judgement: Yes"), "ok"),
            rec(Some("Judgement: No"), "ok"),
        ],
    );
    write_jsonl(
        &dir.join("output-rs1.jsonl"),
        &[rec(None, "request_error"), rec(Some("Judgement: No"), "ok")],
    );
    let m = metrics(tmp.path(), "judged");
    close(&m["judged"]["pass@1[avg-of-2]"]["judge_correct"], 50.0);
    assert_eq!(
        m["_tally"]["status_counts"]["judged"],
        json!({"ok": 3, "request_error": 1})
    );
}

/// A sample the grader failed on (`grader_error`) is a failure: left out of every estimate,
/// counted under its status, and the seed-compatible summary still reads the file.
#[test]
fn grader_errors_are_failures_not_wrong_answers() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("toy");
    let ok = |a: &str, c: bool| json!({"predicted_answer": a, "is_correct": c, "status": "ok"});
    let broken = json!({"predicted_answer": null, "is_correct": false, "symbolic_correct": false,
                        "grade_status": "grader_error", "grader_error": "boom", "status": "grader_error"});
    let seeds = [[ok("1", true), ok("2", true)], [broken, ok("3", false)]];
    for (i, rows) in seeds.iter().enumerate() {
        write_jsonl(&dir.join(format!("output-rs{i}.jsonl")), rows);
    }
    let m = metrics(tmp.path(), "toy");
    // P1 = [✓, grader error] → 1 of 1; P2 = [✓, ✗] → 1 of 2.
    close(
        &m["toy"]["pass@1[avg-of-2]"]["symbolic_correct"],
        (1.0 + 0.5) / 2.0 * 100.0,
    );
    assert_eq!(
        m["_tally"]["status_counts"]["toy"],
        json!({"ok": 3, "grader_error": 1})
    );
    let out = run(tally()
        .current_dir(tmp.path())
        .args(["summarize-results", "toy"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("grader_error 1"), "{}", stdout(&out));
    // NeMo-Skills' summary has no statuses: it reads `is_correct` as the seed would.
    let out = run(tally().current_dir(tmp.path()).args([
        "summarize-results",
        "toy",
        "--compat",
        "nemo-skills",
    ]));
    assert!(out.status.success(), "{}", stderr(&out));
}
