//! NeMo-Skills' `--server_type`: which kind of model server answers the requests. One type for
//! every stage: the backend decides how sampling parameters are sent from it, the launcher which
//! program to start, the eval pipeline whether to connect, host or load the embedded model, and
//! run headers and manifests record it (serde writes the `--server_type` spelling).

use std::fmt;
use std::str::FromStr;

/// A model server kind, spelled as NeMo-Skills' `--server_type` where it has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServerType {
    /// vLLM's OpenAI server.
    Vllm,
    /// SGLang's server.
    Sglang,
    /// TensorRT-LLM's `trtllm-serve` (its OpenAI API, not NeMo-Skills' legacy `/generate`).
    Trtllm,
    /// llama.cpp's `llama-server` (Tally's; CPU, GGUF models).
    LlamaCpp,
    /// The OpenAI API itself, and strict clones such as api.nvidia.com.
    OpenAi,
    /// Any other OpenAI-compatible server: only standard request fields (Tally's).
    Generic,
    /// The model embedded in the process (`tally-local`; Tally's): nothing to connect to.
    Local,
}

impl ServerType {
    /// Every kind, in the order errors list them.
    pub const ALL: [ServerType; 7] = [
        ServerType::Vllm,
        ServerType::Sglang,
        ServerType::Trtllm,
        ServerType::OpenAi,
        ServerType::LlamaCpp,
        ServerType::Generic,
        ServerType::Local,
    ];

    /// The `--server_type` spelling (what [`fmt::Display`] and serde write).
    pub fn as_str(self) -> &'static str {
        match self {
            ServerType::Vllm => "vllm",
            ServerType::Sglang => "sglang",
            ServerType::Trtllm => "trtllm",
            ServerType::LlamaCpp => "llamacpp",
            ServerType::OpenAi => "openai",
            ServerType::Generic => "generic",
            ServerType::Local => "local",
        }
    }

    /// True for a server reached over HTTP (every kind but [`ServerType::Local`]).
    pub fn is_remote(self) -> bool {
        self != ServerType::Local
    }
}

impl fmt::Display for ServerType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `--server_type` that is not one of [`ServerType`]'s spellings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown server type {given:?}: {reason}")]
pub struct UnknownServerType {
    pub given: String,
    pub reason: String,
}

impl FromStr for ServerType {
    type Err = UnknownServerType;

    /// NeMo-Skills' spellings, case-insensitively, plus llama.cpp's common names.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "vllm" => ServerType::Vllm,
            "sglang" => ServerType::Sglang,
            "trtllm" | "trtllm-serve" => ServerType::Trtllm,
            "llamacpp" | "llama.cpp" | "llama-cpp" | "llama_cpp" | "llama-server" => {
                ServerType::LlamaCpp
            }
            "openai" => ServerType::OpenAi,
            "generic" | "openai-compatible" | "openai_compatible" => ServerType::Generic,
            "local" => ServerType::Local,
            "nemo" | "megatron" => {
                return Err(UnknownServerType {
                    given: s.to_string(),
                    reason: "NeMo/Megatron's own server API is not supported; serve the model \
                             with vllm, sglang or trtllm"
                        .into(),
                })
            }
            _ => {
                let names: Vec<&str> = ServerType::ALL.iter().map(|t| t.as_str()).collect();
                return Err(UnknownServerType {
                    given: s.to_string(),
                    reason: format!("expected one of {}", names.join(", ")),
                });
            }
        })
    }
}

impl serde::Serialize for ServerType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for ServerType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nemo_skills_spellings_parse_and_round_trip() {
        for (text, t) in [
            ("vllm", ServerType::Vllm),
            ("sglang", ServerType::Sglang),
            ("trtllm", ServerType::Trtllm),
            ("openai", ServerType::OpenAi),
            ("local", ServerType::Local),
            ("SGLang", ServerType::Sglang),
            ("llama.cpp", ServerType::LlamaCpp),
            ("trtllm-serve", ServerType::Trtllm),
        ] {
            assert_eq!(text.parse::<ServerType>().unwrap(), t, "{text}");
        }
        for t in ServerType::ALL {
            assert_eq!(t.to_string().parse::<ServerType>().unwrap(), t);
            let json = serde_json::to_string(&t).unwrap();
            assert_eq!(json, format!("\"{}\"", t.as_str()));
            assert_eq!(serde_json::from_str::<ServerType>(&json).unwrap(), t);
        }
    }

    #[test]
    fn unknown_and_unsupported_names_say_why() {
        let e = "vlm".parse::<ServerType>().unwrap_err().to_string();
        assert!(
            e.contains("\"vlm\"") && e.contains("vllm, sglang, trtllm"),
            "{e}"
        );
        let e = "nemo".parse::<ServerType>().unwrap_err().to_string();
        assert!(e.contains("not supported"), "{e}");
        let e = serde_json::from_str::<ServerType>("\"tgi\"").unwrap_err();
        assert!(e.to_string().contains("\"tgi\""), "{e}");
    }
}
