//! A rate with no valid sample behind it is `n/a` in every format and `null` in metrics.json —
//! never 0.00%, never NaN — and every table says which samples it left out.

use std::path::Path;

use serde_json::{json, Value};
use tally_core::NoopReporter;
use tally_metrics::render::{metrics_json, render, Format};
use tally_metrics::{summarize, SummarizeOptions, SummaryMode};

/// A record as `tally generate` + `tally grade` leave a failed request.
fn failed() -> Value {
    json!({"generation": null, "error": "cannot reach http://127.0.0.1:9/v1/completions",
           "status": "request_error", "predicted_answer": null, "is_correct": false,
           "grade_status": "not_graded"})
}

fn answered(answer: &str, correct: bool) -> Value {
    json!({"generation": format!("\\boxed{{{answer}}}"), "status": "ok",
           "predicted_answer": answer, "is_correct": correct})
}

fn write(path: &Path, rows: &[Value]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let text: String = rows.iter().map(|r| format!("{r}\n")).collect();
    std::fs::write(path, text).unwrap();
}

/// The reported run: greedy + 2 seeds × 3 problems, every request failed (9 samples).
fn all_failed(dir: &Path) {
    for name in ["output.jsonl", "output-rs0.jsonl", "output-rs1.jsonl"] {
        write(
            &dir.join("gsm8k").join(name),
            &[failed(), failed(), failed()],
        );
    }
}

fn summary_of(dir: &Path, mode: SummaryMode) -> tally_metrics::Summary {
    let opts = SummarizeOptions {
        mode,
        ..Default::default()
    };
    summarize(dir, &opts, &NoopReporter).unwrap()
}

/// The table's lines (title to the last row), without the banner, which mentions "95%".
fn table_lines(text: &str) -> Vec<&str> {
    text.lines()
        .skip_while(|l| !l.starts_with('-'))
        .take_while(|l| !l.is_empty())
        .collect()
}

#[test]
fn every_rate_of_an_all_failed_benchmark_is_na_in_the_text_table() {
    let tmp = tempfile::tempdir().unwrap();
    all_failed(tmp.path());
    let s = summary_of(tmp.path(), SummaryMode::Tally);
    let text = render(&s, Format::Table);
    let lines = table_lines(&text);
    assert!(
        lines[0].contains(" gsm8k (excluded 9 of 9 samples: request_error 9) "),
        "{text}"
    );
    assert!(
        lines[0].starts_with("---") && lines[0].ends_with("---"),
        "{text}"
    );
    assert_eq!(
        lines[1],
        "evaluation_mode  | num_entries | symbolic_correct | no_answer"
    );
    // greedy, pass@1[avg-of-2], majority@2, pass@2: 3 problems, no number.
    let rows: Vec<Vec<&str>> = lines[2..]
        .iter()
        .filter(|l| l.contains(" | "))
        .map(|l| l.split('|').map(str::trim).collect())
        .collect();
    let modes: Vec<&str> = rows.iter().map(|r| r[0]).collect();
    assert_eq!(
        modes,
        ["greedy", "pass@1[avg-of-2]", "majority@2", "pass@2"]
    );
    for r in &rows {
        assert_eq!(&r[1..], ["3", "n/a", "n/a"], "{text}");
    }
    assert!(!lines.iter().any(|l| l.contains('%')), "{text}");
    assert!(
        text.contains("pass@1 across 2 seeds: n/a (no seed has a valid sample)"),
        "{text}"
    );
    assert!(!text.contains("NaN") && !text.contains("0.00"), "{text}");
    assert!(text.contains("gsm8k: 9 samples: request_error 9"), "{text}");
}

#[test]
fn markdown_and_csv_say_na_too() {
    let tmp = tempfile::tempdir().unwrap();
    all_failed(tmp.path());
    let s = summary_of(tmp.path(), SummaryMode::Tally);
    let md = render(&s, Format::Markdown);
    assert!(
        md.contains("### gsm8k (excluded 9 of 9 samples: request_error 9)"),
        "{md}"
    );
    assert!(md.contains("| `greedy` | 3 | n/a | n/a |"), "{md}");
    assert!(md.contains("| `pass@2` | 3 | n/a | n/a |"), "{md}");
    assert!(!md.contains("NaN") && !md.contains("0.00"), "{md}");

    let csv = render(&s, Format::Csv);
    assert!(csv.contains("\ngsm8k,greedy,num_entries,3,,\n"), "{csv}");
    assert!(
        csv.contains("\ngsm8k,greedy,symbolic_correct,n/a,,\n"),
        "{csv}"
    );
    assert!(csv.contains("\ngsm8k,pass@1,no_answer,n/a,,\n"), "{csv}");
    // Every rate row of every mode (smaller k included): n/a and no interval.
    for line in csv.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        if f[2] != "num_entries" {
            assert_eq!(&f[3..], ["n/a", "", ""], "{line}");
        }
    }
}

