//! `(1, 2, 3) \text{ and permutations}`: a tuple with a phrase saying its order does not matter
//! stands for every ordering of it. The phrase is replaced by the orderings written out
//! (distinct ones, at most 24 per tuple), so the answer compares with a list that names them
//! all and differs from one that names some.

const PHRASES: &[&str] = &[
    "and all their permutations",
    "and all its permutations",
    "and all permutations",
    "and their permutations",
    "and its permutations",
    "and permutations",
    "up to permutations",
    "up to permutation",
    "in any order",
    "in some order",
];

/// The same said before the tuple: `\text{all permutations of } (2, 3, 5)`.
const LEADING: &[&str] = &[
    "all permutations of",
    "all the permutations of",
    "any permutation of",
    "every permutation of",
    "permutations of",
];

/// The answer with each tuple's orderings written out, when it ends with such a phrase.
pub(crate) fn expand(s: &str) -> Option<String> {
    if !s.contains("ermutation") && !s.contains("order") {
        return None;
    }
    if let Some(out) = expand_leading(s) {
        return Some(out);
    }
    let lower = s.to_ascii_lowercase();
    let (at, len) = PHRASES
        .iter()
        .find_map(|p| lower.find(p).map(|k| (k, p.len())))?;
    // The phrase ends the answer, inside or outside a `\text{…}`.
    let mut head = s[..at].trim_end();
    let tail = s[at + len..].trim();
    let wrapped = head.ends_with("\\text{") || head.ends_with("\\mbox{");
    if wrapped {
        head = head
            .trim_end_matches("\\text{")
            .trim_end_matches("\\mbox{")
            .trim_end();
        if tail.trim_start_matches(['.', ')']).trim() != "}" && tail != "}" {
            return None;
        }
    } else if !tail.trim_start_matches('.').is_empty() {
        return None;
    }
    let head = head.trim_end_matches(',').trim_end();
    // `(a, b, c) = (1, 2, 3)`: the names go; the values are permuted.
    let values = match head.rfind('=') {
        Some(k) => head[k + 1..].trim(),
        None => head,
    };
    orderings_of(values)
}

/// Every distinct ordering of each tuple in `values`, written out.
fn orderings_of(values: &str) -> Option<String> {
    let tuples = tuples(values)?;
    let mut out: Vec<String> = Vec::new();
    for t in tuples {
        if !(2..=4).contains(&t.len()) {
            return None;
        }
        for p in orderings(&t) {
            let w = format!("({})", p.join(", "));
            if !out.contains(&w) {
                out.push(w);
            }
        }
    }
    Some(out.join(", "))
}

fn expand_leading(s: &str) -> Option<String> {
    let t = s.trim();
    let (t, wrapped) = match t
        .strip_prefix("\\text{")
        .or_else(|| t.strip_prefix("\\mbox{"))
    {
        Some(rest) => (rest.trim_start(), true),
        None => (t, false),
    };
    let lower = t.to_ascii_lowercase();
    let len = LEADING.iter().find(|p| lower.starts_with(*p))?.len();
    let mut rest = t[len..].trim_start();
    if wrapped {
        // `\text{all permutations of } (2, 3, 5)` or the tuple inside the text.
        rest = match rest.strip_prefix('}') {
            Some(r) => r.trim_start(),
            None => rest.trim_end().strip_suffix('}')?,
        };
    }
    let rest = rest.trim_end().trim_end_matches('.').trim_end();
    orderings_of(rest)
}

/// `(1, 2, 3), (1, 1, 1)` → the items of each tuple; `None` unless the text is only tuples.
fn tuples(s: &str) -> Option<Vec<Vec<String>>> {
    let s = s
        .trim()
        .trim_start_matches("\\{")
        .trim_end_matches("\\}")
        .trim();
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b' ' | b',' => i += 1,
            b'(' => {
                let mut depth = 0;
                let mut j = i;
                let mut items = Vec::new();
                let mut start = i + 1;
                loop {
                    match b.get(j)? {
                        b'(' | b'[' | b'{' => depth += 1,
                        b')' | b']' | b'}' => {
                            depth -= 1;
                            if depth == 0 {
                                items.push(s[start..j].trim().to_string());
                                break;
                            }
                        }
                        b',' if depth == 1 => {
                            items.push(s[start..j].trim().to_string());
                            start = j + 1;
                        }
                        _ => {}
                    }
                    j += 1;
                }
                if items.iter().any(|x| x.is_empty()) {
                    return None;
                }
                out.push(items);
                i = j + 1;
            }
            _ if s[i..].starts_with("\\text{ and }") => i += "\\text{ and }".len(),
            _ if s[i..].starts_with("and ") => i += 4,
            _ => return None,
        }
    }
    (!out.is_empty()).then_some(out)
}

fn orderings(items: &[String]) -> Vec<Vec<String>> {
    if items.len() <= 1 {
        return vec![items.to_vec()];
    }
    let mut out = Vec::new();
    for k in 0..items.len() {
        let mut rest = items.to_vec();
        let first = rest.remove(k);
        for mut p in orderings(&rest) {
            p.insert(0, first.clone());
            out.push(p);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::expand;

    #[test]
    fn a_tuple_and_its_permutations_is_every_ordering() {
        assert_eq!(
            expand(r"(1,2,3) \text{ and permutations}").as_deref(),
            Some("(1, 2, 3), (1, 3, 2), (2, 1, 3), (2, 3, 1), (3, 1, 2), (3, 2, 1)")
        );
        assert_eq!(
            expand(r"(a, b, c) = (2, 2, 1) \text{ and its permutations}").as_deref(),
            Some("(2, 2, 1), (2, 1, 2), (1, 2, 2)")
        );
        assert_eq!(
            expand(r"(1, 1, 1), (1, 2, 3) up to permutation").map(|s| s.matches('(').count()),
            Some(7)
        );
        // No phrase, or a phrase with more after it: nothing to expand.
        assert_eq!(expand("(1, 2, 3)"), None);
        assert_eq!(expand(r"(1,2) \text{ in any order, and } (3,4)"), None);
    }
}
