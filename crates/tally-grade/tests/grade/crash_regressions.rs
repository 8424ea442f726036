//! Inputs that crashed the grader (a panic, a stack overflow) or took seconds, each found on a
//! real response or by fuzzing (`crates/tally-grade/fuzz`). Every public path catches its
//! panics now, so each case also checks that no `GraderError` came back: the cause is fixed,
//! not just contained.

use tally_grade::{
    canonical, extract_answer, extract_choice_letter, extract_fallback, grade_pair_extracting,
    ExtractMode, ExtractStatus, Extraction, Grader, Limit, Outcome, Policy, Reason,
};

fn fallback(text: &str) -> Extraction {
    let ex = extract_fallback(text);
    assert_ne!(ex.status, ExtractStatus::GraderError, "{text:.80}: {ex:?}");
    ex
}

fn answer(text: &str) -> Option<String> {
    fallback(text).answer
}

/// Both policies, both ways round: never a grader error.
fn compare(a: &str, b: &str) -> [Outcome; 4] {
    let mut out = [Outcome::NotEqual; 4];
    for (k, p) in [Policy::Tally, Policy::NemoSkills].into_iter().enumerate() {
        let g = Grader::builder().policy(p).build();
        out[2 * k] = g.equal(a, b).outcome;
        out[2 * k + 1] = g.equal(b, a).outcome;
    }
    for o in out {
        assert_ne!(o, Outcome::GraderError, "{a:.60} vs {b:.60}");
    }
    out
}

// The reported panic: `begin > end` in `boxed_group` on a response ending in `\boxed{}}`. Boxes
// sorted by start put a box before the box inside it, so the gap between them ran backwards.
#[test]
fn a_box_inside_a_box_is_not_a_separate_answer() {
    let physics = "The kinetic energy is therefore $E = \\boxed{\\frac{1}{2} m v^2 \\boxed{}}";
    let ex = fallback(physics);
    assert_eq!(ex.status, ExtractStatus::Found);
    // The last box to start (the inner, empty one) is the answer, as in `extract_answer`.
    assert_eq!(ex.answer.as_deref(), Some(""));
    assert_eq!(
        extract_answer(physics, ExtractMode::Tally)
            .answer
            .as_deref(),
        Some("")
    );
    assert_eq!(answer("\\boxed{\\boxed{5}}").as_deref(), Some("5"));
    assert_eq!(answer("so \\boxed{}}").as_deref(), Some(""));
    assert_eq!(answer("\\boxed{\\boxed{}}}").as_deref(), Some(""));
    assert_eq!(answer("\\boxed{a}}\\boxed{b}").as_deref(), Some("a, b"));
    // Box in a box in text, then a box beside it: only top-level boxes are joined.
    assert_eq!(
        answer("We get \\boxed{x = \\boxed{3}} and \\boxed{4}.").as_deref(),
        Some("x = \\boxed{3}, 4")
    );
    assert_eq!(
        answer("\\fbox{1 \\boxed{2}} and \\boxed{3 \\fbox{4}}").as_deref(),
        Some("4")
    );
    // Empty boxes side by side are still joined.
    assert_eq!(answer("\\boxed{} and \\boxed{}").as_deref(), Some(", "));
    // Adjacent top-level boxes keep working.
    assert_eq!(
        answer("\\(x_1 = \\boxed{1}\\) and \\(x_2 = \\boxed{-2}\\)").as_deref(),
        Some("1, -2")
    );
    // The reference side goes through the same reader.
    let (ex, v) = grade_pair_extracting("so \\boxed{7}", "\\boxed{\\boxed{7}}}");
    assert_eq!(ex.answer.as_deref(), Some("7"));
    assert_eq!(v.outcome, Outcome::Equal);
}

#[test]
fn only_the_box_read_last_is_joined_with_its_neighbours() {
    // The last box is `\boxed 3` (no braces): earlier boxes are not its neighbours.
    assert_eq!(
        answer("\\boxed{1} and \\boxed{2} and \\boxed 3").as_deref(),
        Some("3")
    );
}

// `to_lowercase` kept the total length of this text while moving every boundary after `Ⱥ`
// (2 → 3 bytes) and the Kelvin sign (3 → 1 byte): an offset found in the lowercase text cut
// a character of the original.
#[test]
fn answer_words_after_characters_whose_lowercase_changes_length() {
    let t = "ȺȺanswer\u{212A}\u{212A}ȺȺ 5";
    let _ = fallback(t);
    let _ = extract_choice_letter(t);
    assert_eq!(answer("İİ Answer: 42 \u{212A}").as_deref(), Some("42"));
    assert_eq!(
        extract_choice_letter("ȺȺ answer is C \u{212A}\u{212A}ȺȺ"),
        Some('C')
    );
}

