//! `tally`: the umbrella CLI. Glue only: parse flags, build library objects, run, render.

use tally::*;

use std::process::ExitCode;

use tally_cli::{Command, Tally};

fn main() -> ExitCode {
    let cli: Tally = parse();
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
