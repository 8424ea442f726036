//! Greedy beside seeds, laid out so that newer NeMo-Skills reads it.
//!
//! May's `ns eval` (and `tally eval`) write a benchmark's greedy run `output.jsonl` next to its
//! seeds `output-rs*.jsonl`. Newer NeMo-Skills evaluates greedy only for `name:0` and its
//! `summarize_results` refuses a benchmark folder holding both; greedy and sampled results are
//! two evaluations with two output directories. Tally's form of that: the greedy run of
//! `<output_dir>` is the evaluation `<output_dir>/greedy`, i.e.
//! `<output_dir>/greedy/eval-results/<bench>/output.jsonl`. Both NeMo-Skills versions summarize
//! `<output_dir>` (seeds) and `<output_dir>/greedy` (greedy) as they are, and Tally's default
//! summary of `<output_dir>` shows the greedy row from there.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::MetricsError;
use crate::layout::{BenchmarkFiles, ResultsLayout};

/// The directory, inside an evaluation's output directory, that holds its greedy evaluation.
pub const GREEDY_RUN_DIR: &str = "greedy";

const GREEDY_FILE: &str = "output.jsonl";

/// Where the greedy file of `bench` goes in newer NeMo-Skills' layout:
/// `<output_dir>/greedy/eval-results/<bench>/output.jsonl`.
pub fn greedy_beside_seeds(output_dir: &Path, bench: &str) -> PathBuf {
    output_dir
        .join(GREEDY_RUN_DIR)
        .join("eval-results")
        .join(bench)
        .join(GREEDY_FILE)
}

/// The output directory of a layout found through `<output_dir>/eval-results`, if it was.
fn output_dir_of(layout: &ResultsLayout) -> Option<&Path> {
    (layout.results_dir.file_name()? == "eval-results").then(|| layout.results_dir.parent())?
}

/// The greedy file of `bench` in the newer layout, if this layout has one there.
pub fn find_greedy_beside(layout: &ResultsLayout, bench: &BenchmarkFiles) -> Option<PathBuf> {
    let p = greedy_beside_seeds(output_dir_of(layout)?, &bench.name);
    p.is_file().then_some(p)
}

/// The benchmark with its greedy file from newer NeMo-Skills' layout when its own folder has
/// none (the default summary and the viewer; NeMo-Skills at the seed does not look there).
pub fn with_greedy_beside(layout: &ResultsLayout, bench: &BenchmarkFiles) -> BenchmarkFiles {
    let mut b = bench.clone();
    if b.greedy.is_none() {
        b.greedy = find_greedy_beside(layout, bench);
    }
    b
}

/// Benchmarks whose folder holds both `output.jsonl` and seed files (newer NeMo-Skills'
/// `summarize_results` refuses them).
pub fn mixed_benchmarks(layout: &ResultsLayout) -> Vec<&BenchmarkFiles> {
    layout
        .benchmarks
        .iter()
        .filter(|b| b.greedy.is_some() && !b.seeds.is_empty())
        .collect()
}

/// One file to move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Move {
    pub from: PathBuf,
    pub to: PathBuf,
}

/// The moves that turn every mixed benchmark of `layout` into newer NeMo-Skills' layout: its
/// `output.jsonl` and the files Tally keeps beside it (`output.jsonl.done`, the run record, a
/// journal) go to `<output_dir>/greedy/eval-results/<bench>/`. Nothing is planned when a target
/// exists or a writer holds the file's lock: the error names the path.
pub fn plan_split(layout: &ResultsLayout) -> Result<Vec<Move>, MetricsError> {
    let mixed = mixed_benchmarks(layout);
    if mixed.is_empty() {
        return Ok(Vec::new());
    }
    let output_dir = output_dir_of(layout).ok_or_else(|| MetricsError::Layout {
        path: layout.results_dir.clone(),
        message: "greedy can be moved beside the seeds only in the <output_dir>/eval-results/<bench>/ layout".into(),
    })?;
    let mut moves = Vec::new();
    for bench in mixed {
        let target_dir = greedy_beside_seeds(output_dir, &bench.name)
            .parent()
            .expect("a file path has a parent")
            .to_path_buf();
        let entries =
            fs::read_dir(&bench.dir).map_err(|e| tally_core::CoreError::io(&bench.dir, e))?;
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n == GREEDY_FILE || n.starts_with("output.jsonl."))
            .collect();
        names.sort();
        for name in names {
            let from = bench.dir.join(&name);
            if name.ends_with(".tally-lock") {
                return Err(MetricsError::Layout {
                    path: from,
                    message: "a run may still be writing the greedy file; wait for it to end"
                        .into(),
                });
            }
            let to = target_dir.join(&name);
            if to.exists() {
                return Err(MetricsError::Layout {
                    path: to,
                    message: "already exists; not overwritten".into(),
                });
            }
            moves.push(Move { from, to });
        }
    }
    Ok(moves)
}

