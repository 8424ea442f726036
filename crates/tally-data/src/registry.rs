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
    /// Hugging Face rows whose `answer` becomes `expected_answer`, every other field kept
    /// (MathArena's hmmt/brumo, ByteDance-Seed's BeyondAIME).
    AnswerRenamed,
    /// Qwen2.5-Math's evaluation data: `answer` → `expected_answer`, `question` → `problem`.
    Qwen,
    /// As `Qwen`, and the first of `final_answer` (without `$`) is the expected answer.
    QwenOlympiad,
    /// As `Qwen`, and the expected answer is the last `\boxed{}` of `solution`.
    QwenMinerva,
    /// KbsdJames/Omni-MATH: `answer` → `expected_answer`, `solution` → `reference_solution`.
    OmniMath,
    /// protagolabs/odyssey-math: `{"<key>": {question, answer, reasoning, label, level}}` lines.
    MathOdyssey,
    /// joyheyueya's algebra222.csv: `question`, `final_answer`.
    Algebra222,
    /// chaochun's ASDiv.xml: `<Problem>` elements with `Body`, `Question`, `Answer`, `Solution-Type`.
    Asdiv,
    /// qintongli/GSM-Plus: `question`, `solution`, `answer`, `perturbation_type`, `seed_*`.
    GsmPlus,
    /// microsoft/ToRA's MAWPS subsets (one file per part): `input`, `target`.
    Mawps,
    /// arkilpatel/SVAMP.json: a JSON array of `Body`, `Question`, `Answer`, `Equation`.
    Svamp,
    /// trishullab/PutnamBench `lean4/solutions_replaced_new/*.lean`: one theorem per file.
    PutnamLean,
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
    /// Source files read into one split, each converted with its part name (MAWPS' subsets;
    /// `{part}` in `url`). Empty: one source per split.
    pub parts: &'static [&'static str],
    /// Set when the canonical source cannot be downloaded as a file: how to make the local
    /// copy that `--source` takes instead.
    pub local_only: Option<&'static str>,
    /// Whether evaluating it needs the code-execution sandbox (NeMo-Skills' `REQUIRES_SANDBOX`).
    pub requires_sandbox: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JudgeDefaults {
    pub prompt_config: &'static str,
    pub model: &'static str,
    pub server_type: tally_core::ServerType,
    /// The judge's server when NeMo-Skills names one (an API); `None`: hosted or given by the user.
    pub server_address: Option<&'static str>,
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
        parts: &[],
        local_only: None,
        requires_sandbox: false,
    }
}

/// A Hugging Face dataset's split as its auto-converted parquet file (the rows `load_dataset`
/// returns, whatever format the repository stores them in).
macro_rules! hf_parquet {
    ($repo:literal, $split:literal) => {
        concat!(
            "https://huggingface.co/datasets/",
            $repo,
            "/resolve/refs%2Fconvert%2Fparquet/default/",
            $split,
            "/0000.parquet"
        )
    };
}

/// Qwen2.5-Math's evaluation data, as NeMo-Skills' `save_data_from_qwen` reads it.
macro_rules! qwen_url {
    ($name:literal) => {
        concat!(
            "https://raw.githubusercontent.com/QwenLM/Qwen2.5-Math/refs/heads/main/evaluation/data/",
            $name,
            "/{split}.jsonl"
        )
    };
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
            server_type: tally_core::ServerType::Vllm,
            server_address: None,
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
    // Benchmarks of newer NeMo-Skills (its `nemo_skills/dataset/<name>/` at 0b012df8).
    math(
        "hmmt_feb25",
        hf_parquet!("MathArena/hmmt_feb_2025", "train"),
        SourceFormat::AnswerRenamed,
    ),
    math(
        "brumo25",
        hf_parquet!("MathArena/brumo_2025", "train"),
        SourceFormat::AnswerRenamed,
    ),
    math(
        "beyond-aime",
        hf_parquet!("ByteDance-Seed/BeyondAIME", "test"),
        SourceFormat::AnswerRenamed,
    ),
    BenchmarkInfo {
        splits: &["test", "train"],
        ..math("hendrycks_math", qwen_url!("math"), SourceFormat::Qwen)
    },
    math(
        "olympiadbench",
        qwen_url!("olympiadbench"),
        SourceFormat::QwenOlympiad,
    ),
    math(
        "minerva_math",
        qwen_url!("minerva_math"),
        SourceFormat::QwenMinerva,
    ),
    BenchmarkInfo {
        judge: Some(JudgeDefaults {
            prompt_config: "judge/math",
            model: "gpt-4.1",
            server_type: tally_core::ServerType::OpenAi,
            server_address: Some("https://api.openai.com/v1"),
        }),
        ..math(
            "omni-math",
            "https://raw.githubusercontent.com/KbsdJames/Omni-MATH/refs/heads/main/Omni-Math.jsonl",
            SourceFormat::OmniMath,
        )
    },
    math(
        "math-odyssey",
        "https://raw.githubusercontent.com/protagolabs/odyssey-math/main/final-odyssey-math-with-levels.jsonl",
        SourceFormat::MathOdyssey,
    ),
    math("gaokao2023en", qwen_url!("gaokao2023en"), SourceFormat::Qwen),
    math("college_math", qwen_url!("college_math"), SourceFormat::Qwen),
    BenchmarkInfo {
        prompt_config: "lean4/formal-proof",
        metrics_type: "lean4-proof",
        eval_args: "++eval_type=lean4-proof",
        dataset_group: "lean4",
        requires_sandbox: true,
        local_only: Some(
            "clone https://github.com/trishullab/PutnamBench at 64cedd86ef523f3d5f5dc7a21c10e3f69564c7d4, \
             run `python lean4/scripts/rewrite_solutions.py` in lean4/scripts, and pass \
             --source <clone>/lean4/solutions_replaced_new",
        ),
        ..math(
            "putnam-bench",
            "https://github.com/trishullab/PutnamBench/tree/64cedd86ef523f3d5f5dc7a21c10e3f69564c7d4/lean4",
            SourceFormat::PutnamLean,
        )
    },
    math(
        "algebra222",
        "https://raw.githubusercontent.com/joyheyueya/declarative-math-word-problem/main/algebra222.csv",
        SourceFormat::Algebra222,
    ),
    math(
        "asdiv",
        "https://raw.githubusercontent.com/chaochun/nlu-asdiv-dataset/master/dataset/ASDiv.xml",
        SourceFormat::Asdiv,
    ),
    BenchmarkInfo {
        // NeMo-Skills writes both by default: the second with a rounding instruction appended.
        splits: &["test", "test_rounded"],
        ..math(
            "gsm-plus",
            "https://huggingface.co/datasets/qintongli/GSM-Plus/resolve/main/data/test-00000-of-00001.jsonl?download=true",
            SourceFormat::GsmPlus,
        )
    },
    BenchmarkInfo {
        parts: &["addsub", "singleeq", "singleop", "multiarith"],
        ..math(
            "mawps",
            "https://raw.githubusercontent.com/microsoft/ToRA/main/src/data/mawps/{part}.jsonl",
            SourceFormat::Mawps,
        )
    },
    math(
        "svamp",
        "https://raw.githubusercontent.com/arkilpatel/SVAMP/main/SVAMP.json",
        SourceFormat::Svamp,
    ),
];

