//! `tally-generate`: Generate samples against a server, crash-safe (= `tally generate`).

tally::stage_main!(
    "tally-generate",
    "Generate samples against a server, crash-safe (= `tally generate`).",
    cmd_generate
);
