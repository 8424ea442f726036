//! Tool-integrated reasoning through `tally generate`: a real model (llama-server with
//! SmolLM2-135M) writes Python, the real sandbox runs it, the output goes back into the prompt.

use std::path::Path;

use serde_json::json;

use crate::common::{
    llama_url, read_records, run, sandbox_ready, stderr, stdout, tally, write_jsonl,
};

/// A prompt config that passes the problem through: SmolLM2 answers "write a python block"
/// requests with a ```python block, which is what the loop needs to see.
fn setup(dir: &Path) {
    std::fs::write(
        dir.join("cfg.yaml"),
        "system: \"\"\nuser: |-\n  {problem}\n",
    )
    .unwrap();
    write_jsonl(
        &dir.join("in.jsonl"),
        &[
            json!({"id": "a", "problem": "Write python code printing 2+2 in a ```python block", "expected_answer": "4"}),
        ],
    );
}

fn generate(dir: &Path, url: &str, extra: &[&str]) -> std::process::Output {
    let mut cmd = tally();
    // An in-process sandbox puts its runtime files here (checked to be gone afterwards).
    cmd.current_dir(dir).env("TMPDIR", dir).args([
        "generate",
        "--server_type=llamacpp",
        &format!("--server_address={url}"),
        "--output_dir=out",
        "++input_file=in.jsonl",
        "++prompt_config=cfg.yaml",
        "++prompt_template=qwen-instruct",
        "++code_execution=true",
        "++inference.tokens_to_generate=160",
        "++server.code_execution.add_remaining_code_executions=true",
    ]);
    cmd.args(extra);
    run(&mut cmd)
}

#[test]
fn the_model_writes_code_the_sandbox_runs_it_and_the_transcript_is_the_seeds() {
    let Some(url) = llama_url() else { return };
    if !sandbox_ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path());
    let out = generate(
        dir.path(),
        &url,
        &[
            "--with_sandbox",
            "++server.code_execution.max_code_executions=1",
        ],
    );
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    let recs = read_records(&dir.path().join("out/output.jsonl"));
    let r = &recs[0];
    let keys: Vec<&str> = r.keys().map(String::as_str).take(5).collect();
    assert_eq!(
        keys,
        [
            "code_rounds_executed",
            "num_generated_tokens",
            "generation_time",
            "code_execution_time",
            "generation"
        ]
    );
    assert_eq!(r["code_rounds_executed"], 1, "{r:?}");
    let g = r["generation"].as_str().unwrap();
    // The block the model wrote, closed by the stop phrase, then the sandbox's real output and,
    // after the only allowed execution, the seed's run-out message (spec §3).
    let block_end = g
        .find("```\n```output\n")
        .expect("a code block followed by its output");
    assert!(g[..block_end].contains("```python\n"), "{g}");
    assert!(g.contains("```output\n4\n```\n```system\nYou have run out of code executions! You can no longer write or execute code. Now you should continue solving the problem by relying on your mathematical reasoning and analytical skills.\n```\n"), "{g}");
    assert!(
        matches!(r["status"].as_str(), Some("ok") | Some("truncated")),
        "{r:?}"
    );
    assert!(r["code_execution_time"].as_f64().unwrap() > 0.0);
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .filter(|n| n.to_string_lossy().starts_with("tally-sandbox-"))
        .collect();
    assert!(left.is_empty(), "the in-process sandbox left {left:?}");

    // A rerun with the same settings sends nothing; with other TIR settings it is refused.
    let again = generate(
        dir.path(),
        &url,
        &[
            "--with_sandbox",
            "++server.code_execution.max_code_executions=1",
        ],
    );
    assert!(
        stdout(&again).contains("already complete"),
        "{}",
        stdout(&again)
    );
    let changed = generate(
        dir.path(),
        &url,
        &[
            "--with_sandbox",
            "++server.code_execution.max_code_executions=2",
        ],
    );
    assert!(!changed.status.success());
    assert!(
        stderr(&changed).contains("code_execution"),
        "{}",
        stderr(&changed)
    );
}

#[test]
fn an_unreachable_sandbox_is_a_sample_status_not_a_crash() {
    let Some(url) = llama_url() else { return };
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path());
    // Nothing listens on the port of a just-closed listener.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = generate(dir.path(), &url, &[&format!("++sandbox.port={port}")]);
    // The run finishes, writes every record, and says by its exit code that samples failed.
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let recs = read_records(&dir.path().join("out/output.jsonl"));
    assert_eq!(recs[0]["status"], "sandbox_error", "{:?}", recs[0]);
    assert!(recs[0]["error"]
        .as_str()
        .unwrap()
        .contains(&port.to_string()));
    // The transcript up to the failed execution is kept.
    assert!(recs[0]["generation"]
        .as_str()
        .unwrap()
        .contains("```python\n"));
}

#[test]
fn code_execution_needs_a_prompt_template() {
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path());
    let out = run(tally().current_dir(dir.path()).args([
        "generate",
        "--server_type=vllm",
        "--server_address=http://127.0.0.1:9",
        "--model=m",
        "--output_dir=out",
        "++input_file=in.jsonl",
        "++code_execution=true",
    ]));
    assert!(!out.status.success());
    assert!(stderr(&out).contains("chat mode"), "{}", stderr(&out));
}
