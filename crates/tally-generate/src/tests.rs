//! Engine tests against a scripted in-process backend.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{json, Map, Value};
use tally_backend::{
    Backend, BackendError, FinishReason, GenerationRequest, GenerationResponse, Prompt,
};
use tally_core::jsonl::read_jsonl;
use tally_core::overrides::Overrides;
use tally_core::progress::CollectingReporter;
use tally_core::{NoopReporter, ServerType};

use crate::*;

type Script =
    dyn Fn(&str, &GenerationRequest) -> Result<GenerationResponse, BackendError> + Send + Sync;

/// Answers by a script over (prompt text, request); counts calls; can hang after N calls to
/// simulate a process killed mid-run.
struct Fake {
    script: Box<Script>,
    calls: AtomicUsize,
    hang_after: Option<usize>,
    seen: Mutex<Vec<GenerationRequest>>,
}

impl Fake {
    fn new(
        f: impl Fn(&str, &GenerationRequest) -> Result<GenerationResponse, BackendError>
            + Send
            + Sync
            + 'static,
    ) -> Fake {
        Fake {
            script: Box::new(f),
            calls: AtomicUsize::new(0),
            hang_after: None,
            seen: Mutex::new(vec![]),
        }
    }
    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Backend for Fake {
    async fn generate(&self, req: &GenerationRequest) -> Result<GenerationResponse, BackendError> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        self.seen.lock().unwrap().push(req.clone());
        if self.hang_after.is_some_and(|h| n >= h) {
            futures::future::pending::<()>().await;
        }
        tokio::task::yield_now().await;
        let text = match &req.prompt {
            Prompt::Text(t) => t.clone(),
            Prompt::Chat(ms) => ms.last().map(|m| m.content.clone()).unwrap_or_default(),
        };
        (self.script)(&text, req)
    }
    async fn model_name(&self) -> Result<String, BackendError> {
        Ok("fake".into())
    }
}

fn resp(text: &str, tokens: u64, finish: FinishReason) -> GenerationResponse {
    GenerationResponse {
        text: text.into(),
        num_generated_tokens: Some(tokens),
        num_prompt_tokens: None,
        finish_reason: finish,
        stop_reason: None,
        reasoning_content: None,
        reasoning: None,
        model: "fake".into(),
        elapsed: Duration::ZERO,
        attempts: 1,
        max_tokens: 0,
    }
}

/// Seed-dependent answers: `\boxed{<problem number + seed>}`.
fn seeded_answer(text: &str, req: &GenerationRequest) -> Result<GenerationResponse, BackendError> {
    let n: u64 = text
        .rsplit("P")
        .next()
        .and_then(|t| t.split('<').next())
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(0);
    Ok(resp(
        &format!(
            "\\boxed{{{}}}<|im_end|>tail",
            n + req.params.seed.unwrap_or(0) * 100
        ),
        3,
        FinishReason::Stop,
    ))
}

fn problems(n: usize) -> Vec<Map<String, Value>> {
    (0..n)
        .map(|i| json!({"id": format!("q{i}"), "problem": format!("P{i}"), "expected_answer": i.to_string()}).as_object().unwrap().clone())
        .collect()
}

fn job(dir: &Path, user: &[&str], seeds: SeedPlan, n: usize) -> Job {
    let mut args = vec![
        "++input_file=x.jsonl",
        "++prompt_template=qwen-instruct",
        "++max_concurrent_requests=4",
    ];
    args.extend_from_slice(user);
    let user = Overrides::parse(args).unwrap();
    let settings = Settings::from_overrides(&user).unwrap();
    let prompt = load_prompt(&settings, Some("generic/math")).unwrap();
    let passes = passes(&seeds, SeedDefaults::Generate, &user).unwrap();
    Job::builder(&settings)
        .inputs(problems(n))
        .prompt(prompt)
        .passes(passes)
        .model("fake", ServerType::Vllm)
        .output_dir(dir)
        .sync_every(2)
        .build()
        .unwrap()
}

