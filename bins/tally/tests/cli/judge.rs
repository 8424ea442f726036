//! `tally judge` / `tally generate --generation_type=math_judge` against a real model
//! (llama-server with SmolLM2-135M: a weak judge, but a real one), behind a proxy that counts
//! the requests that reach it.

use std::path::Path;

use serde_json::{json, Value};

use crate::common::{
    llama_url, read_records, run, stderr, stdout, tally, write_jsonl, CountingProxy,
};

/// Graded records of one seed: no answer, an identical answer (both settled without a call),
/// and two that need the judge.
fn graded(seed: u64) -> Vec<Value> {
    vec![
        json!({"num_generated_tokens": 10, "generation": "no box", "id": "p0", "problem": "1+1?", "expected_answer": "2",
               "predicted_answer": null, "is_correct": false, "status": "no_answer", "seed": seed}),
        json!({"num_generated_tokens": 11, "generation": "\\boxed{2}", "id": "p1", "problem": "2+0?", "expected_answer": "2",
               "predicted_answer": "2", "is_correct": true, "status": "ok", "seed": seed}),
        json!({"num_generated_tokens": 12, "generation": "\\boxed{0.5}", "id": "p2", "problem": "Half of 1?", "expected_answer": "1/2",
               "predicted_answer": (if seed == 0 { "0.5" } else { "0.50" }), "is_correct": true, "status": "ok", "seed": seed}),
        // No predicted_answer key: extracted from the generation, as NeMo-Skills does.
        json!({"num_generated_tokens": 13, "generation": (if seed == 0 { "so \\boxed{7}" } else { "so \\boxed{8}" }), "id": "p3", "problem": "3+3?", "expected_answer": "6",
               "is_correct": false, "status": "ok", "seed": seed}),
    ]
}

fn judge(dir: &Path, url: &str, out: &str, extra: &[&str]) -> std::process::Output {
    let mut cmd = tally();
    cmd.current_dir(dir).args([
        "judge",
        "--server_type=llamacpp",
        &format!("--server_address={url}"),
        "--input_dir=in",
        &format!("--output_dir={out}"),
        "--num_random_seeds=2",
        "++prompt_template=qwen-instruct",
        "++inference.tokens_to_generate=24",
    ]);
    cmd.args(extra);
    run(&mut cmd)
}

