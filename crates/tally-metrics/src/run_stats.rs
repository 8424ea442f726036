//! Statistics across runs (seeds) of `pass@1[avg-of-k]`, as newer NeMo-Skills defines them
//! (`<score>_statistics` in its `metrics.json`; docs/statistics.md has the formulas).
//!
//! The input is a matrix of scores, one row per problem and one column per run (seed file).
//! NeMo-Skills always has a full matrix; Tally leaves failed samples out (`None`), so each
//! definition is written over the samples that exist, which is NeMo-Skills' own number whenever
//! nothing failed:
//!
//! - `avg`: the mean over problems of each problem's mean score;
//! - `std_dev_across_runs`: the sample standard deviation (n − 1) of the run averages, run `i`
//!   being the mean over problems of the `i`-th sample;
//! - `std_err_across_runs`: `std_dev_across_runs / sqrt(k)`, `k` the number of runs;
//! - `avg_sample_std_dev`: the mean over problems of each problem's sample standard deviation
//!   (n − 1) across its runs.

/// NeMo-Skills' four numbers for one score column, in its units (fractions for 0/1 scores,
/// tokens for token counts), plus how many runs stand behind them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunStatistics {
    pub avg: f64,
    pub std_dev_across_runs: f64,
    pub std_err_across_runs: f64,
    pub avg_sample_std_dev: f64,
    /// Runs with at least one sample (the `k` of `std_err_across_runs`).
    pub runs: usize,
}

/// Sample standard deviation (n − 1 in the denominator), `None` for fewer than two values.
pub fn sample_std_dev(values: &[f64]) -> Option<f64> {
    let n = values.len();
    if n < 2 {
        return None;
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1) as f64;
    Some(var.sqrt())
}

fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// Each run's average over the problems that have a sample in it (`None`: no sample at all).
pub fn run_averages(scores: &[Vec<Option<f64>>]) -> Vec<Option<f64>> {
    let num_runs = scores.iter().map(Vec::len).max().unwrap_or(0);
    (0..num_runs)
        .map(|run| {
            let column: Vec<f64> = scores
                .iter()
                .filter_map(|row| row.get(run).copied().flatten())
                .collect();
            mean(&column)
        })
        .collect()
}

/// The statistics of `scores[problem][run]`, or `None` when fewer than two runs have a sample
/// (NeMo-Skills reports them from k = 2). Rows may be shorter than others: missing runs count
/// as missing samples.
pub fn run_statistics(scores: &[Vec<Option<f64>>]) -> Option<RunStatistics> {
    let run_averages: Vec<f64> = run_averages(scores).into_iter().flatten().collect();
    let runs = run_averages.len();
    if runs < 2 {
        return None;
    }
    let per_problem: Vec<Vec<f64>> = scores
        .iter()
        .map(|row| row.iter().filter_map(|v| *v).collect())
        .collect();
    let problem_means: Vec<f64> = per_problem.iter().filter_map(|p| mean(p)).collect();
    let sample_sds: Vec<f64> = per_problem
        .iter()
        .filter_map(|p| sample_std_dev(p))
        .collect();
    let std_dev = sample_std_dev(&run_averages).unwrap_or(f64::NAN);
    Some(RunStatistics {
        avg: mean(&problem_means).unwrap_or(f64::NAN),
        std_dev_across_runs: std_dev,
        std_err_across_runs: std_dev / (runs as f64).sqrt(),
        avg_sample_std_dev: mean(&sample_sds).unwrap_or(f64::NAN),
        runs,
    })
}

