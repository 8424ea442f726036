//! One trial: a real `tally` process killed with SIGKILL two or three times at random moments
//! (or the moment a phase starts: a pass finalizing, chunks merging, grading, summarizing), then
//! restarted until it finishes; then the invariants ([`crate::invariants`]).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tally_core::SplitMix64;

use crate::invariants::{check_outputs, Violation};
use crate::workload::{command, Data, Mode, Workload};

/// When a kill comes.
#[derive(Debug, Clone, PartialEq)]
pub enum KillAt {
    /// After this long.
    After(Duration),
    /// As soon as a file whose name contains `pattern` appears under the output directory
    /// (a temporary of an atomic write, a `.done` marker, `metrics.json`…), or after the
    /// fallback delay.
    Phase {
        pattern: &'static str,
        fallback: Duration,
    },
}

/// File-name fragments that mark a phase of `mode`: `.tmp-` is any atomic rewrite in progress
/// (a pass finalizing, a merge, grading, a summary), `.done` a finished pass or chunk,
/// `.tally-run.json` a finalized pass's record, `_chunk_` chunk files, `metrics.json` the
/// summary, `tally-eval-manifest` an evaluated benchmark.
fn phases(mode: Mode) -> &'static [&'static str] {
    match mode {
        Mode::Generate | Mode::Judge => &[".tmp-", ".tally-run.json", ".done"],
        Mode::Chunks => &[".tmp-", ".tally-run.json", ".done", "_chunk_"],
        Mode::Eval => &[
            ".tmp-",
            ".tally-run.json",
            ".done",
            "metrics.json",
            "tally-eval-manifest",
        ],
    }
}

/// What happened in one trial.
#[derive(Debug, Clone)]
pub struct TrialReport {
    pub mode: Mode,
    pub seed: u64,
    pub kills: Vec<String>,
    /// Runs after the kills until one finished with exit code 0.
    pub restarts: usize,
    pub violations: Vec<Violation>,
    pub elapsed: Duration,
}

impl TrialReport {
    pub fn exact(&self) -> bool {
        self.violations.is_empty()
    }
}

/// A trial's settings.
#[derive(Debug, Clone)]
pub struct Trial<'a> {
    pub tally: &'a Path,
    pub mode: Mode,
    pub seed: u64,
    pub workload: &'a Workload,
    pub data: &'a Data,
    pub url: &'a str,
    pub out: PathBuf,
    /// The uninterrupted run's output directory, to compare with.
    pub reference: &'a Path,
    /// Most runs to finish after the kills.
    pub max_restarts: usize,
    /// A run taking longer than this is a hang (a violation).
    pub run_limit: Duration,
}

/// Kill moments for a trial: 2 or 3, the first in 0.3–2.5 s, later ones in 0.2–1.5 s, about a
/// third of them at a phase instead.
pub fn kill_plan(mode: Mode, seed: u64) -> Vec<KillAt> {
    let phases = phases(mode);
    let mut rng = SplitMix64::new(seed ^ 0x4B11_1000);
    let kills = 2 + rng.below(2);
    (0..kills)
        .map(|k| {
            let (lo, hi) = if k == 0 { (0.3, 2.5) } else { (0.2, 1.5) };
            let after = Duration::from_secs_f64(lo + (hi - lo) * rng.next_f64());
            if rng.below(3) == 0 {
                KillAt::Phase {
                    pattern: phases[rng.below(phases.len())],
                    fallback: after * 3,
                }
            } else {
                KillAt::After(after)
            }
        })
        .collect()
}

/// When (if at all) a trial starts a twin process beside its first run.
pub fn twin_plan(seed: u64) -> Option<Duration> {
    let mut rng = SplitMix64::new(seed ^ 0x7771_0000);
    (rng.below(4) == 0).then(|| Duration::from_secs_f64(0.3 * rng.next_f64()))
}

