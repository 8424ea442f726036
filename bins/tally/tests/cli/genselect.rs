//! `tally genselect` against the real llama-server (SmolLM2-135M: a weak selector, but a real
//! one), behind a proxy that counts the requests that reach it; then the `genselect@k` row of
//! `summarize-results`. Outputs go to `<bench>/genselect/`, where neither NeMo-Skills version
//! reads them as the benchmark's seeds.

use std::path::Path;

use serde_json::{json, Value};

use crate::common::{
    llama_url, read_records, run, stderr, stdout, tally, write_jsonl, CountingProxy,
};

/// Seed `s` of four problems: p0 has three complete candidates (one right), p1 has one complete
/// candidate (seeds 1 and 2 failed or never finished thinking), p2 none at all, p3 two that
/// both say 6 (right).
fn seed_file(s: u64) -> Vec<Value> {
    let p0 = json!({"id": "p0", "problem": "What is 2+3?", "expected_answer": "5",
                    "generation": format!("2+3 = {}. \\boxed{{{}}}", 4 + s, 4 + s),
                    "predicted_answer": format!("{}", 4 + s), "is_correct": s == 1,
                    "symbolic_correct": s == 1, "status": "ok", "num_generated_tokens": 9});
    let p1 = match s {
        0 => json!({"id": "p1", "problem": "What is 1+1?", "expected_answer": "2",
                    "generation": "<think>one and one</think>So \\boxed{2}.", "predicted_answer": "2",
                    "is_correct": true, "symbolic_correct": true, "status": "ok"}),
        1 => json!({"id": "p1", "problem": "What is 1+1?", "expected_answer": "2",
                    "generation": null, "status": "request_error", "error": "HTTP 500",
                    "predicted_answer": null, "is_correct": false, "symbolic_correct": false}),
        _ => json!({"id": "p1", "problem": "What is 1+1?", "expected_answer": "2",
                    "generation": "", "_generation_finished_thinking": false,
                    "status": "reasoning_unfinished", "predicted_answer": null,
                    "is_correct": false, "symbolic_correct": false}),
    };
    let p2 = json!({"id": "p2", "problem": "What is 0+0?", "expected_answer": "0",
                    "generation": null, "status": "timeout", "predicted_answer": null,
                    "is_correct": false, "symbolic_correct": false});
    let p3 = json!({"id": "p3", "problem": "What is 3+3?", "expected_answer": "6",
                    "generation": "3+3 = \\boxed{6}", "predicted_answer": "6",
                    "is_correct": true, "symbolic_correct": true, "status": "ok"});
    let p3 = if s == 2 {
        json!({"id": "p3", "problem": "What is 3+3?", "expected_answer": "6",
               "generation": "x".repeat(40), "predicted_answer": null,
               "is_correct": false, "symbolic_correct": false, "status": "no_answer"})
    } else {
        p3
    };
    vec![p0, p1, p2, p3]
}

fn genselect(dir: &Path, url: &str, extra: &[&str]) -> std::process::Output {
    let mut cmd = tally();
    cmd.current_dir(dir).args([
        "genselect",
        "--server_type=llamacpp",
        &format!("--server_address={url}"),
        "--input_dir=eval-results/toy",
        "--num_random_seeds=2",
        // p3's 40-character non-answer of seed 2 is over the cap and is not a candidate.
        "--solution_length_cap=30",
        "++prompt_template=qwen-instruct",
        "++inference.tokens_to_generate=48",
    ]);
    cmd.args(extra);
    run(&mut cmd)
}

