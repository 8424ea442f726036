//! Each problem's candidate solutions, from the seed files.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use tally_core::jsonl::read_jsonl;
use tally_core::Status;

use crate::error::GenSelectError;

/// Which solutions may be candidates (NeMo-Skills' defaults).
#[derive(Debug, Clone, PartialEq)]
pub struct CandidateOptions {
    /// Solutions longer than this many characters are left out (`None`: no cap).
    pub solution_length_cap: Option<usize>,
    /// Leave out samples that did not finish: failed requests, unfinished reasoning, empty text.
    pub filter_incomplete: bool,
    /// The end-of-reasoning tag: a solution that carries it is the text after it.
    pub end_reasoning_string: String,
}

impl Default for CandidateOptions {
    fn default() -> Self {
        CandidateOptions {
            solution_length_cap: Some(16_384),
            filter_incomplete: true,
            end_reasoning_string: "</think>".into(),
        }
    }
}

/// One candidate: which seed wrote it, its text, and what grading said about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub seed: u64,
    pub solution: String,
    /// `predicted_answer`, `is_correct`, `symbolic_correct`, `judgement`, `answer_canonical`,
    /// `grade_status` as the seed file has them (absent keys stay absent).
    pub graded: Map<String, Value>,
}

/// The fields of a graded sample a choice carries over.
pub const GRADED_KEYS: [&str; 6] = [
    "predicted_answer",
    "is_correct",
    "symbolic_correct",
    "judgement",
    "answer_canonical",
    "grade_status",
];

/// Fields of the sample that describe how it was generated, not the problem.
const SAMPLE_KEYS: [&str; 16] = [
    "generation",
    "predicted_answer",
    "is_correct",
    "symbolic_correct",
    "judgement",
    "answer_canonical",
    "grade_status",
    "status",
    "error",
    "num_generated_tokens",
    "_full_generation",
    "_generation_finished_thinking",
    "reasoning_content",
    "seed",
    "judge_status",
    "judge_error",
];

/// One problem: its own fields (from the first seed file, sample fields removed) and its
/// candidates in seed order.
#[derive(Debug, Clone, PartialEq)]
pub struct ProblemCandidates {
    pub problem: Map<String, Value>,
    pub candidates: Vec<Candidate>,
    /// Samples left out (incomplete or too long).
    pub left_out: usize,
}

/// The seed number of `output-rs<seed>.jsonl`.
pub fn seed_of(path: &Path) -> Option<u64> {
    let name = path.file_name()?.to_str()?;
    name.strip_prefix("output-rs")?
        .strip_suffix(".jsonl")?
        .parse()
        .ok()
}

/// The seed files of a benchmark folder, in seed order (chunk files are not seeds).
pub fn seed_files(dir: &Path) -> Result<Vec<(u64, PathBuf)>, GenSelectError> {
    let entries = std::fs::read_dir(dir).map_err(|e| tally_core::CoreError::io(dir, e))?;
    let mut out: Vec<(u64, PathBuf)> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter_map(|p| seed_of(&p).map(|s| (s, p)))
        .collect();
    out.sort();
    if out.is_empty() {
        return Err(GenSelectError::NoSeeds(dir.to_path_buf()));
    }
    Ok(out)
}

/// The solution text of a sample, or `None` when it is incomplete and `filter` is on.
fn solution_of(rec: &Map<String, Value>, opts: &CandidateOptions) -> Option<String> {
    let generation = rec.get("generation").and_then(Value::as_str).unwrap_or("");
    // A record written with parse_reasoning already holds the answer part; one that was not
    // still carries the tag, and the answer is what follows it (NeMo-Skills keeps the whole
    // text when nothing follows).
    let text = match generation.rfind(&opts.end_reasoning_string) {
        Some(at) if !opts.end_reasoning_string.is_empty() => {
            let after = generation[at + opts.end_reasoning_string.len()..].trim();
            if after.is_empty() {
                generation
            } else {
                after
            }
        }
        _ => generation,
    };
    if opts.filter_incomplete {
        let status = rec
            .get("status")
            .and_then(Value::as_str)
            .and_then(Status::parse);
        let unfinished = status.is_some_and(|s| s.is_failure() || s == Status::ReasoningUnfinished)
            || rec.get("_generation_finished_thinking") == Some(&Value::Bool(false));
        if unfinished || text.trim().is_empty() {
            return None;
        }
    }
    Some(text.to_string())
}

