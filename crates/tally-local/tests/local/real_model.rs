//! The backend on the real SmolLM2-135M GGUF (fetched by `scripts/llama-server.sh setup`;
//! `TALLY_LOCAL_MODEL` names another file). Skips with a note when the file is missing.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use tally_backend::{Backend, ChatMessage, FinishReason, GenerationRequest, SamplingParams};
use tally_local::{LocalBackend, LocalOptions};

fn model_path() -> Option<PathBuf> {
    let path = match std::env::var_os("TALLY_LOCAL_MODEL") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(std::env::var_os("HOME")?)
            .join(".cache/tally/llama-server/models/SmolLM2-135M-Instruct.Q4_1.gguf"),
    };
    if path.is_file() {
        Some(path)
    } else {
        eprintln!(
            "skipped: no model file at {} (set TALLY_LOCAL_MODEL)",
            path.display()
        );
        None
    }
}

/// One loaded model shared by the tests (loading takes a while in unoptimised builds).
fn backend() -> Option<Arc<LocalBackend>> {
    static MODEL: OnceLock<Option<Arc<LocalBackend>>> = OnceLock::new();
    MODEL
        .get_or_init(|| {
            let path = model_path()?;
            let options = LocalOptions {
                max_batch: 4,
                ..LocalOptions::default()
            };
            Some(Arc::new(
                LocalBackend::load(&path, options).expect("model loads"),
            ))
        })
        .clone()
}

fn chat(question: &str, max_tokens: u32) -> GenerationRequest {
    GenerationRequest::chat(vec![ChatMessage::user(question)]).with_params(SamplingParams {
        max_tokens,
        ..SamplingParams::default()
    })
}

#[tokio::test]
async fn greedy_chat_answer_is_sensible_and_repeatable() {
    let Some(b) = backend() else { return };
    let req = chat("What is 2+3?", 40);
    let first = b.generate(&req).await.unwrap();
    assert!(first.text.contains('5'), "{first:?}");
    assert_eq!(first.finish_reason, FinishReason::Stop, "{first:?}");
    assert_eq!(first.stop_reason, None);
    assert!(first.num_prompt_tokens.unwrap() > 20);
    assert!(!first.model.is_empty());
    let again = b.generate(&req).await.unwrap();
    assert_eq!(first.text, again.text);
}

#[tokio::test]
async fn seeded_sampling_repeats_and_seeds_differ() {
    let Some(b) = backend() else { return };
    let sample = |seed| {
        let b = b.clone();
        async move {
            let mut req = chat("Write a short poem about numbers.", 24);
            req.params.temperature = 1.0;
            req.params.top_p = 0.95;
            req.params.seed = Some(seed);
            b.generate(&req).await.unwrap().text
        }
    };
    let a = sample(1).await;
    assert_eq!(a, sample(1).await);
    assert_ne!(a, sample(2).await);
}

#[tokio::test]
async fn stop_phrase_and_budget() {
    let Some(b) = backend() else { return };
    let r = b
        .generate(&chat("Count from 1 to 20, separated by commas.", 12))
        .await
        .unwrap();
    assert_eq!(r.finish_reason, FinishReason::Length);
    assert_eq!(r.num_generated_tokens, Some(12));
    let mut req = chat("Count from 1 to 20, separated by commas.", 60);
    let free = b.generate(&req).await.unwrap().text;
    let phrase = "5";
    req.params.stop = vec![phrase.into(), "never seen".into()];
    let r = b.generate(&req).await.unwrap();
    assert_eq!(r.finish_reason, FinishReason::Stop);
    assert_eq!(r.stop_reason, Some(serde_json::json!(phrase)));
    assert_eq!(
        r.text,
        free[..free.find(phrase).expect("the count reaches 5")]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_greedy_equals_sequential() {
    let Some(b) = backend() else { return };
    let questions = [
        "What is 2+3?",
        "Name a prime number.",
        "What is the capital of France?",
        "Solve x+1=3.",
        "What is 7*8?",
        "Say hello.",
    ];
    let mut sequential = Vec::new();
    for q in questions {
        sequential.push(b.generate(&chat(q, 24)).await.unwrap().text);
    }
    let handles: Vec<_> = questions
        .iter()
        .map(|q| {
            let (b, req) = (b.clone(), chat(q, 24));
            tokio::spawn(async move { b.generate(&req).await.unwrap().text })
        })
        .collect();
    for (h, want) in handles.into_iter().zip(&sequential) {
        assert_eq!(&h.await.unwrap(), want);
    }
}

#[tokio::test]
async fn context_overflow_is_context_exceeded() {
    let Some(b) = backend() else { return };
    let long = "word ".repeat(b.context_length() + 10);
    let err = b
        .generate(&GenerationRequest::text(long))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), tally_backend::ErrorKind::ContextExceeded);
}

#[test]
fn tokenizer_round_trips() {
    let Some(b) = backend() else { return };
    let tok = b.tokenizer();
    for s in [
        "Hello, world!",
        "  leading and trailing spaces  ",
        "tabs\tand\nnewlines\n\n\nend",
        "Compute $\\frac{1}{2} + \\sqrt{x^2}$ and \\boxed{42}.",
        "Unicode: héllo wörld, 数学, ∑_{i=1}^{n} i², emoji 🎉",
        "numbers 1234567 and 3.14159",
        "it's we're they'll I'd",
    ] {
        let ids = tok.encode(s).unwrap();
        assert_eq!(tok.decode(&ids), s);
    }
    // Ids from llama-server's /tokenize on the same file (digits split one by one: pre `smollm`).
    if b.tokenizer().vocab_size() == 49152 {
        let s = "Compute $\\frac{1}{2}+\\sqrt{x^2}$ 12345 héllo 数学 🎉  x";
        let want = [
            45319, 19573, 18169, 107, 33, 15009, 34, 109, 42639, 16166, 107, 104, 78, 34, 24362,
            216, 33, 34, 35, 36, 37, 294, 2756, 31394, 216, 18265, 18753, 116, 15107, 232, 227,
            216, 1792,
        ];
        assert_eq!(tok.encode(s).unwrap(), want);
    }
    // Special tokens written in the text are single ids.
    let ids = tok.encode("<|im_start|>user").unwrap();
    assert_eq!(ids.len(), 2, "{ids:?}");
}
