//! `ns convert --convert_from hf --convert_to trtllm` (spec §1.4): the commands that turn a
//! Hugging Face checkpoint into a TensorRT-LLM engine.
//!
//! Two TensorRT-LLM tools do the work, as in the seed: the model family's
//! `convert_checkpoint.py` (the seed ships copies of these as `nemo_skills.conversion.
//! hf_to_trtllm_<type>`; Tally runs TensorRT-LLM's own) writes a TensorRT-LLM checkpoint to
//! `<output>-tmp`, and `trtllm-build` compiles it into `<output>`. The tokenizer files are then
//! copied next to the engine, so `trtllm-serve <output>` finds them.
//!
//! These tools belong to TensorRT-LLM's engine workflow, which its newest releases dropped (the
//! PyTorch backend loads Hugging Face checkpoints directly); conversion needs a release that still
//! ships `trtllm-build` and the examples' `convert_checkpoint.py`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::command_line::CommandLine;
use crate::error::{LaunchError, Result};
use crate::install;
use crate::shell_words::{self, quote};

/// `--model_type`: which `convert_checkpoint.py` applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ModelType {
    Llama,
    Qwen,
    DeepseekV3,
}

impl ModelType {
    pub fn as_str(self) -> &'static str {
        match self {
            ModelType::Llama => "llama",
            ModelType::Qwen => "qwen",
            ModelType::DeepseekV3 => "deepseek_v3",
        }
    }
}

impl fmt::Display for ModelType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ModelType {
    type Err = LaunchError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "llama" => Ok(ModelType::Llama),
            "qwen" => Ok(ModelType::Qwen),
            "deepseek_v3" => Ok(ModelType::DeepseekV3),
            other => Err(LaunchError::InvalidSpec(format!(
                "unknown --model_type {other:?} (expected llama, qwen or deepseek_v3)"
            ))),
        }
    }
}

/// `--dtype`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Dtype {
    #[default]
    Bf16,
    Fp16,
    Fp32,
}

impl Dtype {
    /// The `ns convert` spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Dtype::Bf16 => "bf16",
            Dtype::Fp16 => "fp16",
            Dtype::Fp32 => "fp32",
        }
    }

    /// The TensorRT-LLM spelling, used for `--dtype` and `--gpt_attention_plugin`.
    pub fn trtllm_name(self) -> &'static str {
        match self {
            Dtype::Bf16 => "bfloat16",
            Dtype::Fp16 => "float16",
            Dtype::Fp32 => "float32",
        }
    }
}

impl FromStr for Dtype {
    type Err = LaunchError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "bf16" => Ok(Dtype::Bf16),
            "fp16" => Ok(Dtype::Fp16),
            "fp32" => Ok(Dtype::Fp32),
            other => Err(LaunchError::InvalidSpec(format!(
                "unknown --dtype {other:?} (expected bf16, fp16 or fp32)"
            ))),
        }
    }
}

/// An hf→trtllm conversion: `ns convert`'s options, with the seed's fixed values as fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvertSpec {
    /// `--input_model`: the Hugging Face checkpoint directory.
    pub input_model: PathBuf,
    /// `--output_model`: where the engine goes; the checkpoint goes to `<output_model>-tmp`.
    pub output_model: PathBuf,
    pub model_type: ModelType,
    pub dtype: Dtype,
    /// `--num_gpus`: tensor parallelism.
    pub num_gpus: u32,
    /// `--num_nodes`: pipeline parallelism (the seed's mapping; the build still runs on one node).
    pub num_nodes: u32,
    /// `convert_checkpoint.py --workers`.
    pub workers: u32,
    pub max_batch_size: u32,
    pub max_input_len: u32,
    pub max_seq_len: u32,
    pub max_num_tokens: u32,
    /// `--trt_prepare_args`, appended to `convert_checkpoint.py`.
    pub prepare_args: Vec<String>,
    /// `ns convert`'s extra arguments, appended to `trtllm-build` after the defaults, so that
    /// (argparse: last one wins) e.g. `--max_input_len 50000` overrides 4096.
    pub build_args: Vec<String>,
    /// `--trt_reuse_tmp_engine`: skip the checkpoint step when `<output>-tmp/config.json` exists.
    pub reuse_tmp_checkpoint: bool,
}

