//! Turning the selection model's answers into choices: each record of a GenSelect output file
//! gets the chosen candidate's answer and verdicts, so it summarizes like a graded sample.

use std::io::Write;
use std::path::Path;

use serde_json::{json, Map, Value};
use tally_core::jsonl::read_jsonl;
use tally_core::{pyjson, SplitMix64, Status};

use crate::candidates::GRADED_KEYS;
use crate::choice::parse_choice;
use crate::error::GenSelectError;
use crate::mode::Mode;
use crate::GENERATION_KEY;

/// What finalizing one file found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FinalizeCounts {
    /// Choices read from the model's answer.
    pub chosen: usize,
    /// Problems with one candidate: chosen without asking.
    pub settled: usize,
    /// Answers that named no valid index: a candidate drawn with a fixed seed instead (as
    /// NeMo-Skills falls back to a random one), marked `genselect_successful: false`.
    pub fallback: usize,
    /// Problems without any complete candidate: no answer.
    pub no_candidate: usize,
    /// Failed selection requests: left as they are (a failure, never a wrong answer).
    pub failed: usize,
}

/// Settles the choice of every record of `path` (a `genselect/output-rs<seed>.jsonl` the engine wrote)
/// and rewrites it atomically. Running it again gives the same file.
pub fn finalize_file(path: &Path, seed: u64) -> Result<FinalizeCounts, GenSelectError> {
    let read = read_whole(path)?;
    // Verdict keys any candidate of the file has: a problem without candidates gets them too,
    // as "not correct", so every valid record carries the same columns.
    let mut verdict_keys: Vec<&str> = Vec::new();
    for line in &read.lines {
        for c in candidates_of(&line.record, Mode::Select.candidates_key()) {
            for k in ["is_correct", "symbolic_correct", "judgement"] {
                if c.get(k).is_some() && !verdict_keys.contains(&k) {
                    verdict_keys.push(k);
                }
            }
        }
    }
    let mut counts = FinalizeCounts::default();
    let mut out = Vec::with_capacity(read.lines.len());
    for line in read.lines {
        let mut rec = line.record;
        if failed(&rec) {
            counts.failed += 1;
            out.push(rec);
            continue;
        }
        let candidates = candidates_of(&rec, Mode::Select.candidates_key());
        let n = candidates.len();
        let (choice, successful) = match n {
            0 => (None, false),
            1 => {
                counts.settled += 1;
                (Some(0), true)
            }
            _ => {
                let text = rec
                    .get(GENERATION_KEY)
                    .and_then(Value::as_str)
                    .unwrap_or("");
                match parse_choice(text, n - 1) {
                    Some(i) => {
                        counts.chosen += 1;
                        (Some(i), true)
                    }
                    None => {
                        counts.fallback += 1;
                        (Some(fallback_draw(seed, line.number, n)), false)
                    }
                }
            }
        };
        // Removed first so a second run writes the same keys in the same order.
        for k in GRADED_KEYS.iter().chain(&CHOICE_KEYS) {
            rec.shift_remove(*k);
        }
        match choice {
            Some(i) => {
                let c = &candidates[i];
                for k in GRADED_KEYS {
                    if let Some(v) = c.get(k) {
                        rec.insert(k.to_string(), v.clone());
                    }
                }
                rec.insert("genselect_choice".into(), json!(i));
                rec.insert(
                    "genselect_selected_seed".into(),
                    c.get("seed").cloned().unwrap_or(Value::Null),
                );
            }
            None => {
                counts.no_candidate += 1;
                rec.insert("predicted_answer".into(), Value::Null);
                for k in &verdict_keys {
                    let no = if *k == "judgement" {
                        json!("Judgement: No")
                    } else {
                        json!(false)
                    };
                    rec.insert(k.to_string(), no);
                }
                rec.insert("genselect_choice".into(), Value::Null);
                rec.insert("genselect_selected_seed".into(), Value::Null);
                rec.insert("status".into(), json!(Status::NoAnswer.as_str()));
            }
        }
        rec.insert("genselect_successful".into(), json!(successful));
        out.push(rec);
    }
    write_records(path, out)?;
    Ok(counts)
}

