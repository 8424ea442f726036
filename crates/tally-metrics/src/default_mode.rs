//! Tally's own summary: the numbers we stand behind (spec §10 lists the seed's later fixes; this
//! goes further).
//!
//! - `pass@k` is the unbiased estimator over each problem's `n` samples, not "any of the first k
//!   files"; `pass@1[avg-of-N]` is the mean correctness over all samples.
//! - `majority@k` votes over answers grouped by their canonical form when `tally grade` wrote one
//!   (`1/2`, `0.5` and `\frac12` vote together), else by exact text. Ties split the credit evenly
//!   between the tied answers, so the file order never matters. For k < N the vote is averaged over
//!   every k-subset when there are at most 256 of them, else over 32 random k-subsets drawn with a
//!   fixed generator from the samples in a canonical order (the same numbers on every run and for
//!   any order of the files).
//! - `no_answer` is real: the share of samples (or votes) without an answer.
//! - Samples that failed (request error, timeout, …) are never counted as wrong: they are left out
//!   of the estimates and counted per status; a problem estimated from fewer samples is reported.
//! - Every rate carries a 95% confidence interval over problems; `pass@1` also across seeds.

use std::collections::HashMap;

use indexmap::IndexMap;
use rayon::prelude::*;
use tally_core::judgement::{parse_verdict, ParseMode, Verdict};
use tally_core::Status;

use crate::error::MetricsError;
use crate::frame;
use crate::load::{self, Field, Row, SampleFile};
use crate::results::{MetricValue, ModeMetrics, Table, Tables};
use crate::run_stats::{self, RunStatistics};
use crate::stats::{self, mean_ci95, Interval, SplitMix64};

/// Draws per (problem, k) for the Monte-Carlo majority@k with 1 < k < N.
const MAJORITY_DRAWS: usize = 32;
/// Up to this many k-subsets, majority@k is averaged over all of them (exact).
const EXACT_SUBSETS: usize = 256;

/// One estimated rate (as a fraction in `[0, 1]`) with its intervals.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// 95% interval over problems.
    pub over_problems: Interval,
    /// 95% interval of the per-seed averages (`pass@1[avg-of-N]` score columns, N > 1).
    pub across_seeds: Option<Interval>,
    /// NeMo-Skills' statistics across runs (`pass@1[avg-of-N]` score columns, N > 1).
    pub across_runs: Option<RunStatistics>,
}

impl Estimate {
    pub fn value(&self) -> f64 {
        self.over_problems.mean
    }
}

/// All modes and metrics of one table, every k included.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TableDetail {
    pub num_problems: usize,
    pub num_seeds: usize,
    /// mode → metric → estimate, modes in print order (`greedy`, `pass@1[avg-of-N]`,
    /// `majority@N`, `pass@N`, then smaller k).
    pub modes: IndexMap<String, IndexMap<String, Estimate>>,
    /// Problems for which some samples failed, so they were estimated from fewer.
    pub problems_with_failed_samples: usize,
    /// Samples of this table's problems, over every file (greedy and seeds).
    pub num_samples: u64,
    /// Of those, the ones left out of every estimate, per failure status (request_error, …).
    pub excluded: IndexMap<String, u64>,
    /// NeMo-Skills' `reasoning_tokens` and `answer_tokens` statistics across runs of the
    /// `pass@1[avg-of-N]` row, when samples carry token counts.
    pub token_statistics: IndexMap<String, RunStatistics>,
    /// Token counts and generation time of the greedy row.
    pub greedy_usage: ModeUsage,
    /// Token counts and generation time of the sampled rows.
    pub sampled_usage: ModeUsage,
}

/// NeMo-Skills' per-row `avg_tokens` (mean generated tokens per sample, averaged per problem,
/// truncated to an integer) and `gen_seconds` (last end − first start), where records carry them.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ModeUsage {
    pub avg_tokens: Option<u64>,
    pub gen_seconds: Option<u64>,
}