impl ConvertSpec {
    /// The seed's defaults: workers 16, max batch 512, input 4096, sequence 8192, tokens 8192,
    /// reuse of the temporary checkpoint on.
    pub fn new(
        input_model: impl Into<PathBuf>,
        output_model: impl Into<PathBuf>,
        model_type: ModelType,
        dtype: Dtype,
        num_gpus: u32,
        num_nodes: u32,
    ) -> Self {
        ConvertSpec {
            input_model: input_model.into(),
            output_model: output_model.into(),
            model_type,
            dtype,
            num_gpus,
            num_nodes,
            workers: 16,
            max_batch_size: 512,
            max_input_len: 4096,
            max_seq_len: 8192,
            max_num_tokens: 8192,
            prepare_args: Vec::new(),
            build_args: Vec::new(),
            reuse_tmp_checkpoint: true,
        }
    }

    /// Appends `--trt_prepare_args`, split into shell words.
    pub fn with_prepare_args(mut self, args: &str) -> Result<Self> {
        self.prepare_args.extend(shell_words::split(args)?);
        Ok(self)
    }

    /// Appends extra `trtllm-build` arguments (already words, as a CLI collects them).
    pub fn with_build_args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.build_args.extend(args.into_iter().map(Into::into));
        self
    }

    /// `<output_model>-tmp`, where the TensorRT-LLM checkpoint is written.
    ///
    /// A trailing `/` on the output is dropped first; the seed would put `-tmp` inside the output
    /// directory then.
    pub fn tmp_checkpoint_dir(&self) -> PathBuf {
        let out = self.output_model.to_string_lossy();
        PathBuf::from(format!("{}-tmp", out.trim_end_matches('/')))
    }

    /// The steps, in order, with the given tools.
    pub fn plan(&self, tools: &TrtllmTools) -> Result<ConvertPlan> {
        if self.num_gpus == 0 || self.num_nodes == 0 {
            return Err(LaunchError::InvalidSpec(
                "--num_gpus and --num_nodes must be at least 1".into(),
            ));
        }
        let input = utf8(&self.input_model, "--input_model")?;
        let output = utf8(&self.output_model, "--output_model")?;
        let tmp = self.tmp_checkpoint_dir();
        let tmp = utf8(&tmp, "--output_model")?;
        let script = utf8(&tools.convert_script, "convert_checkpoint.py")?;
        let dtype = self.dtype.trtllm_name();

        let checkpoint = CommandLine::new(&tools.python)
            .args([
                script,
                "--model_dir",
                input,
                "--output_dir",
                tmp,
                "--dtype",
                dtype,
                "--tp_size",
            ])
            .arg(self.num_gpus.to_string())
            .arg("--pp_size")
            .arg(self.num_nodes.to_string())
            .arg("--workers")
            .arg(self.workers.to_string())
            .args(self.prepare_args.iter().cloned());

        let build = CommandLine::new(&tools.trtllm_build)
            .args([
                "--checkpoint_dir",
                tmp,
                "--output_dir",
                output,
                "--gpt_attention_plugin",
                dtype,
                "--use_paged_context_fmha",
                "enable",
                "--max_batch_size",
            ])
            .arg(self.max_batch_size.to_string())
            .arg("--max_input_len")
            .arg(self.max_input_len.to_string())
            .arg("--max_seq_len")
            .arg(self.max_seq_len.to_string())
            .arg("--max_num_tokens")
            .arg(self.max_num_tokens.to_string())
            .args(self.build_args.iter().cloned());

        let skip_checkpoint_if = self
            .reuse_tmp_checkpoint
            .then(|| PathBuf::from(tmp).join("config.json"));
        Ok(ConvertPlan {
            steps: vec![
                ConvertStep::Run {
                    name: "convert_checkpoint",
                    command: checkpoint,
                    skip_if_exists: skip_checkpoint_if,
                },
                ConvertStep::Run {
                    name: "trtllm-build",
                    command: build,
                    skip_if_exists: None,
                },
                ConvertStep::CopyTokenizer {
                    from: self.input_model.clone(),
                    to: self.output_model.clone(),
                },
            ],
        })
    }
}

