//! `tally convert`'s flags (`ns convert`, spec §1.4): hf → TensorRT-LLM, as a
//! `tally_launch::ConvertSpec` and the TensorRT-LLM tools it runs.

use std::path::PathBuf;

use tally_eval::Result;
use tally_launch::{ConvertSpec, ModelType, TrtllmTools, CONTAINER_EXAMPLES_DIR};

#[derive(clap::Args)]
pub struct Args {
    #[arg(long = "input_model")]
    pub input_model: PathBuf,
    #[arg(long = "output_model")]
    pub output_model: PathBuf,
    /// `llama`, `qwen` or `deepseek_v3`.
    #[arg(long = "model_type")]
    pub model_type: String,
    #[arg(long = "convert_from", default_value = "hf")]
    pub convert_from: String,
    #[arg(long = "convert_to", default_value = "trtllm")]
    pub convert_to: String,
    #[arg(long = "num_gpus")]
    pub num_gpus: u32,
    #[arg(long = "num_nodes", default_value_t = 1)]
    pub num_nodes: u32,
    /// `bf16`, `fp16` or `fp32`.
    #[arg(long, default_value = "bf16")]
    pub dtype: String,
    /// Accepted for `ns convert` command lines (only needed for conversions to hf/nemo).
    #[arg(long = "hf_model_name")]
    pub hf_model_name: Option<String>,
    /// Extra arguments for the checkpoint conversion script.
    #[arg(
        long = "trt_prepare_args",
        default_value = "",
        allow_hyphen_values = true
    )]
    pub trt_prepare_args: String,
    /// Reuse `<output_model>-tmp` when it holds a converted checkpoint.
    #[arg(long = "trt_reuse_tmp_engine", default_value_t = true, action = clap::ArgAction::Set)]
    pub trt_reuse_tmp_engine: bool,
    /// TensorRT-LLM's `examples/` directory (it has the families' convert_checkpoint.py).
    #[arg(long = "trtllm_examples_dir", default_value = CONTAINER_EXAMPLES_DIR)]
    pub trtllm_examples_dir: PathBuf,
    /// Print the commands and exit.
    #[arg(long = "dry_run")]
    pub dry_run: bool,
    #[arg(long, hide = true)]
    pub cluster: Option<String>,
    /// Extra `trtllm-build` arguments (after `--`), e.g. `-- --max_input_len 50000 --max_seq_len 50000`.
    #[arg(last = true, allow_hyphen_values = true)]
    pub build_args: Vec<String>,
}

impl Args {
    /// The conversion these flags ask for (only hf → trtllm).
    pub fn spec(&self) -> Result<ConvertSpec> {
        if (self.convert_from.as_str(), self.convert_to.as_str()) != ("hf", "trtllm") {
            return Err(format!(
                "--convert_from {} --convert_to {}: only hf → trtllm is supported",
                self.convert_from, self.convert_to
            )
            .into());
        }
        let mut spec = ConvertSpec::new(
            &self.input_model,
            &self.output_model,
            self.model_type.parse()?,
            self.dtype.parse()?,
            self.num_gpus,
            self.num_nodes,
        )
        .with_prepare_args(&self.trt_prepare_args)?
        .with_build_args(self.build_args.iter());
        spec.reuse_tmp_checkpoint = self.trt_reuse_tmp_engine;
        Ok(spec)
    }

    /// TensorRT-LLM's tools for `model_type` from `--trtllm_examples_dir`; with `--dry_run`
    /// their expected paths even where TensorRT-LLM is not installed, to show the plan.
    pub fn tools(&self, model_type: ModelType) -> Result<TrtllmTools> {
        match TrtllmTools::from_examples_dir(&self.trtllm_examples_dir, model_type) {
            Ok(t) => Ok(t),
            Err(_) if self.dry_run => Ok(TrtllmTools::new(
                self.trtllm_examples_dir
                    .join(model_type.as_str())
                    .join("convert_checkpoint.py"),
            )),
            Err(e) => Err(e.into()),
        }
    }
}
