//! `tally generate` (`ns generate --generation_type=generate`): glue over `tally_generate`.

use std::path::PathBuf;
use std::process::ExitCode;

use tally_core::overrides::Overrides;
use tally_eval::{generate, Chunks, ClientOptions, Spec};
use tally_generate::{SeedDefaults, SeedPlan, Settings};

use crate::hosting::TargetFlags;
use crate::render::print_generated;
use crate::reporter::TerminalReporter;
use crate::AnyError;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    target: TargetFlags,
    #[arg(long = "output_dir")]
    output_dir: PathBuf,
    /// Output files are `<prefix>-rs<seed>.jsonl` (`<prefix>.jsonl` without seeds).
    #[arg(long = "output_prefix", default_value = "output")]
    output_prefix: String,
    /// Seeds starting_seed..starting_seed+N, one output file each.
    #[arg(long = "num_random_seeds")]
    num_random_seeds: Option<u64>,
    /// Explicit seeds: "0,1,5" or an inclusive range "0..63".
    #[arg(long = "random_seeds")]
    random_seeds: Option<String>,
    #[arg(long = "starting_seed", default_value_t = 0)]
    starting_seed: u64,
    /// `generate`, or `math_judge` (= `tally judge`: ++input_dir=<graded samples>).
    #[arg(long = "generation_type", default_value = "generate")]
    generation_type: String,
    /// Show what would be generated and the first prompt; send and write nothing.
    #[arg(long = "dry_run")]
    dry_run: bool,
    /// Discard partial or finished outputs made with other settings instead of refusing.
    #[arg(long = "override-resume")]
    override_resume: bool,
    /// Where `++dataset=` files are (`<dir>/<benchmark>/<split>.jsonl`). Default: $TALLY_DATA_DIR,
    /// else ~/.local/share/tally/datasets.
    #[arg(long = "data_dir")]
    data_dir: Option<PathBuf>,
    /// Split the problems into N contiguous chunks, one output `<file>_chunk_<id>.jsonl` each,
    /// merged into `<file>` once every chunk is done (NeMo-Skills' chunking).
    #[arg(long = "num_chunks")]
    num_chunks: Option<usize>,
    /// The chunks this run generates: "0,2" or "0..3" (default: all).
    #[arg(long = "chunk_ids", requires = "num_chunks")]
    chunk_ids: Option<String>,
    /// Start the isolated code-execution service inside this run (for ++code_execution=true).
    #[arg(long = "with_sandbox")]
    with_sandbox: bool,
    /// `ns` infrastructure options, accepted for drop-in command lines (only `local` runs here).
    #[arg(long, hide = true)]
    cluster: Option<String>,
    #[arg(long, hide = true)]
    expname: Option<String>,
    /// Hydra-style settings: ++input_file= | ++dataset= ++split=, ++prompt_config=,
    /// ++prompt_template=, ++inference.{temperature,top_p,top_k,min_p,tokens_to_generate,
    /// random_seed,repetition_penalty}=, ++max_concurrent_requests=, ++max_samples=,
    /// ++max_connection_failures=N (stop after N consecutive connection failures, default 32; 0 never),
    /// ++extra_stop_phrases=, ++resume_policy=resume|override|restart, ++code_execution=true with
    /// ++server.code_execution.{max_code_executions,add_remaining_code_executions,
    /// code_execution_timeout,max_code_output_characters}= and ++sandbox.{host,port}=,
    /// ++total_code_executions_in_prompt=N|[min,max], ++override_max_code_executions=true.
    #[arg(value_name = "++KEY=VALUE")]
    overrides: Vec<String>,
}

pub fn run(args: Args) -> Result<ExitCode, AnyError> {
    match args.generation_type.as_str() {
        "generate" => {}
        "math_judge" => return crate::cmd_judge::run(args.into_judge()),
        other => {
            return Err(format!(
                "--generation_type={other} is not supported (use `generate` or `math_judge`)"
            )
            .into())
        }
    }
    if let Some(c) = args.cluster.as_deref().filter(|c| *c != "local") {
        return Err(format!("--cluster={c}: only local runs are supported").into());
    }
    let reporter = TerminalReporter::new();
    let mut user = Overrides::parse(&args.overrides)?;
    if args.override_resume {
        user.push("resume_policy", serde_json::json!("override"));
    }
    if args.dry_run {
        user.push("dry_run", serde_json::json!(true));
    }
    // Checked before connecting: a typo costs no connection attempt.
    let settings = Settings::from_overrides(&user)?;
    settings.require_input()?;
    let seeds = SeedPlan::from_flags(
        args.num_random_seeds,
        args.random_seeds.as_deref(),
        args.starting_seed,
    )?;
    let spec = Spec {
        output_dir: args.output_dir.clone(),
        output_prefix: args.output_prefix.clone(),
        seeds,
        defaults: SeedDefaults::Generate,
        user: &user,
        data_dir: args
            .data_dir
            .clone()
            .unwrap_or_else(tally_eval::defaults::data_dir),
        with_sandbox: args.with_sandbox,
        chunks: Chunks::parse(args.num_chunks, args.chunk_ids.as_deref())?,
    };
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

impl Args {
    /// `--generation_type=math_judge`: the same flags, as `tally judge` reads them.
    fn into_judge(self) -> crate::cmd_judge::Args {
        crate::cmd_judge::Args {
            target: self.target,
            output_dir: Some(self.output_dir),
            num_random_seeds: self.num_random_seeds,
            random_seeds: self.random_seeds,
            starting_seed: self.starting_seed,
            dry_run: self.dry_run,
            override_resume: self.override_resume,
            cluster: self.cluster,
            overrides: self.overrides,
            ..Default::default()
        }
    }
}
