//! `--compat nemo-skills`: the seed's numbers and tables byte for byte.

use serde_json::{json, Value};

use crate::common::*;

#[test]
fn graded_64_matches_nemo_skills_byte_for_byte() {
    let shared = shared();
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(
        &shared.join("bench/graded-64"),
        &tmp.path().join("graded-64"),
    );
    let out = run(tally().current_dir(tmp.path()).args([
        "summarize-results",
        "graded-64",
        "--compat",
        "nemo-skills",
    ]));
    assert!(out.status.success(), "{}", stderr(&out));
    let want = std::fs::read_to_string(shared.join("bench/graded-64.expected.txt")).unwrap();
    assert_eq!(stdout(&out), want);

    let got: Value = serde_json::from_slice(
        &std::fs::read(tmp.path().join("graded-64/eval-results/metrics.json")).unwrap(),
    )
    .unwrap();
    let want: Value = serde_json::from_slice(
        &std::fs::read(shared.join("bench/graded-64.expected-metrics.json")).unwrap(),
    )
    .unwrap();
    assert_json_close(&got, &want, 1e-9, "metrics.json");
}

#[test]
fn underscore_command_and_flags_are_accepted() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("b");
    write_jsonl(
        &dir.join("output-rs0.jsonl"),
        &[json!({"predicted_answer": "1", "is_correct": true})],
    );
    write_jsonl(
        &dir.join("output-rs1.jsonl"),
        &[json!({"predicted_answer": "2", "is_correct": false})],
    );
    for args in [
        vec![
            "summarize_results",
            "b",
            "--compat",
            "nemo-skills",
            "--max_samples",
            "-1",
            "--metric_type",
            "math",
        ],
        vec![
            "summarize-results",
            "b",
            "--compat",
            "nemo-skills",
            "--max-samples",
            "1",
            "--metric-type",
            "math",
        ],
    ] {
        let out = run(tally().current_dir(tmp.path()).args(&args));
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        assert!(stdout(&out).contains("pass@2"), "{}", stdout(&out));
    }
}

/// Two problems × three seeds, worked out by hand from spec §6.2:
/// P1 = [5 ✓, 6 ✗, 5 ✓]; P2 = [none, 7 ✗, 8 ✓].
/// k=3: majority P1 (5,✓)×2 → 1, P2 tie (7,✗) vs (8,✓) → first → 0 ⇒ 50%;
///      pass 1, 1 ⇒ 100%; pass@1[3] = (2/3 + 1/3)/2 ⇒ 50%.
/// k=2: majority P1 tie → (5,✓) → 1, P2 only 7 → 0 ⇒ 50%; pass 1, 0 ⇒ 50%; pass@1[2] (1/2+0)/2 ⇒ 25%.
/// k=1: P1 1,1,1; P2 has no answer in its first sample: zeros and early return ⇒ 50% each.
#[test]
fn hand_derived_three_seed_table_and_all_k_metrics() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run/eval-results/toy");
    let seeds = [
        [
            json!({"predicted_answer": "5", "is_correct": true}),
            json!({"predicted_answer": null, "is_correct": false}),
        ],
        [
            json!({"predicted_answer": "6", "is_correct": false}),
            json!({"predicted_answer": "7", "is_correct": false}),
        ],
        [
            json!({"predicted_answer": "5", "is_correct": true}),
            json!({"predicted_answer": "8", "is_correct": true}),
        ],
    ];
    for (i, rows) in seeds.iter().enumerate() {
        write_jsonl(&dir.join(format!("output-rs{i}.jsonl")), rows);
    }
    let out = run(tally().current_dir(tmp.path()).args([
        "summarize-results",
        "run",
        "--compat",
        "nemo-skills",
    ]));
    assert!(out.status.success(), "{}", stderr(&out));
    let want = "\
--------------------------- toy ----------------------------
evaluation_mode | num_entries | symbolic_correct | no_answer
majority@3      | 2           | 50.00%           | 0.00%    
pass@3          | 2           | 100.00%          | 0.00%    
pass@1[3]       | 2           | 50.00%           | 0.00%    


Metrics are saved to run/eval-results/metrics.json
";
    assert_eq!(stdout(&out), want);
    let got: Value = serde_json::from_slice(
        &std::fs::read(tmp.path().join("run/eval-results/metrics.json")).unwrap(),
    )
    .unwrap();
    let m = |v: f64| json!({"num_entries": 2, "symbolic_correct": v, "no_answer": 0.0});
    let want = json!({"toy": {
        "majority@3": m(50.0), "pass@3": m(100.0), "pass@1[3]": m(50.0),
        "majority@2": m(50.0), "pass@2": m(50.0), "pass@1[2]": m(25.0),
        "majority@1": m(50.0), "pass@1": m(50.0), "pass@1[1]": m(50.0),
    }});
    assert_json_close(&got, &want, 1e-12, "toy");
}

