//! `tally-prepare`: Prepare benchmarks as JSONL problem files (= `tally prepare`).

tally::stage_main!(
    "tally-prepare",
    "Prepare benchmarks as JSONL problem files (= `tally prepare`).",
    cmd_prepare
);