impl TableDetail {
    pub fn num_excluded(&self) -> u64 {
        self.excluded.values().sum()
    }
}

/// The default summary of one benchmark.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DefaultBenchmark {
    /// Values only (percent), k = N rows to print; the shape of NeMo-Skills' tables.
    pub tables: Tables,
    pub details: IndexMap<String, TableDetail>,
    /// How every sample ended, over all files of the benchmark.
    pub status_counts: IndexMap<String, u64>,
    /// Samples the grader could not decide (`grade_status: undecided`): counted as not correct
    /// in the estimates, and reported so that a judge can settle them
    /// (`tally judge --judge-only-when=undecided`).
    pub undecided: u64,
    pub num_samples: u64,
    /// Warnings worth showing (e.g. unmerged chunk files).
    pub notes: Vec<String>,
}

/// The valid (non-failed) samples of one problem, as numbers.
#[derive(Debug, Clone, Default)]
struct ProblemSamples {
    correct: Vec<f64>,
    judge: Vec<f64>,
    both: Vec<f64>,
    any: Vec<f64>,
    answered: Vec<bool>,
    /// Answer group per sample (`u32::MAX` = no answer).
    group: Vec<u32>,
    unparseable: Vec<f64>,
    failed: usize,
    /// Per file, in file order: the score columns (symbolic, judge, both, any) of a valid
    /// sample, `None` for a failed one — the runs of the statistics across runs.
    by_file: Vec<Option<[f64; 4]>>,
    /// Per file: (reasoning, answer) tokens of a valid sample that carries counts.
    tokens_by_file: Vec<Option<(f64, f64)>>,
    /// `num_generated_tokens` of the valid samples that carry it.
    generated_tokens: Vec<f64>,
    /// Earliest start and latest end of the samples that carry generation times.
    times: Option<(f64, f64)>,
}

/// The four score columns, in [`ProblemSamples::by_file`] order.
const SCORE_COLUMNS: [&str; 4] = [
    "symbolic_correct",
    "judge_correct",
    "both_correct",
    "any_correct",
];

#[derive(Debug, Clone, Copy, Default)]
struct Columns {
    sympy: bool,
    judge: bool,
    /// Some sample carries token counts.
    tokens: bool,
}