#[test]
fn genselect_asks_only_where_there_is_a_choice_and_resumes_from_its_cache() {
    let Some(upstream) = llama_url() else { return };
    let proxy = CountingProxy::start(&upstream);
    let dir = tempfile::tempdir().unwrap();
    let bench = dir.path().join("eval-results/toy");
    for s in 0..3 {
        write_jsonl(&bench.join(format!("output-rs{s}.jsonl")), &seed_file(s));
    }
    let out = genselect(dir.path(), &proxy.url, &[]);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    // Per GenSelect seed (each its own sampling seed), p0 (3 candidates) and p3 (2) need the
    // model; p1 (1) and p2 (0) do not.
    let asked = 4;
    assert_eq!(proxy.requests(), asked, "{}", stderr(&out));
    for s in 0..2u64 {
        let recs = read_records(&bench.join(format!("genselect/output-rs{s}.jsonl")));
        assert_eq!(recs.len(), 4);
        // p0: the model's text is kept and a choice among the window is recorded.
        assert!(recs[0]["genselect_generation"].is_string());
        assert_eq!(recs[0]["num_solutions"], json!(3));
        let chosen = recs[0]["genselect_choice"].as_u64().unwrap() as usize;
        let cand = &recs[0]["genselect_candidates"][chosen];
        assert_eq!(recs[0]["predicted_answer"], cand["predicted_answer"]);
        assert_eq!(recs[0]["is_correct"], cand["is_correct"]);
        assert!(recs[0]["solutions"]
            .as_str()
            .unwrap()
            .contains("Solution 2:"));
        // p1: the only complete candidate, seed 0's, with its answer after </think>.
        assert_eq!(recs[1]["genselect_selected_seed"], json!(0));
        assert!(recs[1]["solutions"]
            .as_str()
            .unwrap()
            .contains("Solution 0:\nSo \\boxed{2}."));
        assert_eq!(recs[1]["is_correct"], json!(true));
        // p2: no candidate, no answer.
        assert_eq!(recs[2]["predicted_answer"], Value::Null);
        assert_eq!(recs[2]["status"], json!("no_answer"));
        // p3: both candidates say 6, whichever is chosen is right.
        assert_eq!(recs[3]["num_solutions"], json!(2));
        assert_eq!(recs[3]["is_correct"], json!(true));
    }
    // The benchmark folder holds only its seed files: newer NeMo-Skills reads every
    // `<bench>/*.jsonl` as one, May's every `output-rs*.jsonl`.
    let mut top: Vec<String> = std::fs::read_dir(&bench)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".jsonl") && !n.starts_with('.'))
        .collect();
    top.sort();
    assert_eq!(
        top,
        ["output-rs0.jsonl", "output-rs1.jsonl", "output-rs2.jsonl"]
    );
    // A rerun sends nothing: the outputs are complete.
    let again = genselect(dir.path(), &proxy.url, &[]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(proxy.requests(), asked);
    // With the outputs gone, the cache answers every request.
    for s in 0..2 {
        for name in [
            format!("output-rs{s}.jsonl"),
            format!("output-rs{s}.jsonl.tally-run.json"),
        ] {
            let _ = std::fs::remove_file(bench.join("genselect").join(name));
        }
    }
    let cached = genselect(dir.path(), &proxy.url, &[]);
    assert!(cached.status.success(), "{}", stderr(&cached));
    assert_eq!(proxy.requests(), 4, "{}", stdout(&cached));
    assert!(
        stdout(&cached).contains("4 selections answered from the cache"),
        "{}",
        stdout(&cached)
    );

    // The summary gets a genselect@3 row (at most 3 candidates per choice): its symbolic
    // accuracy is the mean over problems of the chosen solutions' verdicts; p1 and p3 are right
    // on both GenSelect seeds, p2 wrong, p0 depends on the model.
    let sum =
        run(tally()
            .current_dir(dir.path())
            .args(["summarize-results", ".", "--format", "json"]));
    assert!(sum.status.success(), "{}", stderr(&sum));
    let m: Value = serde_json::from_str(&stdout(&sum)).unwrap();
    let row = &m["toy"]["genselect@3"];
    let p0: f64 = (0..2)
        .map(|s| {
            let recs = read_records(&bench.join(format!("genselect/output-rs{s}.jsonl")));
            recs[0]["is_correct"].as_bool().unwrap() as u8 as f64
        })
        .sum::<f64>()
        / 2.0;
    let want = (p0 + 1.0 + 0.0 + 1.0) / 4.0 * 100.0;
    let got = row["symbolic_correct"]
        .as_f64()
        .unwrap_or_else(|| panic!("{m}"));
    assert!((got - want).abs() < 1e-9, "{got} vs {want}");
    let text = stdout(&run(tally()
        .current_dir(dir.path())
        .args(["summarize-results", "."])));
    assert!(text.lines().any(|l| l.starts_with("genselect@3")), "{text}");
}

#[test]
fn genselect_dry_run_sends_nothing_and_writes_nothing() {
    let Some(upstream) = llama_url() else { return };
    let proxy = CountingProxy::start(&upstream);
    let dir = tempfile::tempdir().unwrap();
    let bench = dir.path().join("eval-results/toy");
    for s in 0..3 {
        write_jsonl(&bench.join(format!("output-rs{s}.jsonl")), &seed_file(s));
    }
    let out = genselect(dir.path(), &proxy.url, &["--dry_run"]);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    assert_eq!(proxy.requests(), 0);
    assert!(!bench.join("genselect/output-rs0.jsonl").exists());
}