fn records(path: &Path) -> Vec<Map<String, Value>> {
    read_jsonl(path)
        .unwrap()
        .lines
        .into_iter()
        .map(|l| l.record)
        .collect()
}

fn seeds(list: &str) -> SeedPlan {
    SeedPlan::from_flags(None, Some(list), 0).unwrap()
}

#[tokio::test]
async fn records_keep_dataset_order_and_nemo_key_order() {
    let dir = tempfile::tempdir().unwrap();
    let job = job(dir.path(), &[], seeds("0,1"), 6);
    let fake = Fake::new(seeded_answer);
    let s = Generator::new(&job, &fake, &NoopReporter)
        .run()
        .await
        .unwrap();
    assert_eq!((s.generated, fake.calls()), (12, 12));
    let recs = records(&dir.path().join("output-rs1.jsonl"));
    assert_eq!(recs.len(), 6);
    for (i, r) in recs.iter().enumerate() {
        let keys: Vec<&str> = r.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "num_generated_tokens",
                "generation",
                "id",
                "problem",
                "expected_answer",
                "status",
                "seed"
            ]
        );
        assert_eq!(r["id"], format!("q{i}"));
        // Trimmed at the template's stop phrase.
        assert_eq!(r["generation"], format!("\\boxed{{{}}}", i + 100));
        assert_eq!(r["seed"], 1);
    }
    assert!(!dir.path().join("output-rs1.jsonl.tally-journal").exists());
    assert!(dir.path().join("output-rs1.jsonl.tally-run.json").exists());
}

#[tokio::test]
async fn seeded_passes_get_ns_generate_defaults_and_user_args_win() {
    let dir = tempfile::tempdir().unwrap();
    let job = job(
        dir.path(),
        &["++inference.top_p=0.5", "++inference.tokens_to_generate=64"],
        seeds("3,7"),
        2,
    );
    let fake = Fake::new(seeded_answer);
    Generator::new(&job, &fake, &NoopReporter)
        .run()
        .await
        .unwrap();
    let seen = fake.seen.lock().unwrap().clone();
    let mut sent: Vec<(Option<u64>, f64, i64, f64, u32)> = seen
        .iter()
        .map(|r| {
            (
                r.params.seed,
                r.params.temperature,
                r.params.top_k,
                r.params.top_p,
                r.params.max_tokens,
            )
        })
        .collect();
    sent.sort_by_key(|s| s.0);
    assert_eq!(
        sent,
        vec![
            (Some(3), 1.0, 0, 0.5, 64),
            (Some(3), 1.0, 0, 0.5, 64),
            (Some(7), 1.0, 0, 0.5, 64),
            (Some(7), 1.0, 0, 0.5, 64)
        ]
    );
    assert_eq!(
        seen[0].params.stop,
        vec!["<|im_end|>".to_string(), "<|endoftext|>".to_string()]
    );

    // No seed flags: one greedy pass into output.jsonl, seed 0 sent, no `seed` key.
    let dir = tempfile::tempdir().unwrap();
    let job = super::tests::job(dir.path(), &[], SeedPlan::unseeded(), 1);
    let fake = Fake::new(seeded_answer);
    Generator::new(&job, &fake, &NoopReporter)
        .run()
        .await
        .unwrap();
    let r = &fake.seen.lock().unwrap()[0];
    assert_eq!((r.params.seed, r.params.temperature), (Some(0), 0.0));
    let recs = records(&dir.path().join("output.jsonl"));
    assert!(!recs[0].contains_key("seed"));
}

