//! `tally-sandbox`: Run the isolated code-execution service (= `tally sandbox`).

tally::stage_main!(
    "tally-sandbox",
    "Run the isolated code-execution service (= `tally sandbox`).",
    cmd_sandbox
);
