//! The Hydra settings of `nemo_skills.inference.generate` (spec §1.6) that `tally generate`
//! understands: the typed [`Settings`] (its `Default` is NeMo-Skills' defaults; set fields to
//! configure a run from Rust), and [`Settings::from_overrides`], the adapter that fills it from
//! `++key=value` overrides.
//!
//! Unknown keys are errors (a typo such as `++inference.temprature` must not silently run with
//! the default); keys that only steer NeMo-Skills' own machinery are accepted and ignored.

use std::path::PathBuf;

use serde_json::Value;
use tally_backend::SamplingParams;
use tally_core::overrides::Overrides;

use crate::error::GenerateError;

/// Where the problems come from: exactly one of `++input_file` or `++dataset` (+ `++split`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputSpec {
    File(PathBuf),
    /// A benchmark name; the caller resolves it to `<data_dir>/<name>/<split>.jsonl`.
    Dataset {
        name: String,
        split: Option<String>,
    },
}

/// What to do with partial or finished outputs written under different settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResumePolicy {
    /// Keep what matches, refuse what does not (the default).
    #[default]
    Resume,
    /// Discard outputs that do not match the current settings (instead of refusing) and keep
    /// the matching ones (`--override-resume`, `++resume_policy=override`).
    Override,
    /// Discard every output of this run's passes and start over (`++resume_policy=restart`).
    Restart,
}

/// `++total_code_executions_in_prompt`: a number for every problem, or `[min,max]`, a number
/// drawn per problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TotalCodeExecutions {
    Fixed(i64),
    /// NeMo-Skills draws with `random.randint` on each run; Tally draws from the problem's index
    /// with a fixed generator, so a rerun (and a resume) sees the same prompts.
    Range(i64, i64),
}

impl TotalCodeExecutions {
    /// The value for the problem at `index` (inclusive range).
    pub fn for_problem(&self, index: usize) -> i64 {
        match *self {
            TotalCodeExecutions::Fixed(n) => n,
            TotalCodeExecutions::Range(lo, hi) => {
                let span = (hi - lo) as u64 + 1;
                lo + (tally_core::SplitMix64::new(index as u64 ^ 0x7a11_c0de).next_u64() % span)
                    as i64
            }
        }
    }
}

/// Tool-integrated reasoning (`++code_execution=true`, spec §3) and its
/// `server.code_execution.*` / `sandbox.*` settings.
#[derive(Debug, Clone, PartialEq)]
pub struct CodeExecution {
    /// `server.code_execution.max_code_executions` (8).
    pub max_code_executions: u32,
    /// `server.code_execution.add_remaining_code_executions` (false).
    pub add_remaining_code_executions: bool,
    /// `server.code_execution.code_execution_timeout` in seconds (10).
    pub code_execution_timeout: f64,
    /// `server.code_execution.max_code_output_characters` (1000).
    pub max_code_output_characters: usize,
    /// `++override_max_code_executions`: a problem's `total_code_executions` is its limit.
    pub override_max_code_executions: bool,
    /// `sandbox.host` / `sandbox.port`; `None` → the caller's default (NeMo-Skills reads
    /// `NEMO_SKILLS_SANDBOX_HOST`/`_PORT`, else 127.0.0.1:6000).
    pub sandbox_host: Option<String>,
    pub sandbox_port: Option<u16>,
}

impl CodeExecution {
    /// What shapes a TIR sample (part of every sample's key; the sandbox's address is not).
    pub fn key_json(&self) -> Value {
        serde_json::json!({
            "max_code_executions": self.max_code_executions,
            "add_remaining_code_executions": self.add_remaining_code_executions,
            "code_execution_timeout": self.code_execution_timeout,
            "max_code_output_characters": self.max_code_output_characters,
            "override_max_code_executions": self.override_max_code_executions,
        })
    }
}