#[tokio::test]
async fn every_failure_kind_is_a_status_with_an_error_never_an_empty_generation() {
    let dir = tempfile::tempdir().unwrap();
    let job = job(dir.path(), &[], SeedPlan::unseeded(), 5);
    let fake = Fake::new(|text, _| {
        let url = "http://fake/v1/completions".to_string();
        if text.contains("P0") {
            Ok(resp("fine<|im_end|>", 2, FinishReason::Stop))
        } else if text.contains("P1") {
            Ok(resp("and so on and so on", 16, FinishReason::Length))
        } else if text.contains("P2") {
            Err(BackendError::Http {
                url,
                status: 503,
                attempts: 4,
                body: "busy".into(),
            })
        } else if text.contains("P3") {
            Err(BackendError::Timeout {
                url,
                timeout: Duration::from_secs(1),
                attempts: 1,
            })
        } else {
            Err(BackendError::ContextExceeded {
                url,
                message: "too long".into(),
            })
        }
    });
    let reporter = CollectingReporter::default();
    let s = Generator::new(&job, &fake, &reporter).run().await.unwrap();
    assert_eq!(s.failures, 3);
    let recs = records(&dir.path().join("output.jsonl"));
    let statuses: Vec<&str> = recs.iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(
        statuses,
        [
            "ok",
            "truncated",
            "request_error",
            "timeout",
            "context_exceeded"
        ]
    );
    assert_eq!(recs[1]["generation"], "and so on and so on");
    for r in &recs[2..] {
        assert_eq!(r["generation"], Value::Null);
        assert!(
            r["error"].as_str().unwrap().contains("http://fake"),
            "{r:?}"
        );
    }
    assert!(recs[0].get("error").is_none());
    assert!(reporter
        .warnings()
        .iter()
        .any(|w| w.contains("request_error")));
}

#[tokio::test]
async fn transient_failures_are_retried_by_the_next_run_and_only_they() {
    let dir = tempfile::tempdir().unwrap();
    let job = job(dir.path(), &[], seeds("0"), 4);
    let flaky = Fake::new(|text, req| {
        if text.contains("P2") {
            Err(BackendError::Http {
                url: "http://fake".into(),
                status: 500,
                attempts: 4,
                body: String::new(),
            })
        } else {
            seeded_answer(text, req)
        }
    });
    Generator::new(&job, &flaky, &NoopReporter)
        .run()
        .await
        .unwrap();
    let out = dir.path().join("output-rs0.jsonl");
    assert_eq!(records(&out)[2]["status"], "request_error");
    assert!(dir.path().join("output-rs0.jsonl.tally-journal").exists());

    let healthy = Fake::new(seeded_answer);
    let s = Generator::new(&job, &healthy, &NoopReporter)
        .run()
        .await
        .unwrap();
    assert_eq!((healthy.calls(), s.reused), (1, 3));
    let recs = records(&out);
    assert_eq!(recs.len(), 4);
    assert!(recs.iter().all(|r| r["status"] == "ok"));
    assert!(!dir.path().join("output-rs0.jsonl.tally-journal").exists());

    let idle = Fake::new(seeded_answer);
    Generator::new(&job, &idle, &NoopReporter)
        .run()
        .await
        .unwrap();
    assert_eq!(idle.calls(), 0, "a finished matching output is left alone");
}

