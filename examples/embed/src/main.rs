//! Tally as a library: grade pairs, render a prompt, summarize a results folder, and run a tiny
//! evaluation against a server. `tally-embed-example RESULTS_DIR DATA_DIR SERVER_URL OUT_DIR`
//! (DATA_DIR holds a prepared gsm8k).

use std::path::PathBuf;

use tally_core::NoopReporter;
use tally_eval::{EvalOptions, RunContext, ServerChoice, ServerType};
use tally_grade::{Grader, Outcome, Policy};
use tally_metrics::{SummarizeOptions, SummaryMode};
use tally_prompt::{Filled, Prompt};

type Error = Box<dyn std::error::Error + Send + Sync>;

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [results, data, url, out] = args.as_slice() else {
        return Err("usage: tally-embed-example RESULTS_DIR DATA_DIR SERVER_URL OUT_DIR".into());
    };

    // 1. Grading: Tally's equivalence rules.
    let grader = Grader::builder().policy(Policy::Tally).build();
    for (pred, gold) in [("\\frac{1}{2}", "0.5"), ("(1, 2)", "[1, 2]"), ("2\\pi", "6.2832")] {
        let same = grader.equal(pred, gold).outcome == Outcome::Equal;
        println!("grade: {pred} vs {gold}: {}", if same { "equal" } else { "not equal" });
    }

    // 2. A prompt, rendered as NeMo-Skills renders it.
    let prompt = Prompt::load("generic/math", Some("qwen-instruct"))?;
    let record = serde_json::json!({"problem": "What is 2+2?"});
    if let Filled::Text(text) = prompt.fill(record.as_object().ok_or("not an object")?)? {
        println!("prompt: {} characters, ends {:?}", text.len(), &text[text.len() - 30..]);
    }

    // 3. A results folder summarized (NeMo-Skills' numbers).
    let options = SummarizeOptions {
        benchmarks: None,
        max_samples: None,
        metric_type: None,
        mode: SummaryMode::NemoSkills,
    };
    let summary = tally_metrics::summarize(&PathBuf::from(results), &options, &NoopReporter)?;
    print!("{}", tally_metrics::render::render(&summary, tally_metrics::render::Format::Table));

    // 4. A tiny evaluation: greedy gsm8k, two problems, against a running server.
    let mut eval = EvalOptions::new(out, "gsm8k:0", ServerChoice::remote(ServerType::LlamaCpp, url));
    eval.data_dir = PathBuf::from(data);
    eval.overrides = ["++max_samples=2", "++prompt_template=qwen-instruct"]
        .into_iter()
        .chain(["++inference.tokens_to_generate=16"])
        .map(String::from)
        .collect();
    let plan = tally_eval::plan(&eval)?;
    let rt = tokio::runtime::Runtime::new()?;
    let ctx = RunContext {
        rt: &rt,
        reporter: &NoopReporter,
        on_server_start: &|_| {},
        command: std::env::args().collect(),
    };
    let outcome = tally_eval::run_plan(&plan, &ctx)?;
    let summary = tally_eval::summarize(&plan, &[], &NoopReporter)?.ok_or("nothing to summarize")?;
    let benchmarks: Vec<&String> = summary.layout.benchmarks.iter().map(|b| &b.name).collect();
    println!("eval: {} failed samples; summarized {benchmarks:?}", outcome.failures);
    if outcome.failures > 0 || benchmarks.is_empty() {
        return Err("the evaluation did not complete".into());
    }
    Ok(())
}
