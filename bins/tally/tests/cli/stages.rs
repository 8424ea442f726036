//! The per-stage binaries parse the same flags as the `tally` subcommands and print the same.

use std::process::Command;

use serde_json::json;

use crate::common::*;

fn stage(name: &str) -> Command {
    let exe = std::path::Path::new(env!("CARGO_BIN_EXE_tally")).with_file_name(name);
    Command::new(exe)
}

#[test]
fn tally_grade_pairs_prints_what_tally_grade_prints() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("pairs.jsonl");
    write_jsonl(
        &f,
        &[
            json!({"gold": "\\frac{1}{2}", "pred": "$0.5$"}),
            json!({"gold": "(1,2)", "pred": "[1,2]"}),
            json!({"gold": "3", "pred": "The answer is \\boxed{3}."}),
        ],
    );
    let umbrella = run(tally().args(["grade", "--pairs", "--extract"]).arg(&f));
    let small = run(stage("tally-grade").args(["--pairs", "--extract"]).arg(&f));
    assert!(small.status.success(), "{}", stderr(&small));
    assert_eq!(stdout(&small), stdout(&umbrella));
    assert_eq!(stdout(&small).lines().count(), 3);
    // The same flags are refused the same way.
    let bad = run(stage("tally-grade").args(["--extract"]).arg(&f));
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("--pairs"), "{}", stderr(&bad));
}

#[test]
fn tally_summarize_prints_what_summarize_results_prints() {
    let shared = shared();
    let tmp = tempfile::tempdir().unwrap();
    for d in ["a", "b"] {
        copy_dir(
            &shared.join("bench/graded-64"),
            &tmp.path().join(d).join("graded-64"),
        );
    }
    let umbrella = run(tally().current_dir(tmp.path().join("a")).args([
        "summarize-results",
        "graded-64",
        "--compat",
        "nemo-skills",
    ]));
    let small = run(stage("tally-summarize")
        .current_dir(tmp.path().join("b"))
        .args(["graded-64", "--compat", "nemo-skills"]));
    assert!(small.status.success(), "{}", stderr(&small));
    assert_eq!(stdout(&small), stdout(&umbrella));
    let want = std::fs::read_to_string(shared.join("bench/graded-64.expected.txt")).unwrap();
    assert_eq!(stdout(&small), want);
    let metrics = |d: &str| {
        std::fs::read(
            tmp.path()
                .join(d)
                .join("graded-64/eval-results/metrics.json"),
        )
        .unwrap()
    };
    assert_eq!(metrics("a"), metrics("b"));
}

#[test]
fn every_stage_binary_answers_help_with_its_commands_flags() {
    for (bin, flag) in [
        ("tally-prepare", "--data_dir"),
        ("tally-generate", "--server_type"),
        ("tally-grade", "--pairs"),
        ("tally-judge", "--judge-only-when"),
        ("tally-summarize", "--compat"),
        ("tally-sandbox", "--venv"),
    ] {
        let out = run(stage(bin).arg("--help"));
        assert!(out.status.success(), "{bin}: {}", stderr(&out));
        assert!(stdout(&out).contains(flag), "{bin} --help lacks {flag}");
    }
}
