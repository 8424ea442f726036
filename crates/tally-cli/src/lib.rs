//! Tally's command-line surface: the flags of every `tally` subcommand as clap structs — one copy,
//! shared by `tally` and the per-stage binaries (`tally-grade`, `tally-summarize`, …) — and their
//! conversion into the library crates' typed options. Flags in, options out: nothing here prints,
//! exits or runs a stage; errors are `tally_eval::EvalError`s naming the flag at fault.

pub mod compare;
pub mod convert;
pub mod eval;
pub mod export;
pub mod generate;
pub mod genselect;
pub mod grade;
pub mod hosting;
pub mod judge;
pub mod prepare;
pub mod report;
pub mod sandbox;
pub mod start_server;
pub mod status;
pub mod summarize;
pub mod view;

use std::ffi::OsString;

use clap::{Parser, Subcommand};
use tally_core::overrides::Overrides;

/// `tally`: every command.
#[derive(Parser)]
#[command(
    name = "tally",
    version,
    about = "Reproducible, fast evaluation of math LLMs — NeMo-Skills' verbs, flags and files",
    propagate_version = true
)]
pub struct Tally {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Evaluate a model on benchmarks: prepare → generate → grade → summarize (`ns eval`).
    Eval(Box<eval::Args>),
    /// Prepare benchmarks as JSONL problem files (`ns prepare_data` / `python -m nemo_skills.dataset.prepare`).
    Prepare(prepare::Args),
    /// Generate samples: problems × seeds, against a server (running, hosted, or the embedded model), crash-safe (`ns generate`).
    Generate(generate::Args),
    /// Grade sample files in place: extract the answer, decide equivalence (`evaluate_results`).
    Grade(grade::Args),
    /// Judge graded samples with an LLM (`ns generate --generation_type=math_judge`).
    Judge(judge::Args),
    /// GenSelect: a model picks the best of each problem's seed solutions (newer NeMo-Skills'
    /// offline GenSelect); writes `<bench>/genselect/output-rs<seed>.jsonl`.
    Genselect(genselect::Args),
    /// Run the isolated code-execution service (NeMo-Skills' `/execute`, plus sessions).
    Sandbox(sandbox::Args),
    /// Host a model server (vLLM, SGLang, trtllm-serve, llama.cpp) until Ctrl-C.
    #[command(name = "start-server", alias = "start_server")]
    StartServer(start_server::Args),
    /// Convert a Hugging Face checkpoint into a TensorRT-LLM engine (`ns convert`).
    Convert(convert::Args),
    /// Summarize graded sample files into tables and metrics.json (`ns summarize_results`).
    #[command(name = "summarize-results", alias = "summarize_results")]
    SummarizeResults(summarize::Args),
    /// Where an evaluation stands: each output's samples done, failures and writer, and its Slurm jobs.
    Status(status::Args),
    /// Browse results in a local web viewer: summaries, the problem × seed grid, samples, two runs compared.
    View(view::Args),
    /// Write one self-contained HTML report of a results directory (summary, curves, grid, samples).
    Report(report::Args),
    /// Compare two runs on their shared problems: paired bootstrap intervals, McNemar, flipped problems.
    Compare(compare::Args),
    /// Export one row per sample (status, answers, verdicts, tokens, time) as parquet.
    Export(export::Args),
}

/// Parses `args` (the program name first) with every long flag in both spellings:
/// `--under_score` as `ns` writes them and `--dash-case` (flags declare one; the other is added
/// here, hidden).
pub fn try_parse_from<T: Parser>(
    args: impl IntoIterator<Item = impl Into<OsString> + Clone>,
) -> Result<T, clap::Error> {
    let matches = both_spellings(T::command()).try_get_matches_from(args)?;
    T::from_arg_matches(&matches)
}

fn both_spellings(cmd: clap::Command) -> clap::Command {
    cmd.mut_args(|a| {
        let other = match a.get_long() {
            Some(l) if l.contains('_') => l.replace('_', "-"),
            Some(l) if l.contains('-') => l.replace('-', "_"),
            _ => return a,
        };
        if a.get_all_aliases()
            .is_some_and(|v| v.contains(&other.as_str()))
        {
            return a;
        }
        // Leaked once per flag at start-up: clap keeps `&'static str` names.
        a.alias(&*Box::leak(other.into_boxed_str()))
    })
    .mut_subcommands(both_spellings)
}

/// `++key=value` settings, then `resume_policy=override` (`--override-resume`) and `dry_run`
/// (`--dry_run`) when set: the flags win over the `++` spellings.
fn overrides(
    args: &[String],
    override_resume: bool,
    dry_run: bool,
) -> tally_eval::Result<Overrides> {
    let mut all = Overrides::parse(args)?;
    if override_resume {
        all.push("resume_policy", serde_json::json!("override"));
    }
    if dry_run {
        all.push("dry_run", serde_json::json!(true));
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Tally, clap::Error> {
        try_parse_from(std::iter::once("tally").chain(args.iter().copied()))
    }

    #[test]
    fn every_long_flag_takes_both_spellings() {
        for flag in ["--output_dir", "--output-dir"] {
            let Command::Generate(g) = parse(&["generate", "--server_type", "vllm", flag, "out"])
                .unwrap()
                .command
            else {
                panic!("not generate")
            };
            assert_eq!(g.output_dir, std::path::PathBuf::from("out"));
        }
        // Declared with a dash, taken with an underscore too.
        for flag in ["--override-resume", "--override_resume"] {
            let Command::Judge(j) = parse(&["judge", "--server_type", "vllm", flag])
                .unwrap()
                .command
            else {
                panic!("not judge")
            };
            assert!(j.override_resume);
        }
        assert!(parse(&["generate", "--output__dir", "out"]).is_err());
    }

    #[test]
    fn a_declared_alias_is_not_added_twice() {
        // `--benchmarks` of summarize-results declares the alias itself; a duplicate would panic.
        let Command::SummarizeResults(s) = parse(&["summarize_results", "r", "--benchmarks", "a"])
            .unwrap()
            .command
        else {
            panic!("not summarize-results")
        };
        assert_eq!(s.options().unwrap().benchmarks, Some(vec!["a".to_string()]));
    }

    #[test]
    fn the_added_spelling_stays_out_of_help() {
        let help = both_spellings(Tally::command())
            .find_subcommand_mut("generate")
            .unwrap()
            .render_long_help()
            .to_string();
        assert!(help.contains("--output_dir"));
        assert!(!help.contains("--output-dir"));
    }
}
