//! NeMo-Skills' chunking through `tally generate --num_chunks/--chunk_ids` against the real
//! llama-server: each run writes its chunk, the run that completes the set merges it.

use serde_json::json;

use crate::common::{llama_url, read_records, run, stderr, stdout, tally, write_jsonl};

#[test]
fn chunks_from_separate_runs_merge_into_one_ordered_output() {
    let Some(url) = llama_url() else { return };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let problems: Vec<_> = (0..5)
        .map(|i| json!({"id": format!("p{i}"), "problem": format!("What is {i} + 1?"), "expected_answer": format!("{}", i + 1)}))
        .collect();
    write_jsonl(&d.join("in.jsonl"), &problems);
    let gen = |ids: &str| {
        run(tally().current_dir(d).args([
            "generate",
            "--server_type=llamacpp",
            &format!("--server_address={url}"),
            "--output_dir=out",
            "--num_random_seeds=2",
            "--num_chunks=2",
            &format!("--chunk_ids={ids}"),
            "++input_file=in.jsonl",
            "++prompt_template=qwen-instruct",
            "++inference.tokens_to_generate=8",
        ]))
    };
    let first = gen("1");
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(
        stdout(&first).contains("waiting for other chunks"),
        "{}",
        stdout(&first)
    );
    // Chunk 1 of 5 problems in 2 chunks is problems 3..5 (the first chunk takes the extra one).
    let c1 = read_records(&d.join("out/output-rs0_chunk_1.jsonl"));
    assert_eq!(
        c1.iter()
            .map(|r| r["id"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["p3", "p4"]
    );
    assert!(d.join("out/output-rs0_chunk_1.jsonl.done").exists());
    assert!(!d.join("out/output-rs0.jsonl").exists());

    let second = gen("0");
    assert!(second.status.success(), "{}", stderr(&second));
    for s in 0..2 {
        let merged = read_records(&d.join(format!("out/output-rs{s}.jsonl")));
        let ids: Vec<&str> = merged.iter().map(|r| r["id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["p0", "p1", "p2", "p3", "p4"], "seed {s}");
        assert!(merged.iter().all(|r| r["seed"] == s));
        assert!(d.join(format!("out/output-rs{s}.jsonl.done")).exists());
        assert!(
            !d.join(format!("out/output-rs{s}_chunk_0.jsonl")).exists(),
            "chunk files removed after the merge"
        );
    }
    // A rerun of either chunk does nothing: the merged outputs are final.
    let again = gen("0,1");
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(!stdout(&again).contains("generated"), "{}", stdout(&again));
}
