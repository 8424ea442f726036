//! `tally compare`: two runs on the problems they share — differences in pass@1, majority@k and
//! pass@k with a paired bootstrap interval, an exact McNemar test on greedy, and the problems
//! that flipped.

use std::fmt::Write;

use serde::Serialize;
use tally_core::SplitMix64;
use tally_metrics::stats::pass_at_k;

use crate::error::ViewError;
use crate::html::esc;
use crate::index::{BenchIndex, RunIndex};
use crate::outcome::Outcome;
use crate::pages::Links;

/// How the intervals are drawn.
#[derive(Debug, Clone, Serialize)]
pub struct CompareOptions {
    pub resamples: usize,
    pub seed: u64,
    /// Also resample each drawn problem's seeds (separately per run) for pass@1.
    pub resample_seeds: bool,
}

impl Default for CompareOptions {
    fn default() -> Self {
        CompareOptions {
            resamples: 2000,
            seed: 0,
            resample_seeds: true,
        }
    }
}

/// A difference A − B (fractions) with its 95% paired-bootstrap interval.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Diff {
    pub a: f64,
    pub b: f64,
    pub diff: f64,
    pub low: f64,
    pub high: f64,
    /// Standard deviation of the resampled differences.
    pub sd: f64,
}

/// The exact McNemar test on the greedy samples.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct McNemar {
    pub both_correct: usize,
    /// Right in A, wrong in B.
    pub a_only: usize,
    /// Wrong in A, right in B.
    pub b_only: usize,
    pub neither: usize,
    pub p_value: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct GroupComparison {
    pub benchmark: String,
    /// `all`, or a subset's name.
    pub subset: String,
    pub problems: usize,
    pub pass_at_1: Option<Diff>,
    /// k of majority@k and pass@k: the fewest seed files of the two runs.
    pub k: usize,
    pub majority_at_k: Option<Diff>,
    pub pass_at_k: Option<Diff>,
    pub mcnemar: Option<McNemar>,
}

/// A problem whose verdict differs between the runs (greedy where both have it, else majority).
#[derive(Debug, Clone, Serialize)]
pub struct Flip {
    pub benchmark: String,
    pub problem: String,
    pub basis: &'static str,
    pub a_correct: bool,
    pub problem_a: usize,
    pub problem_b: usize,
    pub file_a: usize,
    pub file_b: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub run_a: String,
    pub run_b: String,
    pub options: CompareOptions,
    pub groups: Vec<GroupComparison>,
    pub flipped: Vec<Flip>,
    pub explanation: String,
}

/// One problem of one run: its valid seed verdicts, votes and greedy verdict.
#[derive(Debug, Clone, Default)]
struct Side {
    seeds: Vec<f64>,
    votes: Vec<(Option<String>, bool)>,
    greedy: Option<bool>,
}

fn side(b: &BenchIndex, i: usize) -> Side {
    let mut s = Side::default();
    for f in &b.files {
        let x = &f.samples[i];
        if !x.outcome.is_judged() {
            continue;
        }
        let c = x.correct.unwrap_or(x.outcome == Outcome::Correct);
        if f.greedy {
            s.greedy = Some(c);
        } else {
            s.seeds.push(c as u8 as f64);
            s.votes.push((x.vote_key.clone(), c));
        }
    }
    s
}

/// majority over the answered votes; ties split the credit evenly.
fn majority(votes: &[(Option<String>, bool)]) -> f64 {
    let mut groups: Vec<(&str, usize, bool)> = Vec::new();
    for (k, c) in votes {
        let Some(k) = k else { continue };
        match groups.iter_mut().find(|g| g.0 == k) {
            Some(g) => g.1 += 1,
            None => groups.push((k, 1, *c)),
        }
    }
    let Some(top) = groups.iter().map(|g| g.1).max() else {
        return 0.0;
    };
    let tied: Vec<_> = groups.iter().filter(|g| g.1 == top).collect();
    tied.iter().filter(|g| g.2).count() as f64 / tied.len() as f64
}

fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        0.0
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

