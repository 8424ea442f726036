//! The seed's metrics on hand-made files, every expectation derived by hand in the comments.

use crate::compat::compute;
use crate::load::{Row, SampleFile};
use crate::results::MetricValue;
use crate::test_files::{close, failed, file, sample, seed_files, three_by_three};

fn rows(files: &[SampleFile]) -> Vec<&[Row]> {
    files.iter().map(|f| f.rows.as_slice()).collect()
}

/// `(mode, metric)` of the `all` calculator, as a percentage.
fn value(files: &[SampleFile], mode: &str, metric: &str) -> Option<f64> {
    let (calcs, _) = compute(&rows(files), None).unwrap();
    calcs["all"].metrics()[mode][metric].as_f64()
}

#[test]
fn sampled_modes_on_three_problems() {
    let dir = tempfile::tempdir().unwrap();
    let files = seed_files(&dir, &three_by_three());
    let (calcs, n) = compute(&rows(&files), None).unwrap();
    assert_eq!(n, 3);
    let m = calcs["all"].metrics();
    // Row order: per k from N down, majority@k, pass@k, pass@1[k].
    let modes: Vec<&str> = m.keys().map(String::as_str).collect();
    assert_eq!(
        modes,
        [
            "majority@3",
            "pass@3",
            "pass@1[3]",
            "majority@2",
            "pass@2",
            "pass@1[2]",
            "majority@1",
            "pass@1",
            "pass@1[1]"
        ]
    );
    let pct = |mode: &str| m[mode]["symbolic_correct"].as_f64();
    // pass@k = any correct among the first k files:
    //   k=3: P1 yes, P2 yes (7), P3 no → 2/3;  k=2: same → 2/3;  k=1: P1 only → 1/3.
    close(pct("pass@3"), 200.0 / 3.0, "pass@3");
    close(pct("pass@2"), 200.0 / 3.0, "pass@2");
    close(pct("pass@1"), 100.0 / 3.0, "pass@1");
    // pass@1[k] = mean correctness of the first k files, summed over problems / 3:
    //   k=3: (2/3 + 1/3 + 0) / 3 = 1/3;  k=2: (1/2 + 1/2 + 0) / 3 = 1/3;  k=1: (1+0+0)/3.
    close(pct("pass@1[3]"), 100.0 / 3.0, "pass@1[3]");
    close(pct("pass@1[2]"), 100.0 / 3.0, "pass@1[2]");
    close(pct("pass@1[1]"), 100.0 / 3.0, "pass@1[1]");
    // majority@k: the most frequent (answer, verdict) pair of the first k, ties to the first
    // seen (T3). P1: (A,1) wins at k=3 (2 votes) and at k=2 (tie A/B, A first) → 1.
    // P2: (5,0) and (7,1) tie, 5 is first → 0 for every k. P3: nothing → 0.
    close(pct("majority@3"), 100.0 / 3.0, "majority@3");
    close(pct("majority@2"), 100.0 / 3.0, "majority@2");
    close(pct("majority@1"), 100.0 / 3.0, "majority@1");
    // no_answer is 0 in every sampled mode (T1), though P3 never answered.
    for (mode, metrics) in &m {
        assert_eq!(metrics["no_answer"], MetricValue::Float(0.0), "{mode}");
        // P3 returns early at k=3, yet counts in every mode's entries.
        assert_eq!(metrics["num_entries"], MetricValue::Int(3), "{mode}");
    }
}

#[test]
fn majority_ties_follow_file_order() {
    // One problem, two files: `7` (correct) then `5` (wrong): the tie goes to `7` → 100%.
    // Swapped, the tie goes to `5` → 0%. (Tally's own mode splits it: 50% both ways.)
    let dir = tempfile::tempdir().unwrap();
    let right_first = seed_files(
        &dir,
        &[vec![sample(Some("7"), true), sample(Some("5"), false)]],
    );
    close(
        value(&right_first, "majority@2", "symbolic_correct"),
        100.0,
        "7 first",
    );
    let dir = tempfile::tempdir().unwrap();
    let wrong_first = seed_files(
        &dir,
        &[vec![sample(Some("5"), false), sample(Some("7"), true)]],
    );
    close(
        value(&wrong_first, "majority@2", "symbolic_correct"),
        0.0,
        "5 first",
    );
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
    let files = [greedy];
    close(
        value(&files, "greedy", "symbolic_correct"),
        100.0 / 3.0,
        "correct",
    );
    close(
        value(&files, "greedy", "no_answer"),
        100.0 / 3.0,
        "no_answer",
    );
}

#[test]
fn all_failed_is_no_data_not_zero() {
    // Every request failed: the seed would print 0%; Tally has no data to rate.
    let dir = tempfile::tempdir().unwrap();
    let files = seed_files(&dir, &[vec![failed(), failed()], vec![failed(), failed()]]);
    let (calcs, _) = compute(&rows(&files), None).unwrap();
    for (mode, m) in calcs["all"].metrics() {
        assert_eq!(m["symbolic_correct"], MetricValue::NoData, "{mode}");
        assert_eq!(m["no_answer"], MetricValue::NoData, "{mode}");
        assert_eq!(m["num_entries"], MetricValue::Int(2), "{mode}");
    }
}

#[test]
fn all_wrong_problems_score_zero_and_max_samples_cuts() {
    // Two problems, both answered wrong in both seeds: every rate is 0, not missing.
    // With max_samples=1 only the first problem counts.
    let dir = tempfile::tempdir().unwrap();
    let wrong = || sample(Some("9"), false);
    let files = seed_files(&dir, &[vec![wrong(), wrong()], vec![wrong(), wrong()]]);
    for mode in ["majority@2", "pass@2", "pass@1[2]", "pass@1"] {
        close(value(&files, mode, "symbolic_correct"), 0.0, mode);
    }
    let (calcs, n) = compute(&rows(&files), Some(1)).unwrap();
    assert_eq!(n, 1);
    assert_eq!(
        calcs["all"].metrics()["pass@2"]["num_entries"],
        MetricValue::Int(1)
    );
}

#[test]
fn an_ungraded_file_names_itself() {
    let dir = tempfile::tempdir().unwrap();
    let graded = file(&dir, "a.jsonl", &[sample(Some("1"), true)]);
    let ungraded = file(
        &dir,
        "b.jsonl",
        &[serde_json::json!({"generation": "1", "status": "ok"})],
    );
    let (problem, e) = compute(&rows(&[graded, ungraded]), None).unwrap_err();
    assert_eq!((problem, e.file), (0, 1));
    assert!(e.message.contains("predicted_answer"), "{}", e.message);
}
