//! GenSynthesis' answers: the new solution the model wrote inside `<NEW_SOLUTION>` tags becomes
//! the record's `generation` (graded afterwards like any generation); an answer without one
//! falls back to a candidate drawn with a fixed seed, marked `gensynthesis_successful: false`,
//! as NeMo-Skills falls back to a random candidate.

use std::path::Path;

use serde_json::{json, Value};
use tally_core::Status;

use crate::candidates::GRADED_KEYS;
use crate::error::GenSelectError;
use crate::finalize::{
    candidates_of, failed, fallback_draw, read_whole, write_records, FinalizeCounts,
};
use crate::mode::Mode;

const OPEN: &str = "<NEW_SOLUTION>";
const CLOSE: &str = "</NEW_SOLUTION>";

/// The candidate key holding a candidate's solution text (for the fallback).
pub const SOLUTION_KEY: &str = "solution";

/// The last tagged solution of `text`, trimmed (NeMo-Skills' non-greedy
/// `<NEW_SOLUTION>(.*?)</NEW_SOLUTION>`, last match); `None` when no pair of tags closes.
pub fn parse_synthesis(text: &str) -> Option<&str> {
    let mut last = None;
    let mut rest = 0;
    while let Some(open) = text[rest..].find(OPEN) {
        let start = rest + open + OPEN.len();
        let Some(close) = text[start..].find(CLOSE) else {
            break;
        };
        last = Some(text[start..start + close].trim());
        rest = start + close + CLOSE.len();
    }
    last
}

/// Keys this step writes, removed first so a second run writes the same keys in the same order.
const SYNTHESIS_KEYS: [&str; 3] = [
    "generation",
    "gensynthesis_successful",
    "gensynthesis_fallback_seed",
];

/// Settles the new solution of every record of `path` (a `gensynthesis/output-rs<seed>.jsonl`
/// the engine wrote) and rewrites it atomically, grading left to the caller. Running it again
/// (on a graded file too) gives the same file before grading.
pub fn finalize_synthesis_file(path: &Path, seed: u64) -> Result<FinalizeCounts, GenSelectError> {
    let mode = Mode::Synthesis;
    let read = read_whole(path)?;
    let mut counts = FinalizeCounts::default();
    let mut out = Vec::with_capacity(read.lines.len());
    for line in read.lines {
        let mut rec = line.record;
        if failed(&rec) {
            counts.failed += 1;
            out.push(rec);
            continue;
        }
        for k in GRADED_KEYS.iter().chain(&SYNTHESIS_KEYS) {
            rec.shift_remove(*k);
        }
        let candidates = candidates_of(&rec, mode.candidates_key());
        let text = rec
            .get(mode.generation_key())
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let (solution, successful) = if candidates.is_empty() {
            counts.no_candidate += 1;
            rec.insert("status".into(), json!(Status::NoAnswer.as_str()));
            (String::new(), false)
        } else if let Some(s) = parse_synthesis(&text) {
            counts.chosen += 1;
            rec.insert("status".into(), json!(Status::Ok.as_str()));
            (s.to_string(), true)
        } else {
            counts.fallback += 1;
            let c = &candidates[fallback_draw(seed, line.number, candidates.len())];
            rec.insert(
                "gensynthesis_fallback_seed".into(),
                c.get("seed").cloned().unwrap_or(Value::Null),
            );
            rec.insert("status".into(), json!(Status::Ok.as_str()));
            let s = c.get(SOLUTION_KEY).and_then(Value::as_str).unwrap_or("");
            (s.to_string(), false)
        };
        rec.insert("generation".into(), json!(solution));
        rec.insert(mode.successful_key().into(), json!(successful));
        out.push(rec);
    }
    write_records(path, out)?;
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_closed_pair_of_tags_is_the_solution() {
        assert_eq!(
            parse_synthesis("think...\n<NEW_SOLUTION>\n x = \\boxed{2}\n</NEW_SOLUTION>"),
            Some("x = \\boxed{2}")
        );
        assert_eq!(
            parse_synthesis("<NEW_SOLUTION>a</NEW_SOLUTION> then <NEW_SOLUTION>b</NEW_SOLUTION>"),
            Some("b")
        );
        // Non-greedy: the first close after an open ends it.
        assert_eq!(
            parse_synthesis("<NEW_SOLUTION>a</NEW_SOLUTION>b</NEW_SOLUTION>"),
            Some("a")
        );
        assert_eq!(parse_synthesis("<NEW_SOLUTION>cut off"), None);
        assert_eq!(
            parse_synthesis("<NEW_SOLUTION>a</NEW_SOLUTION><NEW_SOLUTION>cut"),
            Some("a")
        );
        assert_eq!(parse_synthesis("no tags"), None);
    }

    fn cand(seed: u64, solution: &str) -> Value {
        json!({"seed": seed, "solution": solution, "predicted_answer": "7", "is_correct": true})
    }

    #[test]
    fn synthesized_fallback_empty_and_failed_records() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("output-rs0.jsonl");
        let key = Mode::Synthesis.generation_key();
        let cands = Mode::Synthesis.candidates_key();
        let rows = [
            json!({"problem": "a", cands: [cand(0, "s0"), cand(3, "s3")],
                   key: "Combining: <NEW_SOLUTION>so \\boxed{5}</NEW_SOLUTION>", "status": "ok"}),
            json!({"problem": "b", cands: [cand(1, "s1"), cand(2, "s2")], key: "no tags", "status": "ok"}),
            json!({"problem": "c", cands: [], key: "", "status": "ok"}),
            json!({"problem": "d", cands: [cand(0, "s0")], key: null, "status": "timeout"}),
        ];
        std::fs::write(
            &p,
            rows.iter().map(|r| format!("{r}\n")).collect::<String>(),
        )
        .unwrap();
        let counts = finalize_synthesis_file(&p, 0).unwrap();
        assert_eq!(
            counts,
            FinalizeCounts {
                chosen: 1,
                settled: 0,
                fallback: 1,
                no_candidate: 1,
                failed: 1
            }
        );
        let once = std::fs::read_to_string(&p).unwrap();
        let recs: Vec<Value> = once
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(recs[0]["generation"], json!("so \\boxed{5}"));
        assert_eq!(recs[0]["gensynthesis_successful"], json!(true));
        // The candidates' verdicts are not the new solution's: nothing is carried over.
        assert!(recs[0].get("predicted_answer").is_none());
        let fb = recs[1]["gensynthesis_fallback_seed"].as_u64().unwrap();
        assert_eq!(recs[1]["generation"], json!(format!("s{fb}")));
        assert_eq!(recs[1]["gensynthesis_successful"], json!(false));
        assert_eq!(recs[2]["generation"], json!(""));
        assert_eq!(recs[2]["status"], json!("no_answer"));
        assert_eq!(recs[3]["status"], json!("timeout"));
        assert!(recs[3].get("generation").is_none());
        // Idempotent, also after grading added its keys.
        let mut graded = recs.clone();
        graded[0]["predicted_answer"] = json!("5");
        graded[0]["symbolic_correct"] = json!(false);
        std::fs::write(
            &p,
            graded.iter().map(|r| format!("{r}\n")).collect::<String>(),
        )
        .unwrap();
        finalize_synthesis_file(&p, 0).unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), once);
    }
}
