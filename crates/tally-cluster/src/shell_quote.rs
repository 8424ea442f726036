//! Quoting for the lines of a generated batch script.

/// Quotes one word so a POSIX shell reads it back unchanged (the same rule as Python's
/// `shlex.quote`): words of `[A-Za-z0-9_@%+=:,./-]` stay bare, anything else goes in single
/// quotes with an embedded `'` written as `'"'"'`.
pub fn shell_quote(word: &str) -> String {
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
pub fn shell_line(argv: &[String]) -> String {
    argv.iter()
        .map(|a| shell_quote(a))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_what_a_shell_would_split_or_expand() {
        assert_eq!(shell_quote("tally"), "tally");
        assert_eq!(
            shell_quote("++inference.temperature=0.6"),
            "++inference.temperature=0.6"
        );
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("$HOME"), "'$HOME'");
        assert_eq!(shell_quote("it's"), "'it'\"'\"'s'");
        assert_eq!(
            shell_line(&["echo".into(), "a;b".into(), "c".into()]),
            "echo 'a;b' c"
        );
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
            .arg(shell_line(&argv))
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            "a b|it's|$x|\"q\"||line\nbreak|"
        );
    }
}
