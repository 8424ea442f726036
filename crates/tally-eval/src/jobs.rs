//! How a plan's parts become cluster jobs (`--num_jobs`), and whether a part's outputs are final.
//!
//! A part is a benchmark, or one chunk of it with `--num_chunks`. NeMo-Skills' `--num_jobs`
//! groups its commands into jobs; here the unit is the part:
//! - no `--num_jobs`: one job per part;
//! - `--num_jobs=-1`: one job per benchmark (all its chunks, one after another, one server);
//! - `--num_jobs=N`: as `ns eval`, `N × num_chunks` jobs (at most one per part), job `i` running
//!   parts `i, i + jobs, i + 2·jobs, …` — with chunks, job `i` holds the same chunk of several
//!   benchmarks.

use crate::error::Result;
use crate::manifest::Manifest;
use crate::plan::{BenchPlan, EvalPlan, Part};

/// `--num_jobs`, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumJobs {
    PerPart,
    PerBenchmark,
    Count(usize),
}

impl NumJobs {
    pub fn from_flag(flag: Option<i64>) -> Result<NumJobs> {
        match flag {
            None => Ok(NumJobs::PerPart),
            Some(-1) => Ok(NumJobs::PerBenchmark),
            Some(n) if n > 0 => Ok(NumJobs::Count(n as usize)),
            Some(n) => Err(format!(
                "--num_jobs={n}: a number of jobs (at least 1), or -1 for one job per benchmark"
            )
            .into()),
        }
    }
}

impl EvalPlan {
    /// The parts of each job: indices into [`EvalPlan::parts`], every part in exactly one job.
    pub fn job_groups(&self, num_jobs: NumJobs) -> Vec<Vec<usize>> {
        let parts = self.parts();
        match num_jobs {
            NumJobs::PerPart => (0..parts.len()).map(|i| vec![i]).collect(),
            NumJobs::PerBenchmark => {
                let mut groups: Vec<Vec<usize>> = vec![Vec::new(); self.benchmarks.len()];
                for (i, p) in parts.iter().enumerate() {
                    groups[p.benchmark].push(i);
                }
                groups.retain(|g| !g.is_empty());
                groups
            }
            NumJobs::Count(n) => {
                let chunks = self.options.chunks.as_ref().map_or(1, |c| c.num_chunks);
                let jobs = n.saturating_mul(chunks).clamp(1, parts.len().max(1));
                (0..jobs)
                    .map(|j| (j..parts.len()).step_by(jobs).collect())
                    .filter(|g: &Vec<usize>| !g.is_empty())
                    .collect()
            }
        }
    }

    /// The parts at `indices` (of [`EvalPlan::parts`]), or an error naming the bad index.
    pub fn parts_at(&self, indices: &[usize]) -> Result<Vec<Part>> {
        let parts = self.parts();
        indices
            .iter()
            .map(|&i| {
                parts
                    .get(i)
                    .copied()
                    .ok_or_else(|| format!("part {i}: the plan has {} parts", parts.len()).into())
            })
            .collect()
    }

    /// A part's name in job names and status lines: `gsm8k`, or `gsm8k-chunk3`.
    pub fn part_name(&self, part: Part) -> String {
        let name = self.benchmarks.get(part.benchmark).map_or("?".into(), |b| {
            if b.greedy_apart {
                format!("{}-greedy", b.name)
            } else {
                b.name.clone()
            }
        });
        match part.chunk {
            Some(c) => format!("{name}-chunk{c}"),
            None => name,
        }
    }

    /// Whether every output `part` writes is final: each seed's merged output marked `.done`
    /// with the benchmark's manifest written (generated, graded and judged), or — for a chunk —
    /// each seed's chunk marked `.done`.
    pub fn part_final(&self, part: Part) -> bool {
        let Some(bench) = self.benchmarks.get(part.benchmark) else {
            return false;
        };
        let finished = self.benchmark_final(bench);
        bench.seeds.iter().all(|seed| {
            let name = tally_generate::output_file_name("output", *seed);
            let chunk_done = part.chunk.is_some_and(|c| {
                let stem = name.trim_end_matches(".jsonl");
                tally_cluster::is_done(&bench.generated_dir.join(format!("{stem}_chunk_{c}.jsonl")))
            });
            chunk_done || (tally_cluster::is_done(&bench.generated_dir.join(&name)) && finished)
        })
    }

    /// Benchmarks whose results are not all final (merged, graded, judged), by name: what a
    /// summary would silently leave out.
    pub fn unfinished(&self) -> Vec<String> {
        self.benchmarks
            .iter()
            .filter(|b| {
                !(self.benchmark_final(b)
                    && b.seeds.iter().all(|seed| {
                        let name = tally_generate::output_file_name("output", *seed);
                        tally_cluster::is_done(&b.generated_dir.join(name))
                    }))
            })
            .map(BenchPlan::label)
            .collect()
    }

    fn benchmark_final(&self, bench: &BenchPlan) -> bool {
        Manifest::read(&bench.out_dir)
            .is_some_and(|m| self.options.judge.is_none() || m.judge.is_some())
    }
}

