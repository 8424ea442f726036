//! How the pipeline's results look on a terminal: each generation pass, the totals, the graded
//! files, the judge.

use tally_eval::{Generated, Genselected, Judged};
use tally_generate::tally_prompt::Filled;
use tally_generate::{PassState, RunSummary};

/// Every run's lines, then the merged outputs still waiting for chunks.
pub fn print_generated(g: &Generated) {
    for s in &g.summaries {
        print_summary(s, g.num_inputs);
    }
    for w in &g.waiting {
        println!(
            "{}: waiting for other chunks (merged when every chunk is done)",
            w.display()
        );
    }
}

/// One line per pass, the first prompt of a dry run, and the totals.
pub fn print_summary(summary: &RunSummary, num_inputs: usize) {
    for p in &summary.passes {
        let name = p.output.display();
        match (summary.dry_run, p.state) {
            (_, PassState::AlreadyDone) => println!("{name}: already complete"),
            (true, _) => println!(
                "{name}: would generate {}, reuse {}",
                num_inputs - p.reused,
                p.reused
            ),
            (false, _) => {
                let counts: Vec<String> =
                    p.statuses.iter().map(|(s, n)| format!("{s} {n}")).collect();
                println!(
                    "{name}: {} generated, {} reused ({})",
                    p.generated,
                    p.reused,
                    counts.join(", ")
                );
            }
        }
    }
    match &summary.first_prompt {
        Some(Filled::Text(t)) => println!("first prompt:\n{t}"),
        Some(m) => println!(
            "first prompt:\n{}",
            serde_json::to_string_pretty(m).unwrap_or_default()
        ),
        None => {}
    }
    if !summary.dry_run && summary.generated > 0 {
        let secs = summary.elapsed.as_secs_f64().max(1e-9);
        println!(
            "{} samples in {:.1} s, {} tokens ({:.0} tokens/s), {} failed",
            summary.generated,
            secs,
            summary.tokens,
            summary.tokens as f64 / secs,
            summary.failures
        );
    }
}

/// Each judged file's passes, then what the cache answered.
pub fn print_judged(j: &Judged) {
    for (_, n, _, summary) in &j.files {
        print_summary(summary, *n);
    }
    if j.cache_hits > 0 {
        println!(
            "{} judgements answered from the cache (no call)",
            j.cache_hits
        );
    }
}

/// Each GenSelect seed's pass and what its choices were, then what the cache answered.
pub fn print_genselected(g: &Genselected) {
    for s in &g.seeds {
        print_summary(&s.summary, s.problems);
        if let Some(c) = &s.counts {
            println!(
                "{}",
                tally_cli::genselect::counts_line(&s.output, c, g.mode)
            );
        }
    }
    if g.cache_hits > 0 {
        println!("{}", tally_cli::genselect::cache_line(g.cache_hits, g.mode));
    }
}

/// 2 when some samples failed (a rerun retries them), else 0.
pub fn exit_code(failures: u64) -> std::process::ExitCode {
    if failures > 0 {
        std::process::ExitCode::from(2)
    } else {
        std::process::ExitCode::SUCCESS
    }
}