pub fn summarize_benchmark(
    name: &str,
    greedy: Option<&SampleFile>,
    seeds: &[SampleFile],
    max_samples: Option<usize>,
) -> Result<DefaultBenchmark, MetricsError> {
    let mut out = DefaultBenchmark::default();
    if seeds
        .iter()
        .any(|f| f.path.to_string_lossy().contains("_chunk_"))
    {
        out.notes.push(format!(
            "{name}: chunk files (output-rs*_chunk_*.jsonl) are read as separate seeds; merge them first"
        ));
    }
    let mut all_files: Vec<&SampleFile> = greedy.into_iter().collect();
    all_files.extend(seeds.iter());
    let status = frame::status_counts(&all_files, max_samples)?;
    out.num_samples = status.values().sum();
    out.status_counts = status;
    out.undecided = all_files
        .iter()
        .map(|f| {
            let n = max_samples.map_or(f.rows.len(), |m| m.min(f.rows.len()));
            f.rows[..n].iter().filter(|r| r.undecided).count() as u64
        })
        .sum();

    let greedy_problems = match greedy {
        Some(g) => Some(problems_of(std::slice::from_ref(g), max_samples)?),
        None => None,
    };
    let seed_problems = if seeds.is_empty() {
        None
    } else {
        Some(problems_of(seeds, max_samples)?)
    };
    let reference = seeds
        .first()
        .or(greedy)
        .expect("a benchmark has at least one file");
    let n_problems = greedy_problems
        .as_ref()
        .or(seed_problems.as_ref())
        .map_or(0, |(p, _)| p.len());
    // Tables: `all`, then each subset of the first file in order of first appearance.
    let mut subsets: IndexMap<String, Vec<usize>> = IndexMap::new();
    for (i, row) in reference.rows.iter().take(n_problems).enumerate() {
        if let Some(s) = &row.subset_for_metrics {
            if s != "all" {
                subsets.entry(s.clone()).or_default().push(i);
            }
        }
    }
    // (table name, key of the per-seed accuracies, problems)
    let mut groups: Vec<(String, String, Vec<usize>)> = vec![(
        if subsets.is_empty() {
            name.to_string()
        } else {
            format!("{name}-all")
        },
        String::new(),
        (0..n_problems).collect(),
    )];
    for (s, idx) in subsets {
        groups.push((format!("{name}-{s}"), s, idx));
    }
    for (table_name, _, problems) in groups {
        let (num_samples, excluded) = excluded_samples(&all_files, &problems);
        let mut detail = TableDetail {
            num_problems: problems.len(),
            num_seeds: seeds.len(),
            num_samples,
            excluded,
            ..TableDetail::default()
        };
        if let Some((gp, cols)) = &greedy_problems {
            let sel: Vec<&ProblemSamples> = problems.iter().map(|&i| &gp[i]).collect();
            detail
                .modes
                .insert("greedy".into(), greedy_metrics(&sel, *cols));
            detail.greedy_usage = usage_of(&sel);
        }
        if let Some((sp, cols)) = &seed_problems {
            let sel: Vec<&ProblemSamples> = problems.iter().map(|&i| &sp[i]).collect();
            detail.problems_with_failed_samples = sel.iter().filter(|p| p.failed > 0).count();
            sampled_metrics(&sel, *cols, seeds.len(), &mut detail.modes);
            detail.sampled_usage = usage_of(&sel);
            if cols.tokens {
                detail.token_statistics = token_statistics(&sel);
            }
        }
        // The printed table: greedy, then the k = N rows.
        let n = seeds.len();
        let printed: Vec<String> = detail
            .modes
            .keys()
            .filter(|m| {
                *m == "greedy"
                    || **m == format!("pass@1[avg-of-{n}]")
                    || **m == format!("majority@{n}")
                    || **m == format!("pass@{n}")
            })
            .cloned()
            .collect();
        let mut table = Table::new();
        for mode in detail.modes.keys() {
            let metrics = &detail.modes[mode];
            let mut m = ModeMetrics::new();
            m.insert(
                "num_entries".into(),
                MetricValue::Int(detail.num_problems as u64),
            );
            let usage = if mode == "greedy" {
                detail.greedy_usage
            } else {
                detail.sampled_usage
            };
            if let Some(t) = usage.avg_tokens {
                m.insert("avg_tokens".into(), MetricValue::Int(t));
            }
            if let Some(t) = usage.gen_seconds {
                m.insert("gen_seconds".into(), MetricValue::Int(t));
            }
            for (k, e) in metrics {
                let v = if e.over_problems.is_empty() {
                    // No valid sample behind it: no number.
                    MetricValue::NoData
                } else {
                    MetricValue::Float(e.value() * 100.0)
                };
                m.insert(k.clone(), v);
            }
            table.insert(mode.clone(), m);
        }
        // Printed rows first, in that order; the rest (smaller k) after, for metrics.json.
        let mut ordered = Table::new();
        for mode in &printed {
            ordered.insert(mode.clone(), table[mode].clone());
        }
        for (mode, m) in table {
            ordered.entry(mode).or_insert(m);
        }
        out.tables
            .rows_to_print
            .insert(table_name.clone(), printed.len());
        out.tables.tables.insert(table_name.clone(), ordered);
        out.details.insert(table_name, detail);
    }
    Ok(out)
}

/// Adds the `genselect@k` row (k: the most candidates a choice was made among) to every table
/// of `out`: the mean correctness of the chosen solutions, over problems and GenSelect seeds,
/// with the same intervals and statistics across runs as `pass@1[avg-of-N]`. Printed after the
/// benchmark's printed rows. The files' problems must be the benchmark's, line for line.
pub fn add_genselect_rows(
    out: &mut DefaultBenchmark,
    files: &[SampleFile],
    max_samples: Option<usize>,
) -> Result<(), MetricsError> {
    add_parallel_rows(out, "genselect", files, max_samples)
}

