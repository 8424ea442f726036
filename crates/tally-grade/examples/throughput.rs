//! Single-core throughput and worst pair over `shared/bench/grading-workload.jsonl`, without
//! criterion (the criterion bench lives in `benches/benches/grade.rs`).
//! `cargo run -p tally-grade --example throughput`

use std::time::Instant;
use tally_grade::{extract_answer, ExtractMode, Grader, Policy};

fn main() {
    let p = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/bench/grading-workload.jsonl");
    let Ok(text) = std::fs::read_to_string(&p) else {
        eprintln!("note: {} absent", p.display());
        return;
    };
    let pairs: Vec<(String, String)> = text
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["generation"].as_str().unwrap().into(),
                v["expected_answer"].as_str().unwrap().into(),
            )
        })
        .collect();
    for (name, policy, mode) in [
        ("tally", Policy::Tally, ExtractMode::Tally),
        ("nemo-skills", Policy::NemoSkills, ExtractMode::NemoSkills),
    ] {
        let g = Grader::builder().policy(policy).build();
        for round in 0..3 {
            let mut worst = (0.0f64, 0usize);
            let mut correct = 0;
            let t0 = Instant::now();
            for (k, (gen, gold)) in pairs.iter().enumerate() {
                let t = Instant::now();
                if g.equal_extracted(extract_answer(gen, mode).answer.as_deref(), gold)
                    .is_equal()
                {
                    correct += 1;
                }
                let ms = t.elapsed().as_secs_f64() * 1e3;
                if ms > worst.0 {
                    worst = (ms, k);
                }
            }
            let s = t0.elapsed().as_secs_f64();
            println!(
                "{name} round {round}: {} pairs, {correct} correct, {s:.3} s, {:.0} pairs/s/core, slowest {:.3} ms (line {})",
                pairs.len(),
                pairs.len() as f64 / s,
                worst.0,
                worst.1 + 1
            );
        }
    }
}
