//! What an evaluation will do, decided before anything runs: per benchmark its problems file,
//! output folder, seeds and `++` settings; the model; chunking; the judge. A plan is plain data
//! (serde): a Slurm job runs one part of the plan it is given, so no option is copied by hand.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::json;
use tally_core::benchmarks::parse_benchmarks;
use tally_core::overrides::Overrides;
use tally_generate::{output_file_name, SeedPlan, Settings};
use tally_metrics::greedy_layout::{greedy_beside_seeds, GREEDY_RUN_DIR};

use crate::defaults::dataset_path;
use crate::error::Result;
use crate::generation::Chunks;
use crate::genselect::GenselectOptions;
use crate::judge::JudgeWhen;
use crate::target::ServerChoice;

/// The typed options of an evaluation (`tally eval`'s flags).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalOptions {
    pub output_dir: PathBuf,
    /// `name:N[,name:N]`: N seeds per benchmark (0: greedy only).
    pub benchmarks: String,
    pub server: ServerChoice,
    pub starting_seed: u64,
    /// Dataset split (default: each benchmark's).
    pub split: Option<String>,
    /// No greedy pass, only the seeds.
    pub skip_greedy: bool,
    pub data_dir: PathBuf,
    /// Server logs and manifests (default `<output_dir>/eval-logs`).
    pub log_dir: Option<PathBuf>,
    /// NeMo-Skills' grader and summary, byte for byte.
    pub nemo_skills: bool,
    pub override_resume: bool,
    pub chunks: Option<Chunks>,
    /// `++key=value` generation settings, after the benchmark's defaults.
    pub overrides: Vec<String>,
    pub judge: Option<JudgeOptions>,
    /// GenSelect over each benchmark's seeds after grading (and judging), with the same model.
    #[serde(default)]
    pub genselect: Option<GenselectOptions>,
    /// Where greedy goes when a benchmark also has seeds.
    #[serde(default)]
    pub greedy_layout: GreedyLayout,
}

/// Where a benchmark's greedy run goes when it also has seeds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GreedyLayout {
    /// May's `ns eval`: `output.jsonl` beside `output-rs*.jsonl` in `<output_dir>/eval-results/<bench>/`.
    #[default]
    May,
    /// Newer NeMo-Skills' layout, where greedy and sampled runs are two evaluations (its
    /// `summarize_results` refuses a folder holding both): greedy in the evaluation
    /// `<output_dir>/greedy` (tally-metrics' `greedy_layout`). A greedy-only benchmark (`name:0`)
    /// stays in `<output_dir>/eval-results/<bench>/`, as newer `ns eval` writes it.
    Separate,
}

impl GreedyLayout {
    pub fn as_str(self) -> &'static str {
        match self {
            GreedyLayout::May => "may",
            GreedyLayout::Separate => "separate",
        }
    }
}

impl std::fmt::Display for GreedyLayout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for GreedyLayout {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "may" => Ok(GreedyLayout::May),
            "separate" => Ok(GreedyLayout::Separate),
            _ => Err(format!("`{s}`: one of may, separate")),
        }
    }
}

impl EvalOptions {
    /// Options for `benchmarks` against `server`, writing into `output_dir`; the rest defaults.
    pub fn new(output_dir: impl Into<PathBuf>, benchmarks: &str, server: ServerChoice) -> Self {
        EvalOptions {
            output_dir: output_dir.into(),
            benchmarks: benchmarks.to_string(),
            server,
            starting_seed: 0,
            split: None,
            skip_greedy: false,
            data_dir: crate::defaults::data_dir(),
            log_dir: None,
            nemo_skills: false,
            override_resume: false,
            chunks: None,
            overrides: Vec::new(),
            judge: None,
            genselect: None,
            greedy_layout: GreedyLayout::May,
        }
    }
}

/// The judge stage: after grading, each benchmark's files are judged (NeMo-Skills' `math_judge`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JudgeOptions {
    pub server: ServerChoice,
    pub when: JudgeWhen,
    /// The judge's `++` settings (`++prompt_template=…`, `++inference.*`).
    pub overrides: Vec<String>,
    /// Ask the cache before the judge (`<benchmark's judged dir>/.tally-judge-cache.jsonl`).
    pub cache: bool,
}