/// [`add_genselect_rows`] for either parallel-thinking step: `<mode>@k` (`genselect@k`, or
/// `gensynthesis@k` for GenSynthesis' new solutions, k the most candidates one was written from).
pub fn add_parallel_rows(
    out: &mut DefaultBenchmark,
    mode_name: &str,
    files: &[SampleFile],
    max_samples: Option<usize>,
) -> Result<(), MetricsError> {
    let (problems, cols) = problems_of(files, max_samples)?;
    let k = files
        .iter()
        .flat_map(|f| f.rows.iter().filter_map(|r| r.num_solutions))
        .max()
        .unwrap_or(0);
    let mode = format!("{mode_name}@{k}");
    let subset_of: Vec<Option<&String>> = files[0]
        .rows
        .iter()
        .take(problems.len())
        .map(|r| r.subset_for_metrics.as_ref())
        .collect();
    let has_subsets = out.details.len() > 1;
    let table_names: Vec<String> = out.details.keys().cloned().collect();
    // With subsets the first table is `<bench>-all`, the others `<bench>-<subset>`.
    let base = table_names
        .first()
        .and_then(|t| t.strip_suffix("-all"))
        .unwrap_or_default()
        .to_string();
    for table in table_names {
        let detail = out.details.get_mut(&table).expect("listed above");
        if detail.num_problems != problems.len() && !has_subsets {
            return Err(MetricsError::LineCountMismatch {
                path: files[0].path.clone(),
                found: problems.len(),
                reference: files[0].path.clone(),
                expected: detail.num_problems,
            });
        }
        let wanted: Vec<usize> = (0..problems.len())
            .filter(|&i| {
                !has_subsets
                    || table == format!("{base}-all")
                    || subset_of[i].is_some_and(|s| table == format!("{base}-{s}"))
            })
            .collect();
        let sel: Vec<&ProblemSamples> = wanted.iter().map(|&i| &problems[i]).collect();
        let mut modes = IndexMap::new();
        sampled_metrics(&sel, cols, files.len(), &mut modes);
        let Some(avg) = modes.shift_remove(&format!("pass@1[avg-of-{}]", files.len())) else {
            continue;
        };
        let mut m = ModeMetrics::new();
        m.insert("num_entries".into(), MetricValue::Int(sel.len() as u64));
        for (metric, e) in &avg {
            let v = if e.over_problems.is_empty() {
                MetricValue::NoData
            } else {
                MetricValue::Float(e.value() * 100.0)
            };
            m.insert(metric.clone(), v);
        }
        detail.modes.insert(mode.clone(), avg);
        let printed = out.tables.rows_to_print.get(&table).copied().unwrap_or(0);
        if let Some(t) = out.tables.tables.get_mut(&table) {
            t.shift_insert(printed.min(t.len()), mode.clone(), m);
            out.tables.rows_to_print.insert(table.clone(), printed + 1);
        }
    }
    Ok(())
}

/// The samples of `problems` over `files`, and those left out of the estimates per failure
/// status (in [`Status::ALL`] order).
fn excluded_samples(files: &[&SampleFile], problems: &[usize]) -> (u64, IndexMap<String, u64>) {
    let mut total = 0u64;
    let mut counts: HashMap<Status, u64> = HashMap::new();
    for f in files {
        for r in problems.iter().filter_map(|&i| f.rows.get(i)) {
            total += 1;
            let st = r.effective_status();
            if st.is_failure() {
                *counts.entry(st).or_insert(0) += 1;
            }
        }
    }
    let excluded = Status::ALL
        .into_iter()
        .filter_map(|st| counts.get(&st).map(|n| (st.as_str().to_string(), *n)))
        .collect();
    (total, excluded)
}