/// The run-wide settings (those that do not depend on the seed). `Settings::default()` holds
/// NeMo-Skills' defaults (what no `++` setting gives).
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// `None` when the caller supplies the records itself (the judge, GenSelect); a run that
    /// reads its problems needs one ([`Settings::require_input`]).
    pub input: Option<InputSpec>,
    pub prompt_config: Option<String>,
    /// `None` → chat mode (messages; the server applies its chat template).
    pub prompt_template: Option<String>,
    pub examples_type: Option<String>,
    pub max_concurrent_requests: usize,
    /// `++request_timeout=SECONDS` (Tally's): a request without an answer by then ends as
    /// `timeout` (retried by the next run); none by default, as in NeMo-Skills.
    pub request_timeout: Option<std::time::Duration>,
    /// `++max_connection_failures` (Tally's): stop sending after this many consecutive
    /// connection failures to the server (refused, reset; not HTTP errors), so a server that
    /// went away ends the run in seconds; the samples not sent are generated by a rerun.
    /// 0 never stops. Default [`DEFAULT_MAX_CONNECTION_FAILURES`].
    pub max_connection_failures: u32,
    /// `++max_samples` (`-1` → all).
    pub max_samples: Option<usize>,
    pub extra_stop_phrases: Vec<String>,
    /// `++total_code_executions_in_prompt=N|[min,max]`: adds `total_code_executions` to every
    /// record.
    pub total_code_executions_in_prompt: Option<TotalCodeExecutions>,
    /// `++code_execution=true`: tool-integrated reasoning.
    pub code_execution: Option<CodeExecution>,
    /// `++num_chunks` / `++chunk_id`: generate one contiguous part of the problems into
    /// `<output>_chunk_<id>.jsonl` (NeMo-Skills' chunking, spec §9).
    pub num_chunks: Option<usize>,
    pub chunk_id: Option<usize>,
    /// `++generation_key` (default `generation`).
    pub generation_key: String,
    /// `++parse_reasoning=True`: the tag that ends a reasoning model's thinking
    /// (`++end_reasoning_string`, default `</think>`); the answer is read after it.
    pub end_reasoning_string: Option<String>,
    pub resume_policy: ResumePolicy,
    pub dry_run: bool,
    /// Accepted keys that have no effect in Tally, for a notice.
    pub ignored: Vec<String>,
}

/// Consecutive connection failures after which a run stops sending (`++max_connection_failures`):
/// a burst of refused connects while the server lives is reset by its next answer, while a server
/// that went away reaches this within seconds even at full concurrency.
pub const DEFAULT_MAX_CONNECTION_FAILURES: u32 = 32;

/// Keys that steer NeMo-Skills' machinery rather than the result; accepted, without effect.
const IGNORED: &[&str] = &[
    "skip_filled",
    "use_async_loop",
    "async_position_key",
    "batch_size",
    "remove_stop_phrases",
    "server",
    "output_file",
];

const SAMPLING: &[&str] = &[
    "temperature",
    "top_k",
    "top_p",
    "min_p",
    "random_seed",
    "tokens_to_generate",
    "repetition_penalty",
    "top_logprobs",
];

impl Default for Settings {
    fn default() -> Settings {
        Settings::from_overrides(&Overrides::default())
            .expect("no override is always a valid configuration")
    }
}

impl Settings {
    /// The problems file or dataset, or the error that says how to give one.
    pub fn require_input(&self) -> Result<&InputSpec, GenerateError> {
        self.input.as_ref().ok_or_else(|| {
            GenerateError::setting(
                "++input_file",
                "no input: give ++input_file=<file.jsonl> or ++dataset=<benchmark> [++split=<split>]",
            )
        })
    }

