//! `--num_jobs` on the real local Slurm (three slurmd nodes, `just services`) with the embedded
//! model (deterministic): the parts of an evaluation grouped into array tasks that spread over
//! the nodes, a task stopped by the time-limit warning resuming after its requeue, a hard
//! cancelled task reported by the summary instead of being left out, and a resubmission of only
//! what is unfinished. Every (problem, seed) ends exactly once and the metrics equal the
//! `--cluster local` run's.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::{missing_service, read_records, run, shared, stderr, stdout, tally};
use crate::slurm_preempt::{idle_nodes, jobs, model, skip_requeue_delay, time_limit_warning};

fn eval(d: &Path, model: &Path, extra: &[&str]) -> std::process::Output {
    let mut cmd = tally();
    cmd.current_dir(d).args([
        "eval",
        "--server_type=local",
        &format!("--model={}", model.display()),
        "--benchmarks=gsm8k:1,aime24:1",
        "--num_chunks=3",
        "--data_dir=data",
        "--not_exclusive",
        "++prompt_template=qwen-instruct",
        "++max_samples=6",
        "++inference.tokens_to_generate=24",
        "++max_concurrent_requests=2",
    ]);
    cmd.args(extra);
    run(&mut cmd)
}

const FILES: [&str; 2] = ["output.jsonl", "output-rs0.jsonl"];

fn assert_same_as_local(d: &Path, out: &str) {
    for b in ["gsm8k", "aime24"] {
        for f in FILES {
            let want = read_records(&d.join(format!("local/eval-results/{b}/{f}")));
            let got = read_records(&d.join(format!("{out}/eval-results/{b}/{f}")));
            let ids = |v: &[serde_json::Map<String, serde_json::Value>]| -> Vec<String> {
                v.iter().map(|r| r["id"].to_string()).collect()
            };
            let unique: BTreeSet<String> = ids(&got).into_iter().collect();
            assert_eq!(unique.len(), got.len(), "{out}/{b}/{f}: a problem twice");
            assert_eq!(ids(&got), ids(&want), "{out}/{b}/{f}");
            assert_eq!(
                got, want,
                "{out}/{b}/{f}: records differ from the local run's"
            );
        }
    }
    let metrics = |p: &str| -> serde_json::Value {
        serde_json::from_str(
            &std::fs::read_to_string(d.join(p).join("eval-results/metrics.json")).unwrap(),
        )
        .unwrap()
    };
    assert_eq!(metrics(out), metrics("local"), "{out}");
}

