//! A generation job, fully resolved: the problems, the prompt, one [`Pass`] per seed.

use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use tally_backend::SamplingParams;
use tally_core::jsonl::read_jsonl;
use tally_core::overrides::Overrides;
use tally_core::pyjson;
use tally_core::ServerType;
use tally_prompt::Prompt;

use crate::config::{sampling_params, CodeExecution, ResumePolicy, Settings, TotalCodeExecutions};
use crate::error::GenerateError;
use crate::seeds::{seed_overrides, SeedDefaults, SeedPlan};

/// One pass over the problems: a seed and the sampling parameters it sends.
#[derive(Debug, Clone, PartialEq)]
pub struct Pass {
    pub seed: Option<u64>,
    /// Stop phrases are filled in by the engine from the prompt and `extra_stop_phrases`.
    pub params: SamplingParams,
}

/// The passes of a run: per seed, its defaults first, then the user's overrides (they win).
pub fn passes(
    plan: &SeedPlan,
    defaults: SeedDefaults,
    user: &Overrides,
) -> Result<Vec<Pass>, GenerateError> {
    plan.seeds
        .iter()
        .map(|&seed| {
            let mut ov = seed_overrides(seed, defaults);
            ov.extend(user);
            Ok(Pass {
                seed,
                params: sampling_params(&ov)?,
            })
        })
        .collect()
}

/// Everything the engine needs; build it with [`Job::builder`] (or field by field).
pub struct Job {
    pub output_dir: PathBuf,
    /// `--output_prefix` (default `output`).
    pub output_prefix: String,
    /// Inserted before `.jsonl` in every output name (`_chunk_<id>` for a chunk), else empty.
    pub output_suffix: String,
    /// The problems, in dataset order.
    pub inputs: Vec<Map<String, Value>>,
    pub prompt: Prompt,
    pub extra_stop_phrases: Vec<String>,
    pub passes: Vec<Pass>,
    /// The model name as the server knows it (part of every sample's key).
    pub model: String,
    /// `--server_type`, recorded in the run header (it decides how parameters are sent).
    pub server_type: ServerType,
    pub max_concurrent_requests: usize,
    pub resume_policy: ResumePolicy,
    pub generation_key: String,
    /// Journal fsync after this many finished samples (and at least every half second).
    pub sync_every: usize,
    /// Plan only: report what would be generated, send nothing, write nothing.
    pub dry_run: bool,
    /// Tool-integrated reasoning: the engine then needs a code executor
    /// ([`crate::Generator::with_code_executor`]).
    pub code_execution: Option<CodeExecution>,
    /// Per problem, a result decided without a model call (a judge's prefill), or empty.
    pub prefilled: Vec<Option<String>>,
    /// The status/error key names (`judge_status`/`judge_error` for a judge).
    pub status_key: String,
    pub error_key: String,
    /// `++parse_reasoning=True`'s end tag: records are written with the answer after it.
    pub end_reasoning_string: Option<String>,
}

/// Builds a [`Job`]: the run-wide [`Settings`] give the defaults; the problems, the prompt, the
/// passes, the model and the output directory must be set, and `build` names what is missing.
#[must_use]
pub struct JobBuilder {
    output_dir: Option<PathBuf>,
    output_prefix: String,
    output_suffix: String,
    inputs: Option<Vec<Map<String, Value>>>,
    prompt: Option<Prompt>,
    passes: Option<Vec<Pass>>,
    model: Option<(String, ServerType)>,
    prefilled: Vec<Option<String>>,
    status_key: String,
    error_key: String,
    sync_every: usize,
    extra_stop_phrases: Vec<String>,
    max_concurrent_requests: usize,
    resume_policy: ResumePolicy,
    generation_key: String,
    dry_run: bool,
    code_execution: Option<CodeExecution>,
    end_reasoning_string: Option<String>,
}

impl Job {
    /// A builder with `settings`' values (concurrency, resume policy, generation key, stop
    /// phrases, dry run, code execution, reasoning tag).
    pub fn builder(settings: &Settings) -> JobBuilder {
        JobBuilder {
            output_dir: None,
            output_prefix: "output".into(),
            output_suffix: String::new(),
            inputs: None,
            prompt: None,
            passes: None,
            model: None,
            prefilled: Vec::new(),
            status_key: "status".into(),
            error_key: "error".into(),
            sync_every: 16,
            extra_stop_phrases: settings.extra_stop_phrases.clone(),
            max_concurrent_requests: settings.max_concurrent_requests,
            resume_policy: settings.resume_policy,
            generation_key: settings.generation_key.clone(),
            dry_run: settings.dry_run,
            code_execution: settings.code_execution.clone(),
            end_reasoning_string: settings.end_reasoning_string.clone(),
        }
    }

    /// The output file of a pass: `<prefix>[-rs<seed>]<suffix>.jsonl`.
    pub fn output_path(&self, seed: Option<u64>) -> PathBuf {
        let name = crate::seeds::output_file_name(&self.output_prefix, seed);
        let name = match name.strip_suffix(".jsonl") {
            Some(stem) if !self.output_suffix.is_empty() => {
                format!("{stem}{}.jsonl", self.output_suffix)
            }
            _ => name,
        };
        self.output_dir.join(name)
    }

