//! `cargo fuzz run grade` from crates/tally-grade: parser, both policies, extraction and the
//! canonical form must never panic, whatever the bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tally_grade::{canonical, extract_answer, ExtractMode, Grader, Policy};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let (a, b) = s.split_once('\u{1}').unwrap_or((s, "1"));
    for p in [Policy::Tally, Policy::NemoSkills] {
        let g = Grader::builder().policy(p).build();
        let _ = g.equal(a, b);
        let _ = g.equal(b, a);
    }
    let _ = canonical(a);
    let _ = extract_answer(a, ExtractMode::Tally);
    let _ = extract_answer(a, ExtractMode::NemoSkills);
});
