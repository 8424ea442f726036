//! The engine when its backend stops sending (a tripped circuit breaker): nothing more is
//! dispatched, what finished is journalled, what was never sent is not, and a rerun generates
//! exactly the rest.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{json, Map, Value};
use tally_backend::{
    Backend, BackendError, CircuitBreaker, FinishReason, GenerationRequest, GenerationResponse,
    Halted, Prompt,
};
use tally_core::jsonl::read_jsonl;
use tally_core::overrides::Overrides;
use tally_core::{NoopReporter, ServerType};

use crate::*;

/// Answers `\boxed{<problem>}` for its first `alive` calls; after that every call is a refused
/// connection, counted by a real [`CircuitBreaker`] (as `OpenAiCompatBackend` counts them).
struct Dying {
    alive: usize,
    calls: AtomicUsize,
    breaker: CircuitBreaker,
    /// (seed, problem) of every answered sample.
    answered: Mutex<Vec<(Option<u64>, String)>>,
}

impl Dying {
    fn new(alive: usize, threshold: u32) -> Dying {
        Dying {
            alive,
            calls: AtomicUsize::new(0),
            breaker: CircuitBreaker::new(threshold),
            answered: Mutex::new(Vec::new()),
        }
    }
}

#[async_trait]
impl Backend for Dying {
    async fn generate(&self, req: &GenerationRequest) -> Result<GenerationResponse, BackendError> {
        if let Some(h) = self.breaker.halted() {
            return Err(BackendError::Halted(h.clone()));
        }
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        let Prompt::Text(text) = &req.prompt else {
            unreachable!("completion prompts")
        };
        if n >= self.alive {
            let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
            if self
                .breaker
                .connection_failed("http://dead/v1/completions", &refused)
            {
                // The attempt that trips it gives up instead of retrying.
                return Err(BackendError::Halted(self.breaker.halted().unwrap().clone()));
            }
            return Err(BackendError::Connect {
                url: "http://dead/v1/completions".into(),
                attempts: 1,
                source: Box::new(refused),
            });
        }
        self.breaker.answered();
        let problem = text.rsplit('P').next().unwrap().split('<').next().unwrap();
        self.answered
            .lock()
            .unwrap()
            .push((req.params.seed, problem.to_string()));
        Ok(GenerationResponse {
            text: format!("\\boxed{{{problem}}}"),
            num_generated_tokens: Some(3),
            num_prompt_tokens: None,
            finish_reason: FinishReason::Stop,
            stop_reason: None,
            reasoning_content: None,
            reasoning: None,
            model: "fake".into(),
            elapsed: Duration::ZERO,
            attempts: 1,
            max_tokens: 0,
        })
    }

    async fn model_name(&self) -> Result<String, BackendError> {
        Ok("fake".into())
    }

    fn halted(&self) -> Option<Halted> {
        self.breaker.halted().cloned()
    }
}

fn job(dir: &std::path::Path, n: usize) -> Job {
    // One request at a time: the order of calls is the order of the work.
    let user = Overrides::parse([
        "++input_file=x.jsonl",
        "++prompt_template=qwen-instruct",
        "++max_concurrent_requests=1",
    ])
    .unwrap();
    let settings = Settings::from_overrides(&user).unwrap();
    let prompt = load_prompt(&settings, Some("generic/math")).unwrap();
    let seeds = SeedPlan::from_flags(None, Some("0,1"), 0).unwrap();
    let passes = passes(&seeds, SeedDefaults::Generate, &user).unwrap();
    let inputs: Vec<Map<String, Value>> = (0..n)
        .map(|i| {
            json!({"problem": format!("P{i}"), "expected_answer": i.to_string()})
                .as_object()
                .unwrap()
                .clone()
        })
        .collect();
    Job::builder(&settings)
        .inputs(inputs)
        .prompt(prompt)
        .passes(passes)
        .model("fake", ServerType::Vllm)
        .output_dir(dir)
        .sync_every(1)
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_tripped_breaker_stops_dispatch_and_a_rerun_sends_exactly_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let job = job(dir.path(), 10);
    // 20 samples (10 problems × seeds 0, 1). Calls 1–5 answer; 6 and 7 are refused and
    // recorded as request_error; 8 is refused and trips the breaker (threshold 3), so it is not
    // recorded; the 12 samples after it are never sent.
    let dying = Dying::new(5, 3);
    let err = Generator::new(&job, &dying, &NoopReporter)
        .run()
        .await
        .unwrap_err();
    let GenerateError::Halted {
        halted,
        written,
        not_sent,
    } = &err
    else {
        panic!("expected Halted, got {err:?}");
    };
    assert_eq!((*written, *not_sent), (7, 13));
    assert_eq!(halted.failures, 3);
    assert_eq!(
        dying.calls.load(Ordering::SeqCst),
        8,
        "nothing sent after the trip"
    );
    let msg = err.to_string();
    assert!(msg.contains("http://dead/v1/completions"), "{msg}");
    assert!(msg.contains("rerun the same command"), "{msg}");

    // Seed 0's pass is incomplete: no output, its journal holds the 7 finished samples.
    let out0 = dir.path().join("output-rs0.jsonl");
    assert!(!out0.exists());
    let journal = crate::journal::journal_path(&out0);
    let lines = read_jsonl(&journal).unwrap().lines;
    // The header line, then one entry per finished sample.
    assert_eq!(lines.len(), 1 + 7, "{lines:?}");

    // The server is back: the rerun sends the 13 never sent plus the 2 request_errors.
    let healthy = Dying::new(usize::MAX, 3);
    let summary = Generator::new(&job, &healthy, &NoopReporter)
        .run()
        .await
        .unwrap();
    assert_eq!(healthy.calls.load(Ordering::SeqCst), 15);
    assert_eq!(summary.reused, 5);
    assert_eq!(summary.failures, 0);
    // Every sample answered exactly once over both runs.
    let mut all = dying.answered.lock().unwrap().clone();
    all.extend(healthy.answered.lock().unwrap().iter().cloned());
    all.sort();
    let mut want: Vec<(Option<u64>, String)> = [0, 1]
        .iter()
        .flat_map(|s| (0..10).map(move |i| (Some(*s), i.to_string())))
        .collect();
    want.sort();
    assert_eq!(all, want);
    for (seed, path) in [(0, out0), (1, dir.path().join("output-rs1.jsonl"))] {
        let text = std::fs::read_to_string(&path).unwrap();
        let recs: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(recs.len(), 10, "seed {seed}: each problem once");
        for (i, r) in recs.iter().enumerate() {
            assert_eq!(r["status"], "ok", "seed {seed} problem {i}");
            assert_eq!(r["generation"], format!("\\boxed{{{i}}}"));
        }
    }
}
