//! NeMo-Skills' client-side output formatting (spec §3.1, trap T7), applied to the raw captured
//! stdout and stderr of a snippet.

/// The marker NeMo-Skills appends after cutting long output.
pub const OUTPUT_CUT: &str = "<output cut>";

/// Formats one captured stream exactly as NeMo-Skills' wrapper does:
/// remove `Out[1]: `, `strip()`, cut to `max_chars` characters plus `<output cut>`, and if the
/// result is non-empty remove ANSI escapes and every line whose stripped text starts with
/// `File <ipython-`, then append `"\n"`.
///
/// ```
/// use tally_sandbox::format::format_output;
/// assert_eq!(format_output("Out[1]: 10\n", 1000), "10\n");
/// assert_eq!(format_output("  \n", 1000), "");
/// assert_eq!(format_output("abcdef", 3), "abc<output cut>\n");
/// ```
pub fn format_output(raw: &str, max_chars: usize) -> String {
    let replaced = raw.replace("Out[1]: ", "");
    let stripped = py_strip(&replaced);
    let mut text: String = match stripped.char_indices().nth(max_chars) {
        // Python's `len` counts code points, so the cut is in chars, not bytes.
        Some((byte, _)) => format!("{}{OUTPUT_CUT}", &stripped[..byte]),
        None => stripped.to_string(),
    };
    if text.is_empty() {
        return text;
    }
    text = remove_ansi(&text);
    let kept: Vec<&str> = text
        .split('\n')
        .filter(|line| !py_strip(line).starts_with("File <ipython-"))
        .collect();
    let mut out = kept.join("\n");
    out.push('\n');
    out
}

/// Python's `str.isspace()` for one character (what `str.strip()` removes). It differs from
/// Rust's `char::is_whitespace` on U+001C..U+001F (Python strips them, Rust does not).
fn py_is_space(c: char) -> bool {
    matches!(c, '\u{1c}'..='\u{1f}') || c.is_whitespace()
}

/// Python's `str.strip()` with no arguments.
pub(crate) fn py_strip(s: &str) -> &str {
    s.trim_matches(py_is_space)
}

/// Removes the escapes matched by `\x1B(?:[@-Z\\-_]|\[[0-?]*[ -/]*[@-~])`, the ANSI regex the
/// NeMo-Skills wrapper uses.
pub fn remove_ansi(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let mut copied = 0;
    while i < b.len() {
        if b[i] != 0x1b {
            i += 1;
            continue;
        }
        let end = match b.get(i + 1) {
            Some(&c) if (0x40..=0x5a).contains(&c) || (0x5c..=0x5f).contains(&c) => Some(i + 2),
            Some(&b'[') => {
                let mut j = i + 2;
                while j < b.len() && (0x30..=0x3f).contains(&b[j]) {
                    j += 1;
                }
                while j < b.len() && (0x20..=0x2f).contains(&b[j]) {
                    j += 1;
                }
                match b.get(j) {
                    Some(&c) if (0x40..=0x7e).contains(&c) => Some(j + 1),
                    _ => None,
                }
            }
            _ => None,
        };
        match end {
            Some(e) => {
                out.push_str(&s[copied..i]);
                copied = e;
                i = e;
            }
            None => i += 1,
        }
    }
    out.push_str(&s[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_examples() {
        assert_eq!(format_output("4\n", 1000), "4\n");
        assert_eq!(format_output("Out[1]: 10\n", 1000), "10\n");
        let tb = "Traceback (most recent call last):\n  File <ipython-input-1-633e7e44cf91>:1\n    y = 1/0\nZeroDivisionError: division by zero\n\n";
        assert_eq!(
            format_output(tb, 1000),
            "Traceback (most recent call last):\n    y = 1/0\nZeroDivisionError: division by zero\n"
        );
        let syn = "  File <ipython-input-1-5f39e8a17d0d>:1\n    def f(:\n          ^\nSyntaxError: invalid syntax\n\n";
        assert_eq!(
            format_output(syn, 1000),
            "    def f(:\n          ^\nSyntaxError: invalid syntax\n"
        );
        assert_eq!(format_output("", 1000), "");
    }

    #[test]
    fn cut_counts_chars_and_happens_before_ansi_removal() {
        let long = "é".repeat(1500);
        let out = format_output(&long, 1000);
        assert_eq!(out.chars().count(), 1000 + OUTPUT_CUT.len() + 1);
        assert!(out.ends_with("<output cut>\n"));
        assert_eq!(format_output("\x1b[31mred\x1b[0m", 1000), "red\n");
        assert_eq!(remove_ansi("a\x1bMb\x1b[1;2x"), "ab");
    }

    #[test]
    fn strip_is_pythons() {
        assert_eq!(py_strip("\u{1c}x\u{a0}"), "x");
    }
}