/// One benchmark of a plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchPlan {
    pub name: String,
    pub split: String,
    pub input: PathBuf,
    /// Where generation writes (and grading rewrites) the sample files.
    pub generated_dir: PathBuf,
    /// Where the summary reads: `generated_dir`, or the judged copies with a judge.
    pub out_dir: PathBuf,
    /// `None` is the greedy pass.
    pub seeds: Vec<Option<u64>>,
    /// Dataset and split, the benchmark's defaults, then the user's (Hydra order).
    pub overrides: Vec<String>,
    /// The chunks of this benchmark a part of the plan generates (a Slurm job of several
    /// parts); `None`: those of `options.chunks`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chunk_ids: Option<Vec<usize>>,
    /// The greedy run of a benchmark whose seeds are the next `BenchPlan`, in its own
    /// evaluation folder (`GreedyLayout::Separate`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub greedy_apart: bool,
}

impl BenchPlan {
    /// The benchmark's name in messages: `aime24`, or `aime24 (greedy)` for its greedy run apart.
    pub fn label(&self) -> String {
        if self.greedy_apart {
            format!("{} (greedy)", self.name)
        } else {
            self.name.clone()
        }
    }

    pub fn seed_plan(&self) -> SeedPlan {
        SeedPlan {
            seeds: self.seeds.clone(),
        }
    }

    pub fn overrides(&self) -> Result<Overrides> {
        Ok(Overrides::parse(&self.overrides)?)
    }

    pub fn settings(&self) -> Result<Settings> {
        Ok(Settings::from_overrides(&self.overrides()?)?)
    }

    /// The chunking of this benchmark: `chunks` with this benchmark's own chunk ids, if any.
    pub fn chunks(&self, chunks: &Option<Chunks>) -> Option<Chunks> {
        let mut c = chunks.clone()?;
        if let Some(ids) = &self.chunk_ids {
            c.ids = ids.clone();
        }
        Some(c)
    }
}

/// A whole evaluation, ready to run here or as parts elsewhere.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalPlan {
    pub options: EvalOptions,
    pub benchmarks: Vec<BenchPlan>,
    /// Server logs and manifests.
    pub log_dir: PathBuf,
}

/// One unit of work of a plan: a benchmark, or one chunk of it (a Slurm job).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part {
    pub benchmark: usize,
    pub chunk: Option<usize>,
}

impl EvalPlan {
    /// Every part: per benchmark, each of its chunks (or the whole benchmark).
    pub fn parts(&self) -> Vec<Part> {
        let mut out = Vec::new();
        for (b, bench) in self.benchmarks.iter().enumerate() {
            match bench.chunks(&self.options.chunks) {
                Some(c) => out.extend(c.ids.iter().map(|&i| Part {
                    benchmark: b,
                    chunk: Some(i),
                })),
                None => out.push(Part {
                    benchmark: b,
                    chunk: None,
                }),
            }
        }
        out
    }

    /// The plan of one part: its benchmark alone, its chunk alone.
    pub fn part(&self, part: Part) -> Result<EvalPlan> {
        self.group(&[part])
    }

    /// The plan of several parts (one Slurm job of `--num_jobs`): their benchmarks, in plan
    /// order, each with only the chunks of these parts. One run, one server, for all of them.
    pub fn group(&self, parts: &[Part]) -> Result<EvalPlan> {
        let mut plan = self.clone();
        plan.benchmarks.clear();
        for (b, bench) in self.benchmarks.iter().enumerate() {
            let mine: Vec<&Part> = parts.iter().filter(|p| p.benchmark == b).collect();
            if mine.is_empty() {
                continue;
            }
            let mut bench = bench.clone();
            if self.options.chunks.is_some() {
                let mut ids: Vec<usize> = mine.iter().filter_map(|p| p.chunk).collect();
                ids.sort_unstable();
                ids.dedup();
                bench.chunk_ids = Some(ids);
            }
            plan.benchmarks.push(bench);
        }
        if let Some(p) = parts.iter().find(|p| p.benchmark >= self.benchmarks.len()) {
            return Err(format!(
                "part {}: the plan has {} benchmarks",
                p.benchmark,
                self.benchmarks.len()
            )
            .into());
        }
        if plan.benchmarks.is_empty() {
            return Err("a group of no parts".into());
        }
        Ok(plan)
    }

