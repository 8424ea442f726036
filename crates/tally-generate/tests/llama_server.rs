//! End-to-end tests: a real llama-server when `TALLY_LLAMA_URL` is set (start one with
//! `scripts/llama-server.sh start`, then `TALLY_LLAMA_URL=http://127.0.0.1:8181`), and `kill -9`
//! crash tests of a child process (`examples/crash_child.rs`), against the stand-in backend
//! always and against the server when it is there.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};
use tally_backend::{Backend, OpenAiCompatBackend, ServerType};
use tally_core::jsonl::read_jsonl;
use tally_core::overrides::Overrides;
use tally_core::progress::CollectingReporter;
use tally_generate::{load_prompt, passes, Generator, Job, SeedDefaults, SeedPlan, Settings};

fn llama_url() -> Option<String> {
    match std::env::var("TALLY_LLAMA_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
                panic!("a real-service test cannot run under CI: its service or data is missing");
            }
            eprintln!(
                "note: TALLY_LLAMA_URL is not set; skipping the llama-server part of this test"
            );
            None
        }
    }
}

fn problems(n: usize) -> Vec<Map<String, Value>> {
    (0..n)
        .map(|i| {
            json!({"id": format!("p{i}"), "problem": format!("What is {i} + {}?", i + 2), "expected_answer": (2 * i + 2).to_string()})
                .as_object()
                .unwrap()
                .clone()
        })
        .collect()
}

fn write_input(dir: &Path, n: usize) -> PathBuf {
    let path = dir.join("problems.jsonl");
    let text: String = problems(n)
        .into_iter()
        .map(|p| format!("{}\n", Value::Object(p)))
        .collect();
    std::fs::write(&path, text).unwrap();
    path
}

fn records(path: &Path) -> Vec<Map<String, Value>> {
    let read = read_jsonl(path).unwrap();
    assert!(
        read.torn_tail.is_none(),
        "{} has a torn tail",
        path.display()
    );
    read.lines.into_iter().map(|l| l.record).collect()
}

/// Every output file holds each problem exactly once, in order, with a status.
fn check_outputs(dir: &Path, n: usize, seeds: &[u64]) -> Vec<Vec<Map<String, Value>>> {
    seeds
        .iter()
        .map(|s| {
            let recs = records(&dir.join(format!("output-rs{s}.jsonl")));
            let ids: Vec<&str> = recs.iter().map(|r| r["id"].as_str().unwrap()).collect();
            let want: Vec<String> = (0..n).map(|i| format!("p{i}")).collect();
            assert_eq!(ids, want, "seed {s}: each problem exactly once, in order");
            for r in &recs {
                assert!(
                    r["status"].is_string(),
                    "seed {s}: record without status: {r:?}"
                );
                assert_eq!(r["seed"], json!(s));
            }
            assert!(
                !dir.join(format!("output-rs{s}.jsonl.tally-journal"))
                    .exists()
                    || recs.iter().any(|r| r["status"] == "request_error")
            );
            recs
        })
        .collect()
}

fn child_exe() -> PathBuf {
    // target/<profile>/deps/llama_server-<hash> → target/<profile>/examples/crash_child
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    let path = dir.join("examples").join("crash_child");
    if !path.exists() {
        // `cargo test` builds examples, `cargo test --test llama_server` does not.
        let status = Command::new(env!("CARGO"))
            .args(["build", "-p", "tally-generate", "--example", "crash_child"])
            .env("CARGO_TARGET_DIR", dir.parent().unwrap())
            .status()
            .unwrap();
        assert!(
            status.success() && path.exists(),
            "cannot build {}",
            path.display()
        );
    }
    path
}

/// Pseudo-random milliseconds in `[lo, hi)`, seeded from the clock (printed for reruns).
fn jitter(lo: u64, hi: u64) -> u64 {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    lo + (n.wrapping_mul(2654435761) >> 7) % (hi - lo)
}

/// Kills the child with SIGKILL at random moments, `trials` times, then lets it finish.
fn crash_and_finish(args: &[String], trials: usize, window_ms: (u64, u64)) {
    let exe = child_exe();
    for trial in 0..trials {
        let mut child = Command::new(&exe).args(args).spawn().unwrap();
        let after = jitter(window_ms.0, window_ms.1);
        std::thread::sleep(Duration::from_millis(after));
        let finished = child.try_wait().unwrap().is_some();
        child.kill().ok(); // SIGKILL on Unix
        let status = child.wait().unwrap();
        let journalled: usize = std::fs::read_dir(&args[1])
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter(|e| e.file_name().to_string_lossy().ends_with(".tally-journal"))
                    .map(|e| {
                        let text = std::fs::read_to_string(e.path()).unwrap_or_default();
                        text.lines().count().saturating_sub(1)
                    })
                    .sum()
            })
            .unwrap_or(0);
        eprintln!(
            "trial {trial}: killed after {after} ms ({}; {journalled} samples in journals)",
            if finished {
                "had already finished"
            } else {
                "mid-run"
            }
        );
        if finished {
            assert!(status.success(), "child failed: {status}");
        }
    }
    let start = Instant::now();
    let out = Command::new(&exe).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "final run failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!(
        "final run: {} in {:?}",
        String::from_utf8_lossy(&out.stdout).trim(),
        start.elapsed()
    );
}