/// The first problem has no answer in any sample: the seed's early return inserts pass@2 before
/// majority@2 (T17). P1 = [none, none], P2 = [3 ✓, 4 ✗].
#[test]
fn first_problem_without_answers_reorders_rows() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("noans");
    write_jsonl(
        &dir.join("output-rs0.jsonl"),
        &[
            json!({"predicted_answer": null, "is_correct": false}),
            json!({"predicted_answer": "3", "is_correct": true}),
        ],
    );
    write_jsonl(
        &dir.join("output-rs1.jsonl"),
        &[
            json!({"predicted_answer": null, "is_correct": false}),
            json!({"predicted_answer": "4", "is_correct": false}),
        ],
    );
    let out = run(tally().current_dir(tmp.path()).args([
        "summarize-results",
        "noans",
        "--compat",
        "nemo-skills",
    ]));
    assert!(out.status.success(), "{}", stderr(&out));
    let want = "\
-------------------------- noans ---------------------------
evaluation_mode | num_entries | symbolic_correct | no_answer
pass@2          | 2           | 50.00%           | 0.00%    
majority@2      | 2           | 50.00%           | 0.00%    
pass@1[2]       | 2           | 25.00%           | 0.00%    


Metrics are saved to noans/metrics.json
";
    assert_eq!(stdout(&out), want);
    let got: Value =
        serde_json::from_slice(&std::fs::read(dir.join("metrics.json")).unwrap()).unwrap();
    let modes: Vec<&String> = got["noans"].as_object().unwrap().keys().collect();
    assert_eq!(
        modes,
        [
            "pass@2",
            "majority@2",
            "pass@1[2]",
            "majority@1",
            "pass@1",
            "pass@1[1]"
        ]
    );
}

/// The title is Python's `' judged '.center(105, '-')` (49 dashes left, 48 right).
/// Symbolic and judge verdicts together (T2): P1 = [1 ✓ judge No, 2 ✗ judge Yes],
/// P2 = [9 ✗ judge Yes, 9 ✗ judge Yes].
/// majority@2: sympy P1 tie → (1,✓) → 1, P2 0 ⇒ 50%; judge P1 tie → (1,No) → 0, P2 1 ⇒ 50%;
///   both int(s and j): P1 s=1 → j=0, P2 s=0 → 0 ⇒ 0%; any: P1 1, P2 j=1 ⇒ 100%.
/// pass@2: sympy 1,0 ⇒ 50%; judge 1,1 ⇒ 100%; both 1,0 ⇒ 50%; any ⇒ 100%.
/// pass@1[2]: sympy .5,0 ⇒ 25%; judge .5,1 ⇒ 75%; both (.5 and .5)=.5, (0.0 and 1)=0 ⇒ 25%;
///   any (.5 or .5)=.5, (0.0 or 1.0)=1 ⇒ 75%. (Per-sample logic would give both = 0%.)
#[test]
fn judge_columns_follow_the_float_truthiness_quirk() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("judged");
    let r = |a: &str, c: bool, j: &str| json!({"predicted_answer": a, "is_correct": c, "judgement": format!("Reasoning: r.\nJudgement: {j}")});
    write_jsonl(
        &dir.join("output-rs0.jsonl"),
        &[r("1", true, "No"), r("9", false, "Yes")],
    );
    write_jsonl(
        &dir.join("output-rs1.jsonl"),
        &[r("2", false, "Yes"), r("9", false, "Yes")],
    );
    let out = run(tally().current_dir(tmp.path()).args([
        "summarize-results",
        "judged",
        "--compat",
        "nemo-skills",
    ]));
    assert!(out.status.success(), "{}", stderr(&out));
    let want = "\
------------------------------------------------- judged ------------------------------------------------
evaluation_mode | num_entries | symbolic_correct | judge_correct | both_correct | any_correct | no_answer
majority@2      | 2           | 50.00%           | 50.00%        | 0.00%        | 100.00%     | 0.00%    
pass@2          | 2           | 50.00%           | 100.00%       | 50.00%       | 100.00%     | 0.00%    
pass@1[2]       | 2           | 25.00%           | 75.00%        | 25.00%       | 75.00%      | 0.00%    


Metrics are saved to judged/metrics.json
";
    assert_eq!(stdout(&out), want);
}