/// Per problem, the valid samples of all files (aligned by line), with the columns present.
fn problems_of(
    files: &[SampleFile],
    max_samples: Option<usize>,
) -> Result<(Vec<ProblemSamples>, Columns), MetricsError> {
    let n = load::check_alignment(files, max_samples)?;
    fn rows_of(f: &SampleFile, n: usize) -> impl Iterator<Item = &Row> {
        f.rows.iter().take(n)
    }
    let cols = Columns {
        sympy: files
            .iter()
            .any(|f| rows_of(f, n).any(|r| r.is_correct.is_present())),
        judge: files
            .iter()
            .any(|f| rows_of(f, n).any(|r| r.judgement.is_present())),
        tokens: files.iter().any(|f| {
            rows_of(f, n).any(|r| {
                let u = &r.usage;
                u.generated_tokens.is_some()
                    || u.reasoning_tokens.is_some()
                    || u.answer_tokens.is_some()
            })
        }),
    };
    // Every valid sample must carry the columns the benchmark has: a missing verdict is an
    // ungraded sample, and counting it as wrong would be a wrong number.
    for f in files {
        for r in rows_of(f, n) {
            if r.effective_status().is_failure() {
                continue;
            }
            let missing = if cols.sympy && !matches!(r.is_correct, Field::Set(_)) {
                Some("is_correct")
            } else if cols.judge && !matches!(r.judgement, Field::Set(_)) {
                Some("judgement")
            } else {
                None
            };
            if let Some(field) = missing {
                return Err(MetricsError::Record {
                    path: f.path.clone(),
                    line: r.line,
                    message: format!("`{field}` is missing or null while other samples have it (ungraded sample)"),
                });
            }
        }
    }
    let problems = (0..n)
        .into_par_iter()
        .map(|i| {
            // One tuple per valid sample, sorted into a canonical order so that nothing
            // downstream (group ids, the Monte-Carlo draws) depends on the order of the files.
            let mut samples: Vec<(Option<String>, [u8; 5])> = Vec::with_capacity(files.len());
            let mut failed = 0;
            let mut by_file = Vec::with_capacity(files.len());
            let mut tokens_by_file = Vec::with_capacity(files.len());
            let mut generated_tokens = Vec::new();
            let mut times: Option<(f64, f64)> = None;
            for f in files {
                let r: &Row = &f.rows[i];
                let u = &r.usage;
                if let (Some(start), Some(end)) = (u.start_time, u.end_time) {
                    let (lo, hi) = times.unwrap_or((start, end));
                    times = Some((lo.min(start), hi.max(end)));
                }
                if r.effective_status().is_failure() {
                    failed += 1;
                    by_file.push(None);
                    tokens_by_file.push(None);
                    continue;
                }
                tokens_by_file.push(run_stats::reasoning_and_answer_tokens(
                    u.generated_tokens,
                    u.reasoning_tokens,
                    u.answer_tokens,
                ));
                generated_tokens.extend(u.generated_tokens);
                let s = r.is_correct.get().is_some_and(|v| *v > 0.5);
                let verdict = r
                    .judgement
                    .get()
                    .map(|j| parse_verdict(j, ParseMode::Default));
                let j = verdict == Some(Verdict::Yes);
                let unparseable = verdict == Some(Verdict::Unparseable);
                by_file.push(Some([s, j, s && j, s || j].map(|b| b as u8 as f64)));
                let key = r.answer().map(|a| match &r.answer_canonical {
                    Some(c) => c.clone(),
                    None => a.text().trim().to_string(),
                });
                samples.push((
                    key,
                    [
                        s as u8,
                        j as u8,
                        (s && j) as u8,
                        (s || j) as u8,
                        unparseable as u8,
                    ],
                ));
            }
            samples.sort();
            let mut p = ProblemSamples {
                failed,
                by_file,
                tokens_by_file,
                generated_tokens,
                times,
                ..ProblemSamples::default()
            };
            let mut group_ids: HashMap<&str, u32> = HashMap::new();
            for (key, v) in &samples {
                p.correct.push(v[0] as f64);
                p.judge.push(v[1] as f64);
                p.both.push(v[2] as f64);
                p.any.push(v[3] as f64);
                p.unparseable.push(v[4] as f64);
                p.answered.push(key.is_some());
                let g = match key {
                    Some(k) => {
                        let next = group_ids.len() as u32;
                        *group_ids.entry(k.as_str()).or_insert(next)
                    }
                    None => u32::MAX,
                };
                p.group.push(g);
            }
            p
        })
        .collect();
    Ok((problems, cols))
}

