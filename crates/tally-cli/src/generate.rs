//! `tally generate`'s flags (`ns generate`): the seeds, chunks and `++` settings of a
//! `tally_eval::Spec`; `--generation_type=math_judge` is `tally judge`'s flags.

use std::path::PathBuf;

use tally_core::overrides::Overrides;
use tally_eval::{Chunks, Result, Spec};
use tally_generate::{SeedDefaults, SeedPlan};

use crate::hosting::TargetFlags;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub target: TargetFlags,
    #[arg(long = "output_dir")]
    pub output_dir: PathBuf,
    /// Output files are `<prefix>-rs<seed>.jsonl` (`<prefix>.jsonl` without seeds).
    #[arg(long = "output_prefix", default_value = "output")]
    pub output_prefix: String,
    /// Seeds starting_seed..starting_seed+N, one output file each.
    #[arg(long = "num_random_seeds")]
    pub num_random_seeds: Option<u64>,
    /// Explicit seeds: "0,1,5" or an inclusive range "0..63".
    #[arg(long = "random_seeds")]
    pub random_seeds: Option<String>,
    #[arg(long = "starting_seed", default_value_t = 0)]
    pub starting_seed: u64,
    /// `generate`, or `math_judge` (= `tally judge`: ++input_dir=<graded samples>).
    #[arg(long = "generation_type", default_value = "generate")]
    pub generation_type: String,
    /// Show what would be generated and the first prompt; send and write nothing.
    #[arg(long = "dry_run")]
    pub dry_run: bool,
    /// Discard partial or finished outputs made with other settings instead of refusing.
    #[arg(long = "override-resume")]
    pub override_resume: bool,
    /// Where `++dataset=` files are (`<dir>/<benchmark>/<split>.jsonl`). Default: $TALLY_DATA_DIR,
    /// else ~/.local/share/tally/datasets.
    #[arg(long = "data_dir")]
    pub data_dir: Option<PathBuf>,
    /// Split the problems into N contiguous chunks, one output `<file>_chunk_<id>.jsonl` each,
    /// merged into `<file>` once every chunk is done (NeMo-Skills' chunking).
    #[arg(long = "num_chunks")]
    pub num_chunks: Option<usize>,
    /// The chunks this run generates: "0,2" or "0..3" (default: all).
    #[arg(long = "chunk_ids", requires = "num_chunks")]
    pub chunk_ids: Option<String>,
    /// Start the isolated code-execution service inside this run (for ++code_execution=true).
    #[arg(long = "with_sandbox")]
    pub with_sandbox: bool,
    /// `ns` infrastructure options, accepted for drop-in command lines (only `local` runs here).
    #[arg(long, hide = true)]
    pub cluster: Option<String>,
    #[arg(long, hide = true)]
    pub expname: Option<String>,
    /// Hydra-style settings: ++input_file= | ++dataset= ++split=, ++prompt_config=,
    /// ++prompt_template=, ++inference.{temperature,top_p,top_k,min_p,tokens_to_generate,
    /// random_seed,repetition_penalty}=, ++max_concurrent_requests=, ++max_samples=,
    /// ++max_connection_failures=N (stop after N consecutive connection failures, default 32; 0 never),
    /// ++extra_stop_phrases=, ++resume_policy=resume|override|restart, ++code_execution=true with
    /// ++server.code_execution.{max_code_executions,add_remaining_code_executions,
    /// code_execution_timeout,max_code_output_characters}= and ++sandbox.{host,port}=,
    /// ++total_code_executions_in_prompt=N|[min,max], ++override_max_code_executions=true.
    #[arg(value_name = "++KEY=VALUE")]
    pub overrides: Vec<String>,
}

/// What `--generation_type` asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GenerationType {
    Generate,
    /// `math_judge`: the run is `tally judge`'s ([`Args::into_judge`]).
    MathJudge,
}

impl Args {
    pub fn generation_type(&self) -> Result<GenerationType> {
        match self.generation_type.as_str() {
            "generate" => Ok(GenerationType::Generate),
            "math_judge" => Ok(GenerationType::MathJudge),
            other => Err(format!(
                "--generation_type={other} is not supported (use `generate` or `math_judge`)"
            )
            .into()),
        }
    }

    /// The `++` settings with `--override-resume` and `--dry_run` (only `--cluster local` runs
    /// here).
    pub fn overrides(&self) -> Result<Overrides> {
        if let Some(c) = self.cluster.as_deref().filter(|c| *c != "local") {
            return Err(format!("--cluster={c}: only local runs are supported").into());
        }
        crate::overrides(&self.overrides, self.override_resume, self.dry_run)
    }

    /// What to generate: `user` (from [`Args::overrides`]) over these flags' seeds and chunks.
    pub fn spec<'a>(&self, user: &'a Overrides) -> Result<Spec<'a>> {
        let seeds = SeedPlan::from_flags(
            self.num_random_seeds,
            self.random_seeds.as_deref(),
            self.starting_seed,
        )?;
        Ok(Spec {
            output_dir: self.output_dir.clone(),
            output_prefix: self.output_prefix.clone(),
            seeds,
            defaults: SeedDefaults::Generate,
            user,
            data_dir: self
                .data_dir
                .clone()
                .unwrap_or_else(tally_eval::defaults::data_dir),
            with_sandbox: self.with_sandbox,
            chunks: Chunks::parse(self.num_chunks, self.chunk_ids.as_deref())?,
        })
    }

    /// `--generation_type=math_judge`: the same flags, as `tally judge` reads them.
    pub fn into_judge(self) -> crate::judge::Args {
        crate::judge::Args {
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
