//! The batch script the Slurm executor submits for a job.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::{ClusterError, Result};
use crate::job::Job;
use tally_core::shell::{join as shell_line, quote as shell_quote};

/// Cluster-wide settings of the Slurm executor: where scripts go, which partition and limits
/// every job asks for, and where the Slurm programs are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlurmConfig {
    /// Directory the batch scripts are written to (kept, for inspection and resubmission).
    pub script_dir: PathBuf,
    /// `--partition` (ns `--partition`); `None`: the cluster's default.
    pub partition: Option<String>,
    /// `--time`, e.g. `04:00:00` (ns takes it from the cluster config's timeouts).
    pub time: Option<String>,
    /// `--time-min` (ns `--time_min`), which lets the scheduler start a job earlier with less time.
    pub time_min: Option<String>,
    /// `--nodes` (ns `--server_nodes`).
    pub nodes: Option<u32>,
    /// `--gpus-per-node` (ns `--server_gpus`).
    pub gpus_per_node: Option<u32>,
    /// `--exclusive` (ns: unless `--not_exclusive`).
    pub exclusive: bool,
    /// More `#SBATCH` lines, each the text after `#SBATCH ` (e.g. `--account=abc`).
    pub extra_directives: Vec<String>,
    /// Where `sbatch`, `squeue`, `scontrol` and `scancel` are; `None`: looked up in `PATH`.
    pub bin_dir: Option<PathBuf>,
    /// How often [`Executor::wait`](crate::Executor::wait) asks Slurm about its jobs.
    pub poll_interval: Duration,
    /// `--requeue`: a preempted job (or one that requeues itself) starts again and resumes.
    pub requeue: bool,
    /// `--signal=B:USR1@<s>`: SIGUSR1 to the job this long before its time limit, so it stops
    /// cleanly and requeues itself.
    pub warn_before_limit: Option<Duration>,
}

impl SlurmConfig {
    /// NeMo-Skills' defaults: exclusive nodes, the cluster's default partition and limits.
    pub fn new(script_dir: impl Into<PathBuf>) -> Self {
        SlurmConfig {
            script_dir: script_dir.into(),
            partition: None,
            time: None,
            time_min: None,
            nodes: None,
            gpus_per_node: None,
            exclusive: true,
            extra_directives: Vec::new(),
            bin_dir: None,
            poll_interval: Duration::from_secs(5),
            requeue: true,
            warn_before_limit: Some(Duration::from_secs(120)),
        }
    }
}

/// The batch script for `job`: its `#SBATCH` options, then `export`s of its environment and an
/// `exec` of its argument vector, shell-quoted so the job runs exactly that vector.
///
/// A dependent job also gets `--kill-on-invalid-dep=yes`: when a dependency fails, Slurm then
/// cancels it instead of leaving it pending forever, whatever the cluster's own setting.
pub fn sbatch_script(job: &Job, config: &SlurmConfig) -> Result<String> {
    job.validate()?;
    let mut directives = vec![
        format!("--job-name={}", job.name),
        format!(
            "--output={}",
            directive_value(job, "log path", &job.log_path.to_string_lossy())?
        ),
    ];
    if let Some(p) = &config.partition {
        directives.push(format!(
            "--partition={}",
            directive_value(job, "partition", p)?
        ));
    }
    if let Some(t) = &config.time {
        directives.push(format!("--time={}", directive_value(job, "time", t)?));
    }
    if let Some(t) = &config.time_min {
        directives.push(format!(
            "--time-min={}",
            directive_value(job, "time_min", t)?
        ));
    }
    if let Some(n) = config.nodes {
        directives.push(format!("--nodes={n}"));
    }
    if let Some(g) = config.gpus_per_node {
        directives.push(format!("--gpus-per-node={g}"));
    }
    if config.exclusive {
        directives.push("--exclusive".to_string());
    }
    if config.requeue {
        directives.push("--requeue".to_string());
    }
    if let Some(d) = config.warn_before_limit {
        directives.push(format!("--signal=B:USR1@{}", d.as_secs().max(1)));
    }
    if let Some(dir) = &job.current_dir {
        directives.push(format!(
            "--chdir={}",
            directive_value(job, "working directory", &dir.to_string_lossy())?
        ));
    }
    if !job.depends_on.is_empty() {
        for id in &job.depends_on {
            if !id.is_slurm_id() {
                return Err(invalid(job, &format!("`{id}` is not a Slurm job id")));
            }
        }
        let ids: Vec<&str> = job.depends_on.iter().map(|id| id.as_str()).collect();
        if job.after_any {
            directives.push(format!("--dependency=afterany:{}", ids.join(":")));
        } else {
            directives.push(format!("--dependency=afterok:{}", ids.join(":")));
            directives.push("--kill-on-invalid-dep=yes".to_string());
        }
    }
    if let Some(n) = job.array {
        directives.push(format!("--array=0-{}", n - 1));
    }
    for extra in &config.extra_directives {
        if extra.contains(['\n', '\r']) {
            return Err(invalid(job, "an extra #SBATCH directive spans lines"));
        }
        directives.push(extra.clone());
    }

    let mut script = String::from("#!/bin/bash\n");
    for d in directives {
        script.push_str("#SBATCH ");
        script.push_str(&d);
        script.push('\n');
    }
    for (key, value) in &job.env {
        script.push_str(&format!("export {key}={}\n", shell_quote(value)));
    }
    // exec: the job's processes are the command itself, so scancel's signal reaches it directly.
    script.push_str("exec ");
    script.push_str(&shell_line(&job.command));
    script.push('\n');
    Ok(script)
}