#[test]
fn every_record_gets_a_judgement_and_prefilled_ones_cost_no_request() {
    let Some(upstream) = llama_url() else { return };
    let proxy = CountingProxy::start(&upstream);
    let dir = tempfile::tempdir().unwrap();
    for s in 0..2 {
        write_jsonl(
            &dir.path().join(format!("in/output-rs{s}.jsonl")),
            &graded(s),
        );
    }
    let out = judge(dir.path(), &proxy.url, "judged", &[]);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    // Two records per seed need the judge; the /v1/models lookup is a GET and is not counted.
    assert_eq!(proxy.requests(), 4, "{}", stderr(&out));
    for s in 0..2u64 {
        let recs = read_records(&dir.path().join(format!("judged/output-rs{s}.jsonl")));
        let ids: Vec<&str> = recs.iter().map(|r| r["id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["p0", "p1", "p2", "p3"], "order preserved");
        assert_eq!(
            recs[0]["judgement"],
            "Reasoning: No answer was provided.\nJudgement: No"
        );
        assert_eq!(
            recs[1]["judgement"],
            "Reasoning: The two answers are identical.\nJudgement: Yes"
        );
        // Prefilled lines are {"judgement", **input}: the solver's token count stays.
        assert_eq!(recs[0].keys().next().unwrap(), "judgement");
        assert_eq!(recs[0]["num_generated_tokens"], 10);
        for r in &recs[2..] {
            assert!(r["judgement"].is_string(), "{r:?}");
            assert_eq!(
                r.keys().take(2).map(String::as_str).collect::<Vec<_>>(),
                ["num_generated_tokens", "judgement"]
            );
        }
        assert_eq!(recs[3]["predicted_answer"], if s == 0 { "7" } else { "8" });
        for (i, r) in recs.iter().enumerate() {
            // The solver's status survives; the judge's own is beside it (a judge cut at its
            // 24-token budget is `truncated`, which is not a failure).
            let judge_status = r["judge_status"].as_str().unwrap();
            assert!(
                judge_status == "ok" || (i >= 2 && judge_status == "truncated"),
                "{r:?}"
            );
            assert_eq!(r["seed"], s);
        }
        assert_eq!(recs[0]["status"], "no_answer");
    }

    // A rerun is free: the outputs are complete.
    let again = judge(dir.path(), &proxy.url, "judged", &[]);
    assert!(again.status.success());
    assert_eq!(proxy.requests(), 4);
    // The `ns generate` spelling writes the same files into a new directory, from the cache.
    let mut cmd = tally();
    cmd.current_dir(dir.path()).args([
        "generate",
        "--generation_type=math_judge",
        "--server_type=llamacpp",
        &format!("--server_address={}", proxy.url),
        "--output_dir=judged2",
        "--num_random_seeds=2",
        "++input_dir=in",
        "++prompt_template=qwen-instruct",
        "++inference.tokens_to_generate=24",
        "++skip_filled=True",
    ]);
    std::fs::copy(dir.path().join("judged/.tally-judge-cache.jsonl"), {
        std::fs::create_dir_all(dir.path().join("judged2")).unwrap();
        dir.path().join("judged2/.tally-judge-cache.jsonl")
    })
    .unwrap();
    let out = run(&mut cmd);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(proxy.requests(), 4, "answered from the cache");
    assert!(
        stdout(&out).contains("4 judgements answered from the cache"),
        "{}",
        stdout(&out)
    );
    for s in 0..2 {
        let a = read_records(&dir.path().join(format!("judged/output-rs{s}.jsonl")));
        let b = read_records(&dir.path().join(format!("judged2/output-rs{s}.jsonl")));
        let judgements = |rs: &[serde_json::Map<String, Value>]| {
            rs.iter()
                .map(|r| r["judgement"].clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(judgements(&a), judgements(&b));
    }

    // The cascade asks only where the symbolic grader said no: p3 (p2 is already correct).
    let cascade = judge(
        dir.path(),
        &proxy.url,
        "cascade",
        &["--judge-only-when=symbolic-false", "--no-cache"],
    );
    assert!(cascade.status.success(), "{}", stderr(&cascade));
    assert_eq!(proxy.requests(), 6);
    let recs = read_records(&dir.path().join("cascade/output-rs0.jsonl"));
    assert!(recs[2]["judgement"]
        .as_str()
        .unwrap()
        .ends_with("Judgement: Yes"));
}

/// `--judge-only-when=undecided`: only what the grader could not decide reaches the judge (seed
/// 0's p3); decided records keep their verdict as a written judgement (seed 1's p3 says No).
#[test]
fn judge_only_when_undecided_asks_exactly_the_undecided_records() {
    let Some(upstream) = llama_url() else { return };
    let proxy = CountingProxy::start(&upstream);
    let dir = tempfile::tempdir().unwrap();
    for s in 0..2u64 {
        let mut recs = graded(s);
        recs[2]["grade_status"] = json!("equal");
        recs[3]["grade_status"] = json!(if s == 0 { "undecided" } else { "not_equal" });
        write_jsonl(&dir.path().join(format!("in/output-rs{s}.jsonl")), &recs);
    }
    let out = judge(
        dir.path(),
        &proxy.url,
        "undecided",
        &["--judge-only-when=undecided", "--no-cache"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(proxy.requests(), 1, "{}", stderr(&out));
    let rs0 = read_records(&dir.path().join("undecided/output-rs0.jsonl"));
    let rs1 = read_records(&dir.path().join("undecided/output-rs1.jsonl"));
    assert!(!rs0[3]["judgement"]
        .as_str()
        .unwrap()
        .contains("the judge was not asked"));
    assert!(rs1[3]["judgement"]
        .as_str()
        .unwrap()
        .ends_with("the judge was not asked.\nJudgement: No"));
    assert!(rs1[2]["judgement"]
        .as_str()
        .unwrap()
        .ends_with("Judgement: Yes"));
}

#[test]
fn a_record_without_expected_answer_is_an_error_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut recs = graded(0);
    recs[2]["expected_answer"] = Value::Null;
    write_jsonl(&dir.path().join("in/output.jsonl"), &recs);
    let mut cmd = tally();
    cmd.current_dir(dir.path()).args([
        "judge",
        "--server_type=vllm",
        "--server_address=http://127.0.0.1:9",
        "--model=m",
        "--input_dir=in",
        "--output_dir=judged",
        "++prompt_template=qwen-instruct",
    ]);
    let out = run(&mut cmd);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("output.jsonl") && err.contains("line 3"),
        "{err}"
    );
}
