//! The backend over a tiny random model built in memory: no model file needed.
//! Checks what batching must never change, with numbers small enough to run in milliseconds.

use tally_backend::{Backend, FinishReason, GenerationRequest, SamplingParams};
use tally_local::model::{LayerWeights, LlamaConfig, LlamaModel, RopeStyle};
use tally_local::quant::QMatrix;
use tally_local::tokenizer::gpt2_byte_alphabet;
use tally_local::{LocalBackend, LocalOptions, Tokenizer};

struct Noise(u64);
impl Noise {
    fn vec(&mut self, n: usize, scale: f32) -> Vec<f32> {
        (0..n)
            .map(|_| {
                self.0 ^= self.0 << 13;
                self.0 ^= self.0 >> 7;
                self.0 ^= self.0 << 17;
                ((self.0 % 20001) as f32 / 10000.0 - 1.0) * scale
            })
            .collect()
    }
    fn q8(&mut self, rows: usize, cols: usize) -> QMatrix {
        QMatrix::from_f32(&self.vec(rows * cols, 0.2), cols)
    }
}

fn tiny_backend(options: LocalOptions) -> LocalBackend {
    let mut vocab: Vec<(String, i64)> = gpt2_byte_alphabet()
        .iter()
        .map(|c| (c.to_string(), 1))
        .collect();
    vocab.push(("<|im_end|>".into(), 3));
    let tokenizer = Tokenizer::build(&vocab, &[], &[], None, false, vec![]).unwrap();
    let config = LlamaConfig {
        rope_style: RopeStyle::Normal,
        vocab: vocab.len(),
        dim: 64,
        layers: 2,
        heads: 4,
        kv_heads: 2,
        ffn: 96,
        rms_eps: 1e-5,
        rope_base: 10000.0,
        context: 512,
    };
    let mut n = Noise(0x1234_5678_9abc_def1);
    let layers = (0..config.layers)
        .map(|_| LayerWeights {
            attn_norm: vec![1.0; 64],
            wq: n.q8(64, 64),
            wk: n.q8(32, 64),
            wv: n.q8(32, 64),
            bq: None,
            bk: None,
            bv: None,
            wo: n.q8(64, 64),
            ffn_norm: vec![1.0; 64],
            w_gate: n.q8(96, 64),
            w_up: n.q8(96, 64),
            w_down: n.q8(64, 96),
        })
        .collect();
    let model = LlamaModel {
        embed: QMatrix::from_f32(&n.vec(config.vocab * 64, 0.1), 64),
        out_norm: vec![1.0; 64],
        output: None,
        layers,
        config,
    };
    LocalBackend::from_parts(model, tokenizer, None, "tiny", options).unwrap()
}

fn request(prompt: &str, max_tokens: u32, temperature: f64, seed: u64) -> GenerationRequest {
    GenerationRequest::text(prompt).with_params(SamplingParams {
        temperature,
        top_p: 1.0,
        max_tokens,
        seed: Some(seed),
        ..SamplingParams::default()
    })
}

const PROMPTS: &[&str] = &[
    "a",
    "What is 2+3?",
    "Compute $\\int_0^1 x^2\\,dx$ and explain every step of the reasoning.",
    "héllo wörld ∑",
    "12345",
    "The quick brown fox jumps over the lazy dog, again and again.",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_give_the_sequential_text() {
    let alone = tiny_backend(LocalOptions {
        max_batch: 1,
        ..LocalOptions::default()
    });
    let mut expected = Vec::new();
    for (i, p) in PROMPTS.iter().enumerate() {
        for temp in [0.0, 0.8] {
            let r = alone
                .generate(&request(p, 20 + i as u32, temp, i as u64))
                .await
                .unwrap();
            expected.push(r.text);
        }
    }
    // Small prefill chunks force prompts to be read across steps, interleaved with decoding.
    for (threads, chunk) in [(1, 5), (2, 256)] {
        let batched = std::sync::Arc::new(tiny_backend(LocalOptions {
            max_batch: 4,
            threads,
            prefill_chunk: chunk,
            ..LocalOptions::default()
        }));
        let mut handles = Vec::new();
        for (i, p) in PROMPTS.iter().enumerate() {
            for temp in [0.0, 0.8] {
                let b = batched.clone();
                let req = request(p, 20 + i as u32, temp, i as u64);
                handles.push(tokio::spawn(
                    async move { b.generate(&req).await.unwrap().text },
                ));
            }
        }
        for (h, want) in handles.into_iter().zip(&expected) {
            assert_eq!(&h.await.unwrap(), want, "threads {threads}, chunk {chunk}");
        }
    }
}

#[tokio::test]
async fn budget_context_and_stop_phrases() {
    let b = tiny_backend(LocalOptions::default());
    let r = b.generate(&request("abc", 7, 0.0, 0)).await.unwrap();
    assert_eq!(r.finish_reason, FinishReason::Length);
    assert_eq!(r.num_generated_tokens, Some(7));
    assert_eq!(r.num_prompt_tokens, Some(3));
    assert_eq!(r.model, "tiny");

    // Stop on a phrase the unconstrained output contains: text ends before it.
    // Greedy random weights repeat one byte; seeded sampling gives varied (and fixed) text.
    let free = b.generate(&request("abc", 30, 1.0, 5)).await.unwrap().text;
    // Random weights emit arbitrary bytes; take a phrase that survives lossy UTF-8 decoding.
    let chars: Vec<char> = free.chars().collect();
    let at = (1..chars.len())
        .find(|&i| chars[i] != '\u{fffd}')
        .unwrap_or_else(|| panic!("a decodable character in {free:?}"));
    let phrase = chars[at].to_string();
    let mut req = request("abc", 30, 1.0, 5);
    req.params.stop = vec![phrase.clone()];
    let r = b.generate(&req).await.unwrap();
    assert_eq!(r.finish_reason, FinishReason::Stop);
    assert_eq!(
        r.stop_reason,
        Some(serde_json::Value::String(phrase.clone()))
    );
    assert_eq!(r.text, free[..free.find(&phrase).unwrap()]);
    assert_eq!(
        r.text_with_stop(),
        free[..free.find(&phrase).unwrap() + phrase.len()]
    );

    let long = "x".repeat(600);
    let err = b.generate(&request(&long, 5, 0.0, 0)).await.unwrap_err();
    assert_eq!(err.kind(), tally_core_status_context_exceeded());
    // Near the end of the context the budget shrinks to what fits.
    let r = b
        .generate(&request(&"y".repeat(508), 50, 0.0, 0))
        .await
        .unwrap();
    assert_eq!(r.max_tokens, 4);
    assert_eq!(r.finish_reason, FinishReason::Length);
}

fn tally_core_status_context_exceeded() -> tally_backend::ErrorKind {
    tally_backend::ErrorKind::ContextExceeded
}
