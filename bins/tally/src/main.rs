//! `tally`: the umbrella CLI. Glue only: parse flags, build library objects, run, render.

use tally::*;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "tally",
    version,
    about = "Reproducible, fast evaluation of math LLMs — NeMo-Skills' verbs, flags and files",
    propagate_version = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Evaluate a model on benchmarks: prepare → generate → grade → summarize (`ns eval`).
    Eval(Box<cmd_eval::Args>),
    /// Prepare benchmarks as JSONL problem files (`ns prepare_data` / `python -m nemo_skills.dataset.prepare`).
    Prepare(cmd_prepare::Args),
    /// Generate samples: problems × seeds, against a server (running, hosted, or the embedded model), crash-safe (`ns generate`).
    Generate(cmd_generate::Args),
    /// Grade sample files in place: extract the answer, decide equivalence (`evaluate_results`).
    Grade(cmd_grade::Args),
    /// Judge graded samples with an LLM (`ns generate --generation_type=math_judge`).
    Judge(cmd_judge::Args),
    /// GenSelect: a model picks the best of each problem's seed solutions (newer NeMo-Skills'
    /// offline GenSelect); writes `<bench>/genselect/output-rs<seed>.jsonl`.
    Genselect(cmd_genselect::Args),
    /// Run the isolated code-execution service (NeMo-Skills' `/execute`, plus sessions).
    Sandbox(cmd_sandbox::Args),
    /// Host a model server (vLLM, SGLang, trtllm-serve, llama.cpp) until Ctrl-C.
    #[command(name = "start-server", alias = "start_server")]
    StartServer(cmd_start_server::Args),
    /// Convert a Hugging Face checkpoint into a TensorRT-LLM engine (`ns convert`).
    Convert(cmd_convert::Args),
    /// Summarize graded sample files into tables and metrics.json (`ns summarize_results`).
    #[command(name = "summarize-results", alias = "summarize_results")]
    SummarizeResults(cmd_summarize::Args),
    /// Where an evaluation stands: each output's samples done, failures and writer, and its Slurm jobs.
    Status(cmd_status::Args),
    /// Browse results in a local web viewer: summaries, the problem × seed grid, samples, two runs compared.
    View(cmd_view::Args),
    /// Write one self-contained HTML report of a results directory (summary, curves, grid, samples).
    Report(cmd_report::Args),
    /// Compare two runs on their shared problems: paired bootstrap intervals, McNemar, flipped problems.
    Compare(cmd_compare::Args),
    /// Export one row per sample (status, answers, verdicts, tokens, time) as parquet.
    Export(cmd_export::Args),
}

fn main() -> ExitCode {
    let cli: Cli = parse();
    main_with(|| match cli.command {
        Command::Prepare(args) => cmd_prepare::run(args),
        Command::Grade(args) => cmd_grade::run(args),
        Command::Generate(args) => cmd_generate::run(args),
        Command::Eval(args) => cmd_eval::run(*args),
        Command::Judge(args) => cmd_judge::run(args),
        Command::Genselect(args) => cmd_genselect::run(args),
        Command::Sandbox(args) => cmd_sandbox::run(args),
        Command::SummarizeResults(args) => cmd_summarize::run(args),
        Command::StartServer(args) => cmd_start_server::run(args),
        Command::Convert(args) => cmd_convert::run(args),
        Command::Status(args) => cmd_status::run(args),
        Command::View(args) => cmd_view::run(args),
        Command::Report(args) => cmd_report::run(args),
        Command::Compare(args) => cmd_compare::run(args),
        Command::Export(args) => cmd_export::run(args),
    })
}