    /// sha256 of the input records as sent (Python `json.dumps` lines).
    pub fn input_sha256(&self) -> String {
        let mut h = Sha256::new();
        for r in &self.inputs {
            h.update(pyjson::to_string(&Value::Object(r.clone())).as_bytes());
            h.update(b"\n");
        }
        hex::encode(h.finalize())
    }
}

impl JobBuilder {
    /// The problems, in dataset order ([`load_inputs`]).
    pub fn inputs(mut self, inputs: Vec<Map<String, Value>>) -> Self {
        self.inputs = Some(inputs);
        self
    }

    /// The prompt ([`crate::load_prompt`]).
    pub fn prompt(mut self, prompt: Prompt) -> Self {
        self.prompt = Some(prompt);
        self
    }

    /// One pass per seed ([`passes`]).
    pub fn passes(mut self, passes: Vec<Pass>) -> Self {
        self.passes = Some(passes);
        self
    }

    /// The model as the server names it, and the server's type (it decides how parameters are
    /// sent); both are recorded in the run header.
    pub fn model(mut self, model: impl Into<String>, server_type: ServerType) -> Self {
        self.model = Some((model.into(), server_type));
        self
    }

    pub fn output_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.output_dir = Some(dir.into());
        self
    }

    /// `--output_prefix` (default `output`).
    pub fn output_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.output_prefix = prefix.into();
        self
    }

    /// Inserted before `.jsonl` in every output name (`_chunk_<id>` for a chunk).
    pub fn output_suffix(mut self, suffix: impl Into<String>) -> Self {
        self.output_suffix = suffix.into();
        self
    }

    /// Per problem, a result decided without a model call (a judge's prefill).
    pub fn prefilled(mut self, prefilled: Vec<Option<String>>) -> Self {
        self.prefilled = prefilled;
        self
    }

    /// The status and error key names (`judge_status`/`judge_error` for a judge).
    pub fn status_keys(mut self, status: impl Into<String>, error: impl Into<String>) -> Self {
        self.status_key = status.into();
        self.error_key = error.into();
        self
    }

    /// Journal fsync after this many finished samples (default 16).
    pub fn sync_every(mut self, n: usize) -> Self {
        self.sync_every = n.max(1);
        self
    }

    pub fn build(self) -> Result<Job, GenerateError> {
        let missing = |what: &str| {
            GenerateError::Internal(format!(
                "a generation job needs its {what} (JobBuilder::{what})"
            ))
        };
        let inputs = self.inputs.ok_or_else(|| missing("inputs"))?;
        let prompt = self.prompt.ok_or_else(|| missing("prompt"))?;
        let passes = self.passes.ok_or_else(|| missing("passes"))?;
        let (model, server_type) = self.model.ok_or_else(|| missing("model"))?;
        let output_dir = self.output_dir.ok_or_else(|| missing("output_dir"))?;
        if !self.prefilled.is_empty() && self.prefilled.len() != inputs.len() {
            return Err(GenerateError::Internal(format!(
                "{} prefilled results for {} problems",
                self.prefilled.len(),
                inputs.len()
            )));
        }
        Ok(Job {
            output_dir,
            output_prefix: self.output_prefix,
            output_suffix: self.output_suffix,
            inputs,
            prompt,
            extra_stop_phrases: self.extra_stop_phrases,
            passes,
            model,
            server_type,
            max_concurrent_requests: self.max_concurrent_requests,
            resume_policy: self.resume_policy,
            generation_key: self.generation_key,
            sync_every: self.sync_every,
            dry_run: self.dry_run,
            code_execution: self.code_execution,
            prefilled: self.prefilled,
            status_key: self.status_key,
            error_key: self.error_key,
            end_reasoning_string: self.end_reasoning_string,
        })
    }
}

/// Reads the problems: every line of a JSONL file, the first `max_samples` of them, with
/// `total_code_executions` added when `++total_code_executions_in_prompt` is set (as
/// NeMo-Skills does; `openmath/tir` needs it; a `[min,max]` range is drawn per problem).
pub fn load_inputs(
    path: &Path,
    max_samples: Option<usize>,
    total_code_executions: Option<TotalCodeExecutions>,
) -> Result<Vec<Map<String, Value>>, GenerateError> {
    let read = read_jsonl(path)?;
    if let Some(t) = read.torn_tail {
        return Err(GenerateError::Input {
            path: path.to_path_buf(),
            line: t.line,
            reason: "the last line is incomplete (was the file still being written?)".into(),
        });
    }
    let take = max_samples.unwrap_or(usize::MAX);
    Ok(read
        .lines
        .into_iter()
        .take(take)
        .enumerate()
        .map(|(i, l)| {
            let mut r = l.record;
            if let Some(t) = total_code_executions {
                r.insert("total_code_executions".into(), json!(t.for_problem(i)));
            }
            r
        })
        .collect())
}

/// `++prompt_config` (else the dataset's default, else `generic/math`), `++prompt_template`
/// (none: chat mode), `++examples_type`.
pub fn load_prompt(
    settings: &Settings,
    dataset_default: Option<&str>,
) -> Result<Prompt, GenerateError> {
    let config = settings
        .prompt_config
        .as_deref()
        .or(dataset_default)
        .unwrap_or("generic/math");
    let prompt = Prompt::load(config, settings.prompt_template.as_deref())
        .map_err(GenerateError::PromptLoad)?;
    Ok(prompt.with_examples_type(settings.examples_type.clone()))
}
