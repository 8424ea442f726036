//! Tests against a real llama.cpp `llama-server` (SmolLM2-135M-Instruct), and a fault-injecting
//! proxy in front of it.
//!
//! Set `TALLY_LLAMA_URL` (e.g. `http://127.0.0.1:8181`, as printed by
//! `scripts/llama-server.sh start`) to run them; without it the real-server tests print a skip
//! note and pass, and the fault-proxy test runs against an in-process fake upstream instead.

#[path = "support/fault_proxy.rs"]
mod fault_proxy;
#[path = "support/mini_http.rs"]
mod mini_http;

use std::time::Duration;

use fault_proxy::{Fault, FaultProxy};
use mini_http::{completion_json, MiniServer, Reply, Request};
use tally_backend::{
    trim_after_stop_phrases, Backend, ChatMessage, FinishReason, GenerationRequest,
    OpenAiCompatBackend, RetryPolicy, SamplingParams, ServerType,
};
use tally_core::Status;

/// Real-server tests share one llama-server with 4 slots; running them one at a time keeps the
/// seed/greedy comparisons free of batch-composition effects and the timings sane on 2 cores.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const IM_END: &str = "<|im_end|>";

fn llama_url() -> Option<String> {
    match std::env::var("TALLY_LLAMA_URL") {
        Ok(u) if !u.trim().is_empty() => Some(u),
        _ => {
            if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
                panic!("a real-service test cannot run under CI: its service or data is missing");
            }
            eprintln!("skipped: TALLY_LLAMA_URL is not set (start one with scripts/llama-server.sh start)");
            None
        }
    }
}

fn backend(url: &str) -> OpenAiCompatBackend {
    OpenAiCompatBackend::builder(url, ServerType::LlamaCpp)
        .request_timeout(Duration::from_secs(120))
        .retry(RetryPolicy {
            initial_delay: Duration::from_millis(50),
            ..RetryPolicy::default()
        })
        .build()
        .unwrap()
}

/// SmolLM2's ChatML with its default system prompt (what `/apply-template` produces), written
/// out so the completions endpoint gets exactly this text. Without the system turn the 135M model
/// rambles instead of answering.
fn chatml(question: &str) -> String {
    format!(
        "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n\
         <|im_start|>user\n{question}<|im_end|>\n<|im_start|>assistant\n"
    )
}

fn params(max_tokens: u32) -> SamplingParams {
    SamplingParams {
        max_tokens,
        stop: vec![IM_END.to_string()],
        ..SamplingParams::default()
    }
}

#[tokio::test]
async fn model_name_is_discovered_from_v1_models() {
    let Some(url) = llama_url() else { return };
    let _g = SERIAL.lock().await;
    let name = backend(&url).model_name().await.unwrap();
    assert!(name.contains("SmolLM2") || !name.is_empty(), "{name}");
}

#[tokio::test]
async fn completion_greedy_answers_and_counts_tokens() {
    let Some(url) = llama_url() else { return };
    let _g = SERIAL.lock().await;
    let b = backend(&url);
    let req = GenerationRequest::text(chatml("What is 2+3?")).with_params(params(48));
    let r = b.generate(&req).await.unwrap();
    let text = trim_after_stop_phrases(&r.text, &[IM_END]);
    assert!(!text.trim().is_empty(), "{r:?}");
    assert!(text.contains('5'), "a 135M model still gets 2+3: {text:?}");
    let n = r.num_generated_tokens.expect("llama.cpp reports usage");
    assert!((1..=48).contains(&n), "{n}");
    assert!(r.num_prompt_tokens.unwrap_or(0) > 5);
    assert_eq!(r.finish_reason, FinishReason::Stop, "{r:?}");
    assert_eq!(r.status(), Status::Ok);
    assert_eq!(r.attempts, 1);
    // Greedy is deterministic.
    let again = b.generate(&req).await.unwrap();
    assert_eq!(again.text, r.text);
}

#[tokio::test]
async fn chat_completion_uses_the_template() {
    let Some(url) = llama_url() else { return };
    let _g = SERIAL.lock().await;
    let req =
        GenerationRequest::chat(vec![ChatMessage::user("What is 2+3?")]).with_params(params(48));
    let r = backend(&url).generate(&req).await.unwrap();
    assert!(!r.text.trim().is_empty(), "{r:?}");
    assert!(
        !r.text.contains(IM_END),
        "chat content excludes the end token: {:?}",
        r.text
    );
    assert!(r.num_generated_tokens.unwrap() >= 1);
    // The chat template adds a default system prompt, so the prompt is longer than the bare turn.
    assert!(r.num_prompt_tokens.unwrap() > 10, "{r:?}");
}