/// The parts of one array task from `--task_parts` (`0,6/1,7/…`: a `/`-separated list per task)
/// and the task's index (`SLURM_ARRAY_TASK_ID`).
pub fn task_parts(spec: &str, task: usize) -> Result<Vec<usize>> {
    let groups: Vec<&str> = spec.split('/').collect();
    let group = groups.get(task).ok_or_else(|| {
        format!(
            "array task {task}: --task_parts lists {} tasks",
            groups.len()
        )
    })?;
    parse_part_list(group)
}

/// `0,6`: part indices.
pub fn parse_part_list(list: &str) -> Result<Vec<usize>> {
    list.split(',')
        .map(|p| {
            p.trim()
                .parse()
                .map_err(|_| format!("`{list}`: part numbers separated by commas").into())
        })
        .collect()
}

/// `task_parts`'s inverse: the `--task_parts` value of these groups.
pub fn task_parts_arg(groups: &[Vec<usize>]) -> String {
    groups
        .iter()
        .map(|g| {
            g.iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generation::Chunks;
    use crate::plan::{plan, EvalOptions};
    use crate::target::ServerChoice;

    fn two_by_three() -> EvalPlan {
        let mut o = EvalOptions::new(
            "/tmp/out",
            "aime24:1,gsm8k:0",
            ServerChoice::remote(tally_core::ServerType::Vllm, "http://127.0.0.1:5000"),
        );
        o.data_dir = "/data".into();
        o.chunks = Chunks::parse(Some(3), None).unwrap();
        plan(&o).unwrap()
    }

    #[test]
    fn num_jobs_groups_parts_as_ns_eval() {
        let p = two_by_three();
        assert_eq!(p.parts().len(), 6);
        let per_part = p.job_groups(NumJobs::PerPart);
        assert_eq!(per_part.len(), 6);
        assert_eq!(
            p.job_groups(NumJobs::PerBenchmark),
            [vec![0, 1, 2], vec![3, 4, 5]]
        );
        // One job per chunk: chunk i of both benchmarks.
        assert_eq!(
            p.job_groups(NumJobs::Count(1)),
            [vec![0, 3], vec![1, 4], vec![2, 5]]
        );
        assert_eq!(p.job_groups(NumJobs::Count(5)).len(), 6);
        for n in [NumJobs::PerPart, NumJobs::PerBenchmark, NumJobs::Count(1)] {
            let mut all: Vec<usize> = p.job_groups(n).into_iter().flatten().collect();
            all.sort_unstable();
            assert_eq!(all, (0..6).collect::<Vec<_>>(), "{n:?}");
        }
        assert_eq!(p.part_name(p.parts()[4]), "gsm8k-chunk1");
        let g = p.group(&p.parts_at(&[0, 3]).unwrap()).unwrap();
        assert_eq!(g.parts().len(), 2);
        assert!(p
            .parts_at(&[6])
            .unwrap_err()
            .to_string()
            .contains("6 parts"));
    }

    #[test]
    fn flags_and_task_lists_parse_or_say_why() {
        assert_eq!(NumJobs::from_flag(None).unwrap(), NumJobs::PerPart);
        assert_eq!(NumJobs::from_flag(Some(-1)).unwrap(), NumJobs::PerBenchmark);
        assert_eq!(NumJobs::from_flag(Some(4)).unwrap(), NumJobs::Count(4));
        assert!(NumJobs::from_flag(Some(0)).is_err());
        assert!(NumJobs::from_flag(Some(-2)).is_err());
        let arg = task_parts_arg(&[vec![0, 3], vec![1, 4], vec![2]]);
        assert_eq!(arg, "0,3/1,4/2");
        assert_eq!(task_parts(&arg, 1).unwrap(), [1, 4]);
        assert_eq!(task_parts(&arg, 2).unwrap(), [2]);
        assert!(task_parts(&arg, 3)
            .unwrap_err()
            .to_string()
            .contains("3 tasks"));
        assert!(parse_part_list("1,x").is_err());
    }

    #[test]
    fn nothing_is_final_before_it_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let mut o = EvalOptions::new(
            dir.path(),
            "aime24:0",
            ServerChoice::remote(tally_core::ServerType::Vllm, "http://127.0.0.1:5000"),
        );
        o.chunks = Chunks::parse(Some(2), None).unwrap();
        let p = plan(&o).unwrap();
        let parts = p.parts();
        assert!(!p.part_final(parts[0]));
        assert_eq!(p.unfinished(), ["aime24"]);
        let out = &p.benchmarks[0].generated_dir;
        std::fs::create_dir_all(out).unwrap();
        let chunk = out.join("output_chunk_0.jsonl");
        std::fs::write(&chunk, "").unwrap();
        tally_cluster::mark_done(&chunk).unwrap();
        assert!(p.part_final(parts[0]));
        assert!(!p.part_final(parts[1]));
        assert_eq!(p.unfinished(), ["aime24"]);
    }
}