#[test]
fn kill_9_at_random_moments_loses_and_repeats_nothing_stand_in_backend() {
    let dir = tempfile::tempdir().unwrap();
    let n = 150;
    let input = write_input(dir.path(), n);
    let out = dir.path().join("out");
    let args: Vec<String> = [
        "--out",
        out.to_str().unwrap(),
        "--input",
        input.to_str().unwrap(),
        "--seeds",
        "0,1,2",
        "--concurrency",
        "8",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    crash_and_finish(&args, 6, (30, 400));
    let all = check_outputs(&out, n, &[0, 1, 2]);
    for (s, recs) in all.iter().enumerate() {
        for r in recs {
            assert_eq!(r["status"], "ok");
            assert!(
                r["generation"]
                    .as_str()
                    .unwrap()
                    .starts_with(&format!("seed {s}: ")),
                "{r:?}"
            );
        }
    }
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        leftovers.len(),
        6,
        "outputs and run records only: {leftovers:?}"
    );
}

#[test]
fn llama_server_8_problems_3_seeds_then_kill_9_resume() {
    let Some(url) = llama_url() else { return };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let backend = OpenAiCompatBackend::builder(url.clone(), ServerType::LlamaCpp)
        .build()
        .unwrap();
    let model = rt
        .block_on(backend.model_name())
        .expect("llama-server answers /v1/models");

    // 1. In-process: 8 problems × 3 seeds, short budget.
    let dir = tempfile::tempdir().unwrap();
    let user = Overrides::parse([
        "++input_file=unused",
        "++prompt_template=qwen-instruct",
        "++inference.tokens_to_generate=16",
        "++max_concurrent_requests=4",
    ])
    .unwrap();
    let settings = Settings::from_overrides(&user).unwrap();
    let prompt = load_prompt(&settings, Some("generic/math")).unwrap();
    let plan = SeedPlan::from_flags(Some(3), None, 0).unwrap();
    let passes = passes(&plan, SeedDefaults::Generate, &user).unwrap();
    let job = Job::builder(&settings)
        .inputs(problems(8))
        .prompt(prompt)
        .passes(passes)
        .model(model.clone(), ServerType::LlamaCpp)
        .output_dir(dir.path())
        .build()
        .unwrap();
    let reporter = CollectingReporter::default();
    let summary = rt
        .block_on(Generator::new(&job, &backend, &reporter).run())
        .unwrap();
    eprintln!(
        "llama-server: {summary:?}\nwarnings: {:?}",
        reporter.warnings()
    );
    assert_eq!(summary.generated, 24);
    let all = check_outputs(dir.path(), 8, &[0, 1, 2]);
    let mut statuses = BTreeMap::new();
    for r in all.iter().flatten() {
        *statuses
            .entry(r["status"].as_str().unwrap().to_string())
            .or_insert(0) += 1;
        assert!(r["generation"].is_string());
        assert!(r["num_generated_tokens"].as_u64().unwrap() <= 16);
    }
    eprintln!("statuses: {statuses:?}");
    assert!(
        statuses.keys().all(|k| k == "ok" || k == "truncated"),
        "{statuses:?}"
    );
    // Idempotent: a rerun sends nothing.
    let again = rt
        .block_on(Generator::new(&job, &backend, &reporter).run())
        .unwrap();
    assert_eq!(again.generated, 0);

    // 2. kill -9 a child talking to the server at random moments, then finish.
    let dir = tempfile::tempdir().unwrap();
    let n = 16;
    let input = write_input(dir.path(), n);
    let out = dir.path().join("out");
    let args: Vec<String> = [
        "--out",
        out.to_str().unwrap(),
        "--input",
        input.to_str().unwrap(),
        "--seeds",
        "0,1,2",
        "--url",
        &url,
        "--tokens",
        "24",
        "--concurrency",
        "4",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    // The first samples take a few seconds on a CPU server: kill late enough to hit a partial journal.
    crash_and_finish(&args, 3, (6000, 15000));
    check_outputs(&out, n, &[0, 1, 2]);
}