#[tokio::test]
async fn server_side_stop_matches_client_side_trimming() {
    let Some(url) = llama_url() else { return };
    let _g = SERIAL.lock().await;
    let b = backend(&url);
    let prompt = chatml("Write three sentences about the sea.");
    let full = b
        .generate(
            &GenerationRequest::text(&prompt).with_params(SamplingParams {
                max_tokens: 40,
                ..SamplingParams::default()
            }),
        )
        .await
        .unwrap();
    // A stop phrase taken from the middle of the greedy output: the first word after char 10.
    let words: Vec<&str> = full.text[10.min(full.text.len())..]
        .split_whitespace()
        .filter(|w| w.len() >= 3)
        .collect();
    let Some(stop) = words.first().map(|w| w.to_string()) else {
        panic!("output too short to pick a stop phrase: {:?}", full.text)
    };
    let stopped = b
        .generate(
            &GenerationRequest::text(&prompt).with_params(SamplingParams {
                max_tokens: 40,
                stop: vec![stop.clone()],
                ..SamplingParams::default()
            }),
        )
        .await
        .unwrap();
    assert_eq!(stopped.finish_reason, FinishReason::Stop, "{stopped:?}");
    assert_eq!(
        trim_after_stop_phrases(&full.text, &[stop.as_str()]),
        trim_after_stop_phrases(&stopped.text, &[stop.as_str()]),
        "stop {stop:?}"
    );
    assert!(!stopped.text.contains(&stop), "{stopped:?}");
    assert!(stopped.num_generated_tokens.unwrap() < full.num_generated_tokens.unwrap());
}

#[tokio::test]
async fn same_seed_same_text_different_seeds_differ() {
    let Some(url) = llama_url() else { return };
    let _g = SERIAL.lock().await;
    let b = backend(&url);
    let sample = |seed: u64| {
        GenerationRequest::text(chatml("Tell me a short story about a cat.")).with_params(
            SamplingParams {
                temperature: 1.0,
                top_p: 1.0,
                seed: Some(seed),
                max_tokens: 24,
                ..SamplingParams::default()
            },
        )
    };
    let a = b.generate(&sample(1234)).await.unwrap();
    let a2 = b.generate(&sample(1234)).await.unwrap();
    assert_eq!(a.text, a2.text, "llama.cpp honours `seed`");
    let mut distinct = std::collections::BTreeSet::new();
    distinct.insert(a.text.clone());
    for seed in [1, 2, 3] {
        distinct.insert(b.generate(&sample(seed)).await.unwrap().text);
    }
    assert!(
        distinct.len() >= 2,
        "temperature 1 with 4 seeds gave one text: {distinct:?}"
    );
}

#[tokio::test]
async fn hitting_max_tokens_is_reported_truncated() {
    let Some(url) = llama_url() else { return };
    let _g = SERIAL.lock().await;
    let req = GenerationRequest::text(chatml(
        "Write a long essay about the history of mathematics.",
    ))
    .with_params(params(5));
    let r = backend(&url).generate(&req).await.unwrap();
    assert_eq!(r.finish_reason, FinishReason::Length, "{r:?}");
    assert!(r.is_truncated());
    assert_eq!(r.status(), Status::Truncated);
    assert_eq!(r.num_generated_tokens, Some(5));
}

#[tokio::test]
async fn prompt_beyond_the_context_is_context_exceeded() {
    let Some(url) = llama_url() else { return };
    let _g = SERIAL.lock().await;
    // A prompt far beyond the 4096-token context: llama.cpp refuses it; no retry can help.
    let long = "one two three four five six seven eight ".repeat(1200);
    let r = backend(&url)
        .generate(&GenerationRequest::text(long).with_params(params(8)))
        .await;
    match r {
        Err(e) => assert_eq!(e.status(), Status::ContextExceeded, "{e}"),
        Ok(r) => panic!("a 9600-token prompt fit a 4096 context: {r:?}"),
    }
}

/// A fake upstream for the proxy test when no real server is running: answers instantly.
async fn fake_upstream() -> MiniServer {
    MiniServer::start(|req: Request| async move {
        if req.path == "/v1/models" {
            Reply::json(200, &serde_json::json!({"data": [{"id": "fake"}]}))
        } else {
            Reply::json(200, &completion_json(" 5", "stop", 2))
        }
    })
    .await
}