    /// Fills the settings from `++` overrides (later ones win), refusing unknown keys;
    /// `inference.*` keys are checked here and read per pass by [`sampling_params`].
    pub fn from_overrides(ov: &Overrides) -> Result<Settings, GenerateError> {
        let mut ignored = Vec::new();
        for o in ov.iter() {
            let key = o.key.as_str();
            let top = key.split('.').next().unwrap_or(key);
            let known = matches!(
                key,
                "input_file"
                    | "dataset"
                    | "split"
                    | "prompt_config"
                    | "prompt_template"
                    | "examples_type"
                    | "max_concurrent_requests"
                    | "request_timeout"
                    | "max_connection_failures"
                    | "max_samples"
                    | "extra_stop_phrases"
                    | "total_code_executions_in_prompt"
                    | "generation_key"
                    | "resume_policy"
                    | "dry_run"
                    | "code_execution"
                    | "num_chunks"
                    | "chunk_id"
                    | "multi_turn_key"
                    | "prefix_generation_to_response"
                    | "continue_prefix_generation"
                    | "override_max_code_executions"
                    | "parse_reasoning"
                    | "end_reasoning_string"
            ) || key
                .strip_prefix("inference.")
                .is_some_and(|k| SAMPLING.contains(&k))
                || key
                    .strip_prefix("server.code_execution.")
                    .is_some_and(|k| CODE_EXECUTION.contains(&k))
                || key
                    .strip_prefix("sandbox.")
                    .is_some_and(|k| SANDBOX.contains(&k));
            // `server.*` steers NeMo-Skills' client and is ignored, except its code-execution part.
            let steering = IGNORED.contains(&top) && !key.starts_with("server.code_execution.");
            if known {
                continue;
            }
            if steering {
                if !ignored.contains(&o.raw) {
                    ignored.push(o.raw.clone());
                }
            } else {
                return Err(GenerateError::setting(
                    &o.raw,
                    format!("unknown key `{key}` (see `tally generate --help` for the supported ++ settings)"),
                ));
            }
        }
        for (key, what) in [
            (
                "prefix_generation_to_response",
                "++prefix_generation_to_response",
            ),
            ("continue_prefix_generation", "++continue_prefix_generation"),
        ] {
            if ov.get(key).is_some_and(truthy) {
                return Err(GenerateError::Unsupported { what: what.into() });
            }
        }
        let chunk_setting = |key: &str| -> Result<Option<usize>, GenerateError> {
            match ov.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => v.as_u64().map(|n| Some(n as usize)).ok_or_else(|| {
                    GenerateError::setting(&format!("++{key}"), "must be a non-negative integer")
                }),
            }
        };
        let (num_chunks, chunk_id) = (chunk_setting("num_chunks")?, chunk_setting("chunk_id")?);
        match (num_chunks, chunk_id) {
            (Some(0), _) => {
                return Err(GenerateError::setting("++num_chunks", "must be at least 1"))
            }
            (Some(c), Some(i)) if i >= c => {
                return Err(GenerateError::setting(
                    "++chunk_id",
                    format!("{i} is not below ++num_chunks={c}"),
                ))
            }
            (None, Some(_)) => {
                return Err(GenerateError::setting("++chunk_id", "needs ++num_chunks"))
            }
            _ => {}
        }
        for key in ["multi_turn_key"] {
            if ov.get(key).is_some_and(|v| !v.is_null()) {
                return Err(GenerateError::Unsupported {
                    what: format!("++{key}"),
                });
            }
        }

        let input = match (ov.get_str("input_file"), ov.get_str("dataset")) {
            (Some(_), Some(_)) => {
                return Err(GenerateError::setting(
                    "++input_file",
                    "give either ++input_file or ++dataset (with ++split), not both",
                ))
            }
            (Some(f), None) => {
                if ov.get("split").is_some() {
                    return Err(GenerateError::setting(
                        "++split",
                        "only applies to ++dataset",
                    ));
                }
                Some(InputSpec::File(PathBuf::from(f)))
            }
            (None, Some(d)) => Some(InputSpec::Dataset {
                name: d.to_string(),
                split: ov.get("split").map(value_to_string),
            }),
            (None, None) => {
                if ov.get("split").is_some() {
                    return Err(GenerateError::setting(
                        "++split",
                        "only applies to ++dataset",
                    ));
                }
                None
            }
        };

