//! `tally prepare` against the benchmark copies in `../shared/data`.

use serde_json::Value;

use crate::common::*;

fn records(path: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Every benchmark copy in shared/data prepares to the same records (the verbatim ones to the
/// same bytes), with a manifest whose sha256 is the file's.
#[test]
fn prepares_every_shared_benchmark_to_the_same_records() {
    let shared = shared();
    let tmp = tempfile::tempdir().unwrap();
    for (bench, file, split, count) in [
        ("comp-math-24-25", "comp-math-24-25/test.jsonl", "test", 256),
        ("aime24", "aime24/test.jsonl", "test", 30),
        ("aime25", "aime25/test.jsonl", "test", 30),
        ("math-500", "math-500/test.jsonl", "test", 500),
        ("gsm8k", "gsm8k/test.jsonl", "test", 1319),
        ("amc23", "amc23/test.jsonl", "test", 40),
        ("hle", "hle/math.jsonl", "math", 256),
    ] {
        let src_dir = shared
            .join("data")
            .join(file)
            .parent()
            .unwrap()
            .to_path_buf();
        let out = run(tally()
            .args(["prepare", bench, "--source"])
            .arg(&src_dir)
            .arg("--data_dir")
            .arg(tmp.path()));
        assert!(out.status.success(), "{bench}: {}", stderr(&out));
        let got_path = tmp.path().join(bench).join(format!("{split}.jsonl"));
        let got = records(&got_path);
        let want = records(&shared.join("data").join(file));
        assert_eq!(got.len(), count, "{bench}");
        assert_eq!(got, want, "{bench}: records differ");
        assert_eq!(
            std::fs::read(&got_path).unwrap(),
            std::fs::read(shared.join("data").join(file)).unwrap(),
            "{bench}: prepared-format sources are copied byte for byte"
        );
        let manifest: Value = serde_json::from_slice(
            &std::fs::read(
                tmp.path()
                    .join(bench)
                    .join(format!("{split}.manifest.json")),
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(manifest["records"], count);
        let sha = sha256_hex(&std::fs::read(&got_path).unwrap());
        assert_eq!(manifest["sha256"], sha.as_str());
        assert_eq!(manifest["defaults"]["prompt_config"], "generic/math");
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    // `sha256sum` is on every Debian machine; an independent implementation of the check.
    let mut child = std::process::Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

/// Raw upstream gsm8k lines (rebuilt from the prepared copy's `original_answer_text`) convert to
/// the prepared records.
#[test]
fn converts_raw_gsm8k_like_the_prepared_copy() {
    let shared = shared();
    let tmp = tempfile::tempdir().unwrap();
    let prepared = records(&shared.join("data/gsm8k/test.jsonl"));
    let raw: String = prepared
        .iter()
        .map(|r| {
            serde_json::json!({"question": r["problem"], "answer": r["original_answer_text"]})
                .to_string()
                + "\n"
        })
        .collect();
    let raw_path = tmp.path().join("gsm8k-raw.jsonl");
    std::fs::write(&raw_path, raw).unwrap();
    let out = run(tally()
        .args(["prepare", "gsm8k", "--source"])
        .arg(&raw_path)
        .arg("--data_dir")
        .arg(tmp.path().join("out")));
    assert!(out.status.success(), "{}", stderr(&out));
    let got = records(&tmp.path().join("out/gsm8k/test.jsonl"));
    assert_eq!(got, prepared);
}

/// HLE in the Hugging Face shape: image questions and other categories are filtered out.
#[test]
fn hle_keeps_text_only_math_questions() {
    let tmp = tempfile::tempdir().unwrap();
    let rows = [
        serde_json::json!({"id": "a", "question": "q1", "image": "", "answer": "1", "answer_type": "exactMatch", "rationale": "r", "raw_subject": "Algebra", "category": "Math", "author_name": "x", "canary": "c"}),
        serde_json::json!({"id": "b", "question": "q2", "image": "data:image/png;base64,AAAA", "answer": "2", "category": "Math"}),
        serde_json::json!({"id": "c", "question": "q3", "image": "", "answer": "3", "category": "Physics"}),
    ];
    let src = tmp.path().join("hle.jsonl");
    write_jsonl(&src, &rows);
    let out = run(tally()
        .args(["prepare", "hle", "--split", "all", "--source"])
        .arg(&src)
        .arg("--data_dir")
        .arg(tmp.path().join("out")));
    assert!(out.status.success(), "{}", stderr(&out));
    let math = records(&tmp.path().join("out/hle/math.jsonl"));
    assert_eq!(math.len(), 1);
    assert_eq!(math[0]["id"], "a");
    assert_eq!(math[0]["subset_for_metrics"], "Math");
    assert_eq!(math[0]["reference_solution"], "r");
    let text = records(&tmp.path().join("out/hle/text.jsonl"));
    assert_eq!(
        text.iter()
            .map(|r| r["id"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["a", "c"]
    );
    assert!(
        stdout(&out).contains("1 image question"),
        "{}",
        stdout(&out)
    );
}

/// A malformed source names the file and line, and nothing is written (not even a partial file).
#[test]
fn malformed_source_is_an_error_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("bad.jsonl");
    std::fs::write(
        &src,
        "{\"problem\": \"p\", \"expected_answer\": \"1\"}\nnot json\n",
    )
    .unwrap();
    let out = run(tally()
        .args(["prepare", "aime24", "--source"])
        .arg(&src)
        .arg("--data_dir")
        .arg(tmp.path().join("out")));
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("bad.jsonl:2"), "{err}");
    assert!(!tmp.path().join("out/aime24/test.jsonl").exists());

    let missing = run(tally()
        .args(["prepare", "aime24", "--source"])
        .arg(tmp.path().join("nope"))
        .arg("--data_dir")
        .arg(tmp.path().join("out")));
    assert!(!missing.status.success());
    assert!(stderr(&missing).contains("nope"), "{}", stderr(&missing));

    let unknown = run(tally()
        .args(["prepare", "aime23", "--data_dir"])
        .arg(tmp.path()));
    assert!(
        stderr(&unknown).contains("unknown benchmark `aime23`"),
        "{}",
        stderr(&unknown)
    );
}

/// The fixture slices of newer NeMo-Skills' benchmarks (upstream raw shapes, invented content)
/// convert to the records its `prepare.py` files would write, byte for byte; each expectation
/// in `fixtures/prepare/<name>/expected/` was derived by hand from those rules.
#[test]
fn newer_benchmarks_convert_from_their_upstream_formats() {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/prepare");
    let tmp = tempfile::tempdir().unwrap();
    let mut seen = 0;
    for entry in std::fs::read_dir(&fixtures).unwrap() {
        let dir = entry.unwrap().path();
        let bench = dir.file_name().unwrap().to_str().unwrap().to_string();
        let out = run(tally()
            .args(["prepare", &bench, "--split", "all", "--source"])
            .arg(&dir)
            .arg("--data_dir")
            .arg(tmp.path()));
        assert!(out.status.success(), "{bench}: {}", stderr(&out));
        for want in std::fs::read_dir(dir.join("expected")).unwrap() {
            let want = want.unwrap().path();
            let got = tmp.path().join(&bench).join(want.file_name().unwrap());
            assert_eq!(
                String::from_utf8(std::fs::read(&got).unwrap()).unwrap(),
                String::from_utf8(std::fs::read(&want).unwrap()).unwrap(),
                "{bench}: {}",
                want.display()
            );
            seen += 1;
        }
    }
    assert_eq!(seen, 18, "every fixture split was checked");
}

/// Skipped records are counted: minerva's solution without a box, GSM-Plus' unknown category.
#[test]
fn newer_benchmarks_count_what_they_leave_out() {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/prepare");
    let tmp = tempfile::tempdir().unwrap();
    for (bench, note) in [
        ("minerva_math", "1 no expected answer"),
        ("gsm-plus", "1 other category"),
    ] {
        let out = run(tally()
            .args(["prepare", bench, "--source"])
            .arg(fixtures.join(bench))
            .arg("--data_dir")
            .arg(tmp.path()));
        assert!(out.status.success(), "{bench}: {}", stderr(&out));
        assert!(stdout(&out).contains(note), "{bench}: {}", stdout(&out));
    }
    // MAWPS is four files: a single file is refused with the names it needs.
    let out = run(tally()
        .args(["prepare", "mawps", "--source"])
        .arg(fixtures.join("mawps/addsub.jsonl"))
        .arg("--data_dir")
        .arg(tmp.path()));
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("multiarith.jsonl"),
        "{}",
        stderr(&out)
    );
    // PutnamBench has no downloadable file: the error says how to make the local copy.
    let out = run(tally()
        .args(["prepare", "putnam-bench", "--data_dir"])
        .arg(tmp.path()));
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("rewrite_solutions.py"),
        "{}",
        stderr(&out)
    );
}

/// `--list` names every benchmark with its splits, source and defaults.
#[test]
fn prepare_list_shows_the_registry() {
    let out = run(tally().args(["prepare", "--list"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1 + 7 + 16, "{text}");
    let omni = lines.iter().find(|l| l.starts_with("omni-math\t")).unwrap();
    assert!(
        omni.contains("Omni-Math.jsonl") && omni.contains("judge=gpt-4.1"),
        "{omni}"
    );
    let hendrycks = lines
        .iter()
        .find(|l| l.starts_with("hendrycks_math\t"))
        .unwrap();
    assert!(hendrycks.contains("\ttest,train\t"), "{hendrycks}");
    let putnam = lines
        .iter()
        .find(|l| l.starts_with("putnam-bench\t"))
        .unwrap();
    assert!(putnam.contains("lean4/formal-proof"), "{putnam}");
}
