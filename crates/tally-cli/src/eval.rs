//! `tally eval`'s flags (`ns eval`): a plan to run, or the options of one
//! (`tally_eval::EvalOptions`), with the judge's and GenSelect's, and how it is sent to Slurm.

use std::path::PathBuf;

use tally_cluster::{JobState, SlurmConfig};
use tally_eval::{
    Chunks, EvalError, EvalOptions, EvalPlan, JudgeOptions, NumJobs, PartOutcome, Result,
    ServerChoice, SlurmRun, SubmitReport,
};

use crate::hosting::ServerFlags;

#[derive(clap::Args)]
pub struct Args {
    /// Run (a part of) a plan written by `--cluster slurm` instead of flags.
    #[arg(long, conflicts_with_all = ["output_dir", "benchmarks", "server_type"])]
    pub plan: Option<PathBuf>,
    /// With --plan: the part(s) to run (`0`, `1,5`, …: benchmarks or chunks) or `summary`.
    #[arg(long, requires = "plan")]
    pub part: Option<String>,
    /// With --plan, in a Slurm array task: each task's parts (`0,6/1,7/…`), this task's picked
    /// by `SLURM_ARRAY_TASK_ID`.
    #[arg(
        long = "task_parts",
        requires = "plan",
        conflicts_with = "part",
        hide = true
    )]
    pub task_parts: Option<String>,
    #[arg(long = "output_dir", required_unless_present = "plan")]
    pub output_dir: Option<PathBuf>,
    /// `name:N[,name:N]` — N seeds per benchmark (0: greedy only).
    #[arg(long, required_unless_present = "plan")]
    pub benchmarks: Option<String>,
    /// `vllm`, `sglang`, `trtllm`, `openai`, `llamacpp`, `generic`, or `local` (the embedded
    /// CPU model; `--model` a GGUF file, default the cached SmolLM2-135M).
    #[arg(long = "server_type", required_unless_present = "plan")]
    pub server_type: Option<tally_core::ServerType>,
    /// A running server; without it Tally hosts `--model` itself (vllm, sglang, trtllm, llamacpp).
    #[arg(long = "server_address")]
    pub server_address: Option<String>,
    #[arg(long)]
    pub model: Option<String>,
    #[command(flatten)]
    pub server: ServerFlags,
    #[arg(long = "starting_seed", default_value_t = 0)]
    pub starting_seed: u64,
    /// Dataset split (default: the benchmark's, e.g. `test`; `math` for hle).
    #[arg(long)]
    pub split: Option<String>,
    /// No greedy pass (`output.jsonl`), only the seeds.
    #[arg(long = "skip_greedy")]
    pub skip_greedy: bool,
    /// Where greedy goes beside seeds: `may` (`output.jsonl` beside `output-rs*.jsonl`, as May's
    /// `ns eval`) or `separate` (`<output_dir>/greedy/eval-results/<bench>/`, the layout newer
    /// NeMo-Skills' summarize_results reads).
    #[arg(long = "greedy_layout", default_value = "may")]
    pub greedy_layout: tally_eval::GreedyLayout,
    /// Where prepared datasets are (missing ones are prepared from their canonical source).
    #[arg(long = "data_dir")]
    pub data_dir: Option<PathBuf>,
    /// Print the plan (files, seeds, sampling, server command) and exit; nothing is written.
    #[arg(long = "dry_run")]
    pub dry_run: bool,
    #[arg(long = "override-resume")]
    pub override_resume: bool,
    /// The summary at the end: Tally's default, or NeMo-Skills' numbers byte for byte.
    #[arg(long, value_parser = ["nemo-skills"])]
    pub compat: Option<String>,
    /// With --cluster slurm: group the parts (benchmarks, chunks) into N jobs (N × num_chunks, as
    /// `ns eval`), or -1 for one job per benchmark; default one job per part. Locally one
    /// process runs everything, so it changes nothing.
    #[arg(long = "num_jobs", allow_negative_numbers = true)]
    pub num_jobs: Option<i64>,
    /// Split each benchmark's problems into N chunks (`<file>_chunk_<id>.jsonl`, merged when all
    /// are done); files are graded once merged.
    #[arg(long = "num_chunks")]
    pub num_chunks: Option<usize>,
    /// The chunks this run generates ("0,2" or "0..3"; default all).
    #[arg(long = "chunk_ids", requires = "num_chunks")]
    pub chunk_ids: Option<String>,
    #[arg(
        long = "extra_eval_args",
        default_value = "",
        allow_hyphen_values = true
    )]
    pub extra_eval_args: String,
    /// Server log and manifest folder (default `<output_dir>/eval-logs`).
    #[arg(long = "log_dir")]
    pub log_dir: Option<PathBuf>,
    /// `local` (default) or `slurm`: one sbatch job per benchmark (and chunk), then a summary job.
    #[arg(long)]
    pub cluster: Option<String>,
    /// Job name prefix on Slurm (default `eval`).
    #[arg(long)]
    pub expname: Option<String>,
    /// Slurm partition.
    #[arg(long)]
    pub partition: Option<String>,
    /// Slurm `--time-min`.
    #[arg(long = "time_min")]
    pub time_min: Option<String>,
    /// With --cluster slurm: wait for the jobs and exit non-zero if one failed.
    #[arg(long)]
    pub wait: bool,
    /// Skip the summary at the end.
    #[arg(long = "no_summary", hide = true)]
    pub no_summary: bool,
    #[command(flatten)]
    pub judge: JudgeFlags,
    #[command(flatten)]
    pub genselect: crate::genselect::EvalFlags,
    #[arg(long = "run_after", hide = true)]
    pub run_after: Option<String>,
    #[arg(long = "reuse_code", hide = true)]
    pub reuse_code: Option<String>,
    #[arg(long = "reuse_code_exp", hide = true)]
    pub reuse_code_exp: Option<String>,
    #[arg(long = "config_dir", hide = true)]
    pub config_dir: Option<String>,
    #[arg(long = "extra_datasets", hide = true)]
    pub extra_datasets: Option<String>,
    /// Slurm: do not ask for exclusive nodes.
    #[arg(long = "not_exclusive")]
    pub not_exclusive: bool,
    /// `++key=value` generation settings, after the benchmark's defaults (later wins).
    #[arg(value_name = "++KEY=VALUE")]
    pub overrides: Vec<String>,
}

