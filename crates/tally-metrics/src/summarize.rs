//! `summarize-results`: find the benchmarks, read their sample files, compute the tables.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use tally_core::Reporter;

use crate::compat;
use crate::default_mode::{self, DefaultBenchmark};
use crate::error::MetricsError;
use crate::greedy_layout;
use crate::layout::{self, BenchmarkFiles, ResultsLayout};
use crate::load::{self, SampleFile};
use crate::results::{Table, Tables};

/// Which numbers to compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SummaryMode {
    /// Tally's numbers: unbiased pass@k, real no_answer, ties split, intervals.
    #[default]
    Tally,
    /// The seed version of NeMo-Skills, byte for byte, quirks included.
    NemoSkills,
}

/// Options of `summarize-results` (flags of spec §1.3).
#[derive(Debug, Clone, Default)]
pub struct SummarizeOptions {
    pub benchmarks: Option<Vec<String>>,
    /// `--max_samples`: only the first N problems (`None` = all; the seed's `-1`).
    pub max_samples: Option<usize>,
    /// `--metric_type`: only `math` exists for the benchmarks Tally knows.
    pub metric_type: Option<String>,
    pub mode: SummaryMode,
}

/// A benchmark left out of the summary and why (the seed logs and skips too).
#[derive(Debug)]
pub struct Skipped {
    pub benchmark: String,
    pub error: MetricsError,
}

/// Everything a summary produced.
#[derive(Debug)]
pub struct Summary {
    pub layout: ResultsLayout,
    pub mode: SummaryMode,
    /// The tables (compat mode: the seed's; default mode: Tally's, k = N rows printed).
    pub tables: Tables,
    /// Default mode only: per benchmark, the details behind the tables (statuses, seeds, all k).
    pub details: IndexMap<String, DefaultBenchmark>,
    pub skipped: Vec<Skipped>,
    /// Per benchmark, the record fields its verdicts were read from (`is_correct`, newer
    /// NeMo-Skills' `symbolic_correct`, `judgement`).
    pub verdict_fields: IndexMap<String, Vec<&'static str>>,
}

/// Summarizes a results directory.
pub fn summarize(
    results_dir: &Path,
    options: &SummarizeOptions,
    reporter: &dyn Reporter,
) -> Result<Summary, MetricsError> {
    if let Some(t) = &options.metric_type {
        if t != "math" {
            return Err(MetricsError::UnknownMetricType(t.clone()));
        }
    }
    let layout = layout::detect(results_dir, options.benchmarks.as_deref())?;
    let mut summary = Summary {
        layout: layout.clone(),
        mode: options.mode,
        tables: Tables::default(),
        details: IndexMap::new(),
        skipped: Vec::new(),
        verdict_fields: IndexMap::new(),
    };
    reporter.start("summarize", Some(layout.benchmarks.len() as u64));
    for bench in &layout.benchmarks {
        let outcome = match options.mode {
            SummaryMode::NemoSkills => {
                compat_benchmark(bench, options.max_samples, reporter).map(|(tables, fields)| {
                    merge(&mut summary.tables, tables);
                    summary.verdict_fields.insert(bench.name.clone(), fields);
                })
            }
            SummaryMode::Tally => read_benchmark(&greedy_layout::with_greedy_beside(&layout, bench)).and_then(|(greedy, seeds, fields)| {
                summary.verdict_fields.insert(bench.name.clone(), fields);
                let mut genselect = load::read_files(&bench.genselect)?;
                if !genselect.is_empty() {
                    load::settle_verdicts(&mut genselect)?;
                }
                let mut gensynthesis = load::read_files(&bench.gensynthesis)?;
                if !gensynthesis.is_empty() {
                    load::settle_verdicts(&mut gensynthesis)?;
                }
                let mut d = default_mode::summarize_benchmark(
                    &bench.name,
                    greedy.as_ref(),
                    &seeds,
                    options.max_samples,
                )?;
                if !genselect.is_empty() {
                    default_mode::add_genselect_rows(&mut d, &genselect, options.max_samples)?;
                }
                if !gensynthesis.is_empty() {
                    default_mode::add_parallel_rows(&mut d, "gensynthesis", &gensynthesis, options.max_samples)?;
                }
                if bench.greedy.is_some() && !bench.seeds.is_empty() {
                    d.notes.push(format!(
                        "{}: output.jsonl beside output-rs*.jsonl, which newer NeMo-Skills' summarize_results refuses; `tally summarize-results --split-greedy` moves greedy to <output_dir>/{}/eval-results/{}/ (where `tally eval --greedy_layout separate` writes it)",
                        bench.name, greedy_layout::GREEDY_RUN_DIR, bench.name
                    ));
                }
                merge(&mut summary.tables, d.tables.clone());
                summary.details.insert(bench.name.clone(), d);
                Ok(())
            }),
        };
        if let Err(error) = outcome {
            reporter.warn(&format!(
                "error computing metrics for {}: {error}; benchmark skipped",
                bench.name
            ));
            summary.skipped.push(Skipped {
                benchmark: bench.name.clone(),
                error,
            });
        }
        reporter.advance(1);
    }
    reporter.finish();
    Ok(summary)
}

