//! Known answer-key errors in public copies of benchmarks, corrected at `prepare` time.
//!
//! An erratum names the record by id and by a fragment of its problem text (so an id reused by a
//! different source never matches), and the correct value. A source that is already right is left
//! alone; every correction made is recorded in the manifest.

use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Erratum {
    pub benchmark: &'static str,
    pub id: &'static str,
    pub problem_contains: &'static str,
    pub field: &'static str,
    pub correct: &'static str,
    pub note: &'static str,
}

pub static ERRATA: &[Erratum] = &[
    Erratum {
        benchmark: "aime24",
        id: "aime24-26",
        problem_contains: "Find the number of intersections of the graphs of",
        field: "expected_answer",
        correct: "385",
        note: "AIME 2024 I-12: the number of intersections is 385",
    },
    Erratum {
        benchmark: "comp-math-24-25",
        id: "aime24-26",
        problem_contains: "Find the number of intersections of the graphs of",
        field: "expected_answer",
        correct: "385",
        note: "AIME 2024 I-12, as in aime24",
    },
];

/// A correction made to a record.
#[derive(Debug, Clone, PartialEq)]
pub struct Correction {
    pub erratum: &'static Erratum,
    pub was: Value,
}

/// Applies the errata of `benchmark` to a record; returns the corrections made.
pub fn apply(benchmark: &str, record: &mut Map<String, Value>) -> Vec<Correction> {
    let mut made = Vec::new();
    for e in ERRATA.iter().filter(|e| e.benchmark == benchmark) {
        let id_matches = record.get("id").and_then(Value::as_str) == Some(e.id);
        let text_matches = record
            .get("problem")
            .and_then(Value::as_str)
            .is_some_and(|p| p.contains(e.problem_contains));
        if !(id_matches && text_matches) {
            continue;
        }
        let current = record.get(e.field).cloned().unwrap_or(Value::Null);
        let current_text = match &current {
            Value::String(s) => s.trim().to_string(),
            Value::Number(n) => n.to_string(),
            other => other.to_string(),
        };
        if current_text != e.correct {
            let v = match (current.is_number(), e.correct.parse::<i64>()) {
                (true, Ok(n)) => Value::Number(n.into()),
                _ => Value::String(e.correct.to_string()),
            };
            record.insert(e.field.to_string(), v);
            made.push(Correction {
                erratum: e,
                was: current,
            });
        }
    }
    made
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rec(id: &str, problem: &str, answer: Value) -> Map<String, Value> {
        json!({"id": id, "problem": problem, "expected_answer": answer})
            .as_object()
            .unwrap()
            .clone()
    }

    #[test]
    fn corrects_a_wrong_key_and_leaves_a_right_one() {
        let p = "Define f(x)=... Find the number of intersections of the graphs of y=...";
        let mut bad = rec("aime24-26", p, json!("358"));
        let made = apply("aime24", &mut bad);
        assert_eq!(made.len(), 1);
        assert_eq!(made[0].was, json!("358"));
        assert_eq!(bad["expected_answer"], "385");
        let mut good = rec("aime24-26", p, json!("385"));
        assert!(apply("aime24", &mut good).is_empty());
    }

    #[test]
    fn an_id_reused_for_another_problem_is_not_touched() {
        let mut other = rec("aime24-26", "A different problem", json!("7"));
        assert!(apply("aime24", &mut other).is_empty());
        assert_eq!(other["expected_answer"], "7");
    }
}
