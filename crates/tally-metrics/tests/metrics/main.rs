//! tally-metrics' integration tests, one binary.

mod genselect_rows;
mod greedy_layout;
mod no_data;
mod run_statistics;