fn utf8<'a>(path: &'a Path, what: &str) -> Result<&'a str> {
    path.to_str().ok_or_else(|| {
        LaunchError::InvalidSpec(format!("{what} {} is not valid UTF-8", path.display()))
    })
}

/// Where TensorRT-LLM's tools are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrtllmTools {
    /// The Python with `tensorrt_llm` installed.
    pub python: String,
    /// The family's `convert_checkpoint.py` (TensorRT-LLM ships it in `examples/`, not in the
    /// wheel; NVIDIA's container has it under `/app/tensorrt_llm/examples`).
    pub convert_script: PathBuf,
    pub trtllm_build: String,
}

/// Where TensorRT-LLM's examples are in NVIDIA's container.
pub const CONTAINER_EXAMPLES_DIR: &str = "/app/tensorrt_llm/examples";

impl TrtllmTools {
    /// `python3`, `trtllm-build` from `PATH`, and the given script.
    pub fn new(convert_script: impl Into<PathBuf>) -> Self {
        TrtllmTools {
            python: "python3".to_string(),
            convert_script: convert_script.into(),
            trtllm_build: "trtllm-build".to_string(),
        }
    }

    /// Finds `model_type`'s `convert_checkpoint.py` under a TensorRT-LLM `examples/` directory,
    /// in the layouts of TensorRT-LLM releases (`<family>/` before 0.19,
    /// `models/core/<family>/` since).
    pub fn from_examples_dir(examples_dir: &Path, model_type: ModelType) -> Result<Self> {
        let family = model_type.as_str();
        let candidates = [
            examples_dir.join("models/core").join(family),
            examples_dir.join(family),
            examples_dir.join("models/contrib").join(family),
        ];
        candidates
            .iter()
            .map(|dir| dir.join("convert_checkpoint.py"))
            .find(|p| p.is_file())
            .map(Self::new)
            .ok_or_else(|| LaunchError::FileNotFound {
                what: "TensorRT-LLM's convert_checkpoint.py",
                path: candidates[0].join("convert_checkpoint.py"),
                hint: format!(
                    "pass the TensorRT-LLM examples directory that has {family}/convert_checkpoint.py \
                     (a clone of https://github.com/NVIDIA/TensorRT-LLM at the installed version, or \
                     {CONTAINER_EXAMPLES_DIR} in NVIDIA's container)"
                ),
            })
    }

    /// Checks that the interpreter can import `tensorrt_llm`, the script exists and
    /// `trtllm-build` is on `PATH`; run before a conversion that would fail hours in.
    pub async fn check(&self) -> Result<()> {
        install::require_python_module(&self.python, "tensorrt_llm", install::TRTLLM_HINT).await?;
        if !self.convert_script.is_file() {
            return Err(LaunchError::FileNotFound {
                what: "TensorRT-LLM's convert_checkpoint.py",
                path: self.convert_script.clone(),
                hint: "it is in TensorRT-LLM's examples/ directory, not in the pip package".into(),
            });
        }
        install::require_program(&self.trtllm_build, install::TRTLLM_HINT)?;
        Ok(())
    }
}

/// The conversion's steps in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvertPlan {
    pub steps: Vec<ConvertStep>,
}

/// One step of a conversion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConvertStep {
    /// Run a program; skipped when `skip_if_exists` names an existing file.
    Run {
        name: &'static str,
        command: CommandLine,
        skip_if_exists: Option<PathBuf>,
    },
    /// `cp <from>/tokenizer* <to>`: the files whose names start with `tokenizer`.
    CopyTokenizer { from: PathBuf, to: PathBuf },
}

