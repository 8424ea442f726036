//! Finding the benchmarks and their sample files in a results directory (spec §1.3).

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::MetricsError;

/// The sample files of one benchmark.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchmarkFiles {
    pub name: String,
    pub dir: PathBuf,
    /// `output.jsonl`, the greedy run, when present.
    pub greedy: Option<PathBuf>,
    /// `output-rs*.jsonl` in seed order (rs0, rs1, …, rs10); see [`seed_sort_key`].
    pub seeds: Vec<PathBuf>,
    /// `genselect/output-rs*.jsonl` (`tally genselect`), in seed order: the default summary's
    /// `genselect@k` row. NeMo-Skills does not look into a benchmark's subfolders.
    pub genselect: Vec<PathBuf>,
    /// `gensynthesis/output-rs*.jsonl` (GenSynthesis' new solutions, graded), in seed order:
    /// the `gensynthesis@k` row.
    pub gensynthesis: Vec<PathBuf>,
}

/// The resolved layout: where `metrics.json` goes and the benchmarks found.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultsLayout {
    /// `RESULTS_DIR`, or `RESULTS_DIR/eval-results` when that exists.
    pub results_dir: PathBuf,
    pub benchmarks: Vec<BenchmarkFiles>,
}

/// Detects the layout the way `ns summarize_results` does, in its order:
/// 1. `RESULTS_DIR` holds `output*jsonl` itself → one benchmark named after the directory;
/// 2. `RESULTS_DIR/eval-results/` exists → each of its subdirectories is a benchmark;
/// 3. otherwise each subdirectory of `RESULTS_DIR` is one (names containing `-logs` skipped).
///
/// Benchmarks are listed in name order (the seed uses the directory listing's order, which is
/// not reproducible). `only` keeps the named benchmarks.
pub fn detect(results_dir: &Path, only: Option<&[String]>) -> Result<ResultsLayout, MetricsError> {
    if !results_dir.is_dir() {
        return Err(MetricsError::NotADirectory(results_dir.to_path_buf()));
    }
    if has_outputs(results_dir)? {
        let name = display_name(results_dir);
        let mut benchmarks = vec![files_of(&name, results_dir)?];
        if let Some(only) = only {
            benchmarks.retain(|b| only.contains(&b.name));
        }
        return Ok(ResultsLayout {
            results_dir: results_dir.to_path_buf(),
            benchmarks,
        });
    }
    let eval_results = results_dir.join("eval-results");
    let dir = if eval_results.is_dir() {
        eval_results
    } else {
        let any = subdirs(results_dir)?
            .iter()
            .map(|d| has_outputs(d))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .any(|b| b);
        if !any {
            return Err(MetricsError::NoResults(results_dir.to_path_buf()));
        }
        results_dir.to_path_buf()
    };
    let mut benchmarks = Vec::new();
    for sub in subdirs(&dir)? {
        let name = display_name(&sub);
        if name.contains("-logs") {
            continue;
        }
        if let Some(only) = only {
            if !only.contains(&name) {
                continue;
            }
        }
        if !has_outputs(&sub)? {
            return Err(MetricsError::BenchmarkWithoutOutputs(sub));
        }
        benchmarks.push(files_of(&name, &sub)?);
    }
    Ok(ResultsLayout {
        results_dir: dir,
        benchmarks,
    })
}

fn display_name(dir: &Path) -> String {
    let normalized = python_path_display(&dir.to_string_lossy());
    Path::new(&normalized)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or(normalized)
}

fn subdirs(dir: &Path) -> Result<Vec<PathBuf>, MetricsError> {
    let mut out: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(|e| tally_core::CoreError::io(dir, e))?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    Ok(out)
}

fn list_files(dir: &Path) -> Result<Vec<String>, MetricsError> {
    Ok(fs::read_dir(dir)
        .map_err(|e| tally_core::CoreError::io(dir, e))?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect())
}

/// `glob("output*jsonl")`.
fn has_outputs(dir: &Path) -> Result<bool, MetricsError> {
    Ok(list_files(dir)?
        .iter()
        .any(|n| n.starts_with("output") && n.ends_with("jsonl")))
}

fn files_of(name: &str, dir: &Path) -> Result<BenchmarkFiles, MetricsError> {
    let files = list_files(dir)?;
    let greedy = files
        .iter()
        .any(|n| n == "output.jsonl")
        .then(|| dir.join("output.jsonl"));
    let mut seeds: Vec<&String> = files
        .iter()
        .filter(|n| n.starts_with("output-rs") && n.ends_with(".jsonl"))
        .collect();
    seeds.sort_by_key(|n| seed_sort_key(n));
    Ok(BenchmarkFiles {
        name: name.to_string(),
        dir: dir.to_path_buf(),
        greedy,
        seeds: seeds.into_iter().map(|n| dir.join(n)).collect(),
        genselect: seed_files_in(&dir.join("genselect"))?,
        gensynthesis: seed_files_in(&dir.join("gensynthesis"))?,
    })
}

