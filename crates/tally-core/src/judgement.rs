//! Reading a judge model's verdict out of its text. It lives in the core because two stages read
//! verdicts — the judge writes them, the summary counts them — and the summary must not depend on
//! the judge's machinery.
//!
//! Reading the judge's answer. `Compat` is NeMo-Skills' rule, byte for byte; `Default` also
//! reads the verdicts judges commonly write in other shapes (markdown, punctuation, "Final
//! judgement") and says so when it cannot find one instead of counting it as "No".

/// The judge's verdict on one sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    Yes,
    No,
    /// No recognisable verdict: the summary counts these separately.
    Unparseable,
}

impl Verdict {
    pub fn is_yes(self) -> bool {
        self == Verdict::Yes
    }
}

/// Which parsing rule to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ParseMode {
    /// NeMo-Skills at the seed: only `yes` (any case) alone after the last `Judgement:` is Yes;
    /// everything else is No.
    Compat,
    #[default]
    Default,
}

/// Parses a judgement under `mode`. `Compat` never returns `Unparseable`.
pub fn parse_verdict(text: &str, mode: ParseMode) -> Verdict {
    match mode {
        ParseMode::Compat => {
            if is_correct_judgement_compat(text) {
                Verdict::Yes
            } else {
                Verdict::No
            }
        }
        ParseMode::Default => parse_default(text),
    }
}

/// NeMo-Skills' `is_correct_judgement`: text after the last `Judgement:`, stripped, equal to
/// `yes` ignoring case; no `Judgement:` at all is false.
pub fn is_correct_judgement_compat(text: &str) -> bool {
    const LABEL: &str = "Judgement:";
    match text.rfind(LABEL) {
        Some(at) => py_strip(&text[at + LABEL.len()..]).to_lowercase() == "yes",
        None => false,
    }
}

fn is_markup(c: char) -> bool {
    matches!(
        c,
        '*' | '_' | '#' | '`' | '>' | '"' | '\'' | '[' | ']' | '(' | ')'
    )
}

fn parse_default(text: &str) -> Verdict {
    // ASCII lowercasing keeps byte offsets valid for slicing `text`.
    let lower = text.to_ascii_lowercase();
    let mut search_end = lower.len();
    while let Some((at, len)) = last_label(&lower[..search_end]) {
        if let Some(rest) = after_label(&text[at + len..]) {
            return verdict_word(rest);
        }
        search_end = at;
    }
    // A bare "Yes." or "**No**" as the whole answer.
    let bare = text
        .trim_matches(|c: char| is_space_or(c, is_markup) || matches!(c, '.' | '!'))
        .to_ascii_lowercase();
    match bare.as_str() {
        "yes" => Verdict::Yes,
        "no" => Verdict::No,
        _ => Verdict::Unparseable,
    }
}

fn is_space_or(c: char, f: fn(char) -> bool) -> bool {
    is_py_space(c) || f(c)
}

/// The last "judgement"/"judgment" that starts a word: (byte offset, length).
fn last_label(lower: &str) -> Option<(usize, usize)> {
    let mut best: Option<(usize, usize)> = None;
    for word in ["judgement", "judgment"] {
        let mut end = lower.len();
        while let Some(at) = lower[..end].rfind(word) {
            let starts_word = lower[..at]
                .chars()
                .next_back()
                .is_none_or(|c| !c.is_alphanumeric());
            if starts_word {
                if best.is_none_or(|(b, _)| at > b) {
                    best = Some((at, word.len()));
                }
                break;
            }
            end = at;
        }
    }
    best
}

/// After the label word: markup, then `:` (or a line break, for a heading such as
/// `### Judgement`), then the verdict. `None` when the word is just part of a sentence.
fn after_label(rest: &str) -> Option<&str> {
    let rest = rest.trim_start_matches(|c: char| is_markup(c) || c == ' ' || c == '\t');
    if let Some(r) = rest.strip_prefix(':') {
        return Some(r);
    }
    if rest.starts_with('\n') || rest.starts_with("\r\n") {
        return Some(rest);
    }
    None
}

fn verdict_word(rest: &str) -> Verdict {
    let rest = rest.trim_start_matches(|c: char| is_space_or(c, is_markup));
    let word_len = rest
        .find(|c: char| !c.is_alphabetic())
        .unwrap_or(rest.len());
    let verdict = match rest[..word_len].to_lowercase().as_str() {
        "yes" => Verdict::Yes,
        "no" => Verdict::No,
        _ => return Verdict::Unparseable,
    };
    // "Yes/No" or "Yes or No" echoes the instructions rather than answering them.
    let tail = rest[word_len..]
        .trim_start_matches(|c: char| is_markup(c) || c == ' ')
        .to_ascii_lowercase();
    let echo = ["/", "or no", "or yes", "| no", "| yes"]
        .iter()
        .any(|p| tail.starts_with(p));
    if echo {
        Verdict::Unparseable
    } else {
        verdict
    }
}

/// Python's `str.isspace()` for one character (Unicode whitespace plus the separators 0x1c–0x1f).
fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's `str.strip()` with no argument.
fn py_strip(s: &str) -> &str {
    s.trim_matches(is_py_space)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compat_rule_is_the_seeds() {
        let cases = [
            ("Reasoning: same.\nJudgement: Yes", true),
            ("Judgement:   YES  \n", true),
            ("Judgement: Yes.", false),
            ("Judgement: **Yes**", false),
            ("**Judgement**: Yes", false),
            ("Yes", false),
            ("Judgement: No\nOn reflection, Judgement: Yes", true),
            ("Judgement: Yes\nJudgement: No", false),
        ];
        for (text, want) in cases {
            assert_eq!(is_correct_judgement_compat(text), want, "{text:?}");
        }
    }

    #[test]
    fn default_reading_flags_what_it_cannot_read() {
        assert_eq!(
            parse_verdict("**Judgement**: Yes.", ParseMode::Default),
            Verdict::Yes
        );
        assert_eq!(
            parse_verdict("The answers look alike.", ParseMode::Default),
            Verdict::Unparseable
        );
        assert_eq!(
            parse_verdict("Judgement: Yes/No", ParseMode::Default),
            Verdict::Unparseable
        );
    }
}
