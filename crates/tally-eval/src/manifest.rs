//! `tally-eval-manifest.json`: what produced a benchmark's results (tool, command, inputs and
//! their hashes, model, server, seeds, settings, grader, judge), beside the results.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::Result;

/// The manifest's file name in a benchmark's results folder.
pub const MANIFEST_FILE: &str = "tally-eval-manifest.json";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// `tally <version>`.
    pub tool: String,
    /// The command line that ran this part.
    pub command: Vec<String>,
    pub benchmark: String,
    pub split: String,
    pub input: PathBuf,
    pub input_sha256: String,
    pub prompt_sha256: String,
    pub model: String,
    pub server_type: tally_core::ServerType,
    /// The hosted server's command line, or the running server's address.
    pub server: Option<String>,
    pub seeds: Vec<Option<u64>>,
    pub overrides: Vec<String>,
    /// `tally` or `nemo-skills`.
    pub grader: String,
    pub outputs: Vec<PathBuf>,
    pub waiting_for_chunks: Vec<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judge: Option<JudgeManifest>,
}

/// The judge stage of a benchmark.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JudgeManifest {
    pub model: String,
    pub server_type: tally_core::ServerType,
    pub server: Option<String>,
    pub overrides: Vec<String>,
    /// The judged copies the summary reads.
    pub outputs: Vec<PathBuf>,
}

impl Manifest {
    pub fn write(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        tally_core::atomic::atomic_write_bytes(
            &dir.join(MANIFEST_FILE),
            serde_json::to_string_pretty(self)?.as_bytes(),
        )?;
        Ok(())
    }

    /// The manifest in `dir`, if one was written.
    pub fn read(dir: &Path) -> Option<Manifest> {
        let text = std::fs::read_to_string(dir.join(MANIFEST_FILE)).ok()?;
        serde_json::from_str(&text).ok()
    }
}
