//! Client-side stop-phrase trimming (NeMo-Skills `trim_after_stop_phrases`, spec §8.3).

/// Keeps the text before the first occurrence of any stop phrase.
///
/// Equivalent to NeMo-Skills' `re.split("|".join(map(re.escape, stops)), text, 1)[0]`: the
/// *earliest position* wins, whatever the order of `stops`; at one position the phrase listed
/// first wins (which does not change the result, since everything from that position is cut).
/// Empty phrases are ignored: in Python an empty alternative matches at position 0 and would
/// return `""`, which no caller wants (NeMo-Skills never passes one).
///
/// ```
/// use tally_backend::trim_after_stop_phrases;
/// let text = "x = 2\n```output\n2\n```\n<|im_end|>";
/// assert_eq!(trim_after_stop_phrases(text, &["<|im_end|>", "```output"]), "x = 2\n");
/// assert_eq!(trim_after_stop_phrases("no stop here", &["</s>"]), "no stop here");
/// ```
pub fn trim_after_stop_phrases<'a, S: AsRef<str>>(text: &'a str, stops: &[S]) -> &'a str {
    let cut = stops
        .iter()
        .map(AsRef::as_ref)
        .filter(|s| !s.is_empty())
        .filter_map(|s| text.find(s))
        .min();
    match cut {
        Some(i) => &text[..i],
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::trim_after_stop_phrases;

    #[test]
    fn earliest_occurrence_wins_regardless_of_list_order() {
        let text = "a<B>b<A>c";
        assert_eq!(trim_after_stop_phrases(text, &["<A>", "<B>"]), "a");
        assert_eq!(trim_after_stop_phrases(text, &["<B>", "<A>"]), "a");
    }

    #[test]
    fn only_the_first_occurrence_matters() {
        assert_eq!(trim_after_stop_phrases("x</s>y</s>z", &["</s>"]), "x");
    }

    #[test]
    fn overlapping_phrases_cut_at_the_earliest_start() {
        // "```output" starts before "output" alone would match.
        assert_eq!(
            trim_after_stop_phrases("code\n```output\n", &["output", "```output"]),
            "code\n"
        );
    }

    #[test]
    fn regex_metacharacters_are_literal() {
        assert_eq!(trim_after_stop_phrases("a.b|c(d", &["|"]), "a.b");
        assert_eq!(trim_after_stop_phrases("a.b|c(d", &["("]), "a.b|c");
        assert_eq!(trim_after_stop_phrases("abc", &["."]), "abc");
    }

    #[test]
    fn no_stops_or_empty_stops_keep_everything() {
        let none: [&str; 0] = [];
        assert_eq!(trim_after_stop_phrases("abc", &none), "abc");
        assert_eq!(trim_after_stop_phrases("abc", &[""]), "abc");
        assert_eq!(trim_after_stop_phrases("", &["x"]), "");
    }

    #[test]
    fn stop_at_start_gives_empty_text_and_unicode_is_respected() {
        assert_eq!(
            trim_after_stop_phrases("<|im_end|>rest", &["<|im_end|>"]),
            ""
        );
        assert_eq!(trim_after_stop_phrases("π≈3.14 ∎ done", &["∎"]), "π≈3.14 ");
    }

    #[test]
    fn accepts_owned_strings() {
        let stops = vec!["<|im_end|>".to_string()];
        assert_eq!(trim_after_stop_phrases("ok<|im_end|>", &stops), "ok");
    }
}