/// The judge stage (newer `ns eval`): after grading, each benchmark's files are judged and the
/// summary has judge columns.
#[derive(clap::Args, Default)]
pub struct JudgeFlags {
    /// The judge model (a running server's name, or the model to host).
    #[arg(long = "judge_model")]
    pub judge_model: Option<String>,
    /// The judge's server type (as --server_type); turns the judge stage on.
    #[arg(long = "judge_server_type")]
    pub judge_server_type: Option<tally_core::ServerType>,
    /// A running judge server; without it Tally hosts --judge_model.
    #[arg(long = "judge_server_address")]
    pub judge_server_address: Option<String>,
    #[arg(long = "judge_server_gpus")]
    pub judge_server_gpus: Option<u32>,
    /// Only `math_judge`.
    #[arg(long = "judge_generation_type", value_parser = ["math_judge"])]
    pub judge_generation_type: Option<String>,
    /// Ask the judge only where it can change the outcome (default: always, as NeMo-Skills).
    #[arg(long = "judge-only-when", value_enum, default_value = "always")]
    pub judge_only_when: crate::judge::WhenArg,
    /// The judge's `++` settings, shell-quoted: "++prompt_template=qwen-instruct ++inference.…".
    #[arg(
        long = "extra_judge_args",
        default_value = "",
        allow_hyphen_values = true
    )]
    pub extra_judge_args: String,
    /// Do not answer judgements from the cache.
    #[arg(long = "judge-no-cache")]
    pub judge_no_cache: bool,
}

impl JudgeFlags {
    /// The judge stage, when `--judge_server_type` turns it on.
    pub fn options(&self) -> Result<Option<JudgeOptions>> {
        let Some(server_type) = self.judge_server_type else {
            if self.judge_model.is_some() || self.judge_server_address.is_some() {
                return Err(EvalError::Invalid(
                    "--judge_server_type is required with --judge_model / --judge_server_address"
                        .into(),
                ));
            }
            return Ok(None);
        };
        let overrides = tally_core::shell::split(&self.extra_judge_args)
            .map_err(|e| format!("--extra_judge_args: {e}"))?;
        Ok(Some(JudgeOptions {
            server: ServerChoice {
                server_type,
                address: self.judge_server_address.clone(),
                model: self.judge_model.clone(),
                host: tally_eval::HostOptions {
                    gpus: self.judge_server_gpus,
                    port: 0,
                    ..Default::default()
                },
            },
            when: self.judge_only_when.into(),
            overrides,
            cache: !self.judge_no_cache,
        }))
    }
}