/// The 95% percentile interval and SD of a paired bootstrap of the mean difference.
/// `pairs[i]` are problem i's values in A and B; with `resample_seeds`, each drawn problem's
/// values are themselves resampled (separately per run), otherwise their means are used.
pub fn bootstrap(pairs: &[(Vec<f64>, Vec<f64>)], opts: &CompareOptions) -> Option<Diff> {
    let n = pairs.len();
    if n == 0 || pairs.iter().any(|(a, b)| a.is_empty() || b.is_empty()) {
        return None;
    }
    let a = mean(&pairs.iter().map(|p| mean(&p.0)).collect::<Vec<_>>());
    let b = mean(&pairs.iter().map(|p| mean(&p.1)).collect::<Vec<_>>());
    let means: Vec<(f64, f64)> = pairs.iter().map(|(x, y)| (mean(x), mean(y))).collect();
    let mut rng = SplitMix64::new(opts.seed);
    let draw_mean = |v: &[f64], rng: &mut SplitMix64| {
        (0..v.len()).map(|_| v[rng.below(v.len())]).sum::<f64>() / v.len() as f64
    };
    let mut diffs = Vec::with_capacity(opts.resamples);
    for _ in 0..opts.resamples.max(1) {
        let mut total = 0.0;
        for _ in 0..n {
            let j = rng.below(n);
            total += if opts.resample_seeds {
                draw_mean(&pairs[j].0, &mut rng) - draw_mean(&pairs[j].1, &mut rng)
            } else {
                means[j].0 - means[j].1
            };
        }
        diffs.push(total / n as f64);
    }
    diffs.sort_by(f64::total_cmp);
    let m = mean(&diffs);
    let sd = (diffs.iter().map(|d| (d - m) * (d - m)).sum::<f64>() / diffs.len() as f64).sqrt();
    Some(Diff {
        a,
        b,
        diff: a - b,
        low: quantile(&diffs, 0.025),
        high: quantile(&diffs, 0.975),
        sd,
    })
}

/// Linear interpolation between order statistics (numpy's default).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// Exact two-sided McNemar p-value: `min(1, 2·P(X ≤ min(b, c)))`, X ~ Binomial(b + c, 1/2).
pub fn mcnemar_exact_p(b: usize, c: usize) -> f64 {
    let n = b + c;
    if n == 0 {
        return 1.0;
    }
    let k = b.min(c);
    let ln2 = std::f64::consts::LN_2;
    let mut ln_choose = 0.0f64; // ln C(n, 0)
    let mut tail = 0.0;
    for i in 0..=k {
        if i > 0 {
            ln_choose += ((n - i + 1) as f64).ln() - (i as f64).ln();
        }
        tail += (ln_choose - n as f64 * ln2).exp();
    }
    (2.0 * tail).min(1.0)
}

/// Problem pairs (index in A, index in B) of a benchmark both runs have: matched by problem id
/// when ids are unique in both, else by line.
fn shared_problems(a: &BenchIndex, b: &BenchIndex) -> Vec<(usize, usize)> {
    let unique = |x: &BenchIndex| {
        let mut keys: Vec<&str> = x.problems.iter().map(|p| p.key.as_str()).collect();
        keys.sort_unstable();
        keys.windows(2).all(|w| w[0] != w[1])
    };
    if unique(a) && unique(b) {
        let pos: std::collections::HashMap<&str, usize> = b
            .problems
            .iter()
            .enumerate()
            .map(|(i, p)| (p.key.as_str(), i))
            .collect();
        a.problems
            .iter()
            .enumerate()
            .filter_map(|(i, p)| pos.get(p.key.as_str()).map(|&j| (i, j)))
            .collect()
    } else {
        (0..a.problems.len().min(b.problems.len()))
            .map(|i| (i, i))
            .collect()
    }
}

