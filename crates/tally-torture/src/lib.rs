//! The torture harness: proof, by trial, that a `tally` run killed at any moment and started
//! again ends with every sample exactly once and the same bytes as an uninterrupted run.
//!
//! - [`FaultServer`]: an OpenAI-compatible server of our own whose answers are a pure function
//!   of the request and which injects errors, 429s, resets, hangs, torn and slow bodies.
//! - [`Harness`]: prepares problems, makes the uninterrupted reference output of each
//!   [`Mode`] (a clean server), then runs [`Trial`]s: a real `tally` process SIGKILLed two or
//!   three times at random moments or at phases, restarted until it finishes, and checked
//!   against the [`invariants`].
//!
//! Used by `tally-torture` (bins/tally-torture) for long runs and by the CLI test suite for a
//! fixed-seed slice in CI.

pub mod answers;
pub mod fault_server;
pub mod invariants;
pub mod trial;
pub mod workload;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

pub use fault_server::{Fault, FaultConfig, FaultServer};
pub use invariants::Violation;
pub use trial::{kill_plan, KillAt, Trial, TrialReport};
pub use workload::{Data, Mode, Workload};

/// Why the harness itself could not run (not a broken invariant).
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the uninterrupted reference run of `{mode}` failed (exit {code:?}):\n{log}")]
    Reference {
        mode: &'static str,
        code: Option<i32>,
        log: String,
    },
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> HarnessError + '_ {
    move |source| HarnessError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A workspace of trials: shared data, one reference output per mode.
pub struct Harness {
    pub tally: PathBuf,
    pub root: PathBuf,
    pub workload: Workload,
    pub data: Data,
}

impl Harness {
    /// Writes the problems under `root` and makes the judge's input (an uninterrupted generate
    /// against a clean server, then `tally grade`).
    pub fn new(tally: &Path, root: &Path, workload: Workload) -> Result<Harness, HarnessError> {
        let data_dir = root.join("data");
        let problems = data_dir.join("problems.jsonl");
        workload::write_problems(&problems, workload.problems).map_err(io(&problems))?;
        let gsm = data_dir.join("gsm8k").join("test.jsonl");
        std::fs::create_dir_all(gsm.parent().unwrap_or(root)).map_err(io(&gsm))?;
        std::fs::copy(&problems, &gsm).map_err(io(&gsm))?;
        let judge_input = root.join("judge-input");
        let h = Harness {
            tally: tally.to_path_buf(),
            root: root.to_path_buf(),
            workload,
            data: Data {
                data_dir,
                problems,
                judge_input: judge_input.clone(),
            },
        };
        if !judge_input.exists() {
            let server = FaultServer::start(FaultConfig::clean()).map_err(io(root))?;
            h.run_clean(Mode::Generate, &server.url(), &judge_input)?;
            let mut grade = Command::new(&h.tally);
            grade.arg("grade");
            for s in 0..h.workload.seeds {
                grade.arg(judge_input.join(format!("output-rs{s}.jsonl")));
            }
            let out = grade.output().map_err(io(&judge_input))?;
            if !out.status.success() {
                return Err(HarnessError::Reference {
                    mode: "grade",
                    code: out.status.code(),
                    log: String::from_utf8_lossy(&out.stderr).into_owned(),
                });
            }
            // Only the graded seed files are the judge's input.
            for e in std::fs::read_dir(&judge_input)
                .map_err(io(&judge_input))?
                .flatten()
            {
                let name = e.file_name().to_string_lossy().into_owned();
                if !name.ends_with(".jsonl") {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
        Ok(h)
    }

    /// One uninterrupted run of `mode` into `out`.
    fn run_clean(&self, mode: Mode, url: &str, out: &Path) -> Result<(), HarnessError> {
        let args = workload::command(mode, &self.workload, &self.data, url, out);
        let o = Command::new(&self.tally)
            .args(&args)
            .output()
            .map_err(io(out))?;
        if !o.status.success() {
            return Err(HarnessError::Reference {
                mode: mode.name(),
                code: o.status.code(),
                log: format!(
                    "{}{}",
                    String::from_utf8_lossy(&o.stdout),
                    String::from_utf8_lossy(&o.stderr)
                ),
            });
        }
        Ok(())
    }

    /// The uninterrupted output of `mode` (made once, against a clean server).
    pub fn reference(&self, mode: Mode) -> Result<PathBuf, HarnessError> {
        let dir = self.root.join(format!("reference-{}", mode.name()));
        if !dir.exists() {
            let server = FaultServer::start(FaultConfig::clean()).map_err(io(&dir))?;
            self.run_clean(mode, &server.url(), &dir)?;
        }
        Ok(dir)
    }

    /// Trial `seed` of `mode` against `server`.
    pub fn trial(
        &self,
        mode: Mode,
        seed: u64,
        server: &FaultServer,
    ) -> Result<TrialReport, HarnessError> {
        let reference = self.reference(mode)?;
        let out = self.root.join(format!("trial-{}-{seed}", mode.name()));
        let url = server.url();
        let t = Trial {
            tally: &self.tally,
            mode,
            seed,
            workload: &self.workload,
            data: &self.data,
            url: &url,
            out: out.clone(),
            reference: &reference,
            max_restarts: 8,
            run_limit: Duration::from_secs(120),
        };
        t.run().map_err(io(&out))
    }
}
