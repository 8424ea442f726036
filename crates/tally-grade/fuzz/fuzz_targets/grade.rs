//! `cargo fuzz run grade` from crates/tally-grade: every public grading path — extraction in
//! all modes, the `--extract` chain (`extract_fallback`, through `grade_pair_extracting`),
//! choice letters, both comparison policies, the canonical form — must never panic, whatever
//! the text.
//!
//! An input is `response \x01 gold` (no separator: the gold is `1`). The public functions
//! catch their own panics (a grader bug becomes `grader_error`), but libfuzzer-sys's panic hook
//! aborts on any panic, caught or not, so each one is still a crash here. `mutate.rs` holds the
//! structure-aware mutator.
//!
//! Each input's CPU time (this thread's, so a busy machine does not inflate it, unlike
//! libFuzzer's wall-clock `-timeout`) is measured: over 1 s is a crash; a new slowest input over
//! 10 ms is printed (`slowest input so far: …`) and, with `TALLY_FUZZ_SLOW_DIR` set, saved.
#![no_main]

mod mutate;

use std::sync::atomic::{AtomicU64, Ordering};

use libfuzzer_sys::{fuzz_crossover, fuzz_mutator, fuzz_target};
use tally_grade::{
    canonical, extract_answer, extract_choice_letter, ExtractMode, ExtractStatus, Grader, Outcome,
    Policy,
};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    // A stack overflow kills the process before libFuzzer can save the input: with
    // `TALLY_FUZZ_LAST_INPUT` set, every input is written there first, to be replayed.
    if let Some(path) = LAST_INPUT.get_or_init(|| std::env::var_os("TALLY_FUZZ_LAST_INPUT")) {
        let _ = std::fs::write(path, data);
    }
    // On a thread with rayon's default stack (2 MiB), as in `tally grade`'s workers: a
    // recursion too deep for one is a crash here (this build's frames are larger than a
    // production build's, so the check is on the safe side). `TALLY_FUZZ_STACK` (bytes) makes
    // it smaller, to find the paths whose stack grows with the input before they overflow.
    let us = std::thread::scope(|scope| {
        std::thread::Builder::new()
            .stack_size(*STACK.get_or_init(|| {
                std::env::var("TALLY_FUZZ_STACK")
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(2 << 20)
            }))
            .spawn_scoped(scope, || {
                let start = cpu_time_us();
                grade_all(s);
                cpu_time_us().saturating_sub(start)
            })
            .expect("spawn a grading thread")
            .join()
            .expect("the grading thread panicked")
    });
    note_time(data, us);
});

fuzz_mutator!(|data: &mut [u8], size: usize, max_size: usize, seed: u32| {
    mutate::mutate(data, size, max_size, seed)
});

fuzz_crossover!(|data1: &[u8], data2: &[u8], out: &mut [u8], seed: u32| {
    mutate::crossover(data1, data2, out, seed)
});

fn grade_all(s: &str) {
    let (response, gold) = s.split_once('\u{1}').unwrap_or((s, "1"));
    let mut answers = Vec::new();
    for mode in [
        ExtractMode::NemoSkills,
        ExtractMode::Tally,
        ExtractMode::TallyAfterThink,
    ] {
        let ex = extract_answer(response, mode);
        check_extraction(ex.status);
        answers.extend(ex.answer);
    }
    let _ = extract_choice_letter(response);
    let tally = Grader::builder().policy(Policy::Tally).build();
    let seed = Grader::builder().policy(Policy::NemoSkills).build();
    // The `--extract` chain (`extract_fallback`) runs once, inside the pair grading; the other
    // policy compares its answer below (the chain itself does not depend on the policy).
    let (ex, v) = tally.grade_pair_extracting(response, gold);
    check_extraction(ex.status);
    check_outcome(v.outcome);
    answers.extend(ex.answer);
    // The modes often agree: each distinct answer is compared once.
    answers.sort_unstable();
    answers.dedup();
    for g in [&tally, &seed] {
        // The whole texts as answers (pair mode without --extract), both ways round.
        check_outcome(g.equal(response, gold).outcome);
        check_outcome(g.equal(gold, response).outcome);
        check_outcome(g.equal_extracted(None, gold).outcome);
        for a in &answers {
            check_outcome(g.equal_extracted(Some(a), gold).outcome);
        }
    }
    let _ = canonical(response);
    let _ = canonical(gold);
    for a in &answers {
        let _ = canonical(a);
    }
}

/// Unreachable while libfuzzer-sys's hook aborts on the panic itself; kept so the target
/// still fails if that hook ever stops doing so.
fn check_outcome(o: Outcome) {
    assert_ne!(o, Outcome::GraderError, "the grader panicked (caught)");
}

fn check_extraction(s: ExtractStatus) {
    assert_ne!(
        s,
        ExtractStatus::GraderError,
        "the extractor panicked (caught)"
    );
}

/// The CPU time this thread has used, in microseconds.
fn cpu_time_us() -> u64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid, writable timespec; the clock id is a constant Linux supports.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    t.tv_sec as u64 * 1_000_000 + t.tv_nsec as u64 / 1_000
}

static SLOWEST_US: AtomicU64 = AtomicU64::new(10_000);

static STACK: std::sync::OnceLock<usize> = std::sync::OnceLock::new();

static LAST_INPUT: std::sync::OnceLock<Option<std::ffi::OsString>> = std::sync::OnceLock::new();

fn note_time(data: &[u8], us: u64) {
    if us <= SLOWEST_US.load(Ordering::Relaxed) {
        return;
    }
    assert!(
        us < 1_000_000,
        "one input took {} ms of CPU time ({} bytes): over the 1 s budget",
        us / 1000,
        data.len()
    );
    SLOWEST_US.store(us, Ordering::Relaxed);
    eprintln!(
        "slowest input so far: {:.1} ms ({} bytes)",
        us as f64 / 1000.0,
        data.len()
    );
    if let Some(dir) = std::env::var_os("TALLY_FUZZ_SLOW_DIR") {
        let path = std::path::Path::new(&dir).join(format!("slow-{us}us"));
        let _ = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(path, data));
    }
}
