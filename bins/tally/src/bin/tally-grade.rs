//! `tally-grade`: Grade sample files in place, or pairs (= `tally grade`).

tally::stage_main!(
    "tally-grade",
    "Grade sample files in place, or pairs (= `tally grade`).",
    cmd_grade
);