    /// The folder a summary reads.
    pub fn results_dir(&self) -> &Path {
        &self.options.output_dir
    }

    pub fn to_json(&self) -> Result<String> {
        Ok(serde_json::to_string_pretty(self)?)
    }

    pub fn from_json(text: &str) -> Result<EvalPlan> {
        Ok(serde_json::from_str(text)?)
    }

    /// A plan written by [`EvalPlan::to_json`] (a Slurm job's); errors name the file.
    pub fn read(path: &Path) -> Result<EvalPlan> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(EvalPlan::from_json(&text).map_err(|e| format!("{}: {e}", path.display()))?)
    }

    /// The plan of the part `--part` names (`0`, `1`, …), or `None` for `summary`; `path` is
    /// where the plan was read from, for messages.
    pub fn named_part(&self, name: &str, path: &Path) -> Result<Option<EvalPlan>> {
        if name == "summary" {
            return Ok(None);
        }
        let parts = self.parts();
        let i: usize = name
            .parse()
            .map_err(|_| format!("--part {name}: a number below {} or `summary`", parts.len()))?;
        let part = *parts
            .get(i)
            .ok_or_else(|| format!("--part {i}: {} has {} parts", path.display(), parts.len()))?;
        Ok(Some(self.part(part)?))
    }
}