// Python's `[k + 1 : -1]` for `Point(…)` was a byte slice that could cut the last character.
#[test]
fn a_point_ending_in_a_multibyte_character() {
    compare("Point(1, é", "(1, 2)");
    compare("Point(é", "(1)");
}

// `1e-9223372036854775808` parses to `i64::MIN`, and `abs()` of it overflowed.
#[test]
fn the_smallest_exponent() {
    let o = compare("1e-9223372036854775808", "0");
    // Tally keeps the exact value (not zero); the seed's float underflows to 0.0, as in Python.
    assert_eq!(
        o,
        [
            Outcome::NotEqual,
            Outcome::NotEqual,
            Outcome::Equal,
            Outcome::Equal
        ]
    );
    compare("\\boxed{1E-9223372036854775808}", "1e9223372036854775807");
}

// Chains the parser did not count as nesting built trees deep enough to overflow the stack
// when evaluated or dropped (an abort, which no panic boundary catches).
#[test]
fn long_operator_chains_are_bounded() {
    let chains = [
        format!("5{}", "!".repeat(60_000)),
        format!("5{}", "%".repeat(60_000)),
        format!("5{}", "^\\circ".repeat(10_000)),
        format!("x^{}1", "-".repeat(60_000)),
        format!("{}1", "+".repeat(60_000)),
        format!("{}1{}", "\\mathrm{".repeat(7_000), "}".repeat(7_000)),
        format!(
            "{}1{}",
            "\\mathbf{\\text{".repeat(4_000),
            "}}".repeat(4_000)
        ),
    ];
    for c in &chains {
        // Through extraction (no length limit before parsing) and the comparison.
        let _ = fallback(&format!("${c}$"));
        compare(c, "1");
        let _ = canonical(c);
    }
    // Short chains still read as before.
    assert!(Grader::default().equal("3!!", "720").is_equal());
    assert!(Grader::default().equal("x^{--1}", "x").is_equal());
    assert!(Grader::default().equal("+++1", "1").is_equal());
}

// Thousands of unclosed openers made each search run to the end of the text: quadratic, a
// second or more for 60 KB.
#[test]
fn many_unclosed_openers_are_linear() {
    let texts = [
        "\\[ 9{e ".repeat(8_000),
        "\\( 1 ".repeat(12_000),
        format!("x{}", "\\mathrm{".repeat(8_000)),
        "\\boxed{".repeat(9_000),
    ];
    for t in &texts {
        let _ = fallback(t);
        compare(t, "1");
    }
    // Deep wrapping is peeled up to a bound, then the answer is too long to compare.
    let wrapped = format!("{}1{}", "\\(".repeat(15_000), "\\)".repeat(15_000));
    assert_eq!(
        Grader::default().equal(&wrapped, "1").outcome,
        Outcome::Undecided(Reason::Budget(Limit::InputTooLong))
    );
    assert!(Grader::default()
        .equal("\\(\\(\\(1\\)\\)\\)", "1")
        .is_equal());
}

// `\binom{131000}{65500}` fit the size budget but took 1.6 s of arithmetic per comparison.
#[test]
fn a_huge_binomial_is_over_budget() {
    let o = compare("\\binom{131000}{65500}", "\\binom{131000}{65499}");
    assert!(
        o.iter()
            .all(|o| matches!(o, Outcome::Undecided(_) | Outcome::NotEqual)),
        "{o:?}"
    );
    assert_eq!(
        Grader::default()
            .equal("\\binom{131000}{65500}", "\\binom{131000}{65499}")
            .outcome,
        Outcome::Undecided(Reason::Budget(Limit::TooMuchWork))
    );
    assert!(Grader::default().equal("\\binom{10}{3}", "120").is_equal());
    assert!(Grader::default()
        .equal("\\binom{2000}{1000}", "\\binom{2000}{1000}")
        .is_equal());
}

// `5.05.05…` is a product of thousands of decimals under the seed's LaTeX reading; each step
// of the exact product reduced an ever larger fraction (4 s for 11 KB, found by the fuzzer).
// Each reduction is now charged by the size of the fraction.
#[test]
fn a_long_product_of_decimals_is_over_budget() {
    let chain = format!("5.05{}", ".05".repeat(3_735));
    compare("None", &chain);
    compare(&chain, "1");
    let product = vec!["0.007"; 680].join("*");
    assert_eq!(
        Grader::default().equal(&product, "1").outcome,
        Outcome::Undecided(Reason::Budget(Limit::TooMuchWork))
    );
    // Short products are exact as before.
    let seed = Grader::builder().policy(Policy::NemoSkills).build();
    assert!(seed.equal("0.5 \\cdot 0.5", "0.25").is_equal());
    assert!(Grader::default()
        .equal(
            &vec!["5.5"; 20].join("*"),
            &format!("{}/{}", 11u128.pow(20), 1u128 << 20)
        )
        .is_equal());
}

