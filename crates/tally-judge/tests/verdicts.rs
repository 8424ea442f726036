//! Judge outputs and the verdict each parse mode must give. Compat column: NeMo-Skills'
//! `is_correct_judgement` (§5, T11) worked by hand; Default column: Tally's reading.

use tally_judge::{
    parse_verdict, ParseMode, Verdict, IDENTICAL_JUDGEMENT, SYMBOLIC_CORRECT_JUDGEMENT,
};

use Verdict::{No, Unparseable as U, Yes};

const TABLE: &[(&str, bool, Verdict)] = &[
    ("Reasoning: Both are 1/2.\nJudgement: Yes", true, Yes),
    ("Reasoning: 3 is not 4.\nJudgement: No", false, No),
    ("Judgement: yes", true, Yes),
    ("Judgement: YES", true, Yes),
    ("Judgement:Yes", true, Yes),
    ("Judgement:   Yes  \n\n", true, Yes),
    ("Judgement:\nYes", true, Yes),
    ("Judgement:\u{a0}Yes\u{a0}", true, Yes),
    ("Judgement: Yes.", false, Yes),
    ("Judgement: Yes, because both equal 1/2.", false, Yes),
    ("Judgement: **Yes**", false, Yes),
    ("Judgement: `Yes`", false, Yes),
    ("**Judgement**: Yes", false, Yes),
    ("**Judgement:** Yes", false, Yes),
    ("**Judgement:** No", false, No),
    ("Final judgement: No", false, No),
    ("Final Judgement: Yes", true, Yes),
    ("judgement: yes", false, Yes),
    ("JUDGEMENT: YES", false, Yes),
    ("Judgment: Yes", false, Yes),
    ("### Judgement\nNo", false, No),
    ("Judgement: No.", false, No),
    ("Judgement: No, 0.5 is not 1/3.", false, No),
    (
        "Judgement: Yes\n\nThe predicted answer matches the expected one.",
        false,
        Yes,
    ),
    ("Judgement: Yes\nJudgement: No", false, No),
    (
        "Judgement: No\n\nOn reflection they match.\nJudgement: Yes",
        true,
        Yes,
    ),
    (
        "Reasoning: My judgement is that they differ.\nJudgement: No",
        false,
        No,
    ),
    ("Reasoning: my judgement is yes", false, U),
    ("Judgement: Yes/No", false, U),
    ("Judgement: Yes or No", false, U),
    ("Judgement: Equivalent", false, U),
    ("Judgement: Maybe", false, U),
    ("Judgement: Yesterday", false, U),
    ("Judgement: Noted, the answers differ.", false, U),
    ("Prejudgement: Yes", false, U),
    ("The answers are equivalent.", false, U),
    ("", false, U),
    ("Judgement:", false, U),
    ("Yes", false, Yes),
    ("**No**", false, No),
    ("Reasoning: The order does not matter", false, U),
    (IDENTICAL_JUDGEMENT, true, Yes),
    (SYMBOLIC_CORRECT_JUDGEMENT, true, Yes),
    (
        "Reasoning: No answer was provided.\nJudgement: No",
        false,
        No,
    ),
];

#[test]
fn verdict_table() {
    assert!(TABLE.len() >= 30);
    let mut failures = Vec::new();
    for (text, compat, default) in TABLE {
        let want_compat = if *compat { Yes } else { No };
        let got_compat = parse_verdict(text, ParseMode::Compat);
        let got_default = parse_verdict(text, ParseMode::Default);
        if got_compat != want_compat || got_default != *default {
            failures.push(format!(
                "{text:?}: compat {got_compat:?} (want {want_compat:?}), default {got_default:?} (want {default:?})"
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn compat_never_says_unparseable() {
    for (text, _, _) in TABLE {
        assert_ne!(parse_verdict(text, ParseMode::Compat), U, "{text:?}");
    }
}