/// Checks `options` and decides every benchmark's files, seeds and settings. Paths are made
/// absolute, so the plan means the same from any working directory (a Slurm node's).
pub fn plan(options: &EvalOptions) -> Result<EvalPlan> {
    let mut options = options.clone();
    options.output_dir = std::path::absolute(&options.output_dir)?;
    options.data_dir = std::path::absolute(&options.data_dir)?;
    let log_dir = std::path::absolute(
        options
            .log_dir
            .clone()
            .unwrap_or_else(|| options.output_dir.join("eval-logs")),
    )?;
    let user = Overrides::parse(&options.overrides)?;
    if let Some(j) = &options.judge {
        Overrides::parse(&j.overrides)?;
    }
    if let Some(g) = &mut options.genselect {
        g.resolve_mode()?;
    }
    if let Some(bare) = options.benchmarks.split(',').find(|b| !b.contains(':')) {
        return Err(format!("--benchmarks: `{bare}` needs a sample count, `{bare}:N` (N=0: greedy only), as `ns eval`").into());
    }
    let mut benchmarks = Vec::new();
    for spec in parse_benchmarks(&options.benchmarks)? {
        let info = tally_data::registry::lookup(&spec.name).ok_or_else(|| {
            format!(
                "--benchmarks: unknown benchmark `{}` (known: {})",
                spec.name,
                tally_data::registry::names().join(", ")
            )
        })?;
        let split = options
            .split
            .clone()
            .unwrap_or_else(|| info.default_split.to_string());
        let mut seeds: Vec<Option<u64>> = Vec::new();
        if !options.skip_greedy {
            seeds.push(None);
        }
        seeds
            .extend((options.starting_seed..options.starting_seed + spec.samples as u64).map(Some));
        if seeds.is_empty() {
            return Err(format!(
                "{}:0 with --skip_greedy leaves nothing to generate",
                spec.name
            )
            .into());
        }
        if options.genselect.is_some() && spec.samples == 0 {
            return Err(format!(
                "--genselect selects among seeds: `{}:0` has none (give `{}:N`)",
                spec.name, spec.name
            )
            .into());
        }
        // As `ns eval`: dataset and split, the benchmark's generation defaults, then the user's.
        let mut ov = Overrides::default();
        ov.push("dataset", json!(spec.name));
        ov.push("split", json!(split));
        for arg in info.generation_args.split_whitespace() {
            ov.push_arg(arg)?;
        }
        ov.extend(&user);
        if options.override_resume {
            ov.push("resume_policy", json!("override"));
        }
        Settings::from_overrides(&ov)?;
        let mixed = seeds.len() > 1 && seeds[0].is_none();
        let bench = |root: &Path, seeds: Vec<Option<u64>>, greedy_apart: bool| {
            // With a judge, the summary reads the judged copies (as newer `ns eval`).
            let results = root.join("eval-results").join(&spec.name);
            BenchPlan {
                name: spec.name.clone(),
                input: dataset_path(&options.data_dir, &spec.name, &split),
                split: split.clone(),
                generated_dir: match &options.judge {
                    Some(_) => root.join("tmp-eval-results").join(&spec.name),
                    None => results.clone(),
                },
                out_dir: results,
                seeds,
                overrides: ov.iter().map(|o| o.raw.clone()).collect(),
                chunk_ids: None,
                greedy_apart,
            }
        };
        let may = bench(&options.output_dir, seeds.clone(), false);
        let greedy_beside = greedy_beside_seeds(&options.output_dir, &spec.name);
        match options.greedy_layout {
            GreedyLayout::Separate if mixed => {
                let may_greedy = may.out_dir.join(output_file_name("output", None));
                if may_greedy.exists() {
                    return Err(format!(
                        "--greedy_layout separate: {} exists (May's layout); `tally summarize-results --split-greedy {}` moves it to {}, or keep --greedy_layout may",
                        may_greedy.display(),
                        options.output_dir.display(),
                        greedy_beside.display()
                    )
                    .into());
                }
                let root = options.output_dir.join(GREEDY_RUN_DIR);
                benchmarks.push(bench(&root, vec![None], true));
                benchmarks.push(bench(&options.output_dir, seeds[1..].to_vec(), false));
            }
            GreedyLayout::May if mixed && greedy_beside.exists() => {
                return Err(format!(
                    "{} exists (newer NeMo-Skills' layout): rerun with --greedy_layout separate, so greedy is not generated twice",
                    greedy_beside.display()
                )
                .into());
            }
            _ => benchmarks.push(may),
        }
    }
    Ok(EvalPlan {
        options,
        benchmarks,
        log_dir,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tally_core::ServerType;

    fn options() -> EvalOptions {
        let mut o = EvalOptions::new(
            "/tmp/out",
            "aime24:2,gsm8k:0",
            ServerChoice::remote(ServerType::Vllm, "http://127.0.0.1:5000"),
        );
        o.data_dir = "/data".into();
        o.overrides = vec!["++inference.temperature=0.6".into()];
        o
    }

    #[test]
    fn a_plan_has_each_benchmarks_files_seeds_and_settings_in_order() {
        let p = plan(&options()).unwrap();
        let names: Vec<&str> = p.benchmarks.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(names, ["aime24", "gsm8k"]);
        let a = &p.benchmarks[0];
        assert_eq!(a.seeds, [None, Some(0), Some(1)]);
        assert_eq!(a.input, Path::new("/data/aime24/test.jsonl"));
        assert_eq!(a.out_dir, Path::new("/tmp/out/eval-results/aime24"));
        assert_eq!(a.generated_dir, a.out_dir);
        let ov = a.overrides().unwrap();
        assert_eq!(ov.get_str("dataset"), Some("aime24"));
        assert_eq!(ov.get_str("split"), Some("test"));
        // The user's settings come last: they win.
        assert_eq!(a.overrides.last().unwrap(), "++inference.temperature=0.6");
        assert_eq!(a.settings().unwrap().max_samples, None);
        assert_eq!(p.benchmarks[1].seeds, [None]);
        assert_eq!(p.log_dir, Path::new("/tmp/out/eval-logs"));
    }

    #[test]
    fn a_plan_survives_json_and_its_parts_split_benchmarks_and_chunks() {
        let mut o = options();
        o.chunks = Chunks::parse(Some(3), None).unwrap();
        let p = plan(&o).unwrap();
        let back = EvalPlan::from_json(&p.to_json().unwrap()).unwrap();
        assert_eq!(back, p);
        let parts = p.parts();
        assert_eq!(parts.len(), 6);
        let one = p.part(parts[4]).unwrap();
        assert_eq!(one.benchmarks.len(), 1);
        assert_eq!(one.benchmarks[0].name, "gsm8k");
        assert_eq!(
            one.parts(),
            [Part {
                benchmark: 0,
                chunk: Some(1)
            }]
        );
        let b = &one.benchmarks[0];
        assert_eq!(b.chunks(&one.options.chunks).unwrap().ids, [1]);
        // Two chunks of one benchmark and one of the other: one plan, each its own chunks.
        let two = p.group(&[parts[5], parts[0], parts[3]]).unwrap();
        assert_eq!(two.benchmarks.len(), 2);
        assert_eq!(two.benchmarks[0].chunk_ids, Some(vec![0]));
        assert_eq!(two.benchmarks[1].chunk_ids, Some(vec![0, 2]));
        assert_eq!(two.parts().len(), 3);
        assert_eq!(EvalPlan::from_json(&two.to_json().unwrap()).unwrap(), two);
        assert!(p
            .part(Part {
                benchmark: 2,
                chunk: None
            })
            .is_err());
    }

    #[test]
    fn with_a_judge_generation_and_the_judged_copies_are_apart() {
        let mut o = options();
        o.judge = Some(JudgeOptions {
            server: ServerChoice::remote(ServerType::LlamaCpp, "http://127.0.0.1:8181"),
            when: JudgeWhen::Undecided,
            overrides: vec![],
            cache: true,
        });
        let p = plan(&o).unwrap();
        let a = &p.benchmarks[0];
        assert_eq!(
            a.generated_dir,
            Path::new("/tmp/out/tmp-eval-results/aime24")
        );
        assert_eq!(a.out_dir, Path::new("/tmp/out/eval-results/aime24"));
    }

    #[test]
    fn bad_options_are_refused_with_the_reason() {
        let mut o = options();
        o.benchmarks = "aime24".into();
        assert!(plan(&o).unwrap_err().to_string().contains("aime24:N"));
        o.benchmarks = "nope:1".into();
        assert!(plan(&o)
            .unwrap_err()
            .to_string()
            .contains("unknown benchmark `nope`"));
        o.benchmarks = "aime24:0".into();
        o.skip_greedy = true;
        assert!(plan(&o)
            .unwrap_err()
            .to_string()
            .contains("nothing to generate"));
    }

    #[test]
    fn genselect_needs_seeds_and_travels_with_the_plan() {
        let mut o = options();
        o.genselect = Some(GenselectOptions::default());
        // gsm8k:0 is greedy only: nothing to select among.
        let err = plan(&o).unwrap_err().to_string();
        assert!(err.contains("`gsm8k:0` has none"), "{err}");
        o.benchmarks = "aime24:2".into();
        let p = plan(&o).unwrap();
        let back = EvalPlan::from_json(&p.to_json().unwrap()).unwrap();
        assert_eq!(back.options.genselect, o.genselect);
        // A plan written before GenSelect existed still reads.
        let mut old: serde_json::Value = serde_json::from_str(&p.to_json().unwrap()).unwrap();
        old["options"].as_object_mut().unwrap().remove("genselect");
        let old = EvalPlan::from_json(&old.to_string()).unwrap();
        assert_eq!(old.options.genselect, None);
    }

    #[test]
    fn separate_greedy_is_its_own_evaluation_and_part() {
        let t = tempfile::tempdir().unwrap();
        let mut o = options();
        o.output_dir = t.path().join("out");
        o.greedy_layout = GreedyLayout::Separate;
        o.judge = Some(JudgeOptions {
            server: ServerChoice::remote(ServerType::LlamaCpp, "http://127.0.0.1:8181"),
            when: JudgeWhen::Undecided,
            overrides: vec![],
            cache: true,
        });
        let p = plan(&o).unwrap();
        let out = &p.options.output_dir;
        let b: Vec<(&str, bool, &[Option<u64>])> = p
            .benchmarks
            .iter()
            .map(|b| (b.name.as_str(), b.greedy_apart, b.seeds.as_slice()))
            .collect();
        // aime24:2 → its greedy run apart, then its seeds; gsm8k:0 (greedy only) as newer
        // `ns eval` writes it, in the evaluation itself.
        assert_eq!(
            b,
            [
                ("aime24", true, &[None][..]),
                ("aime24", false, &[Some(0), Some(1)][..]),
                ("gsm8k", false, &[None][..])
            ]
        );
        let g = &p.benchmarks[0];
        assert_eq!(
            g.out_dir.join("output.jsonl"),
            greedy_beside_seeds(out, "aime24")
        );
        assert_eq!(g.generated_dir, out.join("greedy/tmp-eval-results/aime24"));
        assert_eq!(p.benchmarks[1].out_dir, out.join("eval-results/aime24"));
        assert_eq!(p.benchmarks[2].out_dir, out.join("eval-results/gsm8k"));
        assert_eq!(g.label(), "aime24 (greedy)");
        let names: Vec<String> = p.parts().into_iter().map(|x| p.part_name(x)).collect();
        assert_eq!(names, ["aime24-greedy", "aime24", "gsm8k"]);
        // The layout travels with the plan (a Slurm job's), and an older plan reads as May's.
        let back = EvalPlan::from_json(&p.part(p.parts()[0]).unwrap().to_json().unwrap()).unwrap();
        assert!(back.benchmarks[0].greedy_apart);
        assert_eq!(back.options.greedy_layout, GreedyLayout::Separate);
        let mut old: serde_json::Value = serde_json::from_str(&p.to_json().unwrap()).unwrap();
        old["options"]
            .as_object_mut()
            .unwrap()
            .remove("greedy_layout");
        old["benchmarks"][0]
            .as_object_mut()
            .unwrap()
            .remove("greedy_apart");
        let old = EvalPlan::from_json(&old.to_string()).unwrap();
        assert_eq!(old.options.greedy_layout, GreedyLayout::May);
        assert!(!old.benchmarks[0].greedy_apart);
        // May's layout is the default: one benchmark, greedy beside the seeds.
        o.greedy_layout = GreedyLayout::default();
        let may = plan(&o).unwrap();
        assert_eq!(may.benchmarks.len(), 2);
        assert_eq!(may.benchmarks[0].seeds, [None, Some(0), Some(1)]);
    }

    #[test]
    fn a_greedy_file_in_the_other_layout_is_refused() {
        let t = tempfile::tempdir().unwrap();
        let mut o = options();
        o.output_dir = t.path().join("out");
        let may_greedy = o.output_dir.join("eval-results/aime24/output.jsonl");
        std::fs::create_dir_all(may_greedy.parent().unwrap()).unwrap();
        std::fs::write(&may_greedy, "").unwrap();
        assert!(plan(&o).is_ok());
        o.greedy_layout = GreedyLayout::Separate;
        let err = plan(&o).unwrap_err().to_string();
        assert!(
            err.contains("--split-greedy") && err.contains("May's layout"),
            "{err}"
        );
        std::fs::remove_file(&may_greedy).unwrap();
        let beside = greedy_beside_seeds(&o.output_dir, "aime24");
        std::fs::create_dir_all(beside.parent().unwrap()).unwrap();
        std::fs::write(&beside, "").unwrap();
        assert!(plan(&o).is_ok());
        o.greedy_layout = GreedyLayout::May;
        let err = plan(&o).unwrap_err().to_string();
        assert!(err.contains("--greedy_layout separate"), "{err}");
        assert_eq!(
            "separate".parse::<GreedyLayout>(),
            Ok(GreedyLayout::Separate)
        );
        assert!("newer"
            .parse::<GreedyLayout>()
            .unwrap_err()
            .contains("may, separate"));
    }

    #[test]
    fn a_part_is_named_by_its_number_or_summary() {
        let p = plan(&options()).unwrap();
        let at = Path::new("/logs/plan.json");
        assert!(p.named_part("summary", at).unwrap().is_none());
        let one = p.named_part("1", at).unwrap().unwrap();
        assert_eq!(one.benchmarks[0].name, "gsm8k");
        let err = p.named_part("2", at).unwrap_err().to_string();
        assert_eq!(err, "--part 2: /logs/plan.json has 2 parts");
        let err = p.named_part("x", at).unwrap_err().to_string();
        assert_eq!(err, "--part x: a number below 2 or `summary`");
    }
}