        let max_concurrent_requests = match ov.get("max_concurrent_requests") {
            None => 1024,
            Some(v) => match v.as_u64() {
                Some(n) if n > 0 => n as usize,
                _ => {
                    return Err(GenerateError::setting(
                        "++max_concurrent_requests",
                        "must be a positive integer",
                    ))
                }
            },
        };
        let request_timeout = match ov.get("request_timeout") {
            None | Some(Value::Null) => None,
            Some(v) => match v.as_f64() {
                Some(s) if s > 0.0 && s.is_finite() => Some(std::time::Duration::from_secs_f64(s)),
                _ => {
                    return Err(GenerateError::setting(
                        "++request_timeout",
                        "must be a positive number of seconds",
                    ))
                }
            },
        };
        let max_connection_failures = match ov.get("max_connection_failures") {
            None => DEFAULT_MAX_CONNECTION_FAILURES,
            Some(v) => v
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| {
                    GenerateError::setting(
                        "++max_connection_failures",
                        "must be a non-negative integer (0: never stop)",
                    )
                })?,
        };
        let max_samples = match ov.get("max_samples") {
            None | Some(Value::Null) => None,
            Some(v) => match v.as_i64() {
                Some(n) if n < 0 => None,
                Some(n) => Some(n as usize),
                None => {
                    return Err(GenerateError::setting(
                        "++max_samples",
                        "must be an integer (-1 = all)",
                    ))
                }
            },
        };
        let extra_stop_phrases = match ov.get("extra_stop_phrases") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items.iter().map(value_to_string).collect(),
            Some(v) => vec![value_to_string(v)],
        };
        let total_code_executions_in_prompt = total_code_executions(ov)?;
        let prompt_template = ov
            .get("prompt_template")
            .filter(|v| !v.is_null())
            .map(value_to_string);
        let code_execution = if ov.get("code_execution").is_some_and(truthy) {
            if prompt_template.is_none() {
                return Err(GenerateError::setting(
                    "++code_execution",
                    "code execution needs ++prompt_template (completion mode); NeMo-Skills does not support it in chat mode either",
                ));
            }
            Some(code_execution(ov)?)
        } else {
            for k in ["override_max_code_executions"] {
                if ov.get(k).is_some_and(truthy) {
                    return Err(GenerateError::setting(
                        &format!("++{k}"),
                        "only applies with ++code_execution=true",
                    ));
                }
            }
            None
        };
        let resume_policy = match ov.get_str("resume_policy") {
            None | Some("resume") => ResumePolicy::Resume,
            Some("override") => ResumePolicy::Override,
            Some("restart") => ResumePolicy::Restart,
            Some(other) => {
                return Err(GenerateError::setting(
                    "++resume_policy",
                    format!("`{other}`: expected `resume`, `override` or `restart`"),
                ))
            }
        };
        let end_reasoning_string = if ov.get("parse_reasoning").is_some_and(truthy) {
            match ov.get("end_reasoning_string") {
                None | Some(Value::Null) => Some("</think>".to_string()),
                Some(v) => match value_to_string(v) {
                    s if s.is_empty() => {
                        return Err(GenerateError::setting(
                            "++end_reasoning_string",
                            "must not be empty",
                        ))
                    }
                    s => Some(s),
                },
            }
        } else {
            None
        };
        Ok(Settings {
            input,
            prompt_config: ov
                .get("prompt_config")
                .filter(|v| !v.is_null())
                .map(value_to_string),
            prompt_template,
            examples_type: ov
                .get("examples_type")
                .filter(|v| !v.is_null())
                .map(value_to_string),
            max_concurrent_requests,
            request_timeout,
            max_connection_failures,
            max_samples,
            extra_stop_phrases,
            total_code_executions_in_prompt,
            code_execution,
            num_chunks,
            chunk_id,
            generation_key: ov
                .get_str("generation_key")
                .unwrap_or("generation")
                .to_string(),
            end_reasoning_string,
            resume_policy,
            dry_run: ov.get("dry_run").is_some_and(truthy),
            ignored,
        })
    }
}

const CODE_EXECUTION: &[&str] = &[
    "max_code_executions",
    "add_remaining_code_executions",
    "code_execution_timeout",
    "max_code_output_characters",
    "sandbox_traceback_verbosity",
];

const SANDBOX: &[&str] = &["sandbox_type", "host", "port"];

fn total_code_executions(ov: &Overrides) -> Result<Option<TotalCodeExecutions>, GenerateError> {
    let key = "++total_code_executions_in_prompt";
    let bad = || GenerateError::setting(key, "expected an integer or [min,max]");
    Ok(match ov.get("total_code_executions_in_prompt") {
        None | Some(Value::Null) => None,
        Some(Value::Array(a)) => match a.as_slice() {
            [lo, hi] => {
                let (lo, hi) = (lo.as_i64().ok_or_else(bad)?, hi.as_i64().ok_or_else(bad)?);
                if lo > hi {
                    return Err(GenerateError::setting(
                        key,
                        format!("[{lo},{hi}]: min is above max"),
                    ));
                }
                Some(TotalCodeExecutions::Range(lo, hi))
            }
            _ => return Err(bad()),
        },
        Some(v) => Some(TotalCodeExecutions::Fixed(v.as_i64().ok_or_else(bad)?)),
    })
}

