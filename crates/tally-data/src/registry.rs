//! The benchmarks Tally knows, with NeMo-Skills' per-benchmark defaults (spec §7).

/// Where a benchmark's canonical copy lives and in which format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceFormat {
    /// Already NeMo-Skills records (`problem`, `expected_answer`, …): copied verbatim.
    Prepared,
    /// openai/grade-school-math: `question`, `answer` ending in `#### N`.
    Gsm8k,
    /// openai/prm800k MATH splits: `problem`, `solution`, `answer`, `subject`, `level`, `unique_id`.
    Math500,
    /// Qwen2.5-Math's amc23: `question`/`problem`, `answer`, `url`.
    Amc23,
    /// cais/hle: `id`, `question`, `image`, `answer`, `answer_type`, `rationale`, `category`, …
    Hle,
}

/// A registry entry.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchmarkInfo {
    pub name: &'static str,
    pub splits: &'static [&'static str],
    /// The split `eval` uses when `--split` is not given.
    pub default_split: &'static str,
    pub prompt_config: &'static str,
    pub metrics_type: &'static str,
    pub eval_args: &'static str,
    pub generation_args: &'static str,
    pub dataset_group: &'static str,
    /// Whether the published tables use an LLM judge for this benchmark (HLE: answers a rule
    /// grader cannot decide), and the judge the OpenMath-Nemotron documentation used.
    pub judge: Option<JudgeDefaults>,
    /// Canonical public source per split (`{split}` is replaced).
    pub url: &'static str,
    pub format: SourceFormat,
    /// Whether the canonical source needs a Hugging Face token (gated dataset).
    pub needs_hf_token: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JudgeDefaults {
    pub prompt_config: &'static str,
    pub model: &'static str,
    pub server_type: &'static str,
}

/// A file NeMo-Skills ships itself, at the seed commit.
macro_rules! nemo_url {
    ($path:literal) => {
        concat!(
            "https://raw.githubusercontent.com/NVIDIA/NeMo-Skills/3e064820f6e41d2fa3c40bea2cc9931fac0bf363/nemo_skills/dataset/",
            $path
        )
    };
}

const fn math(name: &'static str, url: &'static str, format: SourceFormat) -> BenchmarkInfo {
    BenchmarkInfo {
        name,
        splits: &["test"],
        default_split: "test",
        prompt_config: "generic/math",
        metrics_type: "math",
        eval_args: "++eval_type=math",
        generation_args: "",
        dataset_group: "math",
        judge: None,
        url,
        format,
        needs_hf_token: false,
    }
}

pub static BENCHMARKS: &[BenchmarkInfo] = &[
    math(
        "comp-math-24-25",
        nemo_url!("comp-math-24-25/test.txt"),
        SourceFormat::Prepared,
    ),
    BenchmarkInfo {
        splits: &["math", "text"],
        default_split: "math",
        judge: Some(JudgeDefaults {
            prompt_config: "judge/math",
            model: "Qwen/Qwen2.5-32B-Instruct",
            server_type: "vllm",
        }),
        needs_hf_token: true,
        ..math(
            "hle",
            "https://huggingface.co/datasets/cais/hle/resolve/main/data/test-00000-of-00001.parquet",
            SourceFormat::Hle,
        )
    },
    math("aime24", nemo_url!("aime24/test.txt"), SourceFormat::Prepared),
    math("aime25", nemo_url!("aime25/test.txt"), SourceFormat::Prepared),
    math(
        "math-500",
        "https://github.com/openai/prm800k/raw/main/prm800k/math_splits/test.jsonl",
        SourceFormat::Math500,
    ),
    math(
        "gsm8k",
        "https://raw.githubusercontent.com/openai/grade-school-math/master/grade_school_math/data/test.jsonl",
        SourceFormat::Gsm8k,
    ),
    math(
        "amc23",
        "https://raw.githubusercontent.com/QwenLM/Qwen2.5-Math/main/evaluation/data/amc23/test.jsonl",
        SourceFormat::Amc23,
    ),
];

pub fn lookup(name: &str) -> Option<&'static BenchmarkInfo> {
    BENCHMARKS.iter().find(|b| b.name == name)
}

pub fn names() -> Vec<&'static str> {
    BENCHMARKS.iter().map(|b| b.name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_benchmark_of_the_issue_is_registered_with_seed_defaults() {
        for name in [
            "comp-math-24-25",
            "hle",
            "aime24",
            "aime25",
            "math-500",
            "gsm8k",
            "amc23",
        ] {
            let b = lookup(name).unwrap_or_else(|| panic!("{name} missing"));
            assert_eq!(b.prompt_config, "generic/math");
            assert_eq!(b.metrics_type, "math");
            assert_eq!(b.eval_args, "++eval_type=math");
            assert!(b.splits.contains(&b.default_split));
        }
        assert_eq!(lookup("hle").unwrap().splits, &["math", "text"]);
        assert!(lookup("hle").unwrap().judge.is_some());
        assert!(lookup("aime24")
            .unwrap()
            .url
            .contains("NeMo-Skills/3e064820"));
        assert!(lookup("aime25").unwrap().url.ends_with("/aime25/test.txt"));
        assert!(lookup("nope").is_none());
    }
}