/// Greedy + two seeds with subsets A and B. Problems: p0 (A), p1 (B), p2 (A).
/// greedy: p0 1 ✓, p1 none, p2 3 ✗ ⇒ all 33.33% correct, 33.33% no_answer; A 50%/0%; B 0%/100%.
/// seeds: rs0 = [1 ✓, 2 ✓, none], rs1 = [1 ✓, none, 4 ✗].
///   majority@2: p0 1, p1 1 (only 2), p2 0 (only 4) ⇒ all 66.67%, A 50%, B 100%.
///   pass@1[2]: p0 1, p1 .5, p2 0 ⇒ all 50%, A 50%, B 50%.
#[test]
fn greedy_row_comes_first_and_subsets_get_tables() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("res/eval-results/bench");
    let row = |s: &str, a: Option<&str>, c: bool| json!({"subset_for_metrics": s, "predicted_answer": a, "is_correct": c});
    write_jsonl(
        &dir.join("output.jsonl"),
        &[
            row("A", Some("1"), true),
            row("B", None, false),
            row("A", Some("3"), false),
        ],
    );
    write_jsonl(
        &dir.join("output-rs0.jsonl"),
        &[
            row("A", Some("1"), true),
            row("B", Some("2"), true),
            row("A", None, false),
        ],
    );
    write_jsonl(
        &dir.join("output-rs1.jsonl"),
        &[
            row("A", Some("1"), true),
            row("B", None, false),
            row("A", Some("4"), false),
        ],
    );
    let out = run(tally().current_dir(tmp.path()).args([
        "summarize-results",
        "res/",
        "--compat",
        "nemo-skills",
    ]));
    assert!(out.status.success(), "{}", stderr(&out));
    let want = "\
------------------------ bench-all -------------------------
evaluation_mode | num_entries | symbolic_correct | no_answer
greedy          | 3           | 33.33%           | 33.33%   
majority@2      | 3           | 66.67%           | 0.00%    
pass@2          | 3           | 66.67%           | 0.00%    
pass@1[2]       | 3           | 50.00%           | 0.00%    


------------------------- bench-A --------------------------
evaluation_mode | num_entries | symbolic_correct | no_answer
greedy          | 2           | 50.00%           | 0.00%    
majority@2      | 2           | 50.00%           | 0.00%    
pass@2          | 2           | 50.00%           | 0.00%    
pass@1[2]       | 2           | 50.00%           | 0.00%    


------------------------- bench-B --------------------------
evaluation_mode | num_entries | symbolic_correct | no_answer
greedy          | 1           | 0.00%            | 100.00%  
majority@2      | 1           | 100.00%          | 0.00%    
pass@2          | 1           | 100.00%          | 0.00%    
pass@1[2]       | 1           | 50.00%           | 0.00%    


Metrics are saved to res/eval-results/metrics.json
";
    assert_eq!(stdout(&out), want);
}

/// Majority over (answer, verdict) pairs: the same answer with different verdicts splits into two
/// buckets, and the first bucket seen wins a tie (T3). Seeds in numeric order (rs2 before rs10).
/// P1 = [5 ✓, 5 ✗, 6 ✗, 6 ✗] → (6,✗)×2 wins ⇒ 0. P2 = [5 ✓, 5 ✗, 6 ✗, 7 ✗] → all ties → (5,✓) ⇒ 1.
#[test]
fn majority_ties_and_split_buckets() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ties");
    let r = |a: &str, c: bool| json!({"predicted_answer": a, "is_correct": c});
    let files = [
        ("output-rs0.jsonl", [r("5", true), r("5", true)]),
        ("output-rs2.jsonl", [r("5", false), r("5", false)]),
        ("output-rs10.jsonl", [r("6", false), r("6", false)]),
        ("output-rs11.jsonl", [r("6", false), r("7", false)]),
    ];
    for (name, rows) in &files {
        write_jsonl(&dir.join(name), rows);
    }
    let out = run(tally().current_dir(tmp.path()).args([
        "summarize-results",
        "ties",
        "--compat",
        "nemo-skills",
    ]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("majority@4      | 2           | 50.00%"),
        "{}",
        stdout(&out)
    );
    let got: Value =
        serde_json::from_slice(&std::fs::read(dir.join("metrics.json")).unwrap()).unwrap();
    // k=2 reads rs0 and rs2 (numeric seed order): both problems (5,✓) vs (5,✗) tie → ✓ ⇒ 100%.
    assert_eq!(got["ties"]["majority@2"]["symbolic_correct"], json!(100.0));
    // k=3 adds rs10: P1 tie of three → (5,✓); P2 tie of three → (5,✓) ⇒ 100%.
    assert_eq!(got["ties"]["majority@3"]["symbolic_correct"], json!(100.0));
}