/// Waits until `n` tasks of the array named `name` run at once; returns their ids and nodes.
fn running_tasks(name: &str, n: usize) -> Vec<(String, String)> {
    let t0 = Instant::now();
    loop {
        let r: Vec<(String, String)> = jobs(name)
            .into_iter()
            .filter(|(_, s, j, _)| s == "RUNNING" && j == name)
            .map(|(id, _, _, node)| (id, node))
            .collect();
        if r.len() >= n {
            // Past the batch shell's `exec`: a signal reaches tally.
            std::thread::sleep(Duration::from_secs(2));
            return r;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(180),
            "{n} tasks of {name} never ran together: {:?}",
            jobs(name)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn gone(prefix: &str) -> bool {
    jobs(prefix).is_empty()
}

#[cfg(feature = "local")]
#[test]
fn num_jobs_arrays_spread_over_nodes_resume_and_report_what_did_not_finish() {
    let _model = crate::common::model_cpu();
    let Some(model) = model() else {
        missing_service("no cached SmolLM2 model (scripts/llama-server.sh model)");
        return;
    };
    if idle_nodes() < 3 {
        missing_service("fewer than 3 idle Slurm nodes (SLURM_NODES=3 slurm-local.sh start)");
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
    let local = eval(d, &model, &["--output_dir=local"]);
    assert!(local.status.success(), "{}", stderr(&local));

    // --num_jobs=1 with 3 chunks: 3 array tasks, task i running chunk i of both benchmarks.
    let grouped = [
        "--cluster=slurm",
        "--expname=nj",
        "--output_dir=grouped",
        "--num_jobs=1",
    ];
    let first = eval(d, &model, &grouped);
    let text = stdout(&first);
    assert!(first.status.success(), "{text}\n{}", stderr(&first));
    assert!(text.contains("3 tasks"), "{text}");
    for c in 0..3 {
        // Both benchmarks' chunk c in one task.
        let task = |b: &str| {
            let line = text
                .lines()
                .find(|l| l.starts_with(&format!("submitted nj-{b}-chunk{c} ")))
                .unwrap_or_else(|| panic!("{b} chunk {c} not submitted:\n{text}"));
            line.rsplit('_').next().unwrap().to_string()
        };
        assert_eq!(task("gsm8k"), task("aime24"), "{text}");
    }
    let running = running_tasks("nj-parts", 3);
    let nodes: BTreeSet<&str> = running.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(
        nodes.len(),
        3,
        "the tasks did not spread over the nodes: {running:?}"
    );
    // The time-limit warning: the task stops, requeues itself and resumes.
    let warned = &running[0].0;
    time_limit_warning(warned);
    skip_requeue_delay(warned);
    // The same command with --wait: nothing is sent again, the live status ends complete.
    let mut with_wait = grouped.to_vec();
    with_wait.push("--wait");
    let again = eval(d, &model, &with_wait);
    let text = stdout(&again);
    assert!(again.status.success(), "{text}\n{}", stderr(&again));
    assert_eq!(
        text.matches("submitted nj-").count(),
        1,
        "only the summary:\n{text}"
    );
    assert!(text.contains("every job completed"), "{text}");
    assert!(text.contains("Slurm jobs ("), "no status table:\n{text}");
    assert_same_as_local(d, "grouped");
    let status = stdout(&run(tally().current_dir(d).args(["status", "grouped"])));
    let outputs: Vec<&str> = status.lines().filter(|l| l.contains(".jsonl")).collect();
    assert_eq!(outputs.len(), 4, "{status}");
    assert!(
        outputs
            .iter()
            .all(|l| l.contains(" done ") && l.contains("6/6")),
        "{status}"
    );
    assert!(
        status.contains("requeued 1x"),
        "the warned task's requeue is not shown:\n{status}"
    );
    for (id, _) in &running {
        assert!(status.contains(id.as_str()), "{id} missing:\n{status}");
    }

    // --num_jobs=-1: one task per benchmark. aime24's task is cancelled outright: the summary
    // (afterany) runs, names it and fails instead of summarizing gsm8k alone.
    let per_bench = [
        "--cluster=slurm",
        "--expname=nb",
        "--output_dir=perbench",
        "--num_jobs=-1",
    ];
    let first = eval(d, &model, &per_bench);
    let text = stdout(&first);
    assert!(first.status.success(), "{text}\n{}", stderr(&first));
    assert!(text.contains("2 tasks"), "{text}");
    let aime = text
        .lines()
        .find(|l| l.starts_with("submitted nb-aime24-chunk0 "))
        .and_then(|l| l.rsplit(' ').next())
        .unwrap_or_else(|| panic!("{text}"))
        .to_string();
    running_tasks("nb-parts", 2);
    assert!(Command::new("scancel")
        .arg(&aime)
        .status()
        .unwrap()
        .success());
    let t0 = Instant::now();
    while !gone("nb-") {
        assert!(t0.elapsed() < Duration::from_secs(300), "{:?}", jobs("nb-"));
        std::thread::sleep(Duration::from_millis(500));
    }
    let summary_log = std::fs::read_dir(d.join("perbench/eval-logs"))
        .unwrap()
        .flatten()
        .find(|e| e.file_name().to_string_lossy().starts_with("nb-summarize_"))
        .expect("the summary ran after the cancelled task");
    let log = std::fs::read_to_string(summary_log.path()).unwrap();
    assert!(
        log.contains("not summarized: aime24 did not finish"),
        "{log}"
    );
    assert!(!d.join("perbench/eval-results/metrics.json").exists());
    // Submitted again: only aime24's parts (one task) and the summary.
    let mut with_wait = per_bench.to_vec();
    with_wait.push("--wait");
    let again = eval(d, &model, &with_wait);
    let text = stdout(&again);
    assert!(again.status.success(), "{text}\n{}", stderr(&again));
    assert_eq!(text.matches("submitted nb-aime24-").count(), 3, "{text}");
    assert!(!text.contains("submitted nb-gsm8k"), "{text}");
    assert!(text.contains("1 tasks"), "{text}");
    assert_same_as_local(d, "perbench");
}
