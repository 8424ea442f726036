//! What a trial runs: the problems, and the `tally` command line of each mode.

use std::path::{Path, PathBuf};

use serde_json::json;
use tally_core::SplitMix64;

/// Which command is tortured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mode {
    /// `tally generate`, problems × seeds.
    Generate,
    /// `tally generate --num_chunks 3` in one process: chunk files, `.done` markers, merging.
    Chunks,
    /// `tally judge` over graded seed files.
    Judge,
    /// `tally eval`: greedy + seeds, grading, summary, manifest.
    Eval,
}

impl Mode {
    pub const ALL: [Mode; 4] = [Mode::Generate, Mode::Chunks, Mode::Judge, Mode::Eval];

    pub fn name(self) -> &'static str {
        match self {
            Mode::Generate => "generate",
            Mode::Chunks => "chunks",
            Mode::Judge => "judge",
            Mode::Eval => "eval",
        }
    }

    pub fn parse(s: &str) -> Option<Mode> {
        Mode::ALL.into_iter().find(|m| m.name() == s)
    }
}

/// Sizes of the workload.
#[derive(Debug, Clone)]
pub struct Workload {
    pub problems: usize,
    pub seeds: usize,
    pub max_concurrent_requests: usize,
    pub tokens_to_generate: usize,
    /// Seconds before a hung request is given up (and retried).
    pub request_timeout_s: f64,
}

impl Default for Workload {
    fn default() -> Self {
        Workload {
            problems: 60,
            seeds: 3,
            max_concurrent_requests: 8,
            tokens_to_generate: 64,
            request_timeout_s: 2.0,
        }
    }
}

/// The problems file: "What is A + B?" with its answer, gsm8k-shaped.
pub fn write_problems(path: &Path, n: usize) -> std::io::Result<()> {
    let mut rng = SplitMix64::new(0x7A11_7000);
    let mut text = String::new();
    for i in 0..n {
        let (a, b) = (rng.below(900) as i64 + 10, rng.below(900) as i64 + 10);
        let rec = json!({
            "id": format!("p{i:03}"),
            "problem": format!("Ann has {a} apples and buys {b} more. What is {a} + {b}?"),
            "expected_answer": (a + b).to_string(),
        });
        text.push_str(&tally_core::pyjson::to_string(&rec));
        text.push('\n');
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, text)
}

/// Paths of one workspace: the data every trial shares.
#[derive(Debug, Clone)]
pub struct Data {
    /// `<root>/data`: `gsm8k/test.jsonl` (for eval's `--data_dir`) and `problems.jsonl`.
    pub data_dir: PathBuf,
    pub problems: PathBuf,
    /// Graded seed files the judge reads (made by an uninterrupted generate + grade).
    pub judge_input: PathBuf,
}

/// The argv (after the program) of `mode`, writing into `out`.
pub fn command(mode: Mode, w: &Workload, data: &Data, url: &str, out: &Path) -> Vec<String> {
    let mut args: Vec<String> = Vec::new();
    let mut push = |s: &str| args.push(s.to_string());
    match mode {
        Mode::Generate | Mode::Chunks => {
            push("generate");
            for a in [
                "--server_type=vllm",
                &format!("--server_address={url}"),
                &format!("--output_dir={}", out.display()),
                &format!("--num_random_seeds={}", w.seeds),
                &format!("++input_file={}", data.problems.display()),
                "++prompt_config=generic/math",
            ] {
                push(a);
            }
            if mode == Mode::Chunks {
                push("--num_chunks=3");
            }
        }
        Mode::Judge => {
            for a in [
                "judge",
                &format!("--input_dir={}", data.judge_input.display()),
                &format!("--output_dir={}", out.display()),
                &format!("--num_random_seeds={}", w.seeds),
                "--server_type=vllm",
                &format!("--server_address={url}"),
                "--no-cache",
            ] {
                push(a);
            }
        }
        Mode::Eval => {
            for a in [
                "eval",
                "--server_type=vllm",
                &format!("--server_address={url}"),
                &format!("--output_dir={}", out.display()),
                &format!("--data_dir={}", data.data_dir.display()),
                &format!("--benchmarks=gsm8k:{}", w.seeds),
            ] {
                push(a);
            }
        }
    }
    args.push(format!(
        "++max_concurrent_requests={}",
        w.max_concurrent_requests
    ));
    if mode != Mode::Judge {
        args.push(format!(
            "++inference.tokens_to_generate={}",
            w.tokens_to_generate
        ));
    }
    args.push(format!("++request_timeout={}", w.request_timeout_s));
    args
}
