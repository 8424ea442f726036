//! `tally eval`: the seed document's `ns eval` commands parse unchanged (`ns` → `tally`) and plan
//! the files and seeds of spec §1.1; a real evaluation hosts llama.cpp's server itself, survives
//! an interrupt, and a rerun finishes without redoing anything.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::common::{read_records, run, shared, stderr, stdout, tally};

fn plan(args: &[&str]) -> String {
    let out = run(tally().args(["eval", "--dry-run"]).args(args));
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
}

const COT: &[&str] = &[
    "--cluster=local",
    "--model=/workspace/openmath-nemotron-1.5b-trtllm",
    "--server_type=trtllm",
    "--output_dir=/workspace/openmath-nemotron-1.5b-eval-cot",
    "--benchmarks=comp-math-24-25:64",
    "--server_gpus=1",
    "--num_jobs=1",
    "--skip_greedy",
    "++prompt_template=qwen-instruct",
    "++prompt_config=generic/math",
    "++inference.tokens_to_generate=32768",
    "++inference.temperature=0.6",
];

#[test]
fn the_seed_documents_cot_command_plans_64_seeds_at_temperature_0_6() {
    let text = plan(COT);
    assert!(
        text.contains(
            "trtllm-serve /workspace/openmath-nemotron-1.5b-trtllm --port 5000 --tp_size 1"
        ),
        "{text}"
    );
    let dir = "/workspace/openmath-nemotron-1.5b-eval-cot/eval-results/comp-math-24-25";
    for s in 0..64 {
        // Seeded passes get `random_seed=s temperature=0.7` before the user's ++ args, so the
        // user's temperature wins (spec §1.1).
        let line = format!("{dir}/output-rs{s}.jsonl: random_seed={s} temperature=0.6 top_p=0.95 top_k=0 tokens_to_generate=32768");
        assert!(text.contains(&line), "missing {line}\n{text}");
    }
    assert!(!text.contains("output-rs64"));
    assert!(
        !text.contains(&format!("{dir}/output.jsonl")),
        "--skip_greedy: no greedy pass"
    );
    assert!(
        !Path::new("/workspace/openmath-nemotron-1.5b-eval-cot").exists(),
        "a dry run writes nothing"
    );
}

#[test]
fn the_tir_and_hle_commands_parse_and_plan() {
    let tir = plan(&[
        "--cluster=local",
        "--model=/workspace/openmath-nemotron-1.5b-trtllm",
        "--server_type=trtllm",
        "--output_dir=/workspace/eval-tir",
        "--benchmarks=comp-math-24-25:64",
        "--server_gpus=1",
        "--num_jobs=1",
        "--skip_greedy",
        "++prompt_template=openmath-instruct",
        "++prompt_config=openmath/tir",
        "++inference.tokens_to_generate=32768",
        "++inference.temperature=0.6",
        "++code_execution=true",
        "++server.code_execution.add_remaining_code_executions=true",
        "++total_code_executions_in_prompt=8",
    ]);
    assert!(
        tir.contains("prompt: config openmath/tir, template openmath-instruct"),
        "{tir}"
    );
    assert!(tir.contains("/workspace/eval-tir/eval-results/comp-math-24-25/output-rs63.jsonl: random_seed=63 temperature=0.6"), "{tir}");

    let hle = plan(&[
        "--cluster=local",
        "--model=/workspace/m",
        "--server_type=trtllm",
        "--output_dir=/workspace/eval-hle",
        "--benchmarks=hle:64",
        "--server_gpus=1",
        "--num_jobs=1",
        "--split=math",
        "--skip_greedy",
        "++prompt_template=qwen-instruct",
        "++inference.tokens_to_generate=32768",
        "++inference.temperature=0.6",
    ]);
    // The folder is the benchmark's name, not the split's.
    assert!(hle.contains("hle (split math)"), "{hle}");
    assert!(
        hle.contains("/workspace/eval-hle/eval-results/hle/output-rs0.jsonl"),
        "{hle}"
    );
}

