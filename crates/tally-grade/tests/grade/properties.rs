//! Property tests: reflexivity, symmetry of the Tally policy, number-format round trips.

use proptest::prelude::*;
use tally_grade::{canonical, Grader};

fn expr() -> impl Strategy<Value = String> {
    expr_depth(3)
}

/// f64 sampling decides ±1 only while |value| stays well below 1e11, hence a shallow tree.
fn small() -> impl Strategy<Value = String> {
    expr_depth(1)
}

/// Leaves that are never zero: a denominator built from them is always defined. An undefined
/// sum such as `\frac{1}{-(\pi)+\pi}+1` has no value to compare, so the algebraic properties
/// below do not apply to it.
fn nonzero_leaf() -> impl Strategy<Value = String> {
    prop_oneof![
        (1i64..1000).prop_map(|n| n.to_string()),
        Just("\\pi".to_string()),
        (1i64..50, 1i64..50).prop_map(|(a, b)| format!("\\frac{{{a}}}{{{b}}}")),
        (2i64..30).prop_map(|n| format!("\\sqrt{{{n}}}")),
    ]
}

fn expr_depth(depth: u32) -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        (1i64..1000).prop_map(|n| n.to_string()),
        Just("x".to_string()),
        Just("\\pi".to_string()),
        (1i64..50, 1i64..50).prop_map(|(a, b)| format!("\\frac{{{a}}}{{{b}}}")),
        (2i64..30).prop_map(|n| format!("\\sqrt{{{n}}}")),
    ];
    leaf.prop_recursive(depth, 16, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a}+{b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a})({b})")),
            (inner.clone(), nonzero_leaf()).prop_map(|(a, b)| format!("\\frac{{{a}}}{{{b}}}")),
            (inner.clone(), 1u32..4).prop_map(|(a, k)| format!("({a})^{{{k}}}")),
            inner.prop_map(|a| format!("-({a})")),
        ]
    })
}

proptest! {
    // A fixed seed: CI runs the same cases every time (the fuzz target explores at random).
    #![proptest_config(ProptestConfig {
        cases: 200,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x7a11_9a0e),
        ..ProptestConfig::default()
    })]

    #[test]
    fn reflexive(e in expr()) {
        prop_assert!(Grader::default().equal(&e, &e).is_equal());
    }

    #[test]
    fn symmetric(a in expr(), b in expr()) {
        let g = Grader::default();
        prop_assert_eq!(g.equal(&a, &b).outcome, g.equal(&b, &a).outcome);
    }

    #[test]
    fn sum_is_commutative(a in expr(), b in expr()) {
        let (l, r) = (format!("{a}+{b}"), format!("{b}+{a}"));
        prop_assert!(Grader::default().equal(&l, &r).is_equal(), "{} vs {}", l, r);
    }

    #[test]
    fn adding_one_changes_the_value(a in small()) {
        let l = format!("{a}+1");
        prop_assert!(!Grader::default().equal(&l, &a).is_equal(), "{} vs {}", l, a);
    }

    #[test]
    fn integer_formats_round_trip(n in 0u64..10_000_000_000) {
        let g = Grader::default();
        let plain = n.to_string();
        let mut grouped = String::new();
        for (k, c) in plain.chars().enumerate() {
            if k > 0 && (plain.len() - k) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(c);
        }
        for form in [format!("{plain}.0"), grouped.clone(), grouped.replace(',', "{,}"), format!("\\text{{{plain}}}")] {
            prop_assert!(g.equal(&form, &plain).is_equal(), "{} vs {}", form, plain);
        }
        prop_assert!(!g.equal(&(n + 1).to_string(), &plain).is_equal());
    }

    #[test]
    fn fraction_decimal_round_trip(p in 1i64..1000, e in 0u32..4) {
        let q = 10i64.pow(e) * 4;
        let dec = format!("{}", p as f64 / q as f64);
        let frac = format!("\\frac{{{p}}}{{{q}}}");
        prop_assert!(Grader::default().equal(&dec, &frac).is_equal(), "{} vs {}", dec, frac);
        prop_assert_eq!(canonical(&dec), canonical(&frac));
    }
}