fn merge(into: &mut Tables, from: Tables) {
    for (name, table) in from.tables {
        into.tables.entry(name).or_default().extend(table);
    }
    into.rows_to_print.extend(from.rows_to_print);
}

type GreedyAndSeeds = (Option<SampleFile>, Vec<SampleFile>, Vec<&'static str>);

fn read_benchmark(bench: &BenchmarkFiles) -> Result<GreedyAndSeeds, MetricsError> {
    let mut greedy = bench.greedy.as_deref().map(load::read_file).transpose()?;
    let mut seeds = load::read_files(&bench.seeds)?;
    let mut fields = load::settle_verdicts(greedy.as_mut_slice())?;
    for f in load::settle_verdicts(&mut seeds)? {
        if !fields.contains(&f) {
            fields.push(f);
        }
    }
    Ok((greedy, seeds, fields))
}

/// The seed's per-benchmark block of `summarize_results`: greedy file first, then the seeds, each
/// through `ComputeMetrics`; tables keyed `<bench>` or `<bench>-<subset>`.
fn compat_benchmark(
    bench: &BenchmarkFiles,
    max_samples: Option<usize>,
    reporter: &dyn Reporter,
) -> Result<(Tables, Vec<&'static str>), MetricsError> {
    let (greedy, seeds, fields) = read_benchmark(bench)?;
    let (mut samples, mut failed) = (0usize, 0usize);
    for f in greedy.iter().chain(&seeds) {
        let n = max_samples.map_or(f.rows.len(), |m| m.min(f.rows.len()));
        samples += n;
        failed += f.rows[..n]
            .iter()
            .filter(|r| r.effective_status().is_failure())
            .count();
    }
    if failed > 0 {
        reporter.warn(&format!(
            "{}: {failed} of {samples} samples are failed requests; --compat nemo-skills counts them as answered wrong without answer (NeMo-Skills stops on a failed request and never writes one), and prints n/a where every sample failed; the default mode leaves them out",
            bench.name
        ));
    }
    let mut out = Tables::default();
    let mut last_rows: Option<usize> = None; // rows of the last `all` calculator
    let mut run = |files: &[SampleFile], out: &mut Tables| -> Result<(), MetricsError> {
        load::check_alignment(files, max_samples)?;
        let rows: Vec<&[load::Row]> = files.iter().map(|f| f.rows.as_slice()).collect();
        let (calcs, _) = compat::compute(&rows, max_samples).map_err(|(idx, e)| {
            let file = &files[e.file];
            MetricsError::Record {
                path: file.path.clone(),
                line: file.rows[idx].line,
                message: e.message,
            }
        })?;
        let subsets = calcs.len() > 1;
        for (subset, calc) in &calcs {
            let key = if subsets {
                format!("{}-{subset}", bench.name)
            } else {
                bench.name.clone()
            };
            let table: &mut Table = out.tables.entry(key).or_default();
            for (mode, metrics) in calc.metrics() {
                table.insert(mode, metrics);
            }
            if !subsets {
                break;
            }
        }
        last_rows = Some(calcs["all"].rows_to_print());
        Ok(())
    };
    if let Some(g) = &greedy {
        run(std::slice::from_ref(g), &mut out)?;
    }
    if !seeds.is_empty() {
        run(&seeds, &mut out)?;
    }
    if let Some(rows) = last_rows {
        let rows = rows + greedy.is_some() as usize;
        let names: Vec<String> = out.tables.keys().cloned().collect();
        for name in names {
            out.rows_to_print.insert(name, rows);
        }
    }
    Ok((out, fields))
}

/// Where `metrics.json` is written, shown as the seed shows it (`str(Path(dir) / 'metrics.json')`).
pub fn metrics_json_display(given_dir: &str, layout: &ResultsLayout) -> String {
    let base = layout::python_path_display(given_dir);
    let eval = layout.results_dir != Path::new(given_dir);
    let dir = if eval {
        if base == "." {
            "eval-results".to_string()
        } else {
            format!("{base}/eval-results")
        }
    } else {
        base
    };
    if dir == "." {
        "metrics.json".into()
    } else {
        format!("{dir}/metrics.json")
    }
}

/// The path `metrics.json` is written to.
pub fn metrics_json_path(layout: &ResultsLayout) -> PathBuf {
    layout.results_dir.join("metrics.json")
}