impl Args {
    /// With `--plan`: the part(s) to run — `--part`, or with `--task_parts` this Slurm array
    /// task's (`array_task`: its `SLURM_ARRAY_TASK_ID`).
    pub fn plan_part(&self, array_task: Option<usize>) -> Result<Option<String>> {
        let Some(spec) = &self.task_parts else {
            return Ok(self.part.clone());
        };
        let task = array_task
            .ok_or("--task_parts: SLURM_ARRAY_TASK_ID is not set (run as a Slurm array task)")?;
        let parts = tally_eval::task_parts(spec, task)?;
        Ok(Some(
            parts
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join(","),
        ))
    }

    /// Whether the plan goes to Slurm (`--cluster slurm`) or runs here (`local`, the default);
    /// also refuses `--extra_eval_args`, which Tally's built-in grading does not take.
    pub fn slurm(&self) -> Result<bool> {
        let slurm = match self.cluster.as_deref() {
            None | Some("local") => false,
            Some("slurm") => true,
            Some(c) => {
                return Err(format!(
                    "--cluster={c}: `local` (this machine) or `slurm` (sbatch jobs)"
                )
                .into())
            }
        };
        if !self.extra_eval_args.trim().is_empty() {
            return Err(format!(
                "--extra_eval_args={:?}: not supported (grading is built in; see `tally grade --help`)",
                self.extra_eval_args
            )
            .into());
        }
        Ok(slurm)
    }

    /// The typed options of these flags.
    pub fn options(&self) -> Result<EvalOptions> {
        let (Some(output_dir), Some(benchmarks), Some(server_type)) =
            (&self.output_dir, &self.benchmarks, &self.server_type)
        else {
            return Err("--output_dir, --benchmarks and --server_type are required".into());
        };
        Ok(EvalOptions {
            output_dir: output_dir.clone(),
            benchmarks: benchmarks.clone(),
            server: ServerChoice {
                server_type: *server_type,
                address: self.server_address.clone(),
                model: self.model.clone(),
                host: self.server.host_options(),
            },
            starting_seed: self.starting_seed,
            split: self.split.clone(),
            skip_greedy: self.skip_greedy,
            data_dir: self
                .data_dir
                .clone()
                .unwrap_or_else(tally_eval::defaults::data_dir),
            log_dir: self.log_dir.clone(),
            nemo_skills: self.compat.is_some(),
            override_resume: self.override_resume,
            chunks: Chunks::parse(self.num_chunks, self.chunk_ids.as_deref())?,
            overrides: self.overrides.clone(),
            judge: self.judge.options()?,
            genselect: self.genselect.options()?,
            greedy_layout: self.greedy_layout,
        })
    }

    /// `--cluster slurm`: how `plan` is sent (partition, time, nodes and GPUs of the hosted
    /// server, `--num_jobs`), its jobs running `exe`.
    pub fn slurm_run(&self, plan: &EvalPlan, exe: PathBuf) -> Result<SlurmRun> {
        let mut config = SlurmConfig::new(plan.log_dir.join("scripts"));
        config.partition = self.partition.clone();
        config.time_min = self.time_min.clone();
        let server = &plan.options.server;
        config.nodes = Some(server.host.nodes);
        config.gpus_per_node = server.host.gpus.filter(|_| server.address.is_none());
        config.exclusive = !self.not_exclusive;
        let expname = self.expname.clone().unwrap_or_else(|| "eval".into());
        let mut slurm = SlurmRun::new(config, expname, exe);
        slurm.num_jobs = NumJobs::from_flag(self.num_jobs)?;
        Ok(slurm)
    }
}

