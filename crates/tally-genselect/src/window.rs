//! The selection request of one problem: a window of its candidates, drawn per GenSelect seed.

use serde_json::{json, Map, Value};
use tally_core::SplitMix64;

use crate::candidates::ProblemCandidates;
use crate::mode::Mode;
use crate::synthesis::SOLUTION_KEY;

/// How a window is drawn (NeMo-Skills' default: 8 solutions per request), and for which step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowOptions {
    pub window_size: usize,
    pub mode: Mode,
}

impl Default for WindowOptions {
    fn default() -> Self {
        WindowOptions {
            window_size: 8,
            mode: Mode::Select,
        }
    }
}

/// One problem's selection request for one GenSelect seed.
#[derive(Debug, Clone, PartialEq)]
pub struct GenSelectInput {
    /// The record sent through the prompt: the problem's fields plus `solutions`,
    /// `num_solutions`, `max_idx` (the prompt's fields) and `<mode>_candidates` (what each
    /// index stands for; for GenSynthesis with each candidate's solution, its fallback).
    pub record: Map<String, Value>,
    /// Nothing to ask (a choice among fewer than two, a synthesis from none): settled.
    pub settled: bool,
}

/// The candidates of a window, in the order the prompt shows them: a fixed-seed shuffle of the
/// problem's candidates (the same on every run), the first `window_size` of them.
pub fn window_of(
    problem: &ProblemCandidates,
    seed: u64,
    problem_index: usize,
    opts: WindowOptions,
) -> Vec<usize> {
    let mut order: Vec<usize> = (0..problem.candidates.len()).collect();
    let mut rng = SplitMix64::new(
        seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (problem_index as u64).wrapping_add(1),
    );
    for i in (1..order.len()).rev() {
        let j = rng.below(i + 1);
        order.swap(i, j);
    }
    order.truncate(opts.window_size.max(1));
    order
}

/// The selection requests of every problem for GenSelect seed `seed`.
pub fn build_inputs(
    problems: &[ProblemCandidates],
    seed: u64,
    opts: WindowOptions,
) -> Vec<GenSelectInput> {
    problems
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let window = window_of(p, seed, i, opts);
            let solutions: Vec<String> = window
                .iter()
                .enumerate()
                .map(|(idx, &c)| format!("Solution {idx}:\n{}", p.candidates[c].solution))
                .collect();
            let candidates: Vec<Value> = window
                .iter()
                .map(|&c| {
                    let cand = &p.candidates[c];
                    let mut m = Map::new();
                    m.insert("seed".into(), json!(cand.seed));
                    if opts.mode == Mode::Synthesis {
                        m.insert(SOLUTION_KEY.into(), json!(cand.solution));
                    }
                    m.extend(cand.graded.clone());
                    Value::Object(m)
                })
                .collect();
            let mut record = p.problem.clone();
            record.insert("solutions".into(), json!(solutions.join("\n\n")));
            record.insert("num_solutions".into(), json!(window.len()));
            record.insert("max_idx".into(), json!(window.len().saturating_sub(1)));
            record.insert(opts.mode.candidates_key().into(), Value::Array(candidates));
            GenSelectInput {
                record,
                settled: window.len() < opts.mode.min_to_ask(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::candidates::Candidate;

    fn problem(n: usize) -> ProblemCandidates {
        ProblemCandidates {
            problem: [("problem".to_string(), json!("What is 1+1?"))]
                .into_iter()
                .collect(),
            candidates: (0..n)
                .map(|s| Candidate {
                    seed: s as u64,
                    solution: format!("answer {s}"),
                    graded: [("is_correct".to_string(), json!(s % 2 == 0))]
                        .into_iter()
                        .collect(),
                })
                .collect(),
            left_out: 0,
        }
    }

    #[test]
    fn a_window_is_a_fixed_draw_of_distinct_candidates() {
        let p = problem(12);
        let w = window_of(&p, 0, 3, WindowOptions::default());
        assert_eq!(w.len(), 8);
        let mut sorted = w.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), 8);
        assert_eq!(w, window_of(&p, 0, 3, WindowOptions::default()));
        // Another seed (or problem) draws another window.
        assert_ne!(w, window_of(&p, 1, 3, WindowOptions::default()));
        // Fewer candidates than the window: all of them.
        assert_eq!(
            window_of(&problem(3), 5, 0, WindowOptions::default()).len(),
            3
        );
    }

    #[test]
    fn the_record_numbers_solutions_and_says_what_each_index_is() {
        let p = problem(3);
        let inputs = build_inputs(
            std::slice::from_ref(&p),
            7,
            WindowOptions {
                window_size: 2,
                ..WindowOptions::default()
            },
        );
        let r = &inputs[0].record;
        assert_eq!(r["num_solutions"], json!(2));
        assert_eq!(r["max_idx"], json!(1));
        let text = r["solutions"].as_str().unwrap();
        let cands = r["genselect_candidates"].as_array().unwrap();
        for (idx, c) in cands.iter().enumerate() {
            let seed = c["seed"].as_u64().unwrap();
            assert!(
                text.contains(&format!("Solution {idx}:\nanswer {seed}")),
                "{text}"
            );
            assert_eq!(c["is_correct"], json!(seed % 2 == 0));
        }
        assert!(!inputs[0].settled);
        assert!(build_inputs(&[problem(1)], 0, WindowOptions::default())[0].settled);
    }

    #[test]
    fn a_synthesis_window_carries_solutions_and_asks_even_for_one() {
        let synth = WindowOptions {
            window_size: 2,
            mode: Mode::Synthesis,
        };
        let inputs = build_inputs(&[problem(3), problem(1), problem(0)], 7, synth);
        let cands = inputs[0].record["gensynthesis_candidates"]
            .as_array()
            .unwrap();
        for c in cands {
            let seed = c["seed"].as_u64().unwrap();
            assert_eq!(c["solution"], json!(format!("answer {seed}")));
        }
        assert!(inputs[0].record.get("genselect_candidates").is_none());
        let settled: Vec<bool> = inputs.iter().map(|i| i.settled).collect();
        assert_eq!(settled, [false, false, true]);
    }
}
