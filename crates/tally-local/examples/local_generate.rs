//! Loads a GGUF model and answers one prompt: `cargo run -p tally-local
//! --example local_generate -- MODEL.gguf "question" [max_tokens]`.

use tally_backend::{Backend, ChatMessage, GenerationRequest, SamplingParams};
use tally_local::{LocalBackend, LocalOptions};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or("usage: local_generate MODEL.gguf QUESTION [MAX_TOKENS]")?;
    let question = args.next().unwrap_or_else(|| "What is 2+3?".into());
    let max_tokens = args.next().map(|s| s.parse()).transpose()?.unwrap_or(64);
    let t0 = std::time::Instant::now();
    let b = LocalBackend::load(path.as_ref(), LocalOptions::default())?;
    eprintln!("loaded in {:?}", t0.elapsed());
    let req =
        GenerationRequest::chat(vec![ChatMessage::user(question)]).with_params(SamplingParams {
            max_tokens,
            ..SamplingParams::default()
        });
    let r = b.generate(&req).await?;
    println!("{}", r.text);
    eprintln!(
        "{:?} {:?} prompt {:?} gen {:?} in {:?}",
        r.finish_reason, r.stop_reason, r.num_prompt_tokens, r.num_generated_tokens, r.elapsed
    );
    Ok(())
}
