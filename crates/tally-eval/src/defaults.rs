//! The one place where Tally's documented environment defaults are read (`TALLY_CACHE_DIR`,
//! `TALLY_DATA_DIR`, `HF_TOKEN`, `OPENAI_API_KEY`, `NEMO_SKILLS_SANDBOX_{HOST,PORT}`,
//! `TALLY_LOCAL_THREADS`, whether an HTTP proxy is set) and where a prepared benchmark's path is
//! built. Other library crates take these as arguments.

use std::path::{Path, PathBuf};

/// `$TALLY_CACHE_DIR`, else `~/.cache/tally`: servers, models and the sandbox's venv.
pub fn cache_dir() -> PathBuf {
    std::env::var_os("TALLY_CACHE_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/tally")))
        .unwrap_or_else(|| PathBuf::from("/var/cache/tally"))
}

/// `$TALLY_DATA_DIR`, else `$XDG_DATA_HOME/tally/datasets` (`~/.local/share/tally/datasets`).
pub fn data_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("TALLY_DATA_DIR") {
        return PathBuf::from(d);
    }
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("tally/datasets")
}

/// A prepared benchmark's problems: `<data_dir>/<benchmark>/<split>.jsonl`.
pub fn dataset_path(data_dir: &Path, benchmark: &str, split: &str) -> PathBuf {
    data_dir.join(benchmark).join(format!("{split}.jsonl"))
}

/// An environment variable that is set and not empty.
pub(crate) fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The Hugging Face token for gated datasets (`HF_TOKEN`).
pub fn hf_token() -> Option<String> {
    env_nonempty("HF_TOKEN")
}

/// The sandbox's Python environment made by `scripts/sandbox-setup.sh`.
pub fn sandbox_venv() -> PathBuf {
    tally_sandbox::SandboxConfig::venv_in(&cache_dir())
}

/// Threads for the embedded model: every core by default (results do not depend on the thread
/// count); `TALLY_LOCAL_THREADS` caps it on a shared machine.
pub fn local_threads() -> usize {
    std::env::var("TALLY_LOCAL_THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .filter(|&n: &usize| n > 0)
        .or_else(|| std::thread::available_parallelism().ok().map(|n| n.get()))
        .unwrap_or(1)
}

/// The Slurm job this process runs in (`SLURM_JOB_ID`), to requeue it when it is told to stop.
pub fn slurm_job_id() -> Option<String> {
    env_nonempty("SLURM_JOB_ID")
}

/// Whether `HTTP_PROXY`/`ALL_PROXY` (either case) is set: then tally-backend sends plain `http://`
/// requests through reqwest, which applies the proxy and its `NO_PROXY` rules.
pub fn proxy_configured() -> bool {
    ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()))
}