#[test]
fn n_zero_is_greedy_only_and_user_args_apply_to_it_too() {
    let text = plan(&[
        "--server_type=vllm",
        "--server_address=http://127.0.0.1:5000",
        "--model=m",
        "--output_dir=/tmp/x",
        "--benchmarks=aime24:0,aime25:2",
    ]);
    assert!(
        text.contains("/tmp/x/eval-results/aime24/output.jsonl: random_seed=0 temperature=0 "),
        "{text}"
    );
    assert!(!text.contains("aime24/output-rs"), "{text}");
    assert!(
        text.contains("/tmp/x/eval-results/aime25/output-rs1.jsonl: random_seed=1 temperature=0.7"),
        "{text}"
    );
    let hot = plan(&[
        "--server_type=vllm",
        "--server_address=http://127.0.0.1:5000",
        "--model=m",
        "--output_dir=/tmp/x",
        "--benchmarks=aime24:0",
        "++inference.temperature=0.6",
    ]);
    assert!(
        hot.contains("aime24/output.jsonl: random_seed=0 temperature=0.6"),
        "{hot}"
    );
    // NeMo-Skills' parser requires name:N.
    let bad = run(tally().args([
        "eval",
        "--dry-run",
        "--server_type=vllm",
        "--server_address=http://x",
        "--output_dir=/tmp/x",
        "--benchmarks=aime24",
    ]));
    assert!(!bad.status.success());
}

fn llama_cached() -> Option<PathBuf> {
    let cache = std::env::var_os("TALLY_CACHE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/tally"));
    let bin = cache.join("llama-server/bin/llama-server");
    if bin.exists() {
        Some(bin)
    } else {
        if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
            panic!("a real-service test cannot run under CI: its service or data is missing");
        }
        eprintln!("note: no cached llama-server (scripts/llama-server.sh setup); skipping the hosted eval test");
        None
    }
}

/// Processes whose command line mentions `--port <port>` (the hosted server).
/// Every file under `dir`, recursively.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn servers_on(port: &str) -> usize {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| std::fs::read(e.ok()?.path().join("cmdline")).ok())
        .filter(|c| {
            let args: Vec<&[u8]> = c.split(|b| *b == 0).collect();
            args.iter()
                .any(|a| *a == b"llama-server" || a.ends_with(b"/llama-server"))
                && args
                    .windows(2)
                    .any(|w| w[0] == b"--port" && w[1] == port.as_bytes())
        })
        .count()
}