/// Reads the seed files of `dir` (line `i` of each is problem `i`) into candidates.
pub fn read_candidates(
    dir: &Path,
    opts: &CandidateOptions,
) -> Result<Vec<ProblemCandidates>, GenSelectError> {
    let files = seed_files(dir)?;
    let mut problems: Vec<ProblemCandidates> = Vec::new();
    let mut reference: Option<(PathBuf, usize)> = None;
    for (seed, path) in &files {
        let read = read_jsonl(path)?;
        if read.torn_tail.is_some() {
            return Err(GenSelectError::Torn { path: path.clone() });
        }
        match &reference {
            None => reference = Some((path.clone(), read.lines.len())),
            Some((r, n)) if *n != read.lines.len() => {
                return Err(GenSelectError::LineCount {
                    path: path.clone(),
                    found: read.lines.len(),
                    reference: r.clone(),
                    expected: *n,
                })
            }
            Some(_) => {}
        }
        for (i, line) in read.lines.into_iter().enumerate() {
            let rec = line.record;
            if problems.len() <= i {
                let mut problem = rec.clone();
                for k in SAMPLE_KEYS {
                    problem.shift_remove(k);
                }
                problems.push(ProblemCandidates {
                    problem,
                    candidates: Vec::new(),
                    left_out: 0,
                });
            }
            let p = &mut problems[i];
            let Some(solution) = solution_of(&rec, opts) else {
                p.left_out += 1;
                continue;
            };
            if opts
                .solution_length_cap
                .is_some_and(|cap| solution.chars().count() > cap)
            {
                p.left_out += 1;
                continue;
            }
            let graded = GRADED_KEYS
                .iter()
                .filter_map(|k| rec.get(*k).map(|v| (k.to_string(), v.clone())))
                .collect();
            p.candidates.push(Candidate {
                seed: *seed,
                solution,
                graded,
            });
        }
    }
    Ok(problems)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn write(dir: &Path, name: &str, rows: &[Value]) {
        let text: String = rows.iter().map(|r| format!("{r}\n")).collect();
        std::fs::write(dir.join(name), text).unwrap();
    }

    #[test]
    fn incomplete_and_long_solutions_are_left_out() {
        let t = tempfile::tempdir().unwrap();
        let long = "x".repeat(20);
        write(
            t.path(),
            "output-rs0.jsonl",
            &[
                json!({"problem": "p", "expected_answer": "1", "generation": "<think>hm</think>So \\boxed{1}.", "predicted_answer": "1", "is_correct": true, "status": "ok"}),
            ],
        );
        write(
            t.path(),
            "output-rs1.jsonl",
            &[
                json!({"problem": "p", "expected_answer": "1", "generation": null, "status": "request_error"}),
            ],
        );
        write(
            t.path(),
            "output-rs2.jsonl",
            &[
                json!({"problem": "p", "expected_answer": "1", "generation": "", "_generation_finished_thinking": false, "status": "reasoning_unfinished"}),
            ],
        );
        write(
            t.path(),
            "output-rs10.jsonl",
            &[
                json!({"problem": "p", "expected_answer": "1", "generation": long, "predicted_answer": null, "is_correct": false}),
            ],
        );
        write(
            t.path(),
            "output-rs3_chunk_0.jsonl",
            &[json!({"problem": "other"})],
        );
        let opts = CandidateOptions {
            solution_length_cap: Some(19),
            ..CandidateOptions::default()
        };
        let p = read_candidates(t.path(), &opts).unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].candidates.len(), 1);
        assert_eq!(p[0].candidates[0].solution, "So \\boxed{1}.");
        assert_eq!(p[0].candidates[0].seed, 0);
        assert_eq!(p[0].candidates[0].graded["is_correct"], json!(true));
        assert_eq!(p[0].left_out, 3);
        assert_eq!(
            Value::Object(p[0].problem.clone()),
            json!({"problem": "p", "expected_answer": "1"})
        );
        // Without the filter and the cap, every sample is a candidate, in seed order (10 last).
        let all = CandidateOptions {
            solution_length_cap: None,
            filter_incomplete: false,
            ..CandidateOptions::default()
        };
        let p = read_candidates(t.path(), &all).unwrap();
        let seeds: Vec<u64> = p[0].candidates.iter().map(|c| c.seed).collect();
        assert_eq!(seeds, [0, 1, 2, 10]);
    }

    #[test]
    fn misaligned_seed_files_are_an_error_naming_them() {
        let t = tempfile::tempdir().unwrap();
        write(
            t.path(),
            "output-rs0.jsonl",
            &[json!({"problem": "a"}), json!({"problem": "b"})],
        );
        write(t.path(), "output-rs1.jsonl", &[json!({"problem": "a"})]);
        let e = read_candidates(t.path(), &CandidateOptions::default()).unwrap_err();
        assert!(e.to_string().contains("output-rs1.jsonl"), "{e}");
        let empty = tempfile::tempdir().unwrap();
        assert!(matches!(
            read_candidates(empty.path(), &CandidateOptions::default()),
            Err(GenSelectError::NoSeeds(_))
        ));
    }
}
