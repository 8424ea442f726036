//! End-to-end tests of the `tally` binary: real files on disk, the real executable.
//! Expected numbers are derived by hand from the spec (§6), not from Tally's output.

mod chunks;
mod common;
mod eval;
mod eval_genselect;
mod eval_greedy_layout;
mod eval_judge;
mod fail_fast;
mod genselect;
mod grade;
mod judge;
mod prepare;
mod sandbox;
mod slurm_arrays;
mod slurm_preempt;
mod stages;
mod summarize_compat;
mod summarize_default;
mod summarize_errors;
mod summarize_stats;
mod tir;
mod torture;
mod view;