/// `output-rs*.jsonl` of a subfolder (none when it is missing), in seed order.
fn seed_files_in(sub: &Path) -> Result<Vec<PathBuf>, MetricsError> {
    if !sub.is_dir() {
        return Ok(Vec::new());
    }
    let mut names: Vec<String> = list_files(sub)?
        .into_iter()
        .filter(|n| n.starts_with("output-rs") && n.ends_with(".jsonl") && !n.contains("_chunk_"))
        .collect();
    names.sort_by_key(|n| seed_sort_key(n));
    Ok(names.into_iter().map(|n| sub.join(n)).collect())
}

/// Seed order: the number after `output-rs` numerically, then the rest of the name (so chunk
/// files `output-rs0_chunk_1.jsonl` sort after `output-rs0_chunk_0.jsonl`).
pub fn seed_sort_key(file_name: &str) -> (u64, String) {
    let rest = file_name.trim_start_matches("output-rs");
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let n = digits.parse().unwrap_or(u64::MAX);
    (n, rest[digits.len()..].to_string())
}

/// How Python's `str(Path(s))` shows a path: repeated and trailing slashes and `.` components
/// removed. `ns summarize_results` prints `metrics.json`'s path this way.
pub fn python_path_display(s: &str) -> String {
    if s.is_empty() {
        return ".".into();
    }
    let absolute = s.starts_with('/');
    let parts: Vec<&str> = s
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    let joined = parts.join("/");
    match (absolute, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_path_display_matches_pathlib() {
        assert_eq!(python_path_display("graded-64/"), "graded-64");
        assert_eq!(python_path_display("./a//b/./c/"), "a/b/c");
        assert_eq!(python_path_display("/x/y/"), "/x/y");
        assert_eq!(python_path_display("."), ".");
        assert_eq!(python_path_display("./"), ".");
        assert_eq!(python_path_display("a/../b"), "a/../b");
    }

    #[test]
    fn seeds_sort_numerically() {
        let mut names = vec![
            "output-rs10.jsonl",
            "output-rs2.jsonl",
            "output-rs0_chunk_1.jsonl",
            "output-rs0_chunk_0.jsonl",
            "output-rs1.jsonl",
        ];
        names.sort_by_key(|n| seed_sort_key(n));
        assert_eq!(
            names,
            vec![
                "output-rs0_chunk_0.jsonl",
                "output-rs0_chunk_1.jsonl",
                "output-rs1.jsonl",
                "output-rs2.jsonl",
                "output-rs10.jsonl"
            ]
        );
    }

    fn touch(p: &Path) {
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, "").unwrap();
    }

    #[test]
    fn detects_the_three_layouts_in_order() {
        let t = tempfile::tempdir().unwrap();
        // Layout 1: the directory is a benchmark.
        let one = t.path().join("aime24");
        touch(&one.join("output-rs0.jsonl"));
        let l = detect(&one, None).unwrap();
        assert_eq!(l.benchmarks[0].name, "aime24");
        assert_eq!(l.results_dir, one);
        // Layout 2: eval-results/<bench>/, logs skipped.
        let two = t.path().join("run");
        touch(&two.join("eval-results/b/output.jsonl"));
        touch(&two.join("eval-results/a/output-rs1.jsonl"));
        touch(&two.join("eval-results/a/output-rs0.jsonl"));
        fs::create_dir_all(two.join("eval-results/eval-logs")).unwrap();
        let l = detect(&two, None).unwrap();
        assert_eq!(l.results_dir, two.join("eval-results"));
        let names: Vec<_> = l.benchmarks.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(names, vec!["a", "b"]);
        assert_eq!(l.benchmarks[0].seeds.len(), 2);
        assert!(l.benchmarks[1].greedy.is_some());
        let only = detect(&two, Some(&["b".to_string()])).unwrap();
        assert_eq!(only.benchmarks.len(), 1);
        // Layout 3: <dir>/<bench>/, and a benchmark dir without outputs is an error.
        let three = t.path().join("flat");
        touch(&three.join("x/output-rs0.jsonl"));
        fs::create_dir_all(three.join("y")).unwrap();
        let e = detect(&three, None).unwrap_err();
        assert!(e.to_string().contains("lacks output*jsonl"), "{e}");
        // Nothing at all.
        let empty = t.path().join("empty");
        fs::create_dir_all(empty.join("z")).unwrap();
        assert!(matches!(
            detect(&empty, None),
            Err(MetricsError::NoResults(_))
        ));
    }
}
