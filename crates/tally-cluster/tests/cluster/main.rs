//! tally-cluster's integration tests, one binary.

mod local_executor;
mod slurm_programs;
mod slurm_real;