fn code_execution(ov: &Overrides) -> Result<CodeExecution, GenerateError> {
    let get = |k: &str| {
        ov.get(&format!("server.code_execution.{k}"))
            .filter(|v| !v.is_null())
    };
    let uint = |k: &str, default: u64| -> Result<u64, GenerateError> {
        match get(k) {
            None => Ok(default),
            Some(v) => v.as_u64().ok_or_else(|| {
                GenerateError::setting(
                    &format!("++server.code_execution.{k}"),
                    "must be a non-negative integer",
                )
            }),
        }
    };
    let timeout = match get("code_execution_timeout") {
        None => 10.0,
        Some(v) => match v.as_f64() {
            Some(t) if t > 0.0 => t,
            _ => {
                return Err(GenerateError::setting(
                    "++server.code_execution.code_execution_timeout",
                    "must be a positive number of seconds",
                ))
            }
        },
    };
    if let Some(v) = get("sandbox_traceback_verbosity") {
        if !value_to_string(v).eq_ignore_ascii_case("plain") {
            return Err(GenerateError::Unsupported {
                what: format!(
                    "++server.code_execution.sandbox_traceback_verbosity={} (only Plain)",
                    value_to_string(v)
                ),
            });
        }
    }
    if let Some(t) = ov.get("sandbox.sandbox_type").filter(|v| !v.is_null()) {
        if value_to_string(t) != "local" {
            return Err(GenerateError::Unsupported {
                what: format!(
                    "++sandbox.sandbox_type={} (Tally's sandbox is `local`: `tally sandbox`)",
                    value_to_string(t)
                ),
            });
        }
    }
    let port = match ov.get("sandbox.port").filter(|v| !v.is_null()) {
        None => None,
        Some(v) => Some(
            value_to_string(v)
                .parse::<u16>()
                .map_err(|_| GenerateError::setting("++sandbox.port", "must be a port number"))?,
        ),
    };
    Ok(CodeExecution {
        max_code_executions: u32::try_from(uint("max_code_executions", 8)?).map_err(|_| {
            GenerateError::setting("++server.code_execution.max_code_executions", "too large")
        })?,
        add_remaining_code_executions: get("add_remaining_code_executions").is_some_and(truthy),
        code_execution_timeout: timeout,
        max_code_output_characters: uint("max_code_output_characters", 1000)? as usize,
        override_max_code_executions: ov.get("override_max_code_executions").is_some_and(truthy),
        sandbox_host: ov
            .get("sandbox.host")
            .filter(|v| !v.is_null())
            .map(value_to_string),
        sandbox_port: port,
    })
}

/// The sampling parameters of one pass from its effective overrides (seed defaults, then the
/// user's), with NeMo-Skills' defaults for what is unset. Stop phrases are added by the engine.
pub fn sampling_params(ov: &Overrides) -> Result<SamplingParams, GenerateError> {
    let d = SamplingParams::default();
    let f = |key: &str, default: f64| -> Result<f64, GenerateError> {
        match ov.get(key) {
            None => Ok(default),
            Some(v) => v
                .as_f64()
                .ok_or_else(|| GenerateError::setting(&format!("++{key}"), "must be a number")),
        }
    };
    let i = |key: &str| -> Result<Option<i64>, GenerateError> {
        match ov.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_i64()
                .map(Some)
                .ok_or_else(|| GenerateError::setting(&format!("++{key}"), "must be an integer")),
        }
    };
    let nonneg = |key: &str, v: Option<i64>| -> Result<Option<u64>, GenerateError> {
        match v {
            Some(n) if n < 0 => Err(GenerateError::setting(
                &format!("++{key}"),
                "must not be negative",
            )),
            other => Ok(other.map(|n| n as u64)),
        }
    };
    let tokens = nonneg(
        "inference.tokens_to_generate",
        i("inference.tokens_to_generate")?,
    )?
    .unwrap_or(d.max_tokens as u64);
    let temperature = f("inference.temperature", d.temperature)?;
    if temperature < 0.0 {
        return Err(GenerateError::setting(
            "++inference.temperature",
            "must not be negative",
        ));
    }
    Ok(SamplingParams {
        temperature,
        top_k: i("inference.top_k")?.unwrap_or(d.top_k),
        top_p: f("inference.top_p", d.top_p)?,
        min_p: f("inference.min_p", d.min_p)?,
        repetition_penalty: f("inference.repetition_penalty", d.repetition_penalty)?,
        // Hydra default 0: NeMo-Skills sends seed 0 even in the unseeded pass.
        seed: match ov.get("inference.random_seed") {
            Some(Value::Null) => None,
            _ => Some(nonneg("inference.random_seed", i("inference.random_seed")?)?.unwrap_or(0)),
        },
        max_tokens: u32::try_from(tokens)
            .map_err(|_| GenerateError::setting("++inference.tokens_to_generate", "too large"))?,
        stop: Vec::new(),
        top_logprobs: nonneg("inference.top_logprobs", i("inference.top_logprobs")?)?
            .map(|n| n as u32),
    })
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Null => false,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => matches!(s.to_ascii_lowercase().as_str(), "true" | "yes" | "1"),
        _ => true,
    }
}