/// One sample's reasoning and answer token counts by NeMo-Skills' rule: `num_reasoning_tokens`
/// and `num_answer_tokens` when the record has them; otherwise all of `num_generated_tokens`
/// counts as answer tokens. `None` when the record carries no count at all.
pub fn reasoning_and_answer_tokens(
    generated: Option<f64>,
    reasoning: Option<f64>,
    answer: Option<f64>,
) -> Option<(f64, f64)> {
    let (r, a) = (reasoning.unwrap_or(0.0), answer.unwrap_or(0.0));
    match generated {
        Some(g) if r == 0.0 && a == 0.0 => Some((0.0, g)),
        _ if reasoning.is_some() || answer.is_some() => Some((r, a)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full(rows: &[&[f64]]) -> Vec<Vec<Option<f64>>> {
        rows.iter()
            .map(|r| r.iter().map(|v| Some(*v)).collect())
            .collect()
    }

    fn close(got: f64, want: f64) {
        assert!((got - want).abs() < 1e-12, "{got} vs {want}");
    }

    /// Three problems × four runs [[1,0,1,0],[1,1,0,0],[0,1,1,1]], by hand:
    /// run averages 2/3, 2/3, 2/3, 1/3 (mean 7/12): squared deviations 3·(1/12)² + (1/4)² = 1/12,
    /// over n − 1 = 3 → variance 1/36, std-dev 1/6, std-err (1/6)/√4 = 1/12.
    /// Per problem: sd([1,0,1,0]) = √(1/3) (twice), sd([0,1,1,1]) = √(0.75/3) = 1/2;
    /// avg_sample_std_dev = (2√(1/3) + 1/2)/3; avg = (1/2 + 1/2 + 3/4)/3 = 7/12.
    #[test]
    fn hand_derived_four_runs() {
        let s = run_statistics(&full(&[
            &[1.0, 0.0, 1.0, 0.0],
            &[1.0, 1.0, 0.0, 0.0],
            &[0.0, 1.0, 1.0, 1.0],
        ]))
        .unwrap();
        close(s.avg, 7.0 / 12.0);
        close(s.std_dev_across_runs, 1.0 / 6.0);
        close(s.std_err_across_runs, 1.0 / 12.0);
        close(
            s.avg_sample_std_dev,
            (2.0 * (1.0f64 / 3.0).sqrt() + 0.5) / 3.0,
        );
        assert_eq!(s.runs, 4);
    }

    /// Two problems × two runs [[1,0],[0,1]]: both runs average 1/2, so nothing varies across
    /// runs (std-dev 0), while each problem's samples differ: sd([1,0]) = √(1/2).
    #[test]
    fn runs_can_agree_while_samples_differ() {
        let s = run_statistics(&full(&[&[1.0, 0.0], &[0.0, 1.0]])).unwrap();
        close(s.avg, 0.5);
        close(s.std_dev_across_runs, 0.0);
        close(s.std_err_across_runs, 0.0);
        close(s.avg_sample_std_dev, 0.5f64.sqrt());
    }

    #[test]
    fn one_run_has_no_statistics() {
        assert_eq!(run_statistics(&full(&[&[1.0], &[0.0]])), None);
        assert_eq!(run_statistics(&[]), None);
        // Two files, but the second has no sample at all: one run.
        assert_eq!(
            run_statistics(&[vec![Some(1.0), None], vec![Some(0.0), None]]),
            None
        );
    }

    /// A failed sample is left out of its run's average and of its problem's spread:
    /// [[1, –, 0], [1, 1, 1]] → runs 1, 1, 1/2; problem sds √(1/2) and 0.
    #[test]
    fn failed_samples_are_left_out() {
        let s = run_statistics(&[
            vec![Some(1.0), None, Some(0.0)],
            vec![Some(1.0), Some(1.0), Some(1.0)],
        ])
        .unwrap();
        // run averages 1, 1, 0.5: mean 5/6, squared deviations 2·(1/6)² + (1/3)² = 1/6, /2.
        close(s.std_dev_across_runs, (1.0f64 / 12.0).sqrt());
        close(s.std_err_across_runs, (1.0f64 / 12.0).sqrt() / 3f64.sqrt());
        close(s.avg_sample_std_dev, 0.5f64.sqrt() / 2.0);
        close(s.avg, (0.5 + 1.0) / 2.0);
    }

    /// NeMo-Skills' token rule: a separate breakdown wins; otherwise every generated token is an
    /// answer token; a record without any count has none.
    #[test]
    fn token_breakdown_follows_nemo_skills() {
        assert_eq!(
            reasoning_and_answer_tokens(Some(100.0), Some(80.0), Some(20.0)),
            Some((80.0, 20.0))
        );
        assert_eq!(
            reasoning_and_answer_tokens(Some(50.0), None, None),
            Some((0.0, 50.0))
        );
        assert_eq!(
            reasoning_and_answer_tokens(None, Some(90.0), Some(30.0)),
            Some((90.0, 30.0))
        );
        assert_eq!(reasoning_and_answer_tokens(None, None, None), None);
    }
}
