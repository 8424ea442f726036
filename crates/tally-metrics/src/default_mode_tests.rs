//! Tally's own summary on hand-made files, every expectation derived by hand in the comments.

use crate::default_mode::{summarize_benchmark, DefaultBenchmark};
use crate::load::SampleFile;
use crate::results::MetricValue;
use crate::test_files::{close, failed, file, sample, seed_files, three_by_three};

fn summary(greedy: Option<&SampleFile>, seeds: &[SampleFile]) -> DefaultBenchmark {
    summarize_benchmark("b", greedy, seeds, None).unwrap()
}

fn value(s: &DefaultBenchmark, mode: &str, metric: &str) -> MetricValue {
    s.tables.tables["b"][mode][metric]
}

#[test]
fn sampled_modes_on_three_problems() {
    let dir = tempfile::tempdir().unwrap();
    let s = summary(None, &seed_files(&dir, &three_by_three()));
    let pct = |mode: &str, metric: &str| value(&s, mode, metric).as_f64();

    // pass@1[avg-of-3]: per-problem mean correctness (2/3, 1/3, 0), averaged: 1/3.
    // no_answer: per-problem share unanswered (0, 1/3, 1), averaged: 4/9.
    close(
        pct("pass@1[avg-of-3]", "symbolic_correct"),
        100.0 / 3.0,
        "avg",
    );
    close(
        pct("pass@1[avg-of-3]", "no_answer"),
        400.0 / 9.0,
        "avg no_answer",
    );

    // pass@k = 1 - C(n-c, k) / C(n, k) per problem (n = 3; c = 2, 1, 0):
    //   k=3: 1, 1, 0 → 2/3;  k=2: 1, 1 - C(2,2)/C(3,2) = 2/3, 0 → 5/9;  k=1: 2/3, 1/3, 0 → 1/3.
    close(pct("pass@3", "symbolic_correct"), 200.0 / 3.0, "pass@3");
    close(pct("pass@2", "symbolic_correct"), 500.0 / 9.0, "pass@2");
    close(pct("pass@1", "symbolic_correct"), 100.0 / 3.0, "pass@1");
    // no_answer at k = P(none of k drawn samples answered), answered = 3, 2, 0:
    //   k=3: 0, 0, 1 → 1/3;  k=2: 0, 0, 1 → 1/3;  k=1: 0, 1/3, 1 → 4/9.
    close(pct("pass@3", "no_answer"), 100.0 / 3.0, "pass@3 no_answer");
    close(pct("pass@2", "no_answer"), 100.0 / 3.0, "pass@2 no_answer");
    close(pct("pass@1", "no_answer"), 400.0 / 9.0, "pass@1 no_answer");

    // majority@k over every k-subset, tied answers sharing the credit:
    //   P1 (A✓ B✗ A✓): k=3 A wins → 1; k=2 {AB}=½ {AA}=1 {BA}=½ → 2/3; k=1 → 2/3.
    //   P2 (5✗ 7✓ –):  k=3 5/7 tie → ½; k=2 {57}=½ {5–}=0 {7–}=1 → ½; k=1 0, 1, 0 → 1/3.
    //   P3 (– – –):    0 for every k.
    //   majority@3 = (1 + ½ + 0)/3 = ½;  @2 = (2/3 + ½)/3 = 7/18;  @1 = (2/3 + 1/3)/3 = 1/3.
    close(pct("majority@3", "symbolic_correct"), 50.0, "majority@3");
    close(
        pct("majority@2", "symbolic_correct"),
        700.0 / 18.0,
        "majority@2",
    );
    close(
        pct("majority@1", "symbolic_correct"),
        100.0 / 3.0,
        "majority@1",
    );
    // A vote without any answer is a no_answer vote: only P3 at k=3 and 2; at k=1 P2's third
    // sample too → (0 + 1/3 + 1)/3 = 4/9.
    close(
        pct("majority@3", "no_answer"),
        100.0 / 3.0,
        "majority@3 no_answer",
    );
    close(
        pct("majority@2", "no_answer"),
        100.0 / 3.0,
        "majority@2 no_answer",
    );
    close(
        pct("majority@1", "no_answer"),
        400.0 / 9.0,
        "majority@1 no_answer",
    );

    // Printed rows: the k = N ones, in this order.
    let modes: Vec<&str> = s.tables.tables["b"].keys().map(String::as_str).collect();
    assert_eq!(
        &modes[..3],
        ["pass@1[avg-of-3]", "majority@3", "pass@3"],
        "{modes:?}"
    );
    assert_eq!(s.tables.rows_to_print["b"], 3);
    assert_eq!(s.status_counts["ok"], 9);
}