impl Trial<'_> {
    fn spawn(&self, log: &Path) -> std::io::Result<Child> {
        let args = command(self.mode, self.workload, self.data, self.url, &self.out);
        let stderr = std::fs::File::create(log)?;
        let stdout = stderr.try_clone()?;
        Command::new(self.tally)
            .args(&args)
            .env("NO_COLOR", "1")
            .env_remove("TALLY_LOG")
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
    }

    /// Runs the trial: kills, restarts, checks.
    pub fn run(&self) -> std::io::Result<TrialReport> {
        let started = Instant::now();
        let logs = self.out.with_extension("logs");
        std::fs::create_dir_all(&logs)?;
        let mut kills = Vec::new();
        let mut violations = Vec::new();
        let mut run_no = 0usize;
        // Every fourth trial starts a second process on the same output beside the first run:
        // it must be refused (or find the work done), never corrupt it.
        let twin_delay = twin_plan(self.seed);
        for (k, at) in kill_plan(self.mode, self.seed).into_iter().enumerate() {
            run_no += 1;
            let log = logs.join(format!("run-{run_no}.log"));
            let mut child = self.spawn(&log)?;
            let twin = match twin_delay.filter(|_| k == 0) {
                Some(d) => {
                    std::thread::sleep(d);
                    let twin_log = logs.join("twin.log");
                    Some((self.spawn(&twin_log)?, twin_log))
                }
                None => None,
            };
            let what = kill_when(&mut child, &at, &self.out)?;
            kills.push(what);
            scan_log(&log, &mut violations);
            if let Some((mut twin, twin_log)) = twin {
                let t0 = Instant::now();
                while twin.try_wait()?.is_none() && t0.elapsed() < self.run_limit {
                    std::thread::sleep(Duration::from_millis(5));
                }
                let _ = twin.kill();
                let status = twin.wait()?;
                kills.push(format!("a twin run beside it ended with {status}"));
                scan_log(&twin_log, &mut violations);
            }
        }
        let mut restarts = 0;
        let mut finished = false;
        while restarts < self.max_restarts {
            restarts += 1;
            run_no += 1;
            let log = logs.join(format!("run-{run_no}.log"));
            let mut child = self.spawn(&log)?;
            let t0 = Instant::now();
            let status = loop {
                if let Some(s) = child.try_wait()? {
                    break Some(s);
                }
                if t0.elapsed() > self.run_limit {
                    let _ = child.kill();
                    let _ = child.wait();
                    break None;
                }
                std::thread::sleep(Duration::from_millis(5));
            };
            scan_log(&log, &mut violations);
            match status {
                None => violations.push(Violation::new(
                    &log,
                    format!("run {run_no} did not finish within {:?}", self.run_limit),
                )),
                Some(s) if s.success() => {
                    finished = true;
                    break;
                }
                // Exit 2: samples failed for a transient reason and a rerun retries them.
                Some(_) => {}
            }
        }
        if !finished {
            violations.push(Violation::new(
                &self.out,
                format!("not finished after {restarts} runs following the kills"),
            ));
        } else {
            check_outputs(
                self.mode,
                self.reference,
                &self.out,
                self.workload,
                &mut violations,
            )?;
        }
        Ok(TrialReport {
            mode: self.mode,
            seed: self.seed,
            kills,
            restarts,
            violations,
            elapsed: started.elapsed(),
        })
    }
}

/// Waits for `at` and SIGKILLs the child (unless it ended first); says what happened.
fn kill_when(child: &mut Child, at: &KillAt, out: &Path) -> std::io::Result<String> {
    let t0 = Instant::now();
    let (limit, pattern) = match at {
        KillAt::After(d) => (*d, None),
        KillAt::Phase { pattern, fallback } => (*fallback, Some(*pattern)),
    };
    let seen_before = pattern.map(|p| names_with(out, p)).unwrap_or_default();
    loop {
        if let Some(s) = child.try_wait()? {
            return Ok(format!(
                "exited by itself after {:.2}s ({s})",
                t0.elapsed().as_secs_f64()
            ));
        }
        if let Some(p) = pattern {
            let now = names_with(out, p);
            if let Some(new) = now.iter().find(|n| !seen_before.contains(n)) {
                child.kill()?;
                child.wait()?;
                return Ok(format!(
                    "killed at phase `{p}` ({new}) after {:.2}s",
                    t0.elapsed().as_secs_f64()
                ));
            }
        }
        if t0.elapsed() >= limit {
            child.kill()?;
            child.wait()?;
            return Ok(format!(
                "killed after {:.2}s{}",
                t0.elapsed().as_secs_f64(),
                pattern
                    .map(|p| format!(" (phase `{p}` not seen)"))
                    .unwrap_or_default()
            ));
        }
        std::thread::sleep(Duration::from_micros(500));
    }
}

/// Names (relative paths) under `dir` containing `pattern`.
fn names_with(dir: &Path, pattern: &str) -> Vec<String> {
    let mut out = Vec::new();
    crate::invariants::walk(dir, dir, &mut |rel| {
        if rel.contains(pattern) {
            out.push(rel.to_string());
        }
    });
    out
}

/// An internal error or a panic in a run's output is a violation whatever happened after.
fn scan_log(log: &Path, violations: &mut Vec<Violation>) {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    for needle in ["internal error", "panicked", "RUST_BACKTRACE"] {
        if let Some(line) = text.lines().find(|l| l.contains(needle)) {
            violations.push(Violation::new(log, format!("`{needle}`: {line}")));
        }
    }
}
