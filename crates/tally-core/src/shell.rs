//! Shell words the way Python's `shlex` reads and writes them, byte for byte: the one splitter
//! (`--server_args`, `--extra_judge_args`, `--extra_genselect_args`, `ns convert`'s extra
//! arguments — NeMo-Skills hands those strings to a POSIX shell) and the one quoter (batch
//! scripts, the command lines `--dry-run` prints, which a person can paste into a shell and get
//! exactly the argument vector Tally would run). The `shlex` crate differs from Python on both:
//! it quotes `,` and switches to double quotes around a `'`, and its `split` drops a word that
//! starts with `#` and the rest of its line as a comment, where `shlex.split` keeps it.

/// A string that is not a valid shell word list (an unclosed quote, a trailing backslash).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?}: {reason}")]
pub struct ShellSyntaxError {
    pub input: String,
    pub reason: &'static str,
}

/// Quotes one word so a POSIX shell reads it back unchanged (the same rule as Python's
/// `shlex.quote`): words of `[A-Za-z0-9_@%+=:,./-]` stay bare, anything else goes in single
/// quotes with an embedded `'` written as `'"'"'`.
pub fn quote(word: &str) -> String {
    if word.is_empty() {
        return "''".to_string();
    }
    if word
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"_@%+=:,./-".contains(&b))
    {
        return word.to_string();
    }
    format!("'{}'", word.replace('\'', "'\"'\"'"))
}

/// An argument vector as one shell line that runs exactly that vector.
pub fn join<S: AsRef<str>>(argv: &[S]) -> String {
    argv.iter()
        .map(|a| quote(a.as_ref()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Splits a string into words as `shlex.split` (POSIX mode) does.
///
/// Single quotes keep everything literally; inside double quotes a backslash escapes only `\` and
/// `"`; outside quotes a backslash escapes any character. There are no comments, no variable
/// expansion and no globbing: what the seed's shell would have expanded stays literal here, which
/// is the point of running without a shell.
pub fn split(input: &str) -> Result<Vec<String>, ShellSyntaxError> {
    let mut words = Vec::new();
    let mut word = String::new();
    // A word can be empty but present (`''`), so "in a word" is tracked apart from its text.
    let mut in_word = false;
    let mut chars = input.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err(unclosed(input)),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('\\' | '"')) => word.push(c),
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => return Err(unclosed(input)),
                        },
                        Some(c) => word.push(c),
                        None => return Err(unclosed(input)),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(c) => word.push(c),
                    None => {
                        return Err(ShellSyntaxError {
                            input: input.to_string(),
                            reason: "a trailing backslash escapes nothing",
                        })
                    }
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

fn unclosed(input: &str) -> ShellSyntaxError {
    ShellSyntaxError {
        input: input.to_string(),
        reason: "a quotation is not closed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_what_a_shell_would_split_or_expand() {
        assert_eq!(quote("tally"), "tally");
        assert_eq!(
            quote("++inference.temperature=0.6"),
            "++inference.temperature=0.6"
        );
        assert_eq!(quote(""), "''");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("$HOME"), "'$HOME'");
        assert_eq!(quote("it's"), "'it'\"'\"'s'");
        assert_eq!(join(&["echo", "a;b", "c"]), "echo 'a;b' c");
    }

    #[test]
    fn splits_as_python_shlex_does() {
        let s = |x: &str| split(x).unwrap();
        // `shlex.split("++a=1 #b")` keeps `#b` (no comments by default); the `shlex` crate drops it.
        assert_eq!(s("++a=1 #b"), ["++a=1", "#b"]);
        assert_eq!(s("++p='x y' ++q=\"z\""), ["++p=x y", "++q=z"]);
        let e = split("++p='open").unwrap_err();
        assert_eq!(e.to_string(), "\"++p='open\": a quotation is not closed");
    }

    #[test]
    fn a_shell_reads_the_words_back() {
        let argv: Vec<String> = [
            "printf",
            "%s|",
            "a b",
            "it's",
            "$x",
            "\"q\"",
            "",
            "line\nbreak",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(join(&argv))
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            "a b|it's|$x|\"q\"||line\nbreak|"
        );
    }
}
