//! `tally-judge`: Judge graded samples with an LLM (= `tally judge`).

tally::stage_main!(
    "tally-judge",
    "Judge graded samples with an LLM (= `tally judge`).",
    cmd_judge
);
