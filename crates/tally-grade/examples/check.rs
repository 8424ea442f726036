//! Debug helper: `cargo run -p tally-grade --example check -- PRED GOLD` prints what the
//! pair-mode extraction reads from each side and the verdicts of both policies.
use tally_grade::{extract_fallback, Grader, Policy};

fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    if a.len() != 2 {
        eprintln!("usage: check PRED GOLD");
        std::process::exit(2);
    }
    let (p, g) = (&a[0], &a[1]);
    let ep = extract_fallback(p);
    let eg = extract_fallback(g);
    println!("pred extracted: {:?} ({:?})", ep.answer, ep.status);
    println!("gold extracted: {:?} ({:?})", eg.answer, eg.status);
    let t = Grader::default();
    println!("tally bare:       {:?}", t.equal(p, g));
    println!("tally extracting: {:?}", t.grade_pair_extracting(p, g).1);
    let n = Grader::builder().policy(Policy::NemoSkills).build();
    println!("nemo bare:        {:?}", n.equal(p, g));
}