/// The metric columns of a table, in NeMo-Skills' order plus Tally's extra.
fn metric_names(cols: Columns) -> Vec<&'static str> {
    let mut names = Vec::new();
    if cols.sympy {
        names.push("symbolic_correct");
    }
    if cols.judge {
        names.push("judge_correct");
    }
    if cols.sympy && cols.judge {
        names.push("both_correct");
        names.push("any_correct");
    }
    names.push("no_answer");
    if cols.judge {
        names.push("judge_unparseable");
    }
    names
}

fn values_of<'a>(p: &'a ProblemSamples, metric: &str) -> &'a [f64] {
    match metric {
        "symbolic_correct" => &p.correct,
        "judge_correct" => &p.judge,
        "both_correct" => &p.both,
        "any_correct" => &p.any,
        "judge_unparseable" => &p.unparseable,
        _ => unreachable!("no per-sample values for {metric}"),
    }
}

fn greedy_metrics(problems: &[&ProblemSamples], cols: Columns) -> IndexMap<String, Estimate> {
    let mut out = IndexMap::new();
    for metric in metric_names(cols) {
        let per_problem: Vec<f64> = problems
            .iter()
            .filter(|p| !p.answered.is_empty())
            .map(|p| match metric {
                "no_answer" => (!p.answered[0]) as u8 as f64,
                m => values_of(p, m)[0],
            })
            .collect();
        out.insert(
            metric.to_string(),
            Estimate {
                over_problems: mean_ci95(&per_problem),
                across_seeds: None,
                across_runs: None,
            },
        );
    }
    out
}

/// (k, majority@k metrics, pass@k metrics).
type KRow = (
    usize,
    IndexMap<String, Estimate>,
    IndexMap<String, Estimate>,
);

/// The k values reported: powers of two below N, and N.
pub fn reported_ks(n: usize) -> Vec<usize> {
    let mut ks: Vec<usize> = std::iter::successors(Some(1usize), |k| Some(k * 2))
        .take_while(|k| *k < n)
        .collect();
    ks.push(n);
    ks
}

