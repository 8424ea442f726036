//! Statistics across runs and token statistics against newer NeMo-Skills (0b012df8): its own
//! test cases for `_add_std_metrics` and its end-to-end `summarize_results` fixture, both kept as
//! data in `../shared/metric-cases` (SOURCES.md there says where they come from).

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use tally_core::NoopReporter;
use tally_metrics::render::{metrics_json, render_with, Format, Spread};
use tally_metrics::{summarize, SummarizeOptions};

fn metric_cases() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/metric-cases");
    assert!(
        p.is_dir(),
        "the shared data folder is missing at {}",
        p.display()
    );
    p
}

fn write(path: &Path, rows: &[Value]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let text: String = rows.iter().map(|r| format!("{r}\n")).collect();
    std::fs::write(path, text).unwrap();
}

fn default_json(dir: &Path) -> Value {
    let s = summarize(dir, &SummarizeOptions::default(), &NoopReporter).unwrap();
    assert!(s.skipped.is_empty(), "{:?}", s.skipped);
    metrics_json(&s)
}

fn close(got: &Value, want: &Value, what: &str) {
    let (g, w) = (got.as_f64(), want.as_f64());
    match (g, w) {
        (Some(g), Some(w)) => assert!((g - w).abs() < 1e-6, "{what}: {g} vs {w}"),
        _ => panic!("{what}: {got} vs {want}"),
    }
}

fn statistics_close(got: &Value, want: &Value, what: &str) {
    for key in [
        "avg",
        "std_dev_across_runs",
        "avg_sample_std_dev",
        "std_err_across_runs",
    ] {
        close(&got[key], &want[key], &format!("{what}.{key}"));
    }
}

/// NeMo-Skills' parametrized cases: per problem, one 0/1 score per run, and the expected
/// `pass@1[avg-of-k]` statistics for every k. Tally reads k seed files written from the first k
/// runs and must report the same numbers under `symbolic_correct_statistics`.
#[test]
fn nemo_skills_std_metrics_cases() {
    let text =
        std::fs::read_to_string(metric_cases().join("nemo-skills-base-metrics.jsonl")).unwrap();
    let mut checked = 0;
    for line in text.lines() {
        let case: Value = serde_json::from_str(line).unwrap();
        if case["test"] != "test_base_metrics_add_std_metrics" {
            continue;
        }
        let scores = case["params"]["scores_list"].as_array().unwrap();
        let max_k = case["params"]["max_k"].as_u64().unwrap() as usize;
        let expected = &case["params"]["expected_result"];
        for k in 1..=max_k {
            let tmp = tempfile::tempdir().unwrap();
            for run in 0..k {
                let rows: Vec<Value> = scores
                    .iter()
                    .enumerate()
                    .map(|(i, s)| {
                        let correct = s[run].as_f64().unwrap() > 0.5;
                        json!({"problem": format!("p{i}"), "predicted_answer": format!("{run}"),
                               "symbolic_correct": correct})
                    })
                    .collect();
                write(&tmp.path().join(format!("b/output-rs{run}.jsonl")), &rows);
            }
            let m = default_json(tmp.path());
            let mode = format!("pass@1[avg-of-{k}]");
            let got = &m["b"][&mode]["symbolic_correct_statistics"];
            match expected.get(&mode) {
                Some(want) => {
                    statistics_close(
                        got,
                        &want["correct_statistics"],
                        &format!("line {} k={k}", case["line"]),
                    );
                    checked += 1;
                }
                // k = 1: NeMo-Skills reports none, and neither does Tally.
                None => assert!(got.is_null(), "k={k}: {got}"),
            }
        }
    }
    assert!(checked >= 10, "only {checked} cases checked");
}

/// NeMo-Skills' end-to-end fixture: `hendrycks_math`, 3 seeds × 7 problems with
/// `symbolic_correct`, `num_generated_tokens`, generation times and two subsets. Tally's
/// `pass@1[avg-of-3]` statistics, `avg_tokens` and `gen_seconds` equal its `metrics.json`.
#[test]
fn nemo_skills_fixture_statistics_and_tokens() {
    let src = metric_cases().join("nemo-skills-eval-outputs/eval-results");
    let tmp = tempfile::tempdir().unwrap();
    let dst = tmp.path().join("eval-results/hendrycks_math");
    std::fs::create_dir_all(&dst).unwrap();
    for seed in 0..3 {
        std::fs::copy(
            src.join(format!("hendrycks_math/output-rs{seed}.jsonl-test")),
            dst.join(format!("output-rs{seed}.jsonl")),
        )
        .unwrap();
    }
    let want: Value =
        serde_json::from_str(&std::fs::read_to_string(src.join("metrics.json-test")).unwrap())
            .unwrap();
    let got = default_json(tmp.path());
    // NeMo-Skills names the whole benchmark `hendrycks_math`; Tally's default mode `-all`.
    for (ours, theirs) in [
        ("hendrycks_math-all", "hendrycks_math"),
        ("hendrycks_math-aime24", "hendrycks_math-aime24"),
        ("hendrycks_math-aime25", "hendrycks_math-aime25"),
    ] {
        let (g, w) = (
            &got[ours]["pass@1[avg-of-3]"],
            &want[theirs]["pass@1[avg-of-3]"],
        );
        for stat in [
            "symbolic_correct_statistics",
            "answer_tokens_statistics",
            "reasoning_tokens_statistics",
        ] {
            statistics_close(&g[stat], &w[stat], &format!("{ours} {stat}"));
        }
        close(&g["symbolic_correct"], &w["symbolic_correct"], ours);
        assert_eq!(g["avg_tokens"], w["avg_tokens"], "{ours}");
        assert_eq!(g["gen_seconds"], w["gen_seconds"], "{ours}");
    }
}