/// A scalar as the string a user meant (`++split=2024` is the string "2024").
fn value_to_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ov(args: &[&str]) -> Overrides {
        Overrides::parse(args.iter().copied()).unwrap()
    }

    #[test]
    fn defaults_match_nemo_skills() {
        let s = Settings::from_overrides(&ov(&["++input_file=a.jsonl"])).unwrap();
        assert_eq!(s.input, Some(InputSpec::File("a.jsonl".into())));
        assert_eq!(s.max_concurrent_requests, 1024);
        assert_eq!(s.max_connection_failures, 32);
        assert_eq!(s.max_samples, None);
        assert_eq!(s.generation_key, "generation");
        assert_eq!(s.prompt_template, None);
        let p = sampling_params(&Overrides::default()).unwrap();
        assert_eq!(
            (
                p.temperature,
                p.top_k,
                p.top_p,
                p.min_p,
                p.repetition_penalty,
                p.seed,
                p.max_tokens
            ),
            (0.0, 0, 0.95, 0.0, 1.0, Some(0), 2048)
        );
    }

    #[test]
    fn default_settings_are_those_of_no_override() {
        let d = Settings::default();
        assert_eq!(d.input, None);
        assert_eq!(
            (d.max_concurrent_requests, d.max_connection_failures),
            (1024, DEFAULT_MAX_CONNECTION_FAILURES)
        );
        assert_eq!(d.generation_key, "generation");
        assert_eq!(d.resume_policy, ResumePolicy::Resume);
        assert!(d.code_execution.is_none() && !d.dry_run && d.ignored.is_empty());
    }

    #[test]
    fn reads_the_documented_keys() {
        let o = ov(&[
            "++dataset=aime24",
            "++split=test",
            "++prompt_config=generic/math",
            "++prompt_template=qwen-instruct",
            "++max_concurrent_requests=8",
            "++max_samples=5",
            "++extra_stop_phrases=[</s>,\"END\"]",
            "++inference.tokens_to_generate=64",
            "++inference.temperature=0.6",
            "++inference.top_k=20",
            "++skip_filled=True",
        ]);
        let s = Settings::from_overrides(&o).unwrap();
        assert_eq!(
            s.input,
            Some(InputSpec::Dataset {
                name: "aime24".into(),
                split: Some("test".into())
            })
        );
        assert_eq!(s.max_concurrent_requests, 8);
        assert_eq!(s.max_samples, Some(5));
        assert_eq!(
            s.extra_stop_phrases,
            vec!["</s>".to_string(), "END".to_string()]
        );
        assert_eq!(s.ignored, vec!["++skip_filled=True".to_string()]);
        let p = sampling_params(&o).unwrap();
        assert_eq!((p.max_tokens, p.temperature, p.top_k), (64, 0.6, 20));
    }

    #[test]
    fn typos_and_unsupported_features_are_errors() {
        let e = Settings::from_overrides(&ov(&["++input_file=a", "++inference.temprature=1"]))
            .unwrap_err();
        assert!(e.to_string().contains("inference.temprature"), "{e}");
        let e = Settings::from_overrides(&ov(&["++input_file=a", "++code_execution=true"]))
            .unwrap_err();
        assert!(e.to_string().contains("chat mode"), "{e}");
        let e = Settings::from_overrides(&ov(&[
            "++input_file=a",
            "++code_execution=true",
            "++prompt_template=qwen-instruct",
            "++server.code_execution.max_code_execution=3",
        ]))
        .unwrap_err();
        assert!(e.to_string().contains("max_code_execution`"), "{e}");
        // No input is a configuration for a caller that brings its records (the judge), and
        // an error for a run that reads its problems.
        let no_input = Settings::from_overrides(&ov(&["++max_samples=2"])).unwrap();
        let e = no_input.require_input().unwrap_err().to_string();
        assert!(e.contains("no input: give ++input_file"), "{e}");
        assert!(Settings::from_overrides(&ov(&["++split=test"])).is_err());
        let s = Settings::from_overrides(&ov(&["++input_file=a", "++max_connection_failures=0"]))
            .unwrap();
        assert_eq!(s.max_connection_failures, 0);
        let e = Settings::from_overrides(&ov(&["++input_file=a", "++max_connection_failures=-1"]))
            .unwrap_err();
        assert!(e.to_string().contains("++max_connection_failures"), "{e}");
        assert!(Settings::from_overrides(&ov(&["++input_file=a", "++dataset=b"])).is_err());
        assert!(sampling_params(&ov(&["++inference.tokens_to_generate=-1"])).is_err());
    }

    #[test]
    fn code_execution_settings_and_their_defaults() {
        let base = [
            "++input_file=a",
            "++prompt_template=openmath-instruct",
            "++code_execution=true",
        ];
        let s = Settings::from_overrides(&ov(&base)).unwrap();
        let c = s.code_execution.unwrap();
        assert_eq!(
            (
                c.max_code_executions,
                c.add_remaining_code_executions,
                c.code_execution_timeout,
                c.max_code_output_characters
            ),
            (8, false, 10.0, 1000)
        );
        assert_eq!((c.sandbox_host, c.sandbox_port), (None, None));
        let mut args = base.to_vec();
        args.extend([
            "++server.code_execution.max_code_executions=3",
            "++server.code_execution.add_remaining_code_executions=true",
            "++server.code_execution.code_execution_timeout=2.5",
            "++sandbox.host=10.0.0.2",
            "++sandbox.port=6001",
            "++override_max_code_executions=true",
            "++server.host=ignored",
        ]);
        let s = Settings::from_overrides(&ov(&args)).unwrap();
        let c = s.code_execution.unwrap();
        assert_eq!(
            (
                c.max_code_executions,
                c.add_remaining_code_executions,
                c.code_execution_timeout
            ),
            (3, true, 2.5)
        );
        assert!(c.override_max_code_executions);
        assert_eq!(
            (c.sandbox_host.as_deref(), c.sandbox_port),
            (Some("10.0.0.2"), Some(6001))
        );
        assert_eq!(s.ignored, vec!["++server.host=ignored".to_string()]);
        // Without code execution the TIR-only switch is an error, not silently ignored.
        assert!(Settings::from_overrides(&ov(&[
            "++input_file=a",
            "++override_max_code_executions=true"
        ]))
        .is_err());
    }

    #[test]
    fn total_code_executions_fixed_or_drawn_per_problem() {
        let s = Settings::from_overrides(&ov(&[
            "++input_file=a",
            "++total_code_executions_in_prompt=8",
        ]))
        .unwrap();
        assert_eq!(
            s.total_code_executions_in_prompt,
            Some(TotalCodeExecutions::Fixed(8))
        );
        let s = Settings::from_overrides(&ov(&[
            "++input_file=a",
            "++total_code_executions_in_prompt=[2,5]",
        ]))
        .unwrap();
        let t = s.total_code_executions_in_prompt.unwrap();
        let drawn: Vec<i64> = (0..200).map(|i| t.for_problem(i)).collect();
        assert!(drawn.iter().all(|n| (2..=5).contains(n)));
        for n in 2..=5 {
            assert!(drawn.contains(&n), "{n} never drawn");
        }
        // The same problem always gets the same number (resume sees the same prompt).
        assert_eq!(
            drawn,
            (0..200).map(|i| t.for_problem(i)).collect::<Vec<_>>()
        );
        assert!(Settings::from_overrides(&ov(&[
            "++input_file=a",
            "++total_code_executions_in_prompt=[5,2]"
        ]))
        .is_err());
        assert!(Settings::from_overrides(&ov(&[
            "++input_file=a",
            "++total_code_executions_in_prompt=x"
        ]))
        .is_err());
    }
}