#[tokio::test]
async fn every_request_through_the_fault_proxy_ends_correct_or_typed() {
    let _g = SERIAL.lock().await;
    // The hang costs one request timeout; against the instant fake server a short one suffices,
    // a real CPU server behind 4 slots needs room for queueing (8 in flight on 2 busy cores).
    let (upstream, fake, req_timeout) = match std::env::var("TALLY_LLAMA_URL") {
        Ok(u) if !u.trim().is_empty() => (u, None, Duration::from_secs(60)),
        _ => {
            eprintln!("TALLY_LLAMA_URL not set: the fault proxy fronts an in-process fake server");
            let fake = fake_upstream().await;
            (fake.url(), Some(fake), Duration::from_secs(2))
        }
    };
    use Fault::*;
    // 20 slots: 8 faults that retries absorb, 1 hang that becomes a timeout, 11 forwards.
    let schedule = vec![
        Forward, Http500, Http429, Forward, Reset, Truncate, Forward, Forward, Hang, Forward,
        Forward, Http500, Forward, Http429, Forward, Reset, Forward, Truncate, Forward, Forward,
    ];
    let proxy = FaultProxy::start(&upstream, schedule).await;
    let via_proxy = OpenAiCompatBackend::builder(proxy.url(), ServerType::LlamaCpp)
        .request_timeout(req_timeout)
        .retry(RetryPolicy {
            max_retries: 3,
            initial_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(200),
            ..RetryPolicy::default()
        })
        .max_connections(8)
        .build()
        .unwrap();
    let direct = backend(&upstream);
    let request = GenerationRequest::text(chatml("What is 2+3?")).with_params(params(8));
    // The reference answer, straight from the upstream (greedy, so every good answer equals it).
    let reference = direct.generate(&request).await.unwrap();

    const N: usize = 40;
    let mut tasks = Vec::new();
    for _ in 0..N {
        let (b, r) = (via_proxy.clone(), request.clone());
        tasks.push(tokio::spawn(async move { b.generate(&r).await }));
    }
    let (mut ok, mut timeouts, mut request_errors, mut other) = (0, 0, 0, 0);
    let mut attempts = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(r) => {
                assert_eq!(
                    r.text, reference.text,
                    "a good answer differs from the reference"
                );
                assert_eq!(r.num_generated_tokens, reference.num_generated_tokens);
                assert!(matches!(
                    r.finish_reason,
                    FinishReason::Stop | FinishReason::Length
                ));
                ok += 1;
                attempts += r.attempts as usize;
            }
            Err(e) => {
                assert!(e.to_string().contains(&proxy.url()), "{e}");
                attempts += e.attempts() as usize;
                match e.status() {
                    Status::Timeout => timeouts += 1,
                    Status::RequestError => request_errors += 1,
                    _ => {
                        eprintln!("unexpected failure kind: {e}");
                        other += 1;
                    }
                }
            }
        }
    }
    let s = &proxy.stats;
    eprintln!(
        "fault proxy: {N} requests -> ok {ok}, timeout {timeouts}, request_error {request_errors}, \
         other {other}; {attempts} attempts; proxy saw {} (forwarded {}, 500 {}, 429 {}, reset {}, \
         hang {}, truncated {})",
        s.total(),
        s.get(Forward),
        s.get(Http500),
        s.get(Http429),
        s.get(Reset),
        s.get(Hang),
        s.get(Truncate)
    );
    assert_eq!(
        ok + timeouts + request_errors + other,
        N,
        "every request is accounted for"
    );
    assert_eq!(other, 0);
    // Every attempt the proxy saw belongs to exactly one request.
    assert_eq!(attempts, s.total());
    // Every fault kind actually happened.
    for f in [Http500, Http429, Reset, Hang, Truncate] {
        assert!(s.get(f) >= 1, "{f:?} never injected");
    }
    // Each hang ends its request as a timeout (timeouts are not retried by default), and only
    // forwarded answers succeed. A slow real server may also time out a forwarded request, so the
    // exact split is checked against the instant fake upstream only.
    assert!(timeouts >= s.get(Hang));
    assert!(ok <= s.get(Forward));
    if fake.is_some() {
        assert_eq!(timeouts, s.get(Hang));
        assert_eq!(ok, s.get(Forward));
    } else if timeouts > s.get(Hang) {
        eprintln!(
            "note: {} forwarded request(s) exceeded {req_timeout:?} on the real server",
            timeouts - s.get(Hang)
        );
    }
    // A request fails as request_error only after 4 faults in a row, which interleaving makes
    // possible but rare.
    assert!(ok >= N / 2, "retries should absorb most faults: ok {ok}");
}