impl ConvertStep {
    pub fn name(&self) -> &'static str {
        match self {
            ConvertStep::Run { name, .. } => name,
            ConvertStep::CopyTokenizer { .. } => "copy-tokenizer",
        }
    }
}

/// Each step as a shell line a person can run: the same commands and the same skip rule as the
/// seed's `if [ ! -f …/config.json ]; then …; fi && trtllm-build … && cp …/tokenizer* …`.
impl fmt::Display for ConvertStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConvertStep::Run {
                command,
                skip_if_exists: Some(marker),
                ..
            } => write!(
                f,
                "if [ ! -f {} ]; then {command}; fi",
                quote(&marker.to_string_lossy())
            ),
            ConvertStep::Run { command, .. } => write!(f, "{command}"),
            ConvertStep::CopyTokenizer { from, to } => write!(
                f,
                "cp {}/tokenizer* {}",
                quote(&from.to_string_lossy()),
                quote(&to.to_string_lossy())
            ),
        }
    }
}

/// One step per line.
impl fmt::Display for ConvertPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for step in &self.steps {
            writeln!(f, "{step}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    fn tools() -> TrtllmTools {
        TrtllmTools::new("/app/tensorrt_llm/examples/models/core/qwen/convert_checkpoint.py")
    }

    #[test]
    fn hf_to_trtllm_is_the_seeds_two_commands_and_a_copy() {
        let spec = ConvertSpec::new(
            "/hf_models/OpenMath-Nemotron-1.5B",
            "/trt_models/openmath-nemotron-1.5b",
            ModelType::Qwen,
            Dtype::Bf16,
            1,
            1,
        )
        .with_build_args(["--max_input_len", "50000", "--max_seq_len", "50000"]);
        let plan = spec.plan(&tools()).unwrap();
        let [ConvertStep::Run {
            name: n1,
            command: c1,
            skip_if_exists: s1,
        }, ConvertStep::Run {
            name: n2,
            command: c2,
            skip_if_exists: s2,
        }, ConvertStep::CopyTokenizer { from, to }] = &plan.steps[..]
        else {
            panic!("unexpected plan {plan:?}");
        };
        assert_eq!((*n1, *n2), ("convert_checkpoint", "trtllm-build"));
        assert_eq!(c1.program, "python3");
        assert_eq!(
            c1.args,
            words(
                "/app/tensorrt_llm/examples/models/core/qwen/convert_checkpoint.py \
                 --model_dir /hf_models/OpenMath-Nemotron-1.5B \
                 --output_dir /trt_models/openmath-nemotron-1.5b-tmp --dtype bfloat16 \
                 --tp_size 1 --pp_size 1 --workers 16"
            )
        );
        assert_eq!(
            s1.as_deref(),
            Some(Path::new(
                "/trt_models/openmath-nemotron-1.5b-tmp/config.json"
            ))
        );
        assert_eq!(c2.program, "trtllm-build");
        assert_eq!(
            c2.args,
            words(
                "--checkpoint_dir /trt_models/openmath-nemotron-1.5b-tmp \
                 --output_dir /trt_models/openmath-nemotron-1.5b --gpt_attention_plugin bfloat16 \
                 --use_paged_context_fmha enable --max_batch_size 512 --max_input_len 4096 \
                 --max_seq_len 8192 --max_num_tokens 8192 \
                 --max_input_len 50000 --max_seq_len 50000"
            )
        );
        assert_eq!(s2, &None);
        assert_eq!(from, Path::new("/hf_models/OpenMath-Nemotron-1.5B"));
        assert_eq!(to, Path::new("/trt_models/openmath-nemotron-1.5b"));
        assert_eq!(
            plan.to_string(),
            "if [ ! -f /trt_models/openmath-nemotron-1.5b-tmp/config.json ]; then python3 \
             /app/tensorrt_llm/examples/models/core/qwen/convert_checkpoint.py --model_dir \
             /hf_models/OpenMath-Nemotron-1.5B --output_dir /trt_models/openmath-nemotron-1.5b-tmp \
             --dtype bfloat16 --tp_size 1 --pp_size 1 --workers 16; fi\n\
             trtllm-build --checkpoint_dir /trt_models/openmath-nemotron-1.5b-tmp --output_dir \
             /trt_models/openmath-nemotron-1.5b --gpt_attention_plugin bfloat16 \
             --use_paged_context_fmha enable --max_batch_size 512 --max_input_len 4096 \
             --max_seq_len 8192 --max_num_tokens 8192 --max_input_len 50000 --max_seq_len 50000\n\
             cp /hf_models/OpenMath-Nemotron-1.5B/tokenizer* /trt_models/openmath-nemotron-1.5b\n"
        );
    }

