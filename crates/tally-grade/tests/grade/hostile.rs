//! Hostile inputs must come back quickly with a verdict, never a hang, panic or overflow.
//! (The bound is a hang detector, generous for a loaded CI machine; speed is measured by benches.)

use std::time::{Duration, Instant};
use tally_grade::{canonical, extract_answer, ExtractMode, Grader, Outcome, Policy};

fn quick<T>(f: impl FnOnce() -> T) -> T {
    let t = Instant::now();
    let r = f();
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "took {:?}",
        t.elapsed()
    );
    r
}

#[test]
fn hostile_inputs_are_bounded() {
    let nested = format!("{}1{}", "{".repeat(10_000), "}".repeat(10_000));
    let parens = format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000));
    let big = "1".repeat(1 << 20);
    let cases: Vec<(String, &str)> = vec![
        ("10^{10^{10^{10}}}".into(), "1"),
        ("9999!".into(), "1"),
        ("2^{2^{2^{2^{2}}}}".into(), "65536"),
        ("\\binom{100000000}{50000000}".into(), "1"),
        (nested.clone(), "1"),
        (parens, "1"),
        (big.clone(), "1"),
        (format!("\\sqrt{{{}}}", "\\sqrt{".repeat(5000)), "2"),
        ("x^{x^{x^{x^{x^{x^{x}}}}}}".into(), "x"),
        ("\\frac{1}{0}".into(), "\\infty"),
        ("0^{-1}".into(), "1"),
        ("(((((".into(), ")))))"),
        ("\\begin{pmatrix}".into(), "1"),
        ("1e999999999".into(), "1"),
    ];
    for policy in [Policy::Tally, Policy::NemoSkills] {
        let g = Grader::builder().policy(policy).build();
        for (p, r) in &cases {
            let v = quick(|| g.equal(p, r));
            // The seed policy keeps its quirks (it calls `(((((` and `)))))` equal, as the seed
            // does after deleting brackets); only the Tally verdicts are checked here.
            if policy == Policy::Tally {
                assert_ne!(v.outcome, Outcome::Equal, "{policy:?} {:.40} vs {r}", p);
            }
            quick(|| g.equal(r, p));
        }
    }
    quick(|| canonical(&big));
    quick(|| canonical(&nested));
    quick(|| {
        extract_answer(
            &format!("\\boxed{{{}", "{".repeat(1 << 20)),
            ExtractMode::Tally,
        )
    });
}

#[test]
fn huge_exact_numbers_decide_or_stay_undecided() {
    let g = Grader::default();
    // 2^65536 is within the bit budget and compares exactly.
    assert_eq!(
        g.equal("2^{2^{2^{2^{2}}}}", "2^{65536}").outcome,
        Outcome::Equal
    );
    assert_eq!(
        g.equal("2^{2^{2^{2^{2}}}}", "2^{65535}").outcome,
        Outcome::NotEqual
    );
    // Past the budget on both sides: no false "equal", a reason instead.
    let v = g.equal("10^{10^{10^{10}}}", "10^{10^{10^{10}}}+1");
    assert!(matches!(v.outcome, Outcome::Undecided(_)), "{v:?}");
}

#[test]
fn same_verdicts_on_any_thread_count() {
    use rayon::prelude::*;
    let pairs: Vec<(String, String)> = (0..2000)
        .map(|k| {
            (
                format!("\\frac{{{}}}{{{}}}x^2 + \\sin(y)", k, k % 7 + 1),
                format!("{}x^2/{} + \\sin y", k, k % 5 + 1),
            )
        })
        .collect();
    let g = Grader::default();
    let serial: Vec<_> = pairs.iter().map(|(a, b)| g.equal(a, b)).collect();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(4)
        .build()
        .unwrap();
    let parallel: Vec<_> = pool.install(|| pairs.par_iter().map(|(a, b)| g.equal(a, b)).collect());
    assert_eq!(serial, parallel);
    assert!(serial.iter().any(|v| v.is_equal()) && serial.iter().any(|v| !v.is_equal()));
}