/// Compares two runs on every benchmark they share, overall and per subset.
pub fn compare(a: &RunIndex, b: &RunIndex, opts: &CompareOptions) -> Result<Comparison, ViewError> {
    let mut groups = Vec::new();
    let mut flipped = Vec::new();
    for ba in &a.benchmarks {
        let Some(bb) = b.benchmark(&ba.name) else {
            continue;
        };
        let shared = shared_problems(ba, bb);
        if shared.is_empty() {
            continue;
        }
        let k = ba.seed_files().count().min(bb.seed_files().count());
        let sides: Vec<(Side, Side)> = shared
            .iter()
            .map(|&(i, j)| (side(ba, i), side(bb, j)))
            .collect();
        let mut subsets = vec!["all".to_string()];
        subsets.extend(ba.subsets().into_iter().filter(|s| s != "all"));
        if subsets.len() == 2 {
            subsets.truncate(1); // one subset: it is "all"
        }
        for subset in subsets {
            let keep: Vec<usize> = (0..shared.len())
                .filter(|&x| {
                    subset == "all" || ba.problems[shared[x].0].subset.as_deref() == Some(&subset)
                })
                .collect();
            groups.push(group(&ba.name, &subset, &keep, &sides, k, opts));
        }
        for (x, &(i, j)) in shared.iter().enumerate() {
            let (sa, sb) = &sides[x];
            let (basis, ca, cb) = match (sa.greedy, sb.greedy) {
                (Some(ga), Some(gb)) => ("greedy", Some(ga), Some(gb)),
                _ => {
                    let side_of = |m: f64| {
                        if m > 0.5 {
                            Some(true)
                        } else if m < 0.5 {
                            Some(false)
                        } else {
                            None
                        }
                    };
                    let has = !sa.votes.is_empty() && !sb.votes.is_empty();
                    (
                        "majority",
                        has.then(|| side_of(majority(&sa.votes))).flatten(),
                        has.then(|| side_of(majority(&sb.votes))).flatten(),
                    )
                }
            };
            if let (Some(ca), Some(cb)) = (ca, cb) {
                if ca != cb {
                    flipped.push(Flip {
                        benchmark: ba.name.clone(),
                        problem: ba.problems[i].key.clone(),
                        basis,
                        a_correct: ca,
                        problem_a: i,
                        problem_b: j,
                        file_a: representative(ba, i, ca, basis),
                        file_b: representative(bb, j, cb, basis),
                    });
                }
            }
        }
    }
    if groups.is_empty() {
        return Err(ViewError::NothingShared(format!(
            "{} vs {}",
            a.root.display(),
            b.root.display()
        )));
    }
    Ok(Comparison {
        run_a: a.root.display().to_string(),
        run_b: b.root.display().to_string(),
        explanation: explanation(opts),
        options: opts.clone(),
        groups,
        flipped,
    })
}

/// The file to link for a flipped problem: the greedy sample, or a seed sample that shows the
/// run's side of the flip.
fn representative(b: &BenchIndex, i: usize, correct: bool, basis: &str) -> usize {
    let want = if correct {
        Outcome::Correct
    } else {
        Outcome::Wrong
    };
    b.files
        .iter()
        .position(|f| {
            if basis == "greedy" {
                f.greedy
            } else {
                !f.greedy && f.samples[i].outcome == want
            }
        })
        .or_else(|| b.files.iter().position(|f| !f.greedy))
        .unwrap_or(0)
}

fn group(
    bench: &str,
    subset: &str,
    keep: &[usize],
    sides: &[(Side, Side)],
    k: usize,
    opts: &CompareOptions,
) -> GroupComparison {
    let usable: Vec<&(Side, Side)> = keep
        .iter()
        .map(|&x| &sides[x])
        .filter(|(a, b)| !a.seeds.is_empty() && !b.seeds.is_empty())
        .collect();
    let pass1: Vec<(Vec<f64>, Vec<f64>)> = usable
        .iter()
        .map(|(a, b)| (a.seeds.clone(), b.seeds.clone()))
        .collect();
    let problems_only = CompareOptions {
        resample_seeds: false,
        ..opts.clone()
    };
    let per_problem = |f: &dyn Fn(&Side) -> f64| -> Vec<(Vec<f64>, Vec<f64>)> {
        usable
            .iter()
            .map(|(a, b)| (vec![f(a)], vec![f(b)]))
            .collect()
    };
    let pk = |s: &Side| {
        let c = s.seeds.iter().filter(|&&x| x > 0.5).count() as u64;
        pass_at_k(s.seeds.len() as u64, c, k as u64)
    };
    let (mut both, mut a_only, mut b_only, mut neither, mut any) = (0, 0, 0, 0, false);
    for &x in keep {
        if let (Some(ga), Some(gb)) = (sides[x].0.greedy, sides[x].1.greedy) {
            any = true;
            match (ga, gb) {
                (true, true) => both += 1,
                (true, false) => a_only += 1,
                (false, true) => b_only += 1,
                (false, false) => neither += 1,
            }
        }
    }
    GroupComparison {
        benchmark: bench.to_string(),
        subset: subset.to_string(),
        problems: keep.len(),
        pass_at_1: bootstrap(&pass1, opts),
        k,
        majority_at_k: (k > 0)
            .then(|| bootstrap(&per_problem(&|s| majority(&s.votes)), &problems_only))
            .flatten(),
        pass_at_k: (k > 0)
            .then(|| bootstrap(&per_problem(&pk), &problems_only))
            .flatten(),
        mcnemar: any.then(|| McNemar {
            both_correct: both,
            a_only,
            b_only,
            neither,
            p_value: mcnemar_exact_p(a_only, b_only),
        }),
    }
}

