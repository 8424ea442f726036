//! Functions written as maps: `f: x \mapsto 1/x`, `x \mapsto x^2`, and a signature before the
//! rule (`f:\mathbb{R}\to\mathbb{R},\ f(x) = x`). Each says `f(x) = …`, so that is what the
//! rest of the grader reads (a single function's name does not matter there).

/// The rule `name(var) = body` a map answer states, or `None` when `s` is not written as one.
pub(crate) fn as_rule(s: &str) -> Option<String> {
    let t = s.trim();
    let (name, rest) = match named(t) {
        Some((n, r)) => (Some(n), r),
        None => (None, t),
    };
    if let Some(rule) = mapsto(rest, name.unwrap_or('f')) {
        return Some(rule);
    }
    // `f: A \to B, f(x) = …`: the signature names the sets; what follows is the rule.
    let name = name?;
    let after = ["\\to", "\\rightarrow", "→"]
        .iter()
        .find_map(|a| rest.find(a).map(|k| &rest[k + a.len()..]))?;
    let k = top_level_separator(after)?;
    let mut tail = after[k..].trim_start_matches([',', ';']).trim_start();
    loop {
        let before = tail;
        for p in ["\\quad", "\\qquad", "\\ ", "\\,", "\\;", "~", "\\text{ }"] {
            tail = tail.strip_prefix(p).unwrap_or(tail).trim_start();
        }
        if tail == before {
            break;
        }
    }
    if let Some(rule) = mapsto(tail, name) {
        return Some(rule);
    }
    let opens_rule = tail
        .strip_prefix(name)
        .is_some_and(|r| r.trim_start().starts_with('('));
    opens_rule.then(|| tail.to_string())
}

/// `f:` or `f :` at the start (not `f := …`): the map's name and what follows.
fn named(t: &str) -> Option<(char, &str)> {
    let mut cs = t.chars();
    let name = cs.next().filter(char::is_ascii_alphabetic)?;
    let rest = cs.as_str().trim_start();
    let rest = rest.strip_prefix(':').filter(|r| !r.starts_with('='))?;
    Some((name, rest.trim_start()))
}

/// `x \mapsto body` → `name(x) = body`, the variable one letter.
fn mapsto(s: &str, name: char) -> Option<String> {
    let (var, body) = s.split_once("\\mapsto").or_else(|| s.split_once('↦'))?;
    let var = var.trim();
    let body = body.trim();
    let one_letter = var.len() == 1 && var.chars().all(|c| c.is_ascii_alphabetic());
    (one_letter && !body.is_empty() && !body.contains("\\mapsto"))
        .then(|| format!("{name}({var}) = {body}"))
}

/// The first `,` or `;` outside braces and brackets, ending a signature's codomain.
fn top_level_separator(s: &str) -> Option<usize> {
    let mut depth = 0i32;
    for (k, c) in s.char_indices() {
        match c {
            '{' | '(' | '[' => depth += 1,
            '}' | ')' | ']' => depth -= 1,
            ',' | ';' if depth == 0 => return Some(k),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::as_rule;

    #[test]
    fn maps_and_signatures_become_rules() {
        assert_eq!(as_rule("f: x \\mapsto 1/x").unwrap(), "f(x) = 1/x");
        assert_eq!(as_rule("x \\mapsto x^2").unwrap(), "f(x) = x^2");
        assert_eq!(
            as_rule("f:\\mathbb{R}\\to\\mathbb{R},\\ f(x)=x").unwrap(),
            "f(x)=x"
        );
        assert_eq!(
            as_rule("g: \\mathbb{R} \\to \\mathbb{R}, \\quad x \\mapsto 2x").unwrap(),
            "g(x) = 2x"
        );
        // Not maps: a ratio, a definition, a limit, a signature with no rule.
        assert_eq!(as_rule("3:4"), None);
        assert_eq!(as_rule("f := 3"), None);
        assert_eq!(as_rule("x \\to 0"), None);
        assert_eq!(as_rule("f: \\mathbb{R} \\to \\mathbb{R}"), None);
        assert_eq!(as_rule("(x, y) \\mapsto x + y"), None);
    }
}