/// What a Slurm submission did: each part's job (kept, done or submitted), the array, a
/// replaced summary job, and the summary job.
pub fn submitted_lines(report: &SubmitReport, expname: &str) -> Vec<String> {
    let mut lines = Vec::new();
    for (name, outcome) in &report.parts {
        match outcome {
            PartOutcome::Kept { id, state } => lines.push(format!(
                "{name} is still {} as Slurm job {id}: not submitted again",
                if *state == JobState::Pending {
                    "queued"
                } else {
                    "running"
                }
            )),
            PartOutcome::Done => lines.push(format!("{name}: outputs complete, nothing to submit")),
            PartOutcome::Submitted { id } => {
                lines.push(format!("submitted {name} as Slurm job {id}"))
            }
        }
    }
    if let Some((id, tasks)) = &report.array {
        lines.push(format!("(Slurm job array {id}, {tasks} tasks)"));
    }
    if let Some(old) = &report.replaced_summary {
        lines.push(format!(
            "cancelled the earlier summary job {old}, which would not wait for the new jobs"
        ));
    }
    lines.push(format!(
        "submitted {}-summarize as Slurm job {} (after the others)",
        expname, report.summary
    ));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{try_parse_from, Command, Tally};

    fn eval(args: &[&str]) -> Args {
        let argv = [
            "tally",
            "eval",
            "--output_dir",
            "o",
            "--benchmarks",
            "gsm8k:2",
        ];
        let cli: Tally = try_parse_from(argv.iter().chain(args)).unwrap();
        match cli.command {
            Command::Eval(a) => *a,
            _ => panic!("not eval"),
        }
    }

    #[test]
    fn the_judge_stage_needs_its_server_type() {
        let a = eval(&["--server_type", "vllm", "--judge_model", "j"]);
        let e = a.options().unwrap_err().to_string();
        assert!(e.contains("--judge_server_type is required"), "{e}");
        let a = eval(&[
            "--server_type=vllm",
            "--judge_server_type=openai",
            "--judge_model=j",
            "--judge-only-when=undecided",
            "--extra_judge_args=++prompt_template='a b'",
        ]);
        let j = a.options().unwrap().judge.unwrap();
        assert_eq!(j.server.model.as_deref(), Some("j"));
        assert_eq!(j.when, tally_eval::JudgeWhen::Undecided);
        assert_eq!(j.overrides, ["++prompt_template=a b"]);
        // The judge's server is hosted on a free port, not the model's 5000.
        assert_eq!(j.server.host.port, 0);
        assert!(j.cache);
    }

    #[test]
    fn genselect_flags_become_options_only_with_genselect() {
        let a = eval(&["--server_type=vllm"]);
        assert!(a.options().unwrap().genselect.is_none());
        let a = eval(&[
            "--server_type=vllm",
            "--genselect",
            "--genselect_seeds=3",
            "--genselect_solution_length_cap=0",
        ]);
        let g = a.options().unwrap().genselect.unwrap();
        assert_eq!((g.num_seeds, g.window_size), (3, 8));
        assert_eq!(g.solution_length_cap, None);
        assert!(g.filter_incomplete);
    }

    #[test]
    fn cluster_and_eval_args_are_checked() {
        assert!(!eval(&["--server_type=vllm"]).slurm().unwrap());
        assert!(eval(&["--server_type=vllm", "--cluster=slurm"])
            .slurm()
            .unwrap());
        let e = eval(&["--server_type=vllm", "--cluster=k8s"])
            .slurm()
            .unwrap_err();
        assert!(e.to_string().starts_with("--cluster=k8s:"), "{e}");
        let e = eval(&["--server_type=vllm", "--extra_eval_args=++x=1"])
            .slurm()
            .unwrap_err();
        assert!(e.to_string().contains("not supported"), "{e}");
    }

    #[test]
    fn an_array_task_runs_its_own_group_of_parts() {
        let cli: Tally = try_parse_from([
            "tally",
            "eval",
            "--plan",
            "p.json",
            "--task_parts",
            "0,6/1,7",
        ])
        .unwrap();
        let Command::Eval(a) = cli.command else {
            panic!("not eval")
        };
        assert_eq!(a.plan_part(Some(1)).unwrap().as_deref(), Some("1,7"));
        let e = a.plan_part(None).unwrap_err().to_string();
        assert!(e.contains("SLURM_ARRAY_TASK_ID"), "{e}");
        assert!(a.plan_part(Some(2)).is_err());
    }
}
