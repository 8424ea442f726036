//! tally-grade's integration tests, one binary (each module was its own binary: fewer links on
//! a cold build).

mod accuracy;
mod crash_regressions;
mod dev_sets;
mod extraction;
mod hostile;
mod properties;
mod reference_vectors;
