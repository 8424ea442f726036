//! GenSelect inside `tally eval` (`--genselect`): planned by `--dry-run`, run after grading
//! against the real llama-server with the evaluated model, its `genselect@k` row in the summary.

use crate::common::*;

#[test]
fn a_dry_run_plans_genselect_and_refuses_it_without_seeds() {
    let out = run(tally().args([
        "eval",
        "--dry-run",
        "--server_type=vllm",
        "--server_address=http://127.0.0.1:5000",
        "--model=m",
        "--output_dir=/tmp/gs-plan",
        "--benchmarks=gsm8k:4",
        "--genselect",
        "--genselect_window_size=4",
        "--genselect_seeds=2",
    ]));
    let text = stdout(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        text.contains("then: genselect with the server's model, 2 seed(s), windows of 4, solutions over 16384 characters and incomplete ones left out"),
        "{text}"
    );
    assert!(
        text.contains(
            "/tmp/gs-plan/eval-results/gsm8k → /tmp/gs-plan/eval-results/gsm8k/genselect"
        ),
        "{text}"
    );
    assert!(text.contains("and a genselect@k row"), "{text}");
    // Greedy only: nothing to select among.
    let none = run(tally().args([
        "eval",
        "--dry-run",
        "--server_type=vllm",
        "--server_address=http://127.0.0.1:5000",
        "--output_dir=/tmp/gs-plan",
        "--benchmarks=gsm8k:0",
        "--genselect",
    ]));
    assert!(!none.status.success());
    assert!(
        stderr(&none).contains("`gsm8k:0` has none"),
        "{}",
        stderr(&none)
    );
    // GenSelect's settings without --genselect are refused, not ignored.
    let orphan = run(tally().args([
        "eval",
        "--dry-run",
        "--server_type=vllm",
        "--server_address=http://127.0.0.1:5000",
        "--output_dir=/tmp/gs-plan",
        "--benchmarks=gsm8k:2",
        "--genselect_window_size=4",
    ]));
    assert!(!orphan.status.success());
    assert!(
        stderr(&orphan).contains("--genselect"),
        "{}",
        stderr(&orphan)
    );
}

#[test]
fn an_eval_with_genselect_selects_after_grading_and_summarizes_its_row() {
    let Some(url) = llama_url() else { return };
    let proxy = CountingProxy::start(&url);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let prep = run(tally()
        .current_dir(d)
        .args(["prepare", "gsm8k", "--data_dir", "data", "--source"])
        .arg(shared().join("data/gsm8k")));
    assert!(prep.status.success(), "{}", stderr(&prep));
    let args = [
        "eval".to_string(),
        "--server_type=llamacpp".into(),
        format!("--server_address={}", proxy.url),
        "--output_dir=out".into(),
        "--benchmarks=gsm8k:3".into(),
        "--skip_greedy".into(),
        "--data_dir=data".into(),
        "--genselect".into(),
        "--genselect_window_size=2".into(),
        "--extra_genselect_args=++prompt_template=qwen-instruct ++inference.tokens_to_generate=24"
            .into(),
        "++prompt_template=qwen-instruct".into(),
        "++max_samples=3".into(),
        "++inference.tokens_to_generate=16".into(),
    ];
    let out = run(tally().current_dir(d).args(&args));
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    let bench = d.join("out/eval-results/gsm8k");
    let chosen = read_records(&bench.join("genselect/output-rs0.jsonl"));
    assert_eq!(chosen.len(), 3);
    // Three complete solutions per problem (a cut-off one is complete: only failures, unfinished
    // reasoning and empty texts are left out), windows of two: one request per problem.
    let shown: Vec<u64> = chosen
        .iter()
        .filter_map(|r| r.get("num_solutions").and_then(|n| n.as_u64()))
        .collect();
    assert_eq!(shown, [2, 2, 2], "{chosen:?}");
    assert_eq!(proxy.requests(), 3 * 3 + 3, "9 samples, then 3 selections");
    // Every choice is settled as graded samples are (a verdict or a failure status).
    for r in &chosen {
        assert!(
            r.contains_key("is_correct") || r.contains_key("status"),
            "{r:?}"
        );
    }
    // The seed files themselves are untouched by GenSelect and still beside it.
    assert_eq!(read_records(&bench.join("output-rs2.jsonl")).len(), 3);
    let metrics = std::fs::read_to_string(d.join("out/eval-results/metrics.json")).unwrap();
    assert!(metrics.contains("genselect@2"), "{metrics}");
    assert!(text.contains("genselect@"), "{text}");

    // A rerun sends nothing: samples resumed, selections resumed from their journal and cache.
    let asked = proxy.requests();
    let again = run(tally().current_dir(d).args(&args));
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(proxy.requests(), asked);
}