pub fn lookup(name: &str) -> Option<&'static BenchmarkInfo> {
    BENCHMARKS.iter().find(|b| b.name == name)
}

pub fn names() -> Vec<&'static str> {
    BENCHMARKS.iter().map(|b| b.name).collect()
}

impl BenchmarkInfo {
    /// Whether NeMo-Skills writes this benchmark's records ASCII-escaped (`json.dumps`' default);
    /// its Lean statements are written as UTF-8 (`ensure_ascii=False`).
    pub fn ensure_ascii(&self) -> bool {
        self.format != SourceFormat::PutnamLean
    }

    /// The upstream file name a local directory may hold for `split` (the URL's last segment,
    /// without a query), e.g. `Omni-Math.jsonl`, `SVAMP.json`.
    pub fn upstream_file_name(&self, split: &str, part: Option<&str>) -> String {
        let url = self
            .url
            .replace("{split}", split)
            .replace("{part}", part.unwrap_or(""));
        let path = url.split('?').next().unwrap_or(&url);
        path.rsplit('/').next().unwrap_or(path).to_string()
    }
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

    /// Newer NeMo-Skills' sets with the defaults its `__init__.py` files give them (0b012df8).
    #[test]
    fn newer_benchmarks_carry_newer_defaults() {
        for name in [
            "hmmt_feb25",
            "brumo25",
            "beyond-aime",
            "hendrycks_math",
            "olympiadbench",
            "minerva_math",
            "omni-math",
            "math-odyssey",
            "gaokao2023en",
            "college_math",
            "algebra222",
            "asdiv",
            "gsm-plus",
            "mawps",
            "svamp",
        ] {
            let b = lookup(name).unwrap_or_else(|| panic!("{name} missing"));
            assert_eq!(
                (b.prompt_config, b.metrics_type, b.eval_args),
                ("generic/math", "math", "++eval_type=math"),
                "{name}"
            );
            assert!(b.url.starts_with("https://"), "{name}");
            assert!(!b.requires_sandbox && b.local_only.is_none(), "{name}");
        }
        let putnam = lookup("putnam-bench").unwrap();
        assert_eq!(
            (putnam.prompt_config, putnam.metrics_type, putnam.eval_args),
            (
                "lean4/formal-proof",
                "lean4-proof",
                "++eval_type=lean4-proof"
            )
        );
        assert!(putnam.requires_sandbox && putnam.local_only.is_some());
        let omni = lookup("omni-math").unwrap().judge.unwrap();
        assert_eq!(
            (omni.model, omni.server_type),
            ("gpt-4.1", tally_core::ServerType::OpenAi)
        );
        assert_eq!(
            lookup("hendrycks_math").unwrap().url.replace("{split}", "train"),
            "https://raw.githubusercontent.com/QwenLM/Qwen2.5-Math/refs/heads/main/evaluation/data/math/train.jsonl"
        );
        assert_eq!(
            lookup("gsm-plus").unwrap().splits,
            &["test", "test_rounded"]
        );
        assert_eq!(lookup("mawps").unwrap().parts.len(), 4);
        assert_eq!(
            lookup("svamp").unwrap().upstream_file_name("test", None),
            "SVAMP.json"
        );
        assert_eq!(
            lookup("gsm-plus")
                .unwrap()
                .upstream_file_name("test_rounded", None),
            "test-00000-of-00001.jsonl"
        );
        let mut names = names();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), BENCHMARKS.len(), "names are unique");
    }
}
