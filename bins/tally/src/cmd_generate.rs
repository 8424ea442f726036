//! `tally generate` (`ns generate --generation_type=generate`): glue over `tally_generate`.

use std::process::ExitCode;

use tally_cli::generate::GenerationType;
use tally_eval::{generate, ClientOptions};
use tally_generate::Settings;

use crate::render::print_generated;
use crate::reporter::TerminalReporter;
use crate::AnyError;

pub use tally_cli::generate::Args;

pub fn run(args: Args) -> Result<ExitCode, AnyError> {
    if args.generation_type()? == GenerationType::MathJudge {
        return crate::cmd_judge::run(args.into_judge());
    }
    let reporter = TerminalReporter::new();
    let user = args.overrides()?;
    // Checked before connecting: a typo costs no connection attempt.
    let settings = Settings::from_overrides(&user)?;
    settings.require_input()?;
    let spec = args.spec(&user)?;
    let generated = crate::signals::with_target(
        &args.target.choice()?,
        &args.output_dir.join("generation-logs"),
        ClientOptions::new(&settings),
        &reporter,
        |rt, target| generate(rt, target, &spec, &reporter),
    )?;
    print_generated(&generated);
    Ok(crate::render::exit_code(generated.failures))
}
