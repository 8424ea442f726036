//! `tally eval --greedy_layout separate`: greedy written straight into newer NeMo-Skills' layout
//! (greedy and sampled runs are two evaluations; its summarize_results refuses a benchmark folder
//! holding both `output.jsonl` and `output-rs*.jsonl`), against the real llama-server: the files
//! where newer NeMo-Skills looks, the summary's greedy and seed rows, the report, and a rerun
//! that generates only what is missing.

use std::path::Path;

use crate::common::*;

/// The `.jsonl` files directly in `dir`, sorted.
fn jsonl_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".jsonl"))
        .collect();
    names.sort();
    names
}

#[test]
fn a_dry_run_plans_greedy_in_its_own_evaluation() {
    let out = run(tally().args([
        "eval",
        "--dry-run",
        "--server_type=vllm",
        "--server_address=http://127.0.0.1:5000",
        "--model=m",
        "--output_dir=/tmp/gl-plan",
        "--benchmarks=aime24:2,aime25:0",
        "--greedy_layout=separate",
    ]));
    let text = stdout(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(text.contains("aime24 (greedy) (split test)"), "{text}");
    assert!(
        text.contains(
            "/tmp/gl-plan/greedy/eval-results/aime24/output.jsonl: random_seed=0 temperature=0 "
        ),
        "{text}"
    );
    assert!(
        text.contains("/tmp/gl-plan/eval-results/aime24/output-rs1.jsonl: random_seed=1"),
        "{text}"
    );
    assert!(
        !text.contains("/tmp/gl-plan/eval-results/aime24/output.jsonl"),
        "{text}"
    );
    // Greedy only: as newer `ns eval` writes `name:0`.
    assert!(
        text.contains("/tmp/gl-plan/eval-results/aime25/output.jsonl"),
        "{text}"
    );
    let bad = run(tally().args([
        "eval",
        "--dry-run",
        "--server_type=vllm",
        "--server_address=http://127.0.0.1:5000",
        "--output_dir=/tmp/gl-plan",
        "--benchmarks=aime24:2",
        "--greedy_layout=newest",
    ]));
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("may, separate"), "{}", stderr(&bad));
}

#[test]
fn an_eval_writes_greedy_where_newer_nemo_skills_reads_it_and_a_rerun_finishes_it() {
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
        "--greedy_layout=separate".into(),
        "--data_dir=data".into(),
        "++prompt_template=qwen-instruct".into(),
        "++max_samples=3".into(),
        "++inference.tokens_to_generate=16".into(),
    ];
    let out = run(tally().current_dir(d).args(&args));
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    assert_eq!(
        proxy.requests(),
        3 * 3,
        "greedy and two seeds, 3 problems each"
    );

    // Where newer NeMo-Skills looks: the seeds' folder has no output.jsonl, the greedy
    // evaluation's folder has nothing else.
    let seeds = d.join("out/eval-results/gsm8k");
    let greedy = d.join("out/greedy/eval-results/gsm8k");
    assert_eq!(jsonl_in(&seeds), ["output-rs0.jsonl", "output-rs1.jsonl"]);
    assert_eq!(jsonl_in(&greedy), ["output.jsonl"]);
    let g = read_records(&greedy.join("output.jsonl"));
    assert_eq!(g.len(), 3);
    for r in &g {
        // Graded in place, as any generation.
        assert!(
            r.contains_key("symbolic_correct") || r.contains_key("status"),
            "{r:?}"
        );
    }
    // Each evaluation has its manifest.
    for (dir, seeds) in [(&greedy, "[null]"), (&seeds, "[0,1]")] {
        let m: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join("tally-eval-manifest.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(m["seeds"].to_string(), seeds, "{}", dir.display());
    }

    // The summary of the evaluation has the greedy row and the seeds' rows.
    let metrics: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(d.join("out/eval-results/metrics.json")).unwrap(),
    )
    .unwrap();
    let rows = metrics["gsm8k"].as_object().unwrap();
    assert!(rows.contains_key("greedy"), "{metrics}");
    assert!(rows.contains_key("pass@1[avg-of-2]"), "{metrics}");
    assert!(rows.contains_key("pass@2"), "{metrics}");
    assert_eq!(rows["greedy"]["num_entries"], 3, "{metrics}");
    // No note about a mixed folder: there is none.
    assert!(!metrics.to_string().contains("--split-greedy"), "{metrics}");
    // The report shows the greedy file too.
    let report = std::fs::read_to_string(d.join("out/eval-results/report.html")).unwrap();
    assert!(
        report.contains("<th title=\"greedy\">"),
        "no greedy column in the report"
    );
    // The greedy evaluation summarizes on its own, in NeMo-Skills' mode too.
    let alone = run(tally().current_dir(d).args([
        "summarize-results",
        "out/greedy",
        "--compat",
        "nemo-skills",
    ]));
    assert!(alone.status.success(), "{}", stderr(&alone));
    assert!(stdout(&alone).contains("greedy"), "{}", stdout(&alone));

    // A rerun sends nothing; with the greedy evaluation gone, it generates greedy alone.
    let asked = proxy.requests();
    let again = run(tally().current_dir(d).args(&args));
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(proxy.requests(), asked);
    let before = std::fs::read_to_string(seeds.join("output-rs0.jsonl")).unwrap();
    std::fs::remove_dir_all(d.join("out/greedy")).unwrap();
    let finish = run(tally().current_dir(d).args(&args));
    assert!(finish.status.success(), "{}", stderr(&finish));
    assert_eq!(
        proxy.requests(),
        asked + 3,
        "only the 3 greedy samples again"
    );
    assert_eq!(read_records(&greedy.join("output.jsonl")).len(), 3);
    assert_eq!(
        std::fs::read_to_string(seeds.join("output-rs0.jsonl")).unwrap(),
        before
    );

    // Back to May's layout on these files is refused, not a second greedy run.
    let may: Vec<String> = args
        .iter()
        .filter(|a| !a.starts_with("--greedy_layout"))
        .cloned()
        .collect();
    let refused = run(tally().current_dir(d).args(&may));
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("--greedy_layout separate"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(proxy.requests(), asked + 3);
}
