//! `tally-summarize`: Summarize graded sample files (= `tally summarize-results`).

tally::stage_main!(
    "tally-summarize",
    "Summarize graded sample files (= `tally summarize-results`).",
    cmd_summarize
);