    #[test]
    fn dtype_parallelism_prepare_args_and_no_reuse() {
        let mut spec = ConvertSpec::new("/in dir", "/out/", ModelType::Llama, Dtype::Fp16, 8, 2)
            .with_prepare_args("--use_fp8 --calib_dataset 'a b'")
            .unwrap();
        spec.reuse_tmp_checkpoint = false;
        let plan = spec
            .plan(&TrtllmTools::new("/x/llama/convert_checkpoint.py"))
            .unwrap();
        let ConvertStep::Run {
            command,
            skip_if_exists,
            ..
        } = &plan.steps[0]
        else {
            panic!()
        };
        assert_eq!(skip_if_exists, &None);
        assert_eq!(
            command.args,
            [
                "/x/llama/convert_checkpoint.py",
                "--model_dir",
                "/in dir",
                "--output_dir",
                "/out-tmp",
                "--dtype",
                "float16",
                "--tp_size",
                "8",
                "--pp_size",
                "2",
                "--workers",
                "16",
                "--use_fp8",
                "--calib_dataset",
                "a b",
            ]
        );
        let ConvertStep::Run { command: build, .. } = &plan.steps[1] else {
            panic!()
        };
        assert_eq!(build.args[5], "float16");
        assert_eq!(plan.steps[2].to_string(), "cp '/in dir'/tokenizer* /out/");
        assert!(plan.steps[0].to_string().starts_with(
            "python3 /x/llama/convert_checkpoint.py --model_dir '/in dir' --output_dir /out-tmp"
        ));
    }

    #[test]
    fn parses_ns_convert_spellings() {
        assert_eq!(
            "deepseek_v3".parse::<ModelType>().unwrap(),
            ModelType::DeepseekV3
        );
        assert!("mistral".parse::<ModelType>().is_err());
        assert_eq!("fp32".parse::<Dtype>().unwrap().trtllm_name(), "float32");
        assert!("int8".parse::<Dtype>().is_err());
        assert_eq!(Dtype::default(), Dtype::Bf16);
    }

    #[test]
    fn finds_convert_scripts_in_both_example_layouts() {
        let dir = tempfile::tempdir().unwrap();
        let e = dir.path();
        let err = TrtllmTools::from_examples_dir(e, ModelType::Qwen).unwrap_err();
        assert!(err.to_string().contains("convert_checkpoint.py"), "{err}");
        std::fs::create_dir_all(e.join("qwen")).unwrap();
        std::fs::write(e.join("qwen/convert_checkpoint.py"), "").unwrap();
        let t = TrtllmTools::from_examples_dir(e, ModelType::Qwen).unwrap();
        assert_eq!(t.convert_script, e.join("qwen/convert_checkpoint.py"));
        std::fs::create_dir_all(e.join("models/core/qwen")).unwrap();
        std::fs::write(e.join("models/core/qwen/convert_checkpoint.py"), "").unwrap();
        let t = TrtllmTools::from_examples_dir(e, ModelType::Qwen).unwrap();
        assert_eq!(
            t.convert_script,
            e.join("models/core/qwen/convert_checkpoint.py")
        );
    }

    #[test]
    fn zero_gpus_is_refused() {
        let spec = ConvertSpec::new("i", "o", ModelType::Qwen, Dtype::Bf16, 0, 1);
        assert!(spec.plan(&tools()).is_err());
    }
}
