//! The `tally` binaries' shared half: every command's glue (its flags are tally-cli's `Args`),
//! so `tally <command>` and the per-stage binaries (`tally-grade`, `tally-summarize`, …) parse the
//! same flags and print the same output.

pub mod cmd_compare;
pub mod cmd_convert;
pub mod cmd_eval;
pub mod cmd_export;
pub mod cmd_generate;
pub mod cmd_genselect;
pub mod cmd_grade;
pub mod cmd_judge;
pub mod cmd_prepare;
pub mod cmd_report;
pub mod cmd_sandbox;
pub mod cmd_start_server;
pub mod cmd_status;
pub mod cmd_summarize;
pub mod cmd_view;
pub mod eval_slurm;
pub mod render;
pub mod reporter;
pub mod signals;

use std::process::ExitCode;

/// Errors as the binary shows them: the library's message, then its causes.
pub type AnyError = Box<dyn std::error::Error + Send + Sync>;

/// Sets up logging and the panic hook, runs a command, and prints its error with its causes.
pub fn main_with(run: impl FnOnce() -> Result<ExitCode, AnyError>) -> ExitCode {
    reporter::init_tracing();
    reporter::init_panic_hook();
    // The grader bounds its recursion and is fuzzed on rayon's default 2 MiB worker stack; a
    // larger stack is the margin for what fuzzing has not reached, because a stack overflow is
    // the one failure no panic boundary can catch. Address space only: pages are touched on use.
    let _ = rayon::ThreadPoolBuilder::new()
        .stack_size(8 << 20)
        .build_global();
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            let mut source = e.source();
            while let Some(s) = source {
                eprintln!("  caused by: {s}");
                source = s.source();
            }
            ExitCode::from(1)
        }
    }
}

/// Parses the command line (tally-cli: every long flag in both spellings, `--under_score` and
/// `--dash-case`); on `--help`, `--version` or a bad flag, prints and exits as clap does.
pub fn parse<T: clap::Parser>() -> T {
    tally_cli::try_parse_from(std::env::args_os()).unwrap_or_else(|e| e.exit())
}

/// A per-stage binary: `Args` of one command as the whole command line.
#[macro_export]
macro_rules! stage_main {
    ($name:literal, $about:literal, $cmd:ident) => {
        #[derive(clap::Parser)]
        #[command(name = $name, version, about = $about)]
        struct Cli {
            #[command(flatten)]
            args: tally::$cmd::Args,
        }

        fn main() -> std::process::ExitCode {
            let cli: Cli = tally::parse();
            tally::main_with(|| tally::$cmd::run(cli.args))
        }
    };
}