#[test]
fn a_hosted_eval_is_interrupted_and_resumed_to_complete_files() {
    let _model = crate::common::model_cpu();
    if llama_cached().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let prep = run(tally()
        .current_dir(d)
        .args(["prepare", "gsm8k", "--data_dir", "data", "--source"])
        .arg(shared().join("data/gsm8k")));
    assert!(prep.status.success(), "{}", stderr(&prep));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let args = [
        "eval",
        "--server_type=llamacpp",
        "--server_port",
        port.as_str(),
        "--output_dir=out",
        "--benchmarks=gsm8k:2",
        "--data_dir=data",
        "++prompt_template=qwen-instruct",
        "++max_samples=6",
        "++inference.tokens_to_generate=48",
        "++max_concurrent_requests=2",
    ];
    // Samples finished so far, over every pass: journal entries (a journal's first line is its
    // header) plus the lines of finished outputs (a finished pass's journal is removed).
    let results = d.join("out/eval-results/gsm8k");
    let progress = || -> usize {
        std::fs::read_dir(&results).map_or(0, |entries| {
            entries
                .filter_map(|e| {
                    let path = e.ok()?.path();
                    let name = path.file_name()?.to_str()?.to_string();
                    let lines = std::fs::read_to_string(&path).ok()?.lines().count();
                    if name.ends_with(".tally-journal") {
                        Some(lines.saturating_sub(1))
                    } else if name.starts_with("output") && name.ends_with(".jsonl") {
                        Some(lines)
                    } else {
                        None
                    }
                })
                .sum()
        })
    };
    const TOTAL: usize = 18; // 6 problems × (greedy + 2 seeds)
                             // What a run that stopped making progress left behind: its exit, its stderr, the files.
    let diagnose = |child: &mut std::process::Child, log: &Path| -> String {
        let status = child.try_wait().ok().flatten();
        let err = std::fs::read_to_string(log).unwrap_or_default();
        let tail: String = err
            .chars()
            .rev()
            .take(3000)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let mut files = Vec::new();
        for e in walk(&d.join("out")) {
            files.push(format!(
                "{} ({} bytes)",
                e.display(),
                e.metadata().map_or(0, |m| m.len())
            ));
        }
        format!(
            "exit: {status:?}\nstderr tail:\n{tail}\nfiles:\n{}",
            files.join("\n")
        )
    };
    let wait_for = |n: usize, child: &mut std::process::Child, log: &Path| {
        let started = Instant::now();
        while progress() < n {
            // Generous: on a loaded 2-core CI machine a hosted server's start and its first
            // samples share the cores with the other tests' servers.
            if started.elapsed() > Duration::from_secs(360)
                || child.try_wait().ok().flatten().is_some()
            {
                panic!("no progress\n{}", diagnose(child, log));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    let spawn = |log: &Path| {
        tally()
            .current_dir(d)
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(log).unwrap())
            .spawn()
            .unwrap()
    };
    // 1. SIGKILL once samples are journalled: the server goes with tally (parent-death signal).
    let log1 = d.join("run1.stderr");
    let mut child = spawn(&log1);
    wait_for(1, &mut child, &log1);
    child.kill().unwrap();
    child.wait().unwrap();
    let started = Instant::now();
    while servers_on(&port) > 0 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the hosted server outlived a SIGKILLed tally"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // 2. Ctrl-C (SIGINT) after one more sample: tally stops its server and exits 130.
    let done = progress();
    if done < TOTAL {
        let log2 = d.join("run2.stderr");
        let mut child = spawn(&log2);
        wait_for(done + 1, &mut child, &log2);
        std::process::Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(130));
        assert_eq!(servers_on(&port), 0, "the hosted server was stopped");
    }

    let out = run(tally().current_dir(d).args(args));
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("output.jsonl: ") && text.contains("reused"),
        "{text}"
    );
    for f in ["output.jsonl", "output-rs0.jsonl", "output-rs1.jsonl"] {
        let recs = read_records(&d.join("out/eval-results/gsm8k").join(f));
        assert_eq!(recs.len(), 6, "{f}");
        for r in &recs {
            assert!(
                r["status"].is_string()
                    && r.contains_key("is_correct")
                    && r.contains_key("predicted_answer"),
                "{r:?}"
            );
        }
    }
    assert!(text.contains("--- gsm8k ---"), "{text}");
    assert!(d.join("out/eval-results/metrics.json").exists());
    assert!(d.join("out/eval-results/report.html").exists());
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(d.join("out/eval-results/gsm8k/tally-eval-manifest.json"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["seeds"], serde_json::json!([null, 0, 1]));
    assert_eq!(servers_on(&port), 0);

    // Idempotent: a third run generates nothing.
    let again = run(tally().current_dir(d).args(args));
    let text = stdout(&again);
    assert_eq!(text.matches("already complete").count(), 3, "{text}");
}

/// The embedded model (`--server_type local`, built with `--features tally/local`): killed with
/// SIGKILL mid-run, the rerun completes every file without doubling a sample.
#[cfg(feature = "local")]
#[test]
fn an_eval_with_the_embedded_model_survives_kill_9() {
    let _model = crate::common::model_cpu();
    let cache = std::env::var_os("TALLY_CACHE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/tally"));
    let model = cache.join("llama-server/models/SmolLM2-135M-Instruct.Q4_1.gguf");
    if !model.exists() {
        crate::common::missing_service("no cached SmolLM2 model");
        eprintln!(
            "note: {} missing (scripts/llama-server.sh model); skipping",
            model.display()
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let prep = run(tally()
        .current_dir(d)
        .args(["prepare", "gsm8k", "--data_dir", "data", "--source"])
        .arg(shared().join("data/gsm8k")));
    assert!(prep.status.success(), "{}", stderr(&prep));
    let model_arg = format!("--model={}", model.display());
    let args = [
        "eval",
        "--server_type=local",
        model_arg.as_str(),
        "--output_dir=out",
        "--benchmarks=gsm8k:2",
        "--data_dir=data",
        "++prompt_template=qwen-instruct",
        "++max_samples=5",
        "++inference.tokens_to_generate=40",
        "++max_concurrent_requests=4",
    ];
    let mut child = tally()
        .current_dir(d)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let journal = d.join("out/eval-results/gsm8k/output.jsonl.tally-journal");
    let started = Instant::now();
    while !std::fs::read_to_string(&journal).is_ok_and(|j| j.lines().count() >= 3) {
        assert!(started.elapsed() < Duration::from_secs(180), "no progress");
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let out = run(tally().current_dir(d).args(args));
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("reused"), "{}", stdout(&out));
    for f in ["output.jsonl", "output-rs0.jsonl", "output-rs1.jsonl"] {
        let recs = read_records(&d.join("out/eval-results/gsm8k").join(f));
        let unique: std::collections::BTreeSet<&str> = recs
            .iter()
            .map(|r| r["problem"].as_str().unwrap())
            .collect();
        assert_eq!((recs.len(), unique.len()), (5, 5), "{f}: each problem once");
        for r in &recs {
            assert!(
                matches!(r["status"].as_str(), Some("ok" | "truncated" | "no_answer")),
                "{r:?}"
            );
            assert!(
                r["generation"].as_str().is_some_and(|g| !g.is_empty()),
                "{r:?}"
            );
        }
    }
    let manifest =
        std::fs::read_to_string(d.join("out/eval-results/gsm8k/tally-eval-manifest.json")).unwrap();
    assert!(
        manifest.contains("\"server_type\": \"local\""),
        "{manifest}"
    );
}

/// Whether a Slurm controller answers with an idle node (`just services` starts the one-node
/// cluster of ../shared/tools/slurm-local.sh).
fn slurm_idle() -> bool {
    let idle = std::process::Command::new("sinfo")
        .args(["-h", "-o", "%t"])
        .output()
        .is_ok_and(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).contains("idle"));
    if !idle {
        crate::common::missing_service(
            "no idle Slurm node (bash ../shared/tools/slurm-local.sh start)",
        );
    }
    idle
}

#[test]
fn an_eval_on_slurm_runs_one_job_per_benchmark_then_the_summary() {
    let _model = crate::common::model_cpu();
    if llama_cached().is_none() || !slurm_idle() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for b in ["gsm8k", "aime24"] {
        let prep = run(tally()
            .current_dir(d)
            .args(["prepare", b, "--data_dir", "data", "--source"])
            .arg(shared().join("data").join(b)));
        assert!(prep.status.success(), "{}", stderr(&prep));
    }
    let eval_args = |wait: bool| {
        let mut cmd = tally();
        cmd.current_dir(d).args(["eval", "--cluster=slurm"]);
        if wait {
            cmd.arg("--wait");
        }
        cmd.args([
            "--expname=t",
            "--server_type=llamacpp",
            "--server_port=0",
            "--output_dir=out",
            "--benchmarks=gsm8k:1,aime24:0",
            "--data_dir=data",
            "--not_exclusive",
            "++prompt_template=qwen-instruct",
            "++max_samples=2",
            "++inference.tokens_to_generate=16",
        ]);
        cmd
    };
    // A first submission, then the same command again while its jobs are queued or running
    // (now with --wait): nothing is submitted twice, the summary waits for the first jobs.
    let first = run(&mut eval_args(false));
    assert!(first.status.success(), "{}", stderr(&first));
    assert_eq!(
        stdout(&first).matches("submitted t-").count(),
        3,
        "{}",
        stdout(&first)
    );
    let out = run(&mut eval_args(true));
    let again = stdout(&out);
    assert!(
        !again.contains("submitted t-gsm8k") && !again.contains("submitted t-aime24"),
        "a benchmark job was submitted twice:\n{again}"
    );
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    assert!(text.contains("every job completed"), "{text}");
    // Everything is final: a third submission sends only the summary.
    let third = run(&mut eval_args(false));
    assert_eq!(
        stdout(&third)
            .matches("outputs complete, nothing to submit")
            .count(),
        2,
        "{}",
        stdout(&third)
    );
    let status = run(tally().current_dir(d).args(["status", "out"]));
    let status = stdout(&status);
    let done = |l: &&str| l.contains(" done ");
    let outputs = status.lines().filter(|l| l.contains(".jsonl")).filter(done);
    assert_eq!(outputs.count(), 3, "{status}");
    assert!(
        status
            .lines()
            .filter(|l| l.contains("t-gsm8k "))
            .any(|l| done(&l)),
        "{status}"
    );
    assert_eq!(
        read_records(&d.join("out/eval-results/gsm8k/output-rs0.jsonl")).len(),
        2
    );
    assert_eq!(
        read_records(&d.join("out/eval-results/aime24/output.jsonl")).len(),
        2
    );
    assert!(!d.join("out/eval-results/aime24/output-rs0.jsonl").exists());
    // The summary job ran after both and wrote the metrics of both benchmarks.
    let metrics: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(d.join("out/eval-results/metrics.json")).unwrap(),
    )
    .unwrap();
    assert!(
        metrics.get("gsm8k").is_some() && metrics.get("aime24").is_some(),
        "{metrics}"
    );
    let jobs = std::fs::read_to_string(d.join("out/eval-logs/t-slurm-jobs.json")).unwrap();
    assert!(jobs.contains("summarize"), "{jobs}");
    assert!(d.join("out/eval-logs/scripts").read_dir().unwrap().count() >= 3);
}
