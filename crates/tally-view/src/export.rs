//! `tally export`: one row per sample, as parquet (polars).

use std::path::Path;

use polars::prelude::*;

use crate::error::ViewError;
use crate::index::RunIndex;

/// The samples of a run as a frame: benchmark, subset, problem id, seed (`null` for greedy),
/// file label, status, outcome, predicted and expected answers, symbolic and judge verdicts,
/// tokens, time.
pub fn samples_frame(run: &RunIndex) -> PolarsResult<DataFrame> {
    let mut bench = Vec::new();
    let mut subset = Vec::new();
    let mut problem = Vec::new();
    let mut seed: Vec<Option<u64>> = Vec::new();
    let mut file = Vec::new();
    let mut status = Vec::new();
    let mut outcome = Vec::new();
    let mut predicted = Vec::new();
    let mut expected = Vec::new();
    let mut symbolic = Vec::new();
    let mut judge = Vec::new();
    let mut tokens = Vec::new();
    let mut time = Vec::new();
    for b in &run.benchmarks {
        for f in &b.files {
            let seed_no = f
                .label
                .strip_prefix("rs")
                .and_then(|s| s.parse::<u64>().ok());
            for (i, s) in f.samples.iter().enumerate() {
                let p = &b.problems[i];
                bench.push(b.name.clone());
                subset.push(p.subset.clone());
                problem.push(p.key.clone());
                seed.push(seed_no);
                file.push(f.label.clone());
                status.push(s.status.map(|st| st.as_str()));
                outcome.push(s.outcome.name());
                predicted.push(s.answer.clone());
                expected.push(p.expected.clone());
                symbolic.push(s.correct);
                judge.push(s.judge);
                tokens.push(s.tokens);
                time.push(s.time);
            }
        }
    }
    df!(
        "benchmark" => bench,
        "subset" => subset,
        "problem_id" => problem,
        "seed" => seed,
        "file" => file,
        "status" => status,
        "outcome" => outcome,
        "predicted_answer" => predicted,
        "expected_answer" => expected,
        "symbolic_correct" => symbolic,
        "judge_correct" => judge,
        "num_generated_tokens" => tokens,
        "generation_time" => time,
    )
}

/// Writes the run's samples to a parquet file.
pub fn write_parquet(run: &RunIndex, out: &Path) -> Result<usize, ViewError> {
    let err = |e: PolarsError| ViewError::Parquet {
        path: out.to_path_buf(),
        message: e.to_string(),
    };
    let mut df = samples_frame(run).map_err(err)?;
    let file = std::fs::File::create(out).map_err(|e| ViewError::io(out, e))?;
    ParquetWriter::new(file).finish(&mut df).map_err(err)?;
    Ok(df.height())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fixture run written to parquet and read back: one row per sample, hand-counted
    /// statuses (fixtures/view/make_fixture.py).
    #[test]
    fn parquet_round_trip_of_the_fixture_run() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/view/run-a");
        let run = RunIndex::open(&root).unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("s.parquet");
        assert_eq!(write_parquet(&run, &out).unwrap(), 30);
        let df = ParquetReader::new(std::fs::File::open(&out).unwrap())
            .finish()
            .unwrap();
        assert_eq!(df.height(), 30);
        let status = df.column("status").unwrap().str().unwrap().clone();
        let n = |s: &str| status.iter().filter(|x| *x == Some(s)).count();
        assert_eq!(
            (
                n("ok"),
                n("no_answer"),
                n("truncated"),
                n("request_error"),
                n("grader_error")
            ),
            (26, 1, 1, 1, 1)
        );
        // Greedy rows have no seed; rs3 rows say 3.
        let seed = df.column("seed").unwrap().u64().unwrap().clone();
        assert_eq!(seed.null_count(), 6);
        assert_eq!(seed.iter().filter(|s| *s == Some(3)).count(), 6);
        let judge = df.column("judge_correct").unwrap().bool().unwrap().clone();
        let sym = df
            .column("symbolic_correct")
            .unwrap()
            .bool()
            .unwrap()
            .clone();
        // The one sample whose judge says yes where the rule says no (p4, rs1).
        let disagree = judge
            .iter()
            .zip(sym.iter())
            .filter(|(j, s)| j.is_some() && s.is_some() && j != s)
            .count();
        assert_eq!(disagree, 1);
    }
}
