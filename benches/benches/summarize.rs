//! Time `summarize-results` on the 256 problems × 64 seeds example (`../shared/bench/graded-64`),
//! both modes, reading the files each iteration (the whole job, as the CLI does it).

use criterion::{criterion_group, criterion_main, Criterion};
use tally_metrics::{summarize, SummarizeOptions, SummaryMode};

fn bench(c: &mut Criterion) {
    let dir = tally_benches::shared_dir().join("bench/graded-64");
    let mut group = c.benchmark_group("summarize_graded64");
    group.sample_size(30);
    for (name, mode) in [
        ("compat", SummaryMode::NemoSkills),
        ("default", SummaryMode::Tally),
    ] {
        let opts = SummarizeOptions {
            mode,
            ..Default::default()
        };
        group.bench_function(name, |b| {
            b.iter(|| summarize(&dir, &opts, &tally_core::NoopReporter).expect("summarize"))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
