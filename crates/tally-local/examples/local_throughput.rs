//! Tokens per second of the embedded model, for the figures in docs/performance.md:
//!
//! `cargo run -p tally-local --example local_throughput -- MODEL.gguf THREADS PARALLEL [PROMPT_TOKENS] [GEN_TOKENS]`
//!
//! Prompt processing: one request whose prompt has about PROMPT_TOKENS tokens and one new token.
//! Generation: PARALLEL concurrent greedy requests of GEN_TOKENS tokens each (a counting prompt,
//! so the model does not stop early); reported per stream and in aggregate.

use std::sync::Arc;
use std::time::Instant;

use tally_backend::{Backend, GenerationRequest, SamplingParams};
use tally_local::{LocalBackend, LocalOptions};

const COUNTING: &str = "1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,";

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args
        .first()
        .ok_or("usage: local_throughput MODEL.gguf THREADS PARALLEL [PP] [GEN]")?;
    let arg = |i: usize, d: usize| args.get(i).map_or(Ok(d), |s| s.parse());
    let (threads, parallel, pp, gen) = (arg(1, 1)?, arg(2, 1)?, arg(3, 128)?, arg(4, 128)?);
    let options = LocalOptions {
        threads,
        max_batch: parallel.max(1),
        ..LocalOptions::default()
    };
    let b = Arc::new(LocalBackend::load(path.as_ref(), options)?);

    let params = |max_tokens| SamplingParams {
        max_tokens,
        ..SamplingParams::default()
    };
    let words = "The history of mathematics spans many centuries and cultures. ";
    let mut text = String::new();
    while b.tokenizer().encode(&text)?.len() < pp {
        text.push_str(words);
    }
    let n_pp = b.tokenizer().encode(&text)?.len();
    let req = GenerationRequest::text(text).with_params(params(1));
    b.generate(&req).await?; // warm-up
    let t = Instant::now();
    b.generate(&req).await?;
    let pp_s = t.elapsed().as_secs_f64();
    println!(
        "threads {threads}: pp{n_pp}: {:.1} tok/s",
        n_pp as f64 / pp_s
    );

    let t = Instant::now();
    let handles: Vec<_> = (0..parallel)
        .map(|_| {
            let (b, req) = (
                b.clone(),
                GenerationRequest::text(COUNTING).with_params(params(gen as u32)),
            );
            tokio::spawn(async move { b.generate(&req).await })
        })
        .collect();
    let mut tokens = 0;
    for h in handles {
        tokens += h.await??.num_generated_tokens.unwrap_or(0);
    }
    let wall = t.elapsed().as_secs_f64();
    println!(
        "threads {threads}, parallel {parallel}: {tokens} tokens in {wall:.2} s: {:.1} tok/s aggregate, {:.1} per stream",
        tokens as f64 / wall,
        tokens as f64 / wall / parallel as f64
    );
    Ok(())
}