/// Judge, both and any columns get the same statistics and an interval across seeds.
/// Two problems × two seeds, symbolic [[1,1],[0,1]], judge [[1,0],[1,1]]:
/// judge runs average 1 and 1/2 → std-dev √((1/4)²·2) = √(1/8), std-err √(1/8)/√2 = 1/4;
/// both = [[1,0],[0,1]] → runs 1/2, 1/2 → std-dev 0; any = [[1,1],[1,1]] → all 0.
#[test]
fn judge_both_and_any_columns_have_statistics_and_intervals() {
    let tmp = tempfile::tempdir().unwrap();
    let row = |p: &str, s: bool, j: bool| {
        json!({"problem": p, "predicted_answer": "1", "is_correct": s,
               "judgement": if j { "Judgement: Yes" } else { "Judgement: No" }})
    };
    write(
        &tmp.path().join("b/output-rs0.jsonl"),
        &[row("p0", true, true), row("p1", false, true)],
    );
    write(
        &tmp.path().join("b/output-rs1.jsonl"),
        &[row("p0", true, false), row("p1", true, true)],
    );
    let m = default_json(tmp.path());
    let avg = &m["b"]["pass@1[avg-of-2]"];
    let judge = &avg["judge_correct_statistics"];
    close(
        &judge["std_dev_across_runs"],
        &json!(0.125f64.sqrt()),
        "judge sd",
    );
    close(&judge["std_err_across_runs"], &json!(0.25), "judge se");
    close(&judge["avg"], &json!(0.75), "judge avg");
    // sd([1,0]) = √½ for p0, sd([1,1]) = 0 for p1.
    close(
        &judge["avg_sample_std_dev"],
        &json!(0.5f64.sqrt() / 2.0),
        "judge avg sd",
    );
    close(
        &avg["both_correct_statistics"]["std_dev_across_runs"],
        &json!(0.0),
        "both",
    );
    close(&avg["any_correct_statistics"]["avg"], &json!(1.0), "any");
    for col in [
        "judge_correct",
        "both_correct",
        "any_correct",
        "symbolic_correct",
    ] {
        assert!(
            avg[format!("{col}_ci95_across_seeds")].is_array(),
            "{col}: {avg}"
        );
    }
    // no_answer is not a score column: no statistics (as NeMo-Skills).
    assert!(avg.get("no_answer_statistics").is_none());
}

/// The printed `±` says what it is and shows the chosen spread: symbolic runs average 1/2 and 1
/// → std-dev √(1/8) = 35.36 points, std-err 25.00; the 95% interval is the default.
#[test]
fn the_flag_chooses_what_plus_minus_shows() {
    let tmp = tempfile::tempdir().unwrap();
    let row = |p: &str, s: bool| json!({"problem": p, "predicted_answer": "1", "is_correct": s});
    write(
        &tmp.path().join("b/output-rs0.jsonl"),
        &[row("p0", true), row("p1", false)],
    );
    write(
        &tmp.path().join("b/output-rs1.jsonl"),
        &[row("p0", true), row("p1", true)],
    );
    let s = summarize(tmp.path(), &SummarizeOptions::default(), &NoopReporter).unwrap();
    let line_of = |text: &str, mode: &str| -> String {
        text.lines()
            .find(|l| l.starts_with(mode))
            .unwrap_or_else(|| panic!("{mode} in {text}"))
            .to_string()
    };
    let sd = render_with(&s, Format::Table, Spread::StdDev);
    assert!(
        sd.lines()
            .next()
            .unwrap()
            .contains("± = std-dev across runs"),
        "{sd}"
    );
    assert!(
        line_of(&sd, "pass@1[avg-of-2]").contains("75.00% ± 35.36"),
        "{sd}"
    );
    assert!(!line_of(&sd, "pass@2 ").contains('±'), "{sd}");
    let se = render_with(&s, Format::Table, Spread::StdErr);
    assert!(
        se.lines()
            .next()
            .unwrap()
            .contains("± = std-err across runs"),
        "{se}"
    );
    assert!(
        line_of(&se, "pass@1[avg-of-2]").contains("75.00% ± 25.00"),
        "{se}"
    );
    let ci = render_with(&s, Format::Table, Spread::Ci95);
    assert!(
        ci.lines()
            .next()
            .unwrap()
            .contains("± = 95% CI over problems"),
        "{ci}"
    );
    // Over problems: per-problem means 1 and 1/2, sd √(1/8), t(1) = 12.706: the interval is
    // clamped to [0, 100], so the wider side, 75 points, is shown.
    assert!(
        line_of(&ci, "pass@1[avg-of-2]").contains("75.00% ± 75.00"),
        "{ci}"
    );
    assert!(
        ci.contains("pass@1 across 2 seeds: 75.00% (95% CI 0.00–100.00); across runs: std-dev 35.36, std-err 25.00, avg sample std-dev 35.36"),
        "{ci}"
    );
    let md = render_with(&s, Format::Markdown, Spread::StdDev);
    assert!(
        md.contains("± = std-dev across runs") && md.contains("75.00% ± 35.36"),
        "{md}"
    );
}