#[test]
fn metrics_json_has_null_rates_and_intervals_and_the_exclusions() {
    let tmp = tempfile::tempdir().unwrap();
    all_failed(tmp.path());
    let s = summary_of(tmp.path(), SummaryMode::Tally);
    let m = metrics_json(&s);
    let t = &m["gsm8k"];
    for mode in [
        "greedy",
        "pass@1[avg-of-2]",
        "majority@2",
        "pass@2",
        "pass@1",
    ] {
        assert_eq!(t[mode]["num_entries"], 3, "{mode}");
        for metric in ["symbolic_correct", "no_answer"] {
            assert_eq!(t[mode][metric], Value::Null, "{mode} {metric}");
            assert_eq!(t[mode][format!("{metric}_ci95")], Value::Null, "{mode}");
        }
    }
    assert_eq!(
        t["pass@1[avg-of-2]"]["symbolic_correct_ci95_across_seeds"],
        Value::Null
    );
    assert_eq!(
        m["_tally"]["excluded"]["gsm8k"],
        json!({"request_error": 9})
    );
    // The JSON the binary prints and writes parses back (no NaN token).
    let text = render(&s, Format::Json);
    let back: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(back["gsm8k"]["greedy"]["symbolic_correct"], Value::Null);
}

#[test]
fn compat_mode_prints_na_where_every_sample_failed() {
    let tmp = tempfile::tempdir().unwrap();
    all_failed(tmp.path());
    let s = summary_of(tmp.path(), SummaryMode::NemoSkills);
    let text = render(&s, Format::Table);
    // The seed's layout: each column as wide as its header or widest value ("n/a": 3).
    let row = |mode: &str| format!("{mode:<15} | {:<11} | {:<16} | {:<9}\n", "3", "n/a", "n/a");
    for mode in ["greedy", "pass@2", "majority@2", "pass@1[2]"] {
        assert!(text.contains(&row(mode)), "{mode}: {text}");
    }
    assert!(!text.contains('%') && !text.contains("NaN"), "{text}");
    let m = metrics_json(&s);
    assert_eq!(m["gsm8k"]["greedy"]["symbolic_correct"], Value::Null);
    assert_eq!(m["gsm8k"]["pass@2"]["no_answer"], Value::Null);
    assert_eq!(m["gsm8k"]["pass@2"]["num_entries"], 3);
}

/// One seed answered, the other's requests all failed. By hand: seed 0 = [✓, ✗, ✓] → 2/3;
/// seed 1 has no valid sample, so pass@1 across seeds stands on seed 0 alone (no interval), and
/// pass@1[avg-of-2] = mean over problems of each problem's valid samples = (1 + 0 + 1)/3.
#[test]
fn a_seed_without_valid_samples_is_left_out_of_the_across_seeds_line() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("toy");
    write(
        &dir.join("output-rs0.jsonl"),
        &[
            answered("1", true),
            answered("5", false),
            answered("3", true),
        ],
    );
    write(
        &dir.join("output-rs1.jsonl"),
        &[failed(), failed(), failed()],
    );
    let s = summary_of(tmp.path(), SummaryMode::Tally);
    let text = render(&s, Format::Table);
    assert!(
        text.contains(" toy (excluded 3 of 6 samples: request_error 3) "),
        "{text}"
    );
    assert!(
        text.contains("pass@1 across 1 of 2 seeds (1 without a valid sample): 66.67%\n"),
        "{text}"
    );
    let m = metrics_json(&s);
    let avg = &m["toy"]["pass@1[avg-of-2]"];
    let v = avg["symbolic_correct"].as_f64().unwrap();
    assert!((v - 200.0 / 3.0).abs() < 1e-9, "{v}");
    // One seed: a mean, no interval.
    assert_eq!(avg["symbolic_correct_ci95_across_seeds"], Value::Null);
    // Three problems: an interval over problems exists.
    assert!(avg["symbolic_correct_ci95"].is_array());
}
