//! What an evaluation will do, decided before anything runs: per benchmark its problems file,
//! output folder, seeds and `++` settings; the model; chunking; the judge. A plan is plain data
//! (serde): a Slurm job runs one part of the plan it is given, so no option is copied by hand.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::json;
use tally_core::benchmarks::parse_benchmarks;
use tally_core::overrides::Overrides;
use tally_generate::{SeedPlan, Settings};

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
}

impl BenchPlan {
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
    if let Some(g) = &options.genselect {
        Overrides::parse(&g.overrides)?;
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
        // With a judge, the summary reads the judged copies (as newer `ns eval`).
        let results = options.output_dir.join("eval-results").join(&spec.name);
        let generated_dir = match &options.judge {
            Some(_) => options.output_dir.join("tmp-eval-results").join(&spec.name),
            None => results.clone(),
        };
        benchmarks.push(BenchPlan {
            name: spec.name.clone(),
            input: dataset_path(&options.data_dir, &spec.name, &split),
            split,
            generated_dir,
            out_dir: results,
            seeds,
            overrides: ov.iter().map(|o| o.raw.clone()).collect(),
            chunk_ids: None,
        });
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