fn explanation(o: &CompareOptions) -> String {
    format!(
        "Δ = A − B in percentage points, on the problems both runs share (failed samples left out). \
         95% CI: paired bootstrap — {} resamples (RNG seed {}) draw the shared problems with replacement, the same draws for both runs{}; \
         the interval holds the middle 95% of the resampled differences: an interval that excludes 0 says the difference is larger than \
         the problem-to-problem{} noise of this benchmark, not that it holds for other problems or models. majority@k and pass@k resample problems only. \
         McNemar: exact two-sided binomial test on the greedy problems the runs disagree on (A right/B wrong vs A wrong/B right).",
        o.resamples,
        o.seed,
        if o.resample_seeds { ", and each drawn problem's seeds with replacement, separately per run" } else { "" },
        if o.resample_seeds { " and seed-to-seed" } else { "" },
    )
}

fn pp(x: f64) -> String {
    format!("{:+.2}", x * 100.0)
}

fn diff_text(d: &Option<Diff>) -> String {
    match d {
        Some(d) => format!(
            "{:.2} vs {:.2}: Δ {} [{}, {}]",
            d.a * 100.0,
            d.b * 100.0,
            pp(d.diff),
            pp(d.low),
            pp(d.high)
        ),
        None => "n/a".into(),
    }
}

/// The comparison as plain text.
pub fn text(c: &Comparison) -> String {
    let mut out = format!("A: {}\nB: {}\n", c.run_a, c.run_b);
    for g in &c.groups {
        let _ = writeln!(
            out,
            "\n{} [{}]: {} shared problems",
            g.benchmark, g.subset, g.problems
        );
        let _ = writeln!(out, "  pass@1       {}", diff_text(&g.pass_at_1));
        let _ = writeln!(out, "  majority@{:<3} {}", g.k, diff_text(&g.majority_at_k));
        let _ = writeln!(out, "  pass@{:<7} {}", g.k, diff_text(&g.pass_at_k));
        if let Some(m) = &g.mcnemar {
            let _ = writeln!(
                out,
                "  greedy: both right {}, A only {}, B only {}, neither {}; McNemar exact p = {:.4}",
                m.both_correct, m.a_only, m.b_only, m.neither, m.p_value
            );
        }
    }
    let _ = writeln!(out, "\nflipped problems ({}):", c.flipped.len());
    for f in &c.flipped {
        let _ = writeln!(
            out,
            "  {} {} ({}): {}",
            f.benchmark,
            f.problem,
            f.basis,
            if f.a_correct {
                "A right, B wrong"
            } else {
                "A wrong, B right"
            }
        );
    }
    let _ = writeln!(out, "\n{}", c.explanation);
    out
}

