//! Extraction + equivalence over `shared/bench/grading-workload.jsonl` (16,384 pairs).
//!
//! `CARGO_TARGET_DIR=/work/target-grade cargo bench -p tally-benches --bench grade --profile dev`
//! Prints pairs/s on one core and the slowest single pair before the criterion run.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::path::PathBuf;
use std::time::Instant;
use tally_grade::{extract_answer, ExtractMode, Grader, Policy};

fn workload() -> Option<Vec<(String, String)>> {
    let p =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/bench/grading-workload.jsonl");
    let text = std::fs::read_to_string(&p).ok()?;
    Some(
        text.lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                (
                    v["generation"].as_str().unwrap().to_string(),
                    v["expected_answer"].as_str().unwrap().to_string(),
                )
            })
            .collect(),
    )
}

fn grade_all(g: &Grader, pairs: &[(String, String)], mode: ExtractMode) -> usize {
    pairs
        .iter()
        .filter(|(gen, gold)| {
            g.equal_extracted(extract_answer(gen, mode).answer.as_deref(), gold)
                .is_equal()
        })
        .count()
}

fn bench(c: &mut Criterion) {
    let Some(pairs) = workload() else {
        eprintln!("note: shared/bench/grading-workload.jsonl absent; grade bench skipped");
        return;
    };
    for (name, policy, mode) in [
        ("tally", Policy::Tally, ExtractMode::Tally),
        ("nemo-skills", Policy::NemoSkills, ExtractMode::NemoSkills),
    ] {
        let g = Grader::builder().policy(policy).build();
        // Per-pair worst case, measured once outside criterion.
        let mut worst = (0.0f64, 0usize);
        let t0 = Instant::now();
        for (k, (gen, gold)) in pairs.iter().enumerate() {
            let t = Instant::now();
            std::hint::black_box(
                g.equal_extracted(extract_answer(gen, mode).answer.as_deref(), gold),
            );
            let ms = t.elapsed().as_secs_f64() * 1e3;
            if ms > worst.0 {
                worst = (ms, k);
            }
        }
        let secs = t0.elapsed().as_secs_f64();
        println!(
            "grade/{name}: {} pairs in {:.3} s = {:.0} pairs/s on one core; slowest pair {:.3} ms (line {})",
            pairs.len(),
            secs,
            pairs.len() as f64 / secs,
            worst.0,
            worst.1 + 1
        );
        let mut group = c.benchmark_group("grade");
        group.throughput(Throughput::Elements(pairs.len() as u64));
        group.sample_size(10);
        group.bench_function(name, |b| b.iter(|| grade_all(&g, &pairs, mode)));
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