fn sampled_metrics(
    problems: &[&ProblemSamples],
    cols: Columns,
    n_seeds: usize,
    modes: &mut IndexMap<String, IndexMap<String, Estimate>>,
) {
    // Problems with no valid sample at all cannot be estimated; they are reported as failed.
    let usable: Vec<&ProblemSamples> = problems
        .iter()
        .copied()
        .filter(|p| !p.answered.is_empty())
        .collect();
    let names = metric_names(cols);
    let estimate = |per_problem: Vec<f64>| Estimate {
        over_problems: mean_ci95(&per_problem),
        across_seeds: None,
        across_runs: None,
    };

    // pass@1[avg-of-N]: mean over samples per problem.
    let mut avg = IndexMap::new();
    for metric in &names {
        let per_problem: Vec<f64> = usable
            .iter()
            .map(|p| {
                let n = p.answered.len() as f64;
                match *metric {
                    "no_answer" => p.answered.iter().filter(|a| !**a).count() as f64 / n,
                    m => values_of(p, m).iter().sum::<f64>() / n,
                }
            })
            .collect();
        let mut e = estimate(per_problem);
        if let Some(col) = SCORE_COLUMNS.iter().position(|c| c == metric) {
            if n_seeds > 1 {
                let runs: Vec<Vec<Option<f64>>> = problems
                    .iter()
                    .map(|p| p.by_file.iter().map(|v| v.map(|s| s[col])).collect())
                    .collect();
                // A seed with no valid graded sample has no average: left out, so the
                // interval's `n` says how many seeds stand behind it.
                let per_seed: Vec<f64> = run_stats::run_averages(&runs)
                    .into_iter()
                    .flatten()
                    .collect();
                e.across_seeds = Some(mean_ci95(&per_seed));
                e.across_runs = run_stats::run_statistics(&runs);
            }
        }
        avg.insert(metric.to_string(), e);
    }
    modes.insert(format!("pass@1[avg-of-{n_seeds}]"), avg);

    let ks = reported_ks(n_seeds);
    let mut by_k: Vec<KRow> = ks
        .par_iter()
        .map(|&k| {
            let mut maj = IndexMap::new();
            let mut pass = IndexMap::new();
            // Majority credit per problem for every metric at once (one vote per draw).
            let votes: Vec<Vec<f64>> = usable
                .iter()
                .enumerate()
                .map(|(pi, p)| majority_credit(p, k, &names, pi as u64))
                .collect();
            for (mi, metric) in names.iter().enumerate() {
                maj.insert(
                    metric.to_string(),
                    estimate(votes.iter().map(|v| v[mi]).collect()),
                );
                let per_problem: Vec<f64> = usable
                    .iter()
                    .map(|p| {
                        let n = p.answered.len() as u64;
                        match *metric {
                            // P(all k drawn samples lack an answer).
                            "no_answer" => {
                                let answered = p.answered.iter().filter(|a| **a).count() as u64;
                                1.0 - stats::pass_at_k(n, answered, k as u64)
                            }
                            // P(at least one of k unparseable) is not a useful number; report
                            // the per-sample share instead.
                            "judge_unparseable" => {
                                values_of(p, metric).iter().sum::<f64>() / n as f64
                            }
                            m => {
                                let c = values_of(p, m).iter().filter(|v| **v > 0.5).count() as u64;
                                stats::pass_at_k(n, c, k as u64)
                            }
                        }
                    })
                    .collect();
                pass.insert(metric.to_string(), estimate(per_problem));
            }
            (k, maj, pass)
        })
        .collect();
    by_k.sort_by_key(|row| std::cmp::Reverse(row.0));
    for (k, maj, pass) in by_k {
        modes.insert(format!("majority@{k}"), maj);
        modes.insert(format!("pass@{k}"), pass);
    }
}

/// NeMo-Skills' `reasoning_tokens` / `answer_tokens` statistics across runs, over the samples
/// that carry token counts.
fn token_statistics(problems: &[&ProblemSamples]) -> IndexMap<String, RunStatistics> {
    let mut out = IndexMap::new();
    for (name, pick) in [
        (
            "reasoning_tokens",
            (|t: (f64, f64)| t.0) as fn((f64, f64)) -> f64,
        ),
        ("answer_tokens", |t: (f64, f64)| t.1),
    ] {
        let runs: Vec<Vec<Option<f64>>> = problems
            .iter()
            .map(|p| p.tokens_by_file.iter().map(|t| t.map(pick)).collect())
            .collect();
        if let Some(s) = run_stats::run_statistics(&runs) {
            out.insert(name.to_string(), s);
        }
    }
    out
}

/// `avg_tokens` and `gen_seconds` of a row over `problems`.
fn usage_of(problems: &[&ProblemSamples]) -> ModeUsage {
    let per_problem: Vec<f64> = problems
        .iter()
        .filter(|p| !p.generated_tokens.is_empty())
        .map(|p| p.generated_tokens.iter().sum::<f64>() / p.generated_tokens.len() as f64)
        .collect();
    let avg_tokens = (!per_problem.is_empty())
        .then(|| (per_problem.iter().sum::<f64>() / per_problem.len() as f64) as u64);
    let span = problems
        .iter()
        .filter_map(|p| p.times)
        .reduce(|a, b| (a.0.min(b.0), a.1.max(b.1)));
    ModeUsage {
        avg_tokens,
        gen_seconds: span.map(|(start, end)| (end - start).max(0.0) as u64),
    }
}

