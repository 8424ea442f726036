//! The hand-written dev sets of `fixtures/grader-dev/` (answers written differently and near
//! misses, one file per class; docs/grading.md "Answers written differently"). Prints a table
//! per class and asserts the floors. `TALLY_GRADE_SHOW=1` prints every miss.

use serde_json::Value;
use std::path::PathBuf;
use tally_grade::{Grader, Outcome};

fn dev_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/grader-dev")
}

#[derive(Default, Debug, Clone, Copy)]
struct Count {
    right: usize,
    wrong: usize,
    agree: usize,
    fp: usize,
    fneg: usize,
    undecided: usize,
}

fn grade_file(name: &str) -> Count {
    let text = std::fs::read_to_string(dev_dir().join(name)).unwrap();
    let g = Grader::default();
    let mut c = Count::default();
    for (k, line) in text.lines().enumerate() {
        let r: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{name}:{}: {e}", k + 1));
        let (gold, pred) = (r["gold"].as_str().unwrap(), r["pred"].as_str().unwrap());
        let label = r["equal"].as_bool().unwrap();
        let v = g.equal(pred, gold);
        let ours = v.is_equal();
        if label {
            c.right += 1;
        } else {
            c.wrong += 1;
        }
        if matches!(v.outcome, Outcome::Undecided(_)) {
            c.undecided += 1;
        }
        if ours == label {
            c.agree += 1;
        } else if ours {
            c.fp += 1;
        } else {
            c.fneg += 1;
        }
        let undecided = matches!(v.outcome, Outcome::Undecided(_));
        if (ours != label || undecided) && std::env::var_os("TALLY_GRADE_SHOW").is_some() {
            println!(
                "MISS {name}:{} label={label} {:?} gold={gold:?} pred={pred:?} ({})",
                k + 1,
                v.outcome,
                r["note"].as_str().unwrap_or("")
            );
        }
    }
    c
}

/// Every `*.jsonl` of the dev folder, one class each, in name order.
fn classes() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dev_dir())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".jsonl"))
        .collect();
    v.sort();
    v
}

#[test]
fn dev_sets_per_class() {
    let mut all = Count::default();
    println!(
        "\n{:<24} {:>5} {:>5} {:>8} {:>4} {:>4} {:>9}",
        "class", "right", "wrong", "agree%", "FP", "FN", "undecided"
    );
    let mut rows = Vec::new();
    for name in classes() {
        let c = grade_file(&name);
        println!(
            "{:<24} {:>5} {:>5} {:>8.2} {:>4} {:>4} {:>9}",
            name.trim_end_matches(".jsonl"),
            c.right,
            c.wrong,
            100.0 * c.agree as f64 / (c.right + c.wrong) as f64,
            c.fp,
            c.fneg,
            c.undecided
        );
        all.right += c.right;
        all.wrong += c.wrong;
        all.agree += c.agree;
        all.fp += c.fp;
        all.fneg += c.fneg;
        all.undecided += c.undecided;
        rows.push((name, c));
    }
    let n = all.right + all.wrong;
    println!(
        "{:<24} {:>5} {:>5} {:>8.2} {:>4} {:>4} {:>9}",
        "all",
        all.right,
        all.wrong,
        100.0 * all.agree as f64 / n as f64,
        all.fp,
        all.fneg,
        all.undecided
    );
    assert!(n >= 100, "dev sets shrank to {n} pairs");
    // A wrong answer graded right is worse than a right one graded wrong: none on the dev sets.
    assert_eq!(all.fp, 0, "false positives on the dev sets");
    assert!(
        all.agree as f64 >= 0.98 * n as f64,
        "agreement fell to {}/{n}",
        all.agree
    );
}
