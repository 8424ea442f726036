//! The Hydra settings of `nemo_skills.inference.generate` (spec §1.6) that `tally generate`
//! understands, read from `++key=value` overrides.
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

/// The run-wide settings (those that do not depend on the seed).
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub input: InputSpec,
    pub prompt_config: Option<String>,
    /// `None` → chat mode (messages; the server applies its chat template).
    pub prompt_template: Option<String>,
    pub examples_type: Option<String>,
    pub max_concurrent_requests: usize,
    /// `++max_samples` (`-1` → all).
    pub max_samples: Option<usize>,
    pub extra_stop_phrases: Vec<String>,
    /// `++total_code_executions_in_prompt=N`: adds `total_code_executions` to every record.
    pub total_code_executions_in_prompt: Option<i64>,
    /// `++generation_key` (default `generation`).
    pub generation_key: String,
    pub resume_policy: ResumePolicy,
    pub dry_run: bool,
    /// Accepted keys that have no effect in Tally, for a notice.
    pub ignored: Vec<String>,
}

/// Keys that steer NeMo-Skills' machinery rather than the result; accepted, without effect.
const IGNORED: &[&str] = &[
    "skip_filled",
    "use_async_loop",
    "async_position_key",
    "batch_size",
    "remove_stop_phrases",
    "server",
    "sandbox",
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

impl Settings {
    /// Reads the run-wide settings; `inference.*` keys are checked here and read per pass by
    /// [`sampling_params`].
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
            ) || key
                .strip_prefix("inference.")
                .is_some_and(|k| SAMPLING.contains(&k));
            if IGNORED.contains(&top) {
                if !ignored.contains(&o.raw) {
                    ignored.push(o.raw.clone());
                }
            } else if !known {
                return Err(GenerateError::setting(
                    &o.raw,
                    format!("unknown key `{key}` (see `tally generate --help` for the supported ++ settings)"),
                ));
            }
        }
        for (key, what) in [
            (
                "code_execution",
                "code execution (TIR, ++code_execution=true)",
            ),
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
        for key in ["num_chunks", "chunk_id", "multi_turn_key"] {
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
                    return Err(GenerateError::setting("++split", "only applies to ++dataset"));
                }
                InputSpec::File(PathBuf::from(f))
            }
            (None, Some(d)) => InputSpec::Dataset {
                name: d.to_string(),
                split: ov.get("split").map(value_to_string),
            },
            (None, None) => {
                return Err(GenerateError::setting(
                    "++input_file",
                    "no input: give ++input_file=<file.jsonl> or ++dataset=<benchmark> [++split=<split>]",
                ))
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
        let total_code_executions_in_prompt = match ov.get("total_code_executions_in_prompt") {
            None | Some(Value::Null) => None,
            Some(v) => match v.as_i64() {
                Some(n) => Some(n),
                None => {
                    return Err(GenerateError::Unsupported {
                        what: "++total_code_executions_in_prompt as a [min,max] range".into(),
                    })
                }
            },
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
        Ok(Settings {
            input,
            prompt_config: ov
                .get("prompt_config")
                .filter(|v| !v.is_null())
                .map(value_to_string),
            prompt_template: ov
                .get("prompt_template")
                .filter(|v| !v.is_null())
                .map(value_to_string),
            examples_type: ov
                .get("examples_type")
                .filter(|v| !v.is_null())
                .map(value_to_string),
            max_concurrent_requests,
            max_samples,
            extra_stop_phrases,
            total_code_executions_in_prompt,
            generation_key: ov
                .get_str("generation_key")
                .unwrap_or("generation")
                .to_string(),
            resume_policy,
            dry_run: ov.get("dry_run").is_some_and(truthy),
            ignored,
        })
    }
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
        assert_eq!(s.input, InputSpec::File("a.jsonl".into()));
        assert_eq!(s.max_concurrent_requests, 1024);
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
            InputSpec::Dataset {
                name: "aime24".into(),
                split: Some("test".into())
            }
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
        assert!(e.to_string().contains("not supported yet"), "{e}");
        assert!(Settings::from_overrides(&ov(&["++max_samples=2"])).is_err());
        assert!(Settings::from_overrides(&ov(&["++input_file=a", "++dataset=b"])).is_err());
        assert!(sampling_params(&ov(&["++inference.tokens_to_generate=-1"])).is_err());
    }
}
