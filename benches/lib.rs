//! Shared helpers for the benchmarks: where the `../shared` workloads are.

use std::path::PathBuf;

/// `../shared` beside the repository, or `$TALLY_SHARED_DIR`.
pub fn shared_dir() -> PathBuf {
    std::env::var_os("TALLY_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"))
}