#[tokio::test]
async fn resume_after_a_crash_with_a_torn_journal_loses_nothing_and_repeats_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let n = 20;
    let job = job(dir.path(), &[], seeds("0,1"), n);
    // "Crash": the backend stops answering after 15 calls and the run is abandoned.
    let mut dying = Fake::new(seeded_answer);
    dying.hang_after = Some(15);
    let r = tokio::time::timeout(
        Duration::from_millis(1500),
        Generator::new(&job, &dying, &NoopReporter).run(),
    )
    .await;
    assert!(r.is_err(), "the run should still be hanging");
    let journal = dir.path().join("output-rs0.jsonl.tally-journal");
    let before = read_jsonl(&journal).unwrap().lines.len() - 1;
    assert!(before > 0 && before < n, "{before}");
    // A half-written line, and a duplicate of the first entry, as a torn append could leave.
    let text = std::fs::read_to_string(&journal).unwrap();
    let first_entry = text.lines().nth(1).unwrap().to_string();
    std::fs::write(
        &journal,
        format!("{text}{first_entry}\n{{\"index\": 5, \"key\": \"ab"),
    )
    .unwrap();

    let fake = Fake::new(seeded_answer);
    let reporter = CollectingReporter::default();
    let s = Generator::new(&job, &fake, &reporter).run().await.unwrap();
    assert!(
        reporter.warnings().iter().any(|w| w.contains("torn")),
        "{:?}",
        reporter.warnings()
    );
    assert_eq!(s.generated as usize + s.reused as usize, 2 * n);
    assert_eq!(
        fake.calls(),
        2 * n - s.reused as usize,
        "only missing samples are requested"
    );
    for seed in [0u64, 1] {
        let recs = records(&dir.path().join(format!("output-rs{seed}.jsonl")));
        let ids: Vec<String> = recs
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect();
        let want: Vec<String> = (0..n).map(|i| format!("q{i}")).collect();
        assert_eq!(ids, want, "each problem exactly once, in dataset order");
        for (i, r) in recs.iter().enumerate() {
            assert_eq!(
                r["generation"],
                format!("\\boxed{{{}}}", i as u64 + seed * 100)
            );
            assert_eq!(r["status"], "ok");
        }
    }
}

#[tokio::test]
async fn changed_settings_are_refused_with_what_changed_unless_overridden() {
    let dir = tempfile::tempdir().unwrap();
    let first = job(dir.path(), &[], seeds("0"), 3);
    Generator::new(&first, &Fake::new(seeded_answer), &NoopReporter)
        .run()
        .await
        .unwrap();

    let hotter = job(dir.path(), &["++inference.temperature=0.6"], seeds("0"), 3);
    let fake = Fake::new(seeded_answer);
    let err = Generator::new(&hotter, &fake, &NoopReporter)
        .run()
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("inference.temperature: 1.0 → 0.6"), "{msg}");
    assert!(msg.contains("--override-resume"), "{msg}");
    assert_eq!(fake.calls(), 0);

    // A partial journal under another prompt is refused too, naming the prompt.
    let dir2 = tempfile::tempdir().unwrap();
    let mut partial = job(dir2.path(), &[], seeds("0"), 3);
    let mut dying = Fake::new(seeded_answer);
    dying.hang_after = Some(1);
    let _ = tokio::time::timeout(
        Duration::from_millis(1200),
        Generator::new(&partial, &dying, &NoopReporter).run(),
    )
    .await;
    partial.prompt = tally_prompt::Prompt::load("generic/math", None).unwrap();
    let err = Generator::new(&partial, &Fake::new(seeded_answer), &NoopReporter)
        .run()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("prompt"), "{err}");

    let mut over = job(dir.path(), &["++inference.temperature=0.6"], seeds("0"), 3);
    over.resume_policy = ResumePolicy::Override;
    let fake = Fake::new(seeded_answer);
    Generator::new(&over, &fake, &NoopReporter)
        .run()
        .await
        .unwrap();
    assert_eq!(fake.calls(), 3);
}

#[tokio::test]
async fn an_output_not_written_by_tally_is_not_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("output-rs0.jsonl"),
        "{\"generation\": \"x\"}\n",
    )
    .unwrap();
    let job = job(dir.path(), &[], seeds("0"), 2);
    let err = Generator::new(&job, &Fake::new(seeded_answer), &NoopReporter)
        .run()
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("not written by `tally generate`"),
        "{err}"
    );
}

