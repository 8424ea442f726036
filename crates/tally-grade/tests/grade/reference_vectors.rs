//! Spec §4.3 reference vectors (seed grader, sympy 1.14 + antlr 4.11) under Policy::NemoSkills.

use tally_grade::{Grader, Policy};

const VECTORS: &[(&str, &str, bool)] = &[
    ("70", "70", true),
    ("070", "70", true),
    ("70.0", "70", true),
    ("1,000", "1000", true),
    ("1{,}000", "1000", true),
    ("50\\%", "50", true),
    ("0.5", "50", true),
    ("50", "0.5", true),
    ("700", "7", true),
    ("0.07", "7", true),
    ("5.", "5", true),
    ("6", "6.0000", true),
    ("1.0e3", "1000", true),
    ("1_000", "1000", false),
    ("1 000", "1000", false),
    ("", "0", false),
    ("\\frac{1}{2}", "0.5", true),
    ("\\dfrac{1}{2}", "\\frac{1}{2}", true),
    ("\\frac12", "1/2", true),
    ("0.3333", "1/3", true),
    ("\\sqrt{3}/2", "0.866", true),
    ("\\pi", "3.14159", false),
    ("\\boxed{5}", "5", false),
    ("10 \\text{ cm}", "10", true),
    ("\\text{(A)}", "A", true),
    ("B", "\\text{B}", true),
    ("yes", "Yes", true),
    ("30^\\circ", "30", true),
    ("\\$5", "5", true),
    ("5 dollars", "5", false),
    ("None", "None", true),
    ("[1,2]", "[1, 2]", true),
    ("(1,2)", "[1,2]", false),
    ("1, 2", "2, 1", false),
    ("\\{1,2\\}", "\\{2,1\\}", false),
    ("(-\\infty, 2]", "(-\\infty,2]", true),
    ("6 \\text{ or } -2", "6, -2", true),
    ("x^2+2x+1", "(x+1)^2", true),
    ("2^10", "1024", false),
    ("2^{10}", "1024", true),
    ("1000000", "10^6", false),
    ("10^{6}", "1000000", true),
    ("3\\sqrt{6}", "$3 \\sqrt{6}$.", true),
    ("x=5", "5", false),
    ("7 \\frac{3}{4}", "31/4", true),
    ("2 3/4", "11/4", true),
    ("x \\in [1,2]", "[1,2]", true),
];

#[test]
fn every_reference_vector_under_the_seed_policy() {
    let g = Grader::builder().policy(Policy::NemoSkills).build();
    let mut failures = Vec::new();
    for (p, r, want) in VECTORS {
        let got = g.equal(p, r).is_equal();
        if got != *want {
            failures.push(format!("{p:?} vs {r:?}: want {want}, got {got}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Where the Tally policy deliberately differs from the seed (documented in docs/grading.md).
#[test]
fn tally_policy_fixes_the_seed_quirks() {
    let g = Grader::default();
    let cases: &[(&str, &str, bool)] = &[
        ("700", "7", false),
        ("0.07", "7", false),
        ("1_000", "1000", false),
        ("1 000", "1000", true),
        ("\\pi", "3.14159", true),
        // The precision rule (docs/grading.md): a decimal equals the value it rounds from at the
        // places it shows, with enough significant digits.
        ("\\pi", "3.14", true),
        ("\\pi", "3.15", false),
        ("\\pi", "3.1", false),
        ("\\boxed{5}", "5", true),
        ("2^10", "1024", true),
        ("1000000", "10^6", true),
        ("x=5", "5", true),
        ("1, 2", "2, 1", true),
        ("\\{1,2\\}", "\\{2,1\\}", true),
        ("(1,2)", "[1,2]", false),
        ("5 dollars", "5", true),
        ("0.3333", "1/3", true),
        ("0.33", "1/3", true),
        ("0.3", "1/3", false),
        ("0.34", "1/3", false),
        ("5.001", "5", false),
        ("5.001", "\\frac{10}{2}", false),
        (
            "\\frac{4^{2023}}{\\binom{4048}{2024}}-2",
            "\\frac{4^{2024}}{\\binom{4048}{2024}}-2",
            false,
        ),
        (
            "\\frac{4^{2024}}{\\binom{4048}{2024}}-2",
            "\\frac{4^{2024}}{\\binom{4048}{2024}}-2",
            true,
        ),
        ("\\sqrt{12}", "2\\sqrt{3}", true),
        ("\\sqrt{12}", "3\\sqrt{2}", false),
        ("50\\%", "0.5", true),
        ("(-\\infty, 2]", "(-\\infty,2)", false),
        ("x \\ge 5", "[5, \\infty)", true),
        (
            "\\begin{pmatrix}1\\\\2\\end{pmatrix}",
            "\\begin{bmatrix}1\\\\2\\end{bmatrix}",
            true,
        ),
        ("3+4i", "4i+3", true),
        ("\\sin^2 x + \\cos^2 x", "1", true),
        ("y = 2x+1", "y = 1+2x", true),
        ("A", "B", false),
        ("\\text{(C)}", "C", true),
        ("E'", "E", false),
        ("1 \\pm \\sqrt{19}", "1+\\sqrt{19}, 1-\\sqrt{19}", true),
    ];
    let mut failures = Vec::new();
    for (p, r, want) in cases {
        let v = g.equal(p, r);
        if v.is_equal() != *want {
            failures.push(format!("{p:?} vs {r:?}: want {want}, got {v:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