/// The comparison as HTML (runs 0 and 1 of the viewer).
pub fn html(c: &Comparison, a: &RunIndex, b: &RunIndex) -> String {
    let _ = (a, b);
    let mut out = format!(
        "<h2>A: {} vs B: {}</h2><p class=\"note\">{}</p>",
        esc(&c.run_a),
        esc(&c.run_b),
        esc(&c.explanation)
    );
    out.push_str("<table class=\"summary compare\"><tr><th>benchmark</th><th>subset</th><th>problems</th><th>pass@1</th><th>majority@k</th><th>pass@k</th><th>McNemar (greedy)</th></tr>");
    for g in &c.groups {
        let m = g.mcnemar.map_or("–".to_string(), |m| {
            format!(
                "A only {}, B only {}, p = {:.4}",
                m.a_only, m.b_only, m.p_value
            )
        });
        let _ = write!(
            out,
            "<tr data-subset=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>k={} {}</td><td>k={} {}</td><td>{}</td></tr>",
            esc(&g.subset), esc(&g.benchmark), esc(&g.subset), g.problems,
            esc(&diff_text(&g.pass_at_1)), g.k, esc(&diff_text(&g.majority_at_k)), g.k, esc(&diff_text(&g.pass_at_k)), esc(&m)
        );
    }
    out.push_str("</table>");
    let _ = write!(
        out,
        "<h3>Flipped problems ({})</h3><ul class=\"flipped\">",
        c.flipped.len()
    );
    for f in &c.flipped {
        let _ = write!(
            out,
            "<li class=\"flip\" data-problem=\"{}\">{} {} ({}): {} — <a href=\"{}\">A's sample</a> · <a href=\"{}\">B's sample</a></li>",
            esc(&f.problem), esc(&f.benchmark), esc(&f.problem), f.basis,
            if f.a_correct { "A right, B wrong" } else { "A wrong, B right" },
            Links::Server { run: 0 }.sample(&f.benchmark, f.problem_a, f.file_a),
            Links::Server { run: 1 }.sample(&f.benchmark, f.problem_b, f.file_b),
        );
    }
    out.push_str("</ul>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mcnemar_exact_matches_hand_computation() {
        // b = 1, c = 5: 2 · (C(6,0) + C(6,1)) / 2^6 = 2 · 7/64.
        assert!((mcnemar_exact_p(1, 5) - 14.0 / 64.0).abs() < 1e-15);
        assert!((mcnemar_exact_p(5, 1) - 14.0 / 64.0).abs() < 1e-15);
        // b = 0, c = 3: 2 · 1/8.
        assert!((mcnemar_exact_p(0, 3) - 0.25).abs() < 1e-15);
        // Balanced: capped at 1. No discordant pair: 1.
        assert_eq!(mcnemar_exact_p(4, 4), 1.0);
        assert_eq!(mcnemar_exact_p(0, 0), 1.0);
        // Large n stays finite: b = 0, c = 2000 is 2 · 2^-2000 → 0, not NaN.
        assert_eq!(mcnemar_exact_p(0, 2000), 0.0);
    }

    /// Problem values in [0, 1] with a fixed pattern (no RNG shared with the bootstrap).
    fn data(n: usize, m: usize) -> Vec<(Vec<f64>, Vec<f64>)> {
        (0..n)
            .map(|i| {
                let a = (0..m)
                    .map(|s| ((i * 7 + s * 3) % 5 < 2) as u8 as f64)
                    .collect();
                let b = (0..m)
                    .map(|s| ((i * 3 + s * 5) % 7 < 4) as u8 as f64)
                    .collect();
                (a, b)
            })
            .collect()
    }

    fn plugin_var(v: &[f64]) -> f64 {
        let m = mean(v);
        v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / v.len() as f64
    }

    /// Resampling problems only: Var* = S²/n with S² the plug-in variance of the per-problem
    /// differences. Resampling seeds too adds (1/n²) Σ (σ²_A/m_A + σ²_B/m_B) per problem.
    #[test]
    fn bootstrap_variance_matches_the_closed_form() {
        let pairs = data(40, 8);
        let n = pairs.len() as f64;
        let d: Vec<f64> = pairs.iter().map(|(a, b)| mean(a) - mean(b)).collect();
        let between = plugin_var(&d) / n;
        let within: f64 = pairs
            .iter()
            .map(|(a, b)| plugin_var(a) / a.len() as f64 + plugin_var(b) / b.len() as f64)
            .sum::<f64>()
            / (n * n);
        for (resample_seeds, want) in [(false, between), (true, between + within)] {
            let opts = CompareOptions {
                resamples: 40_000,
                seed: 3,
                resample_seeds,
            };
            let got = bootstrap(&pairs, &opts).unwrap();
            let var = got.sd * got.sd;
            // 40,000 resamples: the variance estimate's relative SE is about sqrt(2/40000) ≈ 0.7%.
            assert!(
                (var / want - 1.0).abs() < 0.03,
                "seeds {resample_seeds}: {var} vs {want}"
            );
            assert!((got.diff - mean(&d)).abs() < 1e-12);
            assert!(got.low < got.diff && got.diff < got.high);
        }
        // Reproducible from its seed.
        let o = CompareOptions::default();
        assert_eq!(bootstrap(&pairs, &o), bootstrap(&pairs, &o));
    }

    #[test]
    fn majority_splits_ties_and_ignores_unanswered() {
        let v = |k: Option<&str>, c| (k.map(str::to_string), c);
        assert_eq!(majority(&[v(Some("1"), true), v(Some("2"), false)]), 0.5);
        assert_eq!(
            majority(&[v(None, false), v(None, false), v(Some("1"), true)]),
            1.0
        );
        assert_eq!(majority(&[v(None, false)]), 0.0);
    }
}