/// Carries out [`plan_split`]'s moves (renames within the output directory, so each file is
/// either at its old place or its new one).
pub fn apply(moves: &[Move]) -> Result<(), MetricsError> {
    for m in moves {
        let dir = m.to.parent().expect("a file path has a parent");
        fs::create_dir_all(dir).map_err(|e| tally_core::CoreError::io(dir, e))?;
        fs::rename(&m.from, &m.to).map_err(|e| tally_core::CoreError::io(&m.from, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::detect;

    fn touch(p: &Path) {
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, "").unwrap();
    }

    #[test]
    fn a_mixed_folder_is_split_and_found_again() {
        let t = tempfile::tempdir().unwrap();
        let out = t.path().join("run");
        let bench = out.join("eval-results/aime24");
        touch(&bench.join("output.jsonl"));
        touch(&bench.join("output.jsonl.done"));
        touch(&bench.join("output.jsonl.tally-run.json"));
        touch(&bench.join("output-rs0.jsonl"));
        touch(&out.join("eval-results/gsm8k/output-rs0.jsonl"));
        let layout = detect(&out, None).unwrap();
        assert_eq!(mixed_benchmarks(&layout).len(), 1);
        let moves = plan_split(&layout).unwrap();
        let to: Vec<_> = moves.iter().map(|m| m.to.clone()).collect();
        let greedy = out.join("greedy/eval-results/aime24");
        assert_eq!(
            to,
            [
                greedy.join("output.jsonl"),
                greedy.join("output.jsonl.done"),
                greedy.join("output.jsonl.tally-run.json")
            ]
        );
        apply(&moves).unwrap();
        let after = detect(&out, None).unwrap();
        assert!(mixed_benchmarks(&after).is_empty());
        assert_eq!(
            find_greedy_beside(&after, &after.benchmarks[0]),
            Some(greedy.join("output.jsonl"))
        );
        assert_eq!(find_greedy_beside(&after, &after.benchmarks[1]), None);
        // The greedy evaluation is a results directory of its own.
        let g = detect(&out.join("greedy"), None).unwrap();
        assert_eq!(g.benchmarks[0].greedy, Some(greedy.join("output.jsonl")));
        // Splitting again has nothing to do.
        assert!(plan_split(&after).unwrap().is_empty());
    }

    #[test]
    fn nothing_is_overwritten_and_a_held_lock_stops_the_split() {
        let t = tempfile::tempdir().unwrap();
        let out = t.path().join("run");
        let bench = out.join("eval-results/aime24");
        touch(&bench.join("output.jsonl"));
        touch(&bench.join("output-rs0.jsonl"));
        touch(&out.join("greedy/eval-results/aime24/output.jsonl"));
        let e = plan_split(&detect(&out, None).unwrap()).unwrap_err();
        assert!(e.to_string().contains("already exists"), "{e}");
        fs::remove_file(out.join("greedy/eval-results/aime24/output.jsonl")).unwrap();
        touch(&bench.join("output.jsonl.tally-lock"));
        let e = plan_split(&detect(&out, None).unwrap()).unwrap_err();
        assert!(e.to_string().contains("still be writing"), "{e}");
        assert!(bench.join("output.jsonl").exists());
    }
}
