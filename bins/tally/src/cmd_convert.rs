//! `tally convert` (`ns convert`, spec §1.4): hf → TensorRT-LLM through TensorRT-LLM's own tools.

use std::path::PathBuf;
use std::process::ExitCode;

use tally_launch::{run_plan, ConvertSpec, TrtllmTools, CONTAINER_EXAMPLES_DIR};

use crate::AnyError;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long = "input_model")]
    input_model: PathBuf,
    #[arg(long = "output_model")]
    output_model: PathBuf,
    /// `llama`, `qwen` or `deepseek_v3`.
    #[arg(long = "model_type")]
    model_type: String,
    #[arg(long = "convert_from", default_value = "hf")]
    convert_from: String,
    #[arg(long = "convert_to", default_value = "trtllm")]
    convert_to: String,
    #[arg(long = "num_gpus")]
    num_gpus: u32,
    #[arg(long = "num_nodes", default_value_t = 1)]
    num_nodes: u32,
    /// `bf16`, `fp16` or `fp32`.
    #[arg(long, default_value = "bf16")]
    dtype: String,
    /// Accepted for `ns convert` command lines (only needed for conversions to hf/nemo).
    #[arg(long = "hf_model_name")]
    hf_model_name: Option<String>,
    /// Extra arguments for the checkpoint conversion script.
    #[arg(
        long = "trt_prepare_args",
        default_value = "",
        allow_hyphen_values = true
    )]
    trt_prepare_args: String,
    /// Reuse `<output_model>-tmp` when it holds a converted checkpoint.
    #[arg(long = "trt_reuse_tmp_engine", default_value_t = true, action = clap::ArgAction::Set)]
    trt_reuse_tmp_engine: bool,
    /// TensorRT-LLM's `examples/` directory (it has the families' convert_checkpoint.py).
    #[arg(long = "trtllm_examples_dir", default_value = CONTAINER_EXAMPLES_DIR)]
    trtllm_examples_dir: PathBuf,
    /// Print the commands and exit.
    #[arg(long = "dry_run")]
    dry_run: bool,
    #[arg(long, hide = true)]
    cluster: Option<String>,
    /// Extra `trtllm-build` arguments (after `--`), e.g. `-- --max_input_len 50000 --max_seq_len 50000`.
    #[arg(last = true, allow_hyphen_values = true)]
    build_args: Vec<String>,
}

pub fn run(args: Args) -> Result<ExitCode, AnyError> {
    if (args.convert_from.as_str(), args.convert_to.as_str()) != ("hf", "trtllm") {
        return Err(format!(
            "--convert_from {} --convert_to {}: only hf → trtllm is supported",
            args.convert_from, args.convert_to
        )
        .into());
    }
    let mut spec = ConvertSpec::new(
        &args.input_model,
        &args.output_model,
        args.model_type.parse()?,
        args.dtype.parse()?,
        args.num_gpus,
        args.num_nodes,
    )
    .with_prepare_args(&args.trt_prepare_args)?
    .with_build_args(args.build_args.iter());
    spec.reuse_tmp_checkpoint = args.trt_reuse_tmp_engine;
    let model_type = spec.model_type;
    let tools = match TrtllmTools::from_examples_dir(&args.trtllm_examples_dir, model_type) {
        Ok(t) => t,
        // A dry run shows the plan even where TensorRT-LLM is not installed.
        Err(_) if args.dry_run => TrtllmTools::new(
            args.trtllm_examples_dir
                .join(model_type.as_str())
                .join("convert_checkpoint.py"),
        ),
        Err(e) => return Err(e.into()),
    };
    let plan = spec.plan(&tools)?;
    if args.dry_run {
        print!("{plan}");
        return Ok(ExitCode::SUCCESS);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        tools.check().await?;
        let logs = args.output_model.join("conversion-logs");
        for step in run_plan(&plan, &logs).await? {
            eprintln!(
                "{}: {} ({:.0} s){}",
                step.name,
                if step.skipped { "reused" } else { "done" },
                step.elapsed.as_secs_f64(),
                step.log_path
                    .map(|p| format!(", log {}", p.display()))
                    .unwrap_or_default()
            );
        }
        Ok::<(), AnyError>(())
    })?;
    Ok(ExitCode::SUCCESS)
}
