//! Reading the selection model's choice: the index after the last `Judgment:` (or
//! `Judgement:`), as NeMo-Skills' `Judg[e]?ment: (\d+)` reads it.

/// The chosen index, or `None` when the text names none or an index past `max_idx`.
pub fn parse_choice(text: &str, max_idx: usize) -> Option<usize> {
    let mut last = None;
    for label in ["Judgment:", "Judgement:"] {
        for (at, _) in text.match_indices(label) {
            let digits: String = text[at + label.len()..]
                .chars()
                .skip_while(|c| *c == ' ')
                .take_while(char::is_ascii_digit)
                .collect();
            if !digits.is_empty() && last.as_ref().is_none_or(|(a, _)| at > *a) {
                last = Some((at, digits));
            }
        }
    }
    let (_, digits) = last?;
    digits.parse::<usize>().ok().filter(|i| *i <= max_idx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_judgment_counts() {
        assert_eq!(
            parse_choice("Solution 1 is wrong.\nJudgment: 2", 3),
            Some(2)
        );
        assert_eq!(
            parse_choice("Judgment: 0 ... on reflection Judgement: 1", 3),
            Some(1)
        );
        assert_eq!(parse_choice("Judgment:3", 3), Some(3));
        assert_eq!(parse_choice("Judgment: 4", 3), None);
        assert_eq!(parse_choice("Judgment: [IDX]", 3), None);
        assert_eq!(parse_choice("I pick solution 2", 3), None);
        assert_eq!(
            parse_choice("Judgment: 1 and later Judgment: none", 3),
            Some(1)
        );
    }
}