/// GenSynthesis (`++parallel_thinking.mode=gensynthesis`, as NeMo-Skills selects it): a new
/// solution per window, graded like any generation, in `<bench>/gensynthesis/`; cached and
/// resumed as selections are; a `gensynthesis@k` row in the summary.
#[test]
fn genselect_in_synthesis_mode_writes_graded_new_solutions_and_resumes() {
    let Some(upstream) = llama_url() else { return };
    let proxy = CountingProxy::start(&upstream);
    let dir = tempfile::tempdir().unwrap();
    let bench = dir.path().join("eval-results/toy");
    for s in 0..3 {
        write_jsonl(&bench.join(format!("output-rs{s}.jsonl")), &seed_file(s));
    }
    let mode = ["++parallel_thinking.mode=gensynthesis"];
    let out = genselect(dir.path(), &proxy.url, &mode);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    // Per seed: p0 (3 candidates), p1 (1: a synthesis from one is still asked for) and p3 (2);
    // p2 has none.
    let asked = 2 * 3;
    assert_eq!(proxy.requests(), asked, "{}", stderr(&out));
    assert!(!bench.join("genselect").exists());
    let mut correct = 0.0;
    for s in 0..2u64 {
        let recs = read_records(&bench.join(format!("gensynthesis/output-rs{s}.jsonl")));
        assert_eq!(recs.len(), 4);
        assert_eq!(recs[0]["num_solutions"], json!(3));
        assert_eq!(recs[1]["num_solutions"], json!(1));
        for i in [0, 1, 3] {
            let r = &recs[i];
            let text = r["gensynthesis_generation"].as_str().unwrap();
            let solution = r["generation"].as_str().unwrap();
            // Either the model's tagged solution, or a window candidate's solution instead.
            if r["gensynthesis_successful"] == json!(true) {
                assert!(text.contains(solution), "{r:?}");
            } else {
                let seed = &r["gensynthesis_fallback_seed"];
                let cand = r["gensynthesis_candidates"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|c| &c["seed"] == seed)
                    .unwrap_or_else(|| panic!("{r:?}"));
                assert_eq!(cand["solution"], json!(solution), "{r:?}");
            }
            // Graded like any generation, not copied from a candidate.
            assert!(r["symbolic_correct"].is_boolean(), "{r:?}");
            assert!(r.contains_key("predicted_answer") && r.contains_key("grade_status"));
            correct += r["symbolic_correct"].as_bool().unwrap() as u8 as f64;
        }
        assert_eq!(recs[2]["status"], json!("no_answer"));
        assert_eq!(recs[2]["generation"], json!(""));
        assert_eq!(recs[2]["symbolic_correct"], json!(false));
    }
    // A rerun sends nothing; with the outputs gone, the cache answers every request.
    let again = genselect(dir.path(), &proxy.url, &mode);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(proxy.requests(), asked);
    let before = std::fs::read_to_string(bench.join("gensynthesis/output-rs0.jsonl")).unwrap();
    for s in 0..2 {
        for name in [
            format!("output-rs{s}.jsonl"),
            format!("output-rs{s}.jsonl.tally-run.json"),
        ] {
            let _ = std::fs::remove_file(bench.join("gensynthesis").join(name));
        }
    }
    let cached = genselect(dir.path(), &proxy.url, &mode);
    assert!(cached.status.success(), "{}", stderr(&cached));
    assert_eq!(proxy.requests(), asked, "{}", stdout(&cached));
    assert!(
        stdout(&cached).contains("6 syntheses answered from the cache"),
        "{}",
        stdout(&cached)
    );
    let after = std::fs::read_to_string(bench.join("gensynthesis/output-rs0.jsonl")).unwrap();
    assert_eq!(after, before, "the cache gives back the same file");

    // The summary's gensynthesis@3 row: the new solutions' accuracy over problems and seeds
    // (p2, without candidates, counts as wrong).
    let sum =
        run(tally()
            .current_dir(dir.path())
            .args(["summarize-results", ".", "--format", "json"]));
    assert!(sum.status.success(), "{}", stderr(&sum));
    let m: Value = serde_json::from_str(&stdout(&sum)).unwrap();
    let row = &m["toy"]["gensynthesis@3"];
    assert_eq!(row["num_entries"], json!(4), "{m}");
    let got = row["symbolic_correct"]
        .as_f64()
        .unwrap_or_else(|| panic!("{m}"));
    assert!(
        (got - correct / 8.0 * 100.0).abs() < 1e-9,
        "{got} vs {correct}/8"
    );
    assert!(m["toy"].get("genselect@3").is_none(), "{m}");
    // An unknown mode is refused before anything is sent.
    let bad = genselect(dir.path(), &proxy.url, &["++parallel_thinking.mode=vote"]);
    assert!(!bad.status.success());
    assert!(
        stderr(&bad).contains("genselect, gensynthesis"),
        "{}",
        stderr(&bad)
    );
    assert_eq!(proxy.requests(), asked);
}
