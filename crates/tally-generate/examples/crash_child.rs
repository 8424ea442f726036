//! Drives one generation job in its own process, so the crash tests can `kill -9` it.
//!
//! `crash_child --out DIR --input FILE --seeds 0,1,2 [--url URL] [--tokens N] [--concurrency N]`
//!
//! With `--url` it talks to a llama-server; without, to a stand-in that answers after a random
//! delay with a text determined by the prompt and the seed (so a test can check every record).

use std::time::Duration;

use async_trait::async_trait;
use tally_backend::{
    Backend, BackendError, FinishReason, GenerationRequest, GenerationResponse,
    OpenAiCompatBackend, Prompt, ServerType,
};
use tally_core::overrides::Overrides;
use tally_core::NoopReporter;
use tally_generate::{
    load_inputs, load_prompt, passes, Generator, Job, SeedDefaults, SeedPlan, Settings,
};

/// The stand-in's answer for a prompt and seed (the crash test recomputes it).
fn expected(prompt: &str, seed: u64) -> String {
    let tail: String = prompt.chars().rev().take(40).collect();
    format!("seed {seed}: {}", tail.len() as u64 * 7 + seed)
}

struct Slow;

#[async_trait]
impl Backend for Slow {
    async fn generate(&self, req: &GenerationRequest) -> Result<GenerationResponse, BackendError> {
        let Prompt::Text(t) = &req.prompt else {
            return Err(BackendError::Config("text prompts only".into()));
        };
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        tokio::time::sleep(Duration::from_millis(5 + (nanos % 40) as u64)).await;
        Ok(GenerationResponse {
            text: format!("{}<|im_end|>", expected(t, req.params.seed.unwrap_or(0))),
            num_generated_tokens: Some(4),
            num_prompt_tokens: None,
            finish_reason: FinishReason::Stop,
            stop_reason: None,
            reasoning_content: None,
            reasoning: None,
            model: "slow".into(),
            elapsed: Duration::ZERO,
            attempts: 1,
            max_tokens: req.params.max_tokens,
        })
    }
    async fn model_name(&self) -> Result<String, BackendError> {
        Ok("slow".into())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let get = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let out = get("--out").ok_or("--out")?;
    let input = get("--input").ok_or("--input")?;
    let seeds = get("--seeds").unwrap_or_else(|| "0".into());
    let tokens = get("--tokens").unwrap_or_else(|| "16".into());
    let concurrency = get("--concurrency").unwrap_or_else(|| "8".into());
    let user = Overrides::parse([
        format!("++input_file={input}"),
        "++prompt_template=qwen-instruct".into(),
        format!("++inference.tokens_to_generate={tokens}"),
        format!("++max_concurrent_requests={concurrency}"),
    ])?;
    let settings = Settings::from_overrides(&user)?;
    let inputs = load_inputs(std::path::Path::new(&input), None, None)?;
    let prompt = load_prompt(&settings, Some("generic/math"))?;
    let plan = SeedPlan::from_flags(None, Some(&seeds), 0)?;
    let passes = passes(&plan, SeedDefaults::Generate, &user)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async {
        let summary = match get("--url") {
            Some(url) => {
                let backend = OpenAiCompatBackend::builder(url, ServerType::LlamaCpp).build()?;
                let model = backend.model_name().await?;
                let job = Job::builder(&settings)
                    .inputs(inputs)
                    .prompt(prompt)
                    .passes(passes)
                    .model(model, ServerType::LlamaCpp)
                    .output_dir(&out)
                    .build()?;
                Generator::new(&job, &backend, &NoopReporter).run().await?
            }
            None => {
                let job = Job::builder(&settings)
                    .inputs(inputs)
                    .prompt(prompt)
                    .passes(passes)
                    .model("slow", ServerType::Generic)
                    .output_dir(&out)
                    .build()?;
                Generator::new(&job, &Slow, &NoopReporter).run().await?
            }
        };
        println!("generated {} reused {}", summary.generated, summary.reused);
        Ok::<(), Box<dyn std::error::Error>>(())
    })
}