/// `tally eval --genselect` with `++parallel_thinking.mode=gensynthesis` among GenSelect's
/// settings: planned, then new solutions written after grading, graded, in
/// `<bench>/gensynthesis/`, and the summary's `gensynthesis@k` row.
#[test]
fn an_eval_with_gensynthesis_grades_new_solutions_and_summarizes_their_row() {
    let plan = run(tally().args([
        "eval",
        "--dry-run",
        "--server_type=vllm",
        "--server_address=http://127.0.0.1:5000",
        "--output_dir=/tmp/gsyn-plan",
        "--benchmarks=gsm8k:4",
        "--genselect",
        "--extra_genselect_args=++parallel_thinking.mode=gensynthesis",
    ]));
    let text = stdout(&plan);
    assert!(plan.status.success(), "{}", stderr(&plan));
    assert!(
        text.contains("then: gensynthesis with the server's model, 1 seed(s), windows of 8"),
        "{text}"
    );
    assert!(
        text.contains(
            "/tmp/gsyn-plan/eval-results/gsm8k → /tmp/gsyn-plan/eval-results/gsm8k/gensynthesis"
        ),
        "{text}"
    );
    assert!(text.contains("and a gensynthesis@k row"), "{text}");

    let Some(url) = llama_url() else { return };
    let proxy = CountingProxy::start(&url);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let prep = run(tally()
        .current_dir(d)
        .args(["prepare", "gsm8k", "--data_dir", "data", "--source"])
        .arg(shared().join("data/gsm8k")));
    assert!(prep.status.success(), "{}", stderr(&prep));
    let args = [
        "eval".to_string(),
        "--server_type=llamacpp".into(),
        format!("--server_address={}", proxy.url),
        "--output_dir=out".into(),
        "--benchmarks=gsm8k:2".into(),
        "--skip_greedy".into(),
        "--data_dir=data".into(),
        "--genselect".into(),
        "--extra_genselect_args=++parallel_thinking.mode=gensynthesis ++prompt_template=qwen-instruct ++inference.tokens_to_generate=24"
            .into(),
        "++prompt_template=qwen-instruct".into(),
        "++max_samples=3".into(),
        "++inference.tokens_to_generate=16".into(),
    ];
    let out = run(tally().current_dir(d).args(&args));
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    assert_eq!(proxy.requests(), 2 * 3 + 3, "6 samples, then 3 syntheses");
    let bench = d.join("out/eval-results/gsm8k");
    assert!(!bench.join("genselect").exists());
    let made = read_records(&bench.join("gensynthesis/output-rs0.jsonl"));
    assert_eq!(made.len(), 3);
    for r in &made {
        // A new solution (or a candidate's, marked unsuccessful), graded, or a failure status.
        assert!(
            r.contains_key("gensynthesis_successful") || r.contains_key("status"),
            "{r:?}"
        );
        if r.contains_key("gensynthesis_successful") {
            assert!(
                r["generation"].is_string() && r.contains_key("grade_status"),
                "{r:?}"
            );
        }
    }
    let metrics = std::fs::read_to_string(d.join("out/eval-results/metrics.json")).unwrap();
    assert!(metrics.contains("gensynthesis@2"), "{metrics}");
    assert!(!metrics.contains("genselect@"), "{metrics}");
    assert!(text.contains("gensynthesis@2"), "{text}");
    // A rerun sends nothing.
    let asked = proxy.requests();
    let again = run(tally().current_dir(d).args(&args));
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(proxy.requests(), asked);
}