const CHOICE_KEYS: [&str; 3] = [
    "genselect_choice",
    "genselect_selected_seed",
    "genselect_successful",
];

/// The candidates a record carries under `key` (`genselect_candidates`, …).
pub(crate) fn candidates_of(rec: &Map<String, Value>, key: &str) -> Vec<Map<String, Value>> {
    rec.get(key)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|c| c.as_object().cloned()).collect())
        .unwrap_or_default()
}

/// The records of an output file the engine finished; a torn last line is an error, never a
/// record dropped from a rewrite.
pub(crate) fn read_whole(path: &Path) -> Result<tally_core::jsonl::ReadOutcome, GenSelectError> {
    let read = read_jsonl(path)?;
    if read.torn_tail.is_some() {
        return Err(GenSelectError::Torn {
            path: path.to_path_buf(),
        });
    }
    Ok(read)
}

/// A failed request's record: left as it is (a failure, never a wrong answer).
pub(crate) fn failed(rec: &Map<String, Value>) -> bool {
    rec.get("status")
        .and_then(Value::as_str)
        .and_then(Status::parse)
        .is_some_and(Status::is_failure)
}

/// The fixed-seed draw of a fallback candidate for the record at `line_number`.
pub(crate) fn fallback_draw(seed: u64, line_number: usize, n: usize) -> usize {
    SplitMix64::new(seed.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ line_number as u64).below(n)
}

/// Rewrites `path` with `records`, atomically.
pub(crate) fn write_records(
    path: &Path,
    records: Vec<Map<String, Value>>,
) -> Result<(), GenSelectError> {
    tally_core::atomic::atomic_write(path, |w: &mut dyn Write| {
        for r in records {
            w.write_all(pyjson::to_string(&Value::Object(r)).as_bytes())?;
            w.write_all(b"\n")?;
        }
        Ok(())
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(seed: u64, answer: &str, correct: bool) -> Value {
        json!({"seed": seed, "predicted_answer": answer, "is_correct": correct, "symbolic_correct": correct})
    }

    #[test]
    fn choices_fallbacks_and_empty_windows() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("output-rs0.jsonl");
        let rows = [
            json!({"problem": "a", "genselect_candidates": [cand(0, "1", false), cand(3, "2", true)],
                   GENERATION_KEY: "Both look fine. Judgment: 1", "status": "ok"}),
            json!({"problem": "b", "genselect_candidates": [cand(1, "5", true), cand(2, "6", false)],
                   GENERATION_KEY: "I cannot decide.", "status": "ok"}),
            json!({"problem": "c", "genselect_candidates": [cand(4, "9", true)], GENERATION_KEY: "", "status": "ok"}),
            json!({"problem": "d", "genselect_candidates": [], GENERATION_KEY: "", "status": "ok"}),
            json!({"problem": "e", "genselect_candidates": [cand(0, "1", true), cand(1, "1", true)],
                   GENERATION_KEY: null, "status": "request_error", "error": "HTTP 500"}),
        ];
        std::fs::write(
            &p,
            rows.iter().map(|r| format!("{r}\n")).collect::<String>(),
        )
        .unwrap();
        let counts = finalize_file(&p, 0).unwrap();
        assert_eq!(
            counts,
            FinalizeCounts {
                chosen: 1,
                settled: 1,
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
        assert_eq!(recs[0]["predicted_answer"], json!("2"));
        assert_eq!(recs[0]["is_correct"], json!(true));
        assert_eq!(recs[0]["genselect_selected_seed"], json!(3));
        assert_eq!(recs[0]["genselect_successful"], json!(true));
        assert_eq!(recs[1]["genselect_successful"], json!(false));
        assert!(recs[1]["genselect_choice"].as_u64().unwrap() < 2);
        assert_eq!(recs[2]["predicted_answer"], json!("9"));
        assert_eq!(recs[3]["predicted_answer"], Value::Null);
        assert_eq!(recs[3]["is_correct"], json!(false));
        assert_eq!(recs[3]["symbolic_correct"], json!(false));
        assert_eq!(recs[3]["status"], json!("no_answer"));
        assert!(recs[4].get("predicted_answer").is_none());
        // Idempotent.
        finalize_file(&p, 0).unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), once);
    }
}
