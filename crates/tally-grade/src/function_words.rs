//! Functional-equation answers named in words: "the identity function" is `f(x) = x`, "the
//! zero function" `f(x) = 0`, "constant functions" `f(x) = c`. The words are written as the
//! formula, with the function's name and variable taken from the other side's definition
//! (`g(t) = t` makes "the identity" `g(t) = t`), so the usual comparison decides.

/// The formula an answer in words stands for, given the other side; `None` when the words are
/// not one of these names or the other side is not a definition `f(x) = …`.
pub(crate) fn as_formula(words: &str, other: &str) -> Option<String> {
    if !words.contains("function") && !words.contains("identi") && !words.contains("constant") {
        return None;
    }
    let key = key(words)?;
    let body = match key.as_str() {
        "the identity function"
        | "the identity"
        | "identity function"
        | "identity"
        | "f is the identity"
        | "f is the identity function" => "{v}",
        "the zero function"
        | "zero function"
        | "identically zero"
        | "f is identically zero"
        | "the zero function only" => "0",
        "constant functions"
        | "all constant functions"
        | "the constant functions"
        | "constant function"
        | "any constant function"
        | "f is constant"
        | "f is a constant function" => "c",
        _ => return None,
    };
    let (name, var) = definition_head(other)?;
    Some(format!("{name}({var}) = {}", body.replace("{v}", &var)))
}

/// The words without `\text{…}`, `$`, full stops and case.
fn key(s: &str) -> Option<String> {
    let s = s.trim();
    let inner = s
        .strip_prefix("\\text{")
        .or_else(|| s.strip_prefix("\\mbox{"))
        .and_then(|x| x.strip_suffix('}'))
        .unwrap_or(s);
    if inner.contains(['{', '}', '\\', '=', '(']) {
        return None;
    }
    let k = inner
        .trim()
        .trim_end_matches('.')
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    Some(k.strip_prefix("only ").map_or(k.clone(), str::to_string))
}

/// `f(x) = …` → (`f`, `x`): one letter applied to one letter.
fn definition_head(s: &str) -> Option<(char, String)> {
    let s = s.trim();
    let (head, _) = s.split_once('=')?;
    let head = head.trim();
    let mut c = head.chars();
    let name = c.next()?;
    let rest: String = c.collect();
    let var = rest.strip_prefix('(')?.strip_suffix(')')?.trim();
    (name.is_ascii_alphabetic() && var.len() == 1 && var.chars().all(|v| v.is_ascii_alphabetic()))
        .then(|| (name, var.to_string()))
}

#[cfg(test)]
mod tests {
    use super::as_formula;

    #[test]
    fn names_of_functions_become_formulas_in_the_other_sides_variable() {
        assert_eq!(
            as_formula(r"\text{the identity function}", "f(x) = x").as_deref(),
            Some("f(x) = x")
        );
        assert_eq!(
            as_formula("the zero function", "g(t)=t^2").as_deref(),
            Some("g(t) = 0")
        );
        assert_eq!(
            as_formula(r"\text{All constant functions.}", "f(n) = c").as_deref(),
            Some("f(n) = c")
        );
        assert_eq!(as_formula("the identity function", "x + 1"), None);
        assert_eq!(as_formula("an odd function", "f(x) = x"), None);
    }
}
