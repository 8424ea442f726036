//! The judge inside `tally eval` (newer `ns eval`'s `--judge_*` flags): planned by `--dry-run`,
//! run after grading against the real llama-server, with judge columns in the summary; and the
//! same options reaching Slurm jobs through the plan.

use crate::common::*;

const JUDGE_ARGS: &str = "++prompt_template=qwen-instruct ++inference.tokens_to_generate=24";

#[test]
fn a_dry_run_plans_the_judge_stage() {
    let out = run(tally().args([
        "eval",
        "--dry-run",
        "--server_type=vllm",
        "--server_address=http://127.0.0.1:5000",
        "--model=m",
        "--output_dir=/tmp/judge-plan",
        "--benchmarks=hle:2",
        "--judge_model=/models/judge",
        "--judge_server_type=vllm",
        "--judge_server_gpus=2",
        "--judge_generation_type=math_judge",
        "--judge-only-when=undecided",
    ]));
    let text = stdout(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(text.contains("judge: host vllm"), "{text}");
    assert!(text.contains("/models/judge"), "{text}");
    assert!(text.contains("--tensor-parallel-size=2"), "{text}");
    // Generation goes apart; the judged copies are what the summary reads.
    assert!(
        text.contains("/tmp/judge-plan/tmp-eval-results/hle/output-rs1.jsonl: random_seed=1"),
        "{text}"
    );
    assert!(
        text.contains("/tmp/judge-plan/tmp-eval-results/hle → /tmp/judge-plan/eval-results/hle (math_judge, prompt judge/math, judge-only-when Undecided, cached)"),
        "{text}"
    );
    assert!(text.contains("with judge columns"), "{text}");
    // Without a judge type the judge flags are refused, not ignored.
    let bad = run(tally().args([
        "eval",
        "--dry-run",
        "--server_type=vllm",
        "--server_address=http://127.0.0.1:5000",
        "--output_dir=/tmp/judge-plan",
        "--benchmarks=hle:2",
        "--judge_model=j",
    ]));
    assert!(!bad.status.success());
    assert!(
        stderr(&bad).contains("--judge_server_type"),
        "{}",
        stderr(&bad)
    );
}

fn prepare(d: &std::path::Path, b: &str) {
    let prep = run(tally()
        .current_dir(d)
        .args(["prepare", b, "--data_dir", "data", "--source"])
        .arg(shared().join("data").join(b)));
    assert!(prep.status.success(), "{}", stderr(&prep));
}

/// Every record of the benchmark's summary files carries a judgement.
fn assert_judged(dir: &std::path::Path, files: &[&str]) {
    for f in files {
        let recs = read_records(&dir.join("eval-results/gsm8k").join(f));
        assert_eq!(recs.len(), 3, "{f}");
        for r in &recs {
            assert!(r["judgement"].is_string(), "{f}: {r:?}");
            assert!(r.contains_key("is_correct"), "graded before judged: {r:?}");
        }
        let generated = read_records(&dir.join("tmp-eval-results/gsm8k").join(f));
        assert_eq!(generated.len(), 3);
        assert!(generated.iter().all(|r| !r.contains_key("judgement")));
    }
    let metrics = std::fs::read_to_string(dir.join("eval-results/metrics.json")).unwrap();
    assert!(metrics.contains("judge_correct"), "{metrics}");
}

#[test]
fn an_eval_with_a_judge_judges_after_grading_and_summarizes_judge_columns() {
    let Some(url) = llama_url() else { return };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    prepare(d, "gsm8k");
    let judge = CountingProxy::start(&url);
    let args = [
        "eval".to_string(),
        "--server_type=llamacpp".into(),
        format!("--server_address={url}"),
        "--output_dir=out".into(),
        "--benchmarks=gsm8k:1".into(),
        "--data_dir=data".into(),
        "--judge_server_type=llamacpp".into(),
        format!("--judge_server_address={}", judge.url),
        "--judge_generation_type=math_judge".into(),
        format!("--extra_judge_args={JUDGE_ARGS}"),
        "++prompt_template=qwen-instruct".into(),
        "++max_samples=3".into(),
        "++inference.tokens_to_generate=16".into(),
    ];
    let out = run(tally().current_dir(d).args(&args));
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    assert_judged(&d.join("out"), &["output.jsonl", "output-rs0.jsonl"]);
    assert!(text.contains("judge_correct"), "{text}");
    // (SmolLM2 at 16 tokens rarely boxes an answer, so most verdicts are prefilled without a
    // call; `tally judge`'s tests cover the calls through the same library code.)
    let asked = judge.requests();
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(d.join("out/eval-results/gsm8k/tally-eval-manifest.json"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["judge"]["server_type"], "llamacpp");
    assert_eq!(manifest["judge"]["outputs"].as_array().unwrap().len(), 2);

    // A rerun asks the judge nothing: outputs complete, judgements cached.
    let again = run(tally().current_dir(d).args(&args));
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(judge.requests(), asked);
}

/// Whether the local Slurm has idle nodes.
fn slurm_idle() -> bool {
    let idle = std::process::Command::new("sinfo")
        .args(["-h", "-o", "%t"])
        .output()
        .is_ok_and(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).contains("idle"));
    if !idle {
        missing_service("no idle Slurm node (bash ../shared/tools/slurm-local.sh start)");
    }
    idle
}

/// The judge options were added to `eval` after the Slurm submission code was written, and that
/// code names none of them: they reach the jobs through the plan.
#[test]
fn options_added_to_eval_reach_slurm_jobs_through_the_plan() {
    let Some(url) = llama_url() else { return };
    if !slurm_idle() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    prepare(d, "gsm8k");
    let out = run(tally().current_dir(d).args([
        "eval".to_string(),
        "--cluster=slurm".into(),
        "--wait".into(),
        "--expname=pj".into(),
        "--not_exclusive".into(),
        "--server_type=llamacpp".into(),
        format!("--server_address={url}"),
        "--output_dir=out".into(),
        "--benchmarks=gsm8k:1".into(),
        "--data_dir=data".into(),
        "--judge_server_type=llamacpp".into(),
        format!("--judge_server_address={url}"),
        format!("--extra_judge_args={JUDGE_ARGS}"),
        "++prompt_template=qwen-instruct".into(),
        "++max_samples=3".into(),
        "++inference.tokens_to_generate=16".into(),
    ]));
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    assert!(text.contains("every job completed"), "{text}");
    assert_judged(&d.join("out"), &["output.jsonl", "output-rs0.jsonl"]);
    // The job scripts carry a plan and a part, no eval option.
    let scripts = d.join("out/eval-logs/scripts");
    for e in std::fs::read_dir(&scripts).unwrap() {
        let script = std::fs::read_to_string(e.unwrap().path()).unwrap();
        assert!(script.contains("--plan="), "{script}");
        assert!(!script.contains("--benchmarks"), "{script}");
        assert!(!script.contains("judge"), "{script}");
    }
}