// `3^{2^{2^{2^{2}}}}` (3^65536, within the size budget) took 170 ms per comparison: powers
// of `Ratio`s and the "does this decimal terminate" test ran a gcd on the huge value each time.
// Now computed without those gcds; this checks the verdicts stay the same.
#[test]
fn a_power_tower_within_budget_is_decided() {
    let o = compare("3^{2^{2^{2^{2}}}}", "1215");
    assert_eq!(o[0], Outcome::NotEqual);
    assert!(Grader::default()
        .equal("3^{2^{2^{2^{2}}}}", "3^{65536}")
        .is_equal());
    assert!(Grader::default()
        .equal("2^{-10}", "0.0009765625")
        .is_equal());
    assert!(canonical("3^{2^{2^{2^{2}}}}").is_some());
}

// `11.8136^{8136}0 9` (17 bytes, found by the long fuzz run): the power is inside the size
// budget, but multiplying that 112,000-bit fraction reduced it by a gcd (190 ms per
// comparison, 1.5 s per fuzz input). Fraction steps are charged before they run.
#[test]
fn a_product_with_a_huge_fraction_is_over_budget() {
    let o = compare("11.8136^{8136}0 9", "1");
    assert!(!o.contains(&Outcome::Equal), "{o:?}");
    assert_eq!(
        Grader::default()
            .equal("11.8136^{8136} \\cdot 9", "1")
            .outcome,
        Outcome::Undecided(Reason::Budget(Limit::TooMuchWork))
    );
    // Integers of that size still multiply (no gcd), and small fractions are exact.
    assert!(Grader::default()
        .equal("2^{60000} \\cdot 3", "3 \\cdot 2^{60000}")
        .is_equal());
    assert!(Grader::default().equal("1.5^{3} \\cdot 8", "27").is_equal());
}

// The name before an `=` between two boxes (`x_2 = \boxed{…}`) was cut one byte after the
// last whitespace, inside a multi-byte one (found by the long fuzz run; U+2028 here).
#[test]
fn a_multibyte_space_before_a_name_between_boxes() {
    let t = "$f(2}=\\frac{-8}{-4}+\\boxed{}\\frac{-5}{-3}+1\u{2028}\u{301}=\\boxed{\\fr}c1{4{a3}}$";
    let _ = fallback(t);
    for sep in ["\u{2028}", "\u{3000}", "\u{a0}", " "] {
        let t = format!("\\boxed{{1}} and{sep}y=\\boxed{{2}}");
        assert_eq!(answer(&t).as_deref(), Some("1, 2"), "{t:?}");
    }
}

/// A set separator searched for at every byte offset sliced inside an en dash (found by the
/// fuzzer in a GSM8K answer with `–`).
#[test]
fn a_multibyte_character_before_a_separator_does_not_panic() {
    let text = "Martha is 24 \u{2013} 4 = <<24-4=20>>20 years old.\nJeff is 20 + 10 = <<20+10=30>>30 years old.\nA: 30";
    compare(text, "30");
    compare("x \u{2013} 1, 2 \u{222a} 3", "\\{1, 2\\}");
}

// Found by CI's fuzz run (a silent SIGSEGV: the fuzz target grades on a 2 MiB thread, as
// `tally grade`'s workers do): NeMo-Skills' `math_equal` recursed once per bracket layer that
// both sides share, about 1 KiB of stack each, with nothing bounding the layers but the answer's
// 1,000-character cut. Every nesting below is graded on a quarter of a worker's stack, so a
// path whose stack grows with the input fails here (the test binary aborts) long before it
// could take a worker down.
#[test]
fn deep_nesting_of_every_kind_fits_a_quarter_of_a_worker_stack() {
    const PATTERNS: &[(&str, &str)] = &[
        ("(", ")"),
        ("[", "]"),
        ("{", "}"),
        ("\\{", "\\}"),
        ("\\left(", "\\right)"),
        ("\\frac{1}{", "}"),
        ("\\sqrt{", "}"),
        ("\\boxed{", "}"),
        ("\\text{", "}"),
        ("\\mathrm{", "}"),
        ("^{", "}"),
        ("_{", "}"),
        ("2^", ""),
        ("-", ""),
        ("\\sin(", ")"),
        ("|", "|"),
        ("\\overline{", "}"),
        ("x=", ""),
        ("(1,", ")"),
        ("[1,", "]"),
        ("\\{1,", "\\}"),
        ("\\begin{pmatrix}", "\\end{pmatrix}"),
        ("$", "$"),
        ("\\(", "\\)"),
        ("1+", ""),
        ("1\\cdot ", ""),
        ("\\pm ", ""),
        ("!", ""),
        ("x^", ""),
        ("\\lfloor ", "\\rfloor"),
        ("e^{", "}"),
        ("\\log_{", "}"),
        ("\\dfrac{", "}{2}"),
        ("\\cup ", ""),
        ("1<", ""),
        ("\\sqrt[", "]{2}"),
        ("f(", ")"),
        ("{(", ")}"),
        ("\\{(", ")\\}"),
        ("((", "),1)"),
        ("\\text{ or }", ""),
        ("1,", ""),
        ("1 \\text{ and } ", ""),
        ("\\begin{cases}", "\\end{cases}"),
        ("x\\in(", ")"),
    ];
    for &(open, close) in PATTERNS {
        for n in [40, 300, 499, 990, 1300] {
            for (inner, gold_inner) in [("1", "2"), ("1", "1"), ("x", "y")] {
                let a = format!("{}{inner}{}", open.repeat(n), close.repeat(n));
                let b = format!("{}{gold_inner}{}", open.repeat(n), close.repeat(n));
                std::thread::Builder::new()
                    .stack_size(512 << 10)
                    .spawn(move || {
                        compare(&a, &b);
                        compare(&a, "1");
                        let boxed = format!("so \\boxed{{{a}}}");
                        for mode in [ExtractMode::NemoSkills, ExtractMode::Tally] {
                            let _ = extract_answer(&boxed, mode);
                        }
                        let _ = fallback(&a);
                        let _ = grade_pair_extracting(&boxed, &b);
                        let _ = canonical(&a);
                    })
                    .expect("spawn")
                    .join()
                    .expect("no panic");
            }
        }
    }
}