#[test]
fn majority_ties_split_the_credit_whatever_the_file_order() {
    // `7` (correct) and `5` (wrong) once each: ½ either way round (the seed gives 1 or 0).
    for order in [[true, false], [false, true]] {
        let dir = tempfile::tempdir().unwrap();
        let seeds: Vec<_> = order
            .iter()
            .map(|&c| sample(Some(if c { "7" } else { "5" }), c))
            .collect();
        let s = summary(None, &seed_files(&dir, &[seeds]));
        close(
            value(&s, "majority@2", "symbolic_correct").as_f64(),
            50.0,
            &format!("{order:?}"),
        );
    }
}

#[test]
fn greedy_counts_no_answer() {
    // P1 `2` correct, P2 no answer, P3 `3` wrong: 1/3 correct, 1/3 without an answer.
    let dir = tempfile::tempdir().unwrap();
    let greedy = file(
        &dir,
        "output.jsonl",
        &[
            sample(Some("2"), true),
            sample(None, false),
            sample(Some("3"), false),
        ],
    );
    let s = summary(Some(&greedy), &[]);
    close(
        value(&s, "greedy", "symbolic_correct").as_f64(),
        100.0 / 3.0,
        "correct",
    );
    close(
        value(&s, "greedy", "no_answer").as_f64(),
        100.0 / 3.0,
        "no_answer",
    );
    assert_eq!(value(&s, "greedy", "num_entries"), MetricValue::Int(3));
}

#[test]
fn failed_samples_are_left_out_not_wrong() {
    // P1: correct, failed → estimated from its one valid sample: 1.
    // P2: wrong, wrong → 0.  pass@1[avg-of-2] = (1 + 0)/2 = ½ (counting the failure as wrong
    // would give ¼); pass@2 = (1 + 0)/2 = ½.
    let dir = tempfile::tempdir().unwrap();
    let files = seed_files(
        &dir,
        &[
            vec![sample(Some("1"), true), failed()],
            vec![sample(Some("2"), false), sample(Some("2"), false)],
        ],
    );
    let s = summary(None, &files);
    close(
        value(&s, "pass@1[avg-of-2]", "symbolic_correct").as_f64(),
        50.0,
        "avg",
    );
    close(
        value(&s, "pass@2", "symbolic_correct").as_f64(),
        50.0,
        "pass@2",
    );
    let d = &s.details["b"];
    assert_eq!(d.problems_with_failed_samples, 1);
    assert_eq!(d.excluded["request_error"], 1);
    assert_eq!(s.status_counts["request_error"], 1);
}

#[test]
fn all_failed_is_no_data_and_all_wrong_is_zero() {
    let dir = tempfile::tempdir().unwrap();
    let s = summary(None, &seed_files(&dir, &[vec![failed(), failed()]]));
    for mode in ["pass@1[avg-of-2]", "majority@2", "pass@2", "pass@1"] {
        assert_eq!(
            value(&s, mode, "symbolic_correct"),
            MetricValue::NoData,
            "{mode}"
        );
        assert_eq!(value(&s, mode, "no_answer"), MetricValue::NoData, "{mode}");
    }
    assert_eq!(s.details["b"].num_excluded(), 2);

    let dir = tempfile::tempdir().unwrap();
    let wrong = || sample(Some("9"), false);
    let s = summary(None, &seed_files(&dir, &[vec![wrong(), wrong()]]));
    for mode in ["pass@1[avg-of-2]", "majority@2", "pass@2", "pass@1"] {
        close(value(&s, mode, "symbolic_correct").as_f64(), 0.0, mode);
        close(value(&s, mode, "no_answer").as_f64(), 0.0, mode);
    }
}