/// Expected majority-vote credit of one problem for each metric, voting with k samples.
fn majority_credit(p: &ProblemSamples, k: usize, names: &[&str], problem_index: u64) -> Vec<f64> {
    let n = p.answered.len();
    let k = k.min(n);
    let mut credit = vec![0.0; names.len()];
    let mut add_vote = |indices: &[usize], weight: f64| {
        let v = vote(p, indices, names);
        for (c, x) in credit.iter_mut().zip(v) {
            *c += weight * x;
        }
    };
    if k == n {
        let all: Vec<usize> = (0..n).collect();
        add_vote(&all, 1.0);
    } else if k == 1 {
        for i in 0..n {
            add_vote(&[i], 1.0 / n as f64);
        }
    } else if let Some(subsets) = combinations(n, k, EXACT_SUBSETS) {
        let w = 1.0 / subsets.len() as f64;
        for s in &subsets {
            add_vote(s, w);
        }
    } else {
        let mut rng = SplitMix64::new(
            problem_index
                .wrapping_mul(0x9E37_79B9)
                .wrapping_add(k as u64),
        );
        let mut idx: Vec<usize> = (0..n).collect();
        for _ in 0..MAJORITY_DRAWS {
            // Partial Fisher-Yates: the first k of a random permutation.
            for i in 0..k {
                let j = i + rng.below(n - i);
                idx.swap(i, j);
            }
            add_vote(&idx[..k], 1.0 / MAJORITY_DRAWS as f64);
        }
    }
    credit
}

/// Every k-subset of `0..n`, or `None` when there are more than `limit`.
fn combinations(n: usize, k: usize, limit: usize) -> Option<Vec<Vec<usize>>> {
    let mut count: u128 = 1;
    for i in 0..k as u128 {
        count = count * (n as u128 - i) / (i + 1);
        if count > limit as u128 {
            return None;
        }
    }
    let mut out = Vec::with_capacity(count as usize);
    let mut idx: Vec<usize> = (0..k).collect();
    loop {
        out.push(idx.clone());
        // Advance to the next combination in lexicographic order.
        let mut i = k;
        while i > 0 && idx[i - 1] == n - k + i - 1 {
            i -= 1;
        }
        if i == 0 {
            return Some(out);
        }
        idx[i - 1] += 1;
        for j in i..k {
            idx[j] = idx[j - 1] + 1;
        }
    }
}

/// One vote among the samples `indices`: the most frequent answer group wins; tied groups share
/// the credit; a group's credit is the mean of its samples' values. `no_answer` is 1 when no
/// sample has an answer.
fn vote(p: &ProblemSamples, indices: &[usize], names: &[&str]) -> Vec<f64> {
    let mut counts: Vec<(u32, usize)> = Vec::new();
    for &i in indices {
        let g = p.group[i];
        if g == u32::MAX {
            continue;
        }
        match counts.iter_mut().find(|(gg, _)| *gg == g) {
            Some(e) => e.1 += 1,
            None => counts.push((g, 1)),
        }
    }
    let Some(best) = counts.iter().map(|c| c.1).max() else {
        return names
            .iter()
            .map(|m| (*m == "no_answer") as u8 as f64)
            .collect();
    };
    let winners: Vec<u32> = counts.iter().filter(|c| c.1 == best).map(|c| c.0).collect();
    names
        .iter()
        .map(|metric| {
            if *metric == "no_answer" {
                return 0.0;
            }
            let vals = values_of(p, metric);
            winners
                .iter()
                .map(|g| {
                    let members: Vec<f64> = indices
                        .iter()
                        .filter(|&&i| p.group[i] == *g)
                        .map(|&i| vals[i])
                        .collect();
                    members.iter().sum::<f64>() / members.len() as f64
                })
                .sum::<f64>()
                / winners.len() as f64
        })
        .collect()
}