#[tokio::test]
async fn identical_samples_across_seeds_raise_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let job = job(dir.path(), &[], seeds("0,1,2"), 4);
    let deaf = Fake::new(|_, _| Ok(resp("\\boxed{1}", 3, FinishReason::Stop)));
    let reporter = CollectingReporter::default();
    let s = Generator::new(&job, &deaf, &reporter).run().await.unwrap();
    assert_eq!(
        s.identical_seeds,
        Some(IdenticalSeeds {
            identical: 4,
            compared: 4
        })
    );
    assert!(
        reporter
            .warnings()
            .iter()
            .any(|w| w.contains("identical for 4 of 4") && w.contains("ignores")),
        "{:?}",
        reporter.warnings()
    );

    let dir = tempfile::tempdir().unwrap();
    let job = super::tests::job(dir.path(), &[], seeds("0,1,2"), 4);
    let reporter = CollectingReporter::default();
    Generator::new(&job, &Fake::new(seeded_answer), &reporter)
        .run()
        .await
        .unwrap();
    assert!(reporter.warnings().is_empty(), "{:?}", reporter.warnings());
}

#[tokio::test]
async fn dry_run_sends_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut job = job(dir.path(), &[], seeds("0,1"), 3);
    job.dry_run = true;
    let fake = Fake::new(seeded_answer);
    let s = Generator::new(&job, &fake, &NoopReporter)
        .run()
        .await
        .unwrap();
    assert_eq!(fake.calls(), 0);
    assert!(s.dry_run);
    assert!(s
        .first_prompt
        .unwrap()
        .as_text()
        .unwrap()
        .ends_with("P0<|im_end|>\n<|im_start|>assistant\n"));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

/// `++parse_reasoning=True`: problem 0's reasoning ends, problem 1's never does (the budget ran
/// out inside `<think>`), problem 2 answers with the server's separate `reasoning_content`.
#[tokio::test]
async fn parse_reasoning_reads_the_answer_after_the_end_tag() {
    let dir = tempfile::tempdir().unwrap();
    let job = job(dir.path(), &["++parse_reasoning=True"], seeds("0"), 3);
    let fake = Fake::new(|text, _req| {
        let n: u64 = text
            .rsplit('P')
            .next()
            .and_then(|t| t.split('<').next())
            .and_then(|t| t.trim().parse().ok())
            .unwrap_or(99);
        let mut r = match n {
            0 => resp(
                "<think>2+2 is 4, not \\boxed{5}.</think>\n\nSo \\boxed{4}.\n",
                20,
                FinishReason::Stop,
            ),
            1 => resp("<think>Let me try \\boxed{7} and", 8, FinishReason::Length),
            _ => resp("\\boxed{9}", 4, FinishReason::Stop),
        };
        if n == 2 {
            r.reasoning_content = Some("thought apart".into());
        }
        Ok(r)
    });
    Generator::new(&job, &fake, &NoopReporter)
        .run()
        .await
        .unwrap();
    let recs = records(&dir.path().join("output-rs0.jsonl"));
    assert_eq!(recs[0]["generation"], "So \\boxed{4}.");
    assert_eq!(recs[0]["_generation_finished_thinking"], true);
    assert_eq!(
        recs[0]["_full_generation"],
        "<think>2+2 is 4, not \\boxed{5}.</think>\n\nSo \\boxed{4}.\n"
    );
    assert_eq!(recs[0]["status"], "ok");
    assert_eq!(recs[1]["generation"], "");
    assert_eq!(recs[1]["_generation_finished_thinking"], false);
    assert_eq!(
        recs[1]["_full_generation"],
        "<think>Let me try \\boxed{7} and"
    );
    assert_eq!(recs[1]["status"], "reasoning_unfinished");
    // No end tag at all in problem 2's text: NeMo-Skills empties it too.
    assert_eq!(recs[2]["generation"], "");
    assert_eq!(recs[2]["reasoning_content"], "thought apart");
    let keys: Vec<&str> = recs[0].keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "num_generated_tokens",
            "generation",
            "id",
            "problem",
            "expected_answer",
            "_generation_finished_thinking",
            "_full_generation",
            "status",
            "seed"
        ]
    );
}
