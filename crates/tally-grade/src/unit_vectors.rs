//! Vectors written with unit vectors, `2\mathbf{i} - \mathbf{j} + 3\mathbf{k}`, against the
//! same vector as a tuple `(2, -1, 3)` or `\langle 2, -1, 3 \rangle`.

/// How unit vectors are written: bold, hat, arrow, dotless.
const MARKS: &[(&str, usize)] = &[
    ("\\mathbf{\\hat{i}}", 0),
    ("\\mathbf{\\hat{j}}", 1),
    ("\\mathbf{\\hat{k}}", 2),
    ("\\hat{\\imath}", 0),
    ("\\hat{\\jmath}", 1),
    ("\\mathbf{i}", 0),
    ("\\mathbf{j}", 1),
    ("\\mathbf{k}", 2),
    ("\\hat{i}", 0),
    ("\\hat{j}", 1),
    ("\\hat{k}", 2),
    ("\\vec{i}", 0),
    ("\\vec{j}", 1),
    ("\\vec{k}", 2),
    ("\\boldsymbol{i}", 0),
    ("\\boldsymbol{j}", 1),
    ("\\boldsymbol{k}", 2),
];

/// The number of components of a tuple written `( … )`, `\left( … \right)` or
/// `\langle … \rangle`; `None` for anything else.
fn tuple_len(s: &str) -> Option<usize> {
    let t = s.trim().replace("\\left", "").replace("\\right", "");
    // A column vector: `\begin{pmatrix} 2 \\ -1 \\ 3 \end{pmatrix}`.
    for env in ["pmatrix", "bmatrix"] {
        let body = t
            .strip_prefix(&format!("\\begin{{{env}}}"))
            .and_then(|x| x.strip_suffix(&format!("\\end{{{env}}}")));
        if let Some(body) = body {
            if body.contains('&') {
                return None;
            }
            return Some(body.split("\\\\").filter(|r| !r.trim().is_empty()).count());
        }
    }
    let inner = t
        .strip_prefix('(')
        .and_then(|x| x.strip_suffix(')'))
        .or_else(|| t.strip_prefix("\\langle")?.strip_suffix("\\rangle"))?;
    let mut depth = 0i32;
    let mut n = 1;
    for c in inner.chars() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            ',' if depth == 0 => n += 1,
            _ => {}
        }
        if depth < 0 {
            return None;
        }
    }
    (depth == 0).then_some(n)
}

/// The terms of a sum at the top level, each with its sign (`-\mathbf{j}` → `-`, `\mathbf{j}`).
fn terms(s: &str) -> Option<Vec<(bool, String)>> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut cur = String::new();
    let mut neg = false;
    for c in s.chars() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            _ => {}
        }
        if depth < 0 {
            return None;
        }
        if depth == 0 && (c == '+' || c == '-') && !cur.trim().ends_with('^') {
            if !cur.trim().is_empty() {
                out.push((neg, cur.trim().to_string()));
            } else if out.is_empty() && c == '-' && neg {
                return None;
            }
            neg = c == '-';
            cur.clear();
            continue;
        }
        cur.push(c);
    }
    if depth != 0 || cur.trim().is_empty() {
        return None;
    }
    out.push((neg, cur.trim().to_string()));
    Some(out)
}

/// `vector` written with unit vectors, as a tuple of `other`'s length (2 or 3), if it is one.
pub(crate) fn as_tuple(vector: &str, other: &str) -> Option<String> {
    if !MARKS.iter().any(|(m, _)| vector.contains(m)) {
        return None;
    }
    let len = tuple_len(other).filter(|n| (2..=3).contains(n))?;
    let mut parts: [Option<String>; 3] = [None, None, None];
    for (neg, term) in terms(vector)? {
        let (mark, axis) = MARKS.iter().find(|(m, _)| term.ends_with(m))?;
        let coef = term[..term.len() - mark.len()]
            .trim()
            .trim_end_matches("\\cdot")
            .trim_end_matches('*')
            .trim();
        if MARKS.iter().any(|(m, _)| coef.contains(m)) || parts[*axis].is_some() {
            return None;
        }
        let coef = if coef.is_empty() { "1" } else { coef };
        parts[*axis] = Some(if neg {
            format!("-({coef})")
        } else {
            coef.to_string()
        });
    }
    if len == 2 && parts[2].is_some() {
        return None;
    }
    let items: Vec<String> = parts[..len]
        .iter()
        .map(|p| p.clone().unwrap_or_else(|| "0".into()))
        .collect();
    Some(format!("({})", items.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_out_as_tuples() {
        let v = "1\\mathbf{i} + 2\\mathbf{j} + 3\\mathbf{k}";
        assert_eq!(as_tuple(v, "(1,2,3)").as_deref(), Some("(1, 2, 3)"));
        assert_eq!(
            as_tuple(
                "\\hat{i} - \\frac{1}{2}\\hat{k}",
                "\\langle 1, 0, 2 \\rangle"
            )
            .as_deref(),
            Some("(1, 0, -(\\frac{1}{2}))")
        );
        assert_eq!(
            as_tuple("-\\mathbf{i}+\\mathbf{j}", "(1, 1)").as_deref(),
            Some("(-(1), 1)")
        );
        assert_eq!(as_tuple(v, "6"), None);
        assert_eq!(as_tuple("\\mathbf{i} + \\mathbf{i}", "(2, 0, 0)"), None);
        assert_eq!(as_tuple(v, "(1, 2)"), None);
    }
}