/// A value for an `#SBATCH` line. sbatch splits those lines at spaces but honours double quotes,
/// so values with spaces are double-quoted; a value with a double quote or a line break cannot
/// be written at all.
fn directive_value(job: &Job, what: &str, value: &str) -> Result<String> {
    if value.is_empty() {
        return Err(invalid(job, &format!("the {what} is empty")));
    }
    if value.contains(['"', '\n', '\r']) {
        return Err(invalid(
            job,
            &format!("the {what} `{value}` contains a double quote or a line break"),
        ));
    }
    if value.contains(char::is_whitespace) {
        Ok(format!("\"{value}\""))
    } else {
        Ok(value.to_string())
    }
}

fn invalid(job: &Job, reason: &str) -> ClusterError {
    ClusterError::InvalidJob {
        name: job.name.clone(),
        reason: reason.to_string(),
    }
}

/// Where the script for `job` is written: `<script_dir>/<name>.<seq>.sbatch`, the sequence number
/// keeping two submissions of one name apart.
pub(crate) fn script_path(config: &SlurmConfig, job: &Job, seq: u64) -> PathBuf {
    config.script_dir.join(format!("{}.{seq}.sbatch", job.name))
}

/// The directory the log goes to, if Slurm cannot be left to make it: sbatch does not create it,
/// and a job whose log cannot be opened fails without a word. `None` when the directory part
/// holds a `%` pattern (resolved only by Slurm).
pub(crate) fn log_dir(job: &Job) -> Option<&Path> {
    let dir = job
        .log_path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())?;
    (!dir.to_string_lossy().contains('%')).then_some(dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::JobId;

    fn full_config() -> SlurmConfig {
        SlurmConfig {
            partition: Some("batch".into()),
            time: Some("04:00:00".into()),
            time_min: Some("01:00:00".into()),
            nodes: Some(2),
            gpus_per_node: Some(8),
            extra_directives: vec!["--account=llm".into()],
            ..SlurmConfig::new("/scripts")
        }
    }

    #[test]
    fn a_full_script_is_exactly_this() {
        let job = Job::new(
            "eval-0",
            [
                "tally",
                "eval",
                "--benchmarks",
                "aime24:8",
                "++prompt_config=generic/math",
                "it's a b",
            ],
            "/out/eval-logs/eval-0_%A_%a.log",
        )
        .env("HF_HOME", "/cache/hf")
        .env("NOTE", "two words")
        .after(&JobId::new("41"))
        .after(&JobId::new("42"))
        .array(3)
        .current_dir("/work dir");
        let script = sbatch_script(&job, &full_config()).unwrap();
        assert_eq!(
            script,
            "#!/bin/bash\n\
             #SBATCH --job-name=eval-0\n\
             #SBATCH --output=/out/eval-logs/eval-0_%A_%a.log\n\
             #SBATCH --partition=batch\n\
             #SBATCH --time=04:00:00\n\
             #SBATCH --time-min=01:00:00\n\
             #SBATCH --nodes=2\n\
             #SBATCH --gpus-per-node=8\n\
             #SBATCH --exclusive\n\
             #SBATCH --requeue\n\
             #SBATCH --signal=B:USR1@120\n\
             #SBATCH --chdir=\"/work dir\"\n\
             #SBATCH --dependency=afterok:41:42\n\
             #SBATCH --kill-on-invalid-dep=yes\n\
             #SBATCH --array=0-2\n\
             #SBATCH --account=llm\n\
             export HF_HOME=/cache/hf\n\
             export NOTE='two words'\n\
             exec tally eval --benchmarks aime24:8 ++prompt_config=generic/math 'it'\"'\"'s a b'\n"
        );
    }

    #[test]
    fn a_plain_job_gets_only_what_it_needs() {
        let config = SlurmConfig {
            exclusive: false,
            requeue: false,
            warn_before_limit: None,
            ..SlurmConfig::new("/scripts")
        };
        let job = Job::new(
            "summarize",
            ["tally", "summarize-results", "/out"],
            "/out/logs/summarize_%j.log",
        );
        assert_eq!(
            sbatch_script(&job, &config).unwrap(),
            "#!/bin/bash\n\
             #SBATCH --job-name=summarize\n\
             #SBATCH --output=/out/logs/summarize_%j.log\n\
             exec tally summarize-results /out\n"
        );
        let exclusive = sbatch_script(&job, &SlurmConfig::new("/s")).unwrap();
        assert!(exclusive.contains("\n#SBATCH --exclusive\n"));
        let any = job
            .after(&JobId::new("7"))
            .after(&JobId::new("8").task(2))
            .after_any();
        let any = sbatch_script(&any, &config).unwrap();
        assert!(
            any.contains("\n#SBATCH --dependency=afterany:7:8_2\n"),
            "{any}"
        );
        assert!(!any.contains("kill-on-invalid-dep"), "{any}");
    }

    #[test]
    fn unwritable_values_are_refused() {
        let config = SlurmConfig::new("/s");
        let quote = Job::new("j", ["true"], "/a\"b.log");
        assert!(sbatch_script(&quote, &config)
            .unwrap_err()
            .to_string()
            .contains("double quote"));
        let dep = Job::new("j", ["true"], "/l").after(&JobId::new("local-1"));
        assert!(sbatch_script(&dep, &config)
            .unwrap_err()
            .to_string()
            .contains("not a Slurm job id"));
    }

    #[test]
    fn the_log_directory_is_known_unless_slurm_fills_it_in() {
        assert_eq!(
            log_dir(&Job::new("j", ["t"], "/a/b/%j.log")),
            Some(Path::new("/a/b"))
        );
        assert_eq!(log_dir(&Job::new("j", ["t"], "/a/%x/l.log")), None);
        assert_eq!(log_dir(&Job::new("j", ["t"], "l.log")), None);
    }
}
