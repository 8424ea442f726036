//! The usual sets of numbers, as symbols or in words: `\mathbb{Z}^+` and "all positive
//! integers", `\mathbb{Q}` and "the rational numbers".

/// The set a symbol names.
fn symbol(s: &str) -> Option<&'static str> {
    let t: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    // `n \in \mathbb{Z}^+`: membership of one name is the set itself.
    let t = match t.split_once("\\in") {
        Some((name, set))
            if name.chars().count() == 1 && name.chars().all(|c| c.is_ascii_alphabetic()) =>
        {
            set.to_string()
        }
        _ => t,
    };
    let t = t
        .replace("\\Bbb", "\\mathbb")
        .replace("\\mathbf", "\\mathbb");
    // `1, 2, 3, \ldots` and `\{1, 2, 3, \dots\}`: the positive integers listed.
    let listed = t
        .trim_start_matches("\\{")
        .trim_end_matches("\\}")
        .replace("\\dots", "\\ldots")
        .replace("\\cdots", "\\ldots")
        .replace("...", "\\ldots");
    if listed == "1,2,3,\\ldots" || listed == "1,2,3,4,\\ldots" {
        return Some("positive integer");
    }
    Some(match t.as_str() {
        "\\mathbb{Z}^+" | "\\mathbb{Z}^{+}" | "\\mathbb{Z}_{>0}" | "\\mathbb{Z}_{+}"
        | "\\mathbb{Z}_+" | "\\mathbb{N}^*" | "\\mathbb{N}^{*}" | "\\mathbb{N}^+"
        | "\\mathbb{N}^{+}" | "\\mathbb{N}_{>0}" => "positive integer",
        "\\mathbb{Z}" => "integer",
        "\\mathbb{Q}" => "rational",
        "\\mathbb{Q}^+" | "\\mathbb{Q}^{+}" | "\\mathbb{Q}_{>0}" => "positive rational",
        "\\mathbb{R}^+" | "\\mathbb{R}^{+}" | "\\mathbb{R}_{>0}" => "positive real",
        "\\mathbb{C}" => "complex",
        "\\mathbb{R}" => "real",
        "\\mathbb{N}" => "natural",
        _ => return None,
    })
}

/// The set a phrase names: "all positive integers", "every rational number", "the naturals".
fn words(s: &str) -> Option<&'static str> {
    let t = crate::text::unwrap_cmds(s, &["\\text", "\\mathrm", "\\textrm", "\\mbox"]);
    let kept: Vec<String> = t
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .filter(|w| {
            !matches!(
                w.as_str(),
                "all" | "the" | "set" | "of" | "every" | "any" | "each" | "n" | "x" | "k"
            )
        })
        .map(|w| match w.as_str() {
            "integers" => "integer".to_string(),
            "numbers" | "number" => String::new(),
            "reals" => "real".to_string(),
            "rationals" => "rational".to_string(),
            "naturals" => "natural".to_string(),
            _ => w,
        })
        .filter(|w| !w.is_empty())
        .collect();
    Some(match kept.join(" ").as_str() {
        "positive integer" => "positive integer",
        "integer" => "integer",
        "rational" => "rational",
        "positive rational" => "positive rational",
        "positive real" => "positive real",
        "real" => "real",
        "complex" => "complex",
        "natural" => "natural",
        _ => return None,
    })
}

/// `Some(equal)` when one side is a symbol for a set of numbers and the other names a set in
/// words.
pub(crate) fn compare(pred: &str, gold: &str) -> Option<bool> {
    match (symbol(pred), symbol(gold)) {
        (Some(a), None) => words(gold).map(|b| a == b),
        (None, Some(b)) => words(pred).map(|a| a == b),
        // Both in words: "all real numbers" is not "all integers".
        (None, None) if pred.bytes().any(|c| c.is_ascii_alphabetic()) => {
            Some(words(pred)? == words(gold)?)
        }
        // `1, 2, 3, \ldots` against `\mathbb{Z}^+`.
        (Some(a), Some(b)) if a == b => Some(true),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::compare;

    #[test]
    fn symbols_against_words() {
        assert_eq!(
            compare("\\mathbb{Z}^+", "\\text{all positive integers}"),
            Some(true)
        );
        assert_eq!(
            compare("\\text{the rational numbers}", "\\mathbb{Q}"),
            Some(true)
        );
        assert_eq!(
            compare("\\mathbb{N}^*", "\\text{every positive integer}"),
            Some(true)
        );
        assert_eq!(
            compare("\\mathbb{Z}", "\\text{all positive integers}"),
            Some(false)
        );
        // Natural numbers may or may not hold 0: never a positive-integer answer.
        assert_eq!(
            compare("\\mathbb{N}", "\\text{all positive integers}"),
            Some(false)
        );
        assert_eq!(compare("\\mathbb{Z}", "\\text{all even integers}"), None);
        assert_eq!(compare("\\mathbb{Z}", "\\mathbb{Z}"), Some(true));
    }
}