// Found by fuzzing at a small stack (`TALLY_FUZZ_STACK`), likely CI's SIGSEGV too: a `±` inside
// a set inside a list (`1 \pm {\{1\pm\sqrt{5},-2\}}`) has no rule that writes it out, so the
// list "expanded" into itself and the comparison recursed until the stack ran out, at any stack
// size. Now an expansion that changes nothing is none, nested sets are written out, and the
// comparison's own nesting is bounded (`Undecided(TooDeep)` past it).
#[test]
fn a_plus_minus_no_rule_writes_out_does_not_recurse_forever() {
    let response = "The roots of $P(x)$ $<<2(((((((((((((((((((((((25*100=22500>>22))))))))))))))))))))))),500.\nA2$\\sqrt{5}$, so the answer is $\\BOXED a\\sinnd $1 \\pm {\\{1\\pm\\sqrt{5},-2\\}}.$";
    let gold = "$\\{1\\pm\\sqrt{5},-3\\}$";
    for p in [Policy::Tally, Policy::NemoSkills] {
        let g = Grader::builder().policy(p).build();
        let (ex, v) = g.grade_pair_extracting(response, gold);
        assert_ne!(v.outcome, Outcome::GraderError);
        if let Some(a) = ex.answer {
            compare(&a, gold);
        }
    }
    compare(response, gold);
    for (a, b) in [
        ("1 \\pm \\{1\\pm\\sqrt{5},-2\\}", "\\{1\\pm\\sqrt{5},-3\\}"),
        ("\\{\\{1 \\pm 2\\}, 3\\}", "\\{\\{3, -1\\}, 3\\}"),
        ("2, \\{\\pm 1\\}", "2, \\{1, -1\\}"),
    ] {
        compare(a, b);
    }
    // Written out where a rule can: a set of `±` values inside a list.
    assert_eq!(
        compare("2, \\{\\pm 1\\}", "2, \\{1, -1\\}")[0],
        Outcome::Equal
    );
}

// A choice letter followed by a wide character (`故选 C。`): a test for `is ` after the anchor
// sliced three bytes into `C。`.
#[test]
fn a_choice_letter_before_a_wide_character() {
    assert_eq!(fallback("故选 C。").answer.as_deref(), Some("C"));
    assert_eq!(fallback("The answer: C。").answer.as_deref(), Some("C"));
    let _ = fallback("option 。。");
    let _ = fallback("choice i。");
}

/// A series the evaluator cannot sum (it converges too slowly) leaves the pair undecided, never
/// "different"; one that converges geometrically is compared.
#[test]
fn a_series_too_slow_to_sum_is_undecided_not_different() {
    let g = Grader::default();
    assert_eq!(
        g.equal("\\sum_{n=1}^{\\infty} \\frac{1}{n^2}", "\\frac{\\pi^2}{6}")
            .outcome,
        Outcome::Undecided(Reason::Budget(Limit::SlowSeries))
    );
    assert!(g
        .equal("\\sum_{n=0}^{\\infty} x^n", "\\frac{1}{1-x}")
        .is_equal());
    assert_eq!(
        g.equal("\\sum_{n=0}^{\\infty} \\frac{1}{2^n}", "3").outcome,
        Outcome::NotEqual
    );
}
