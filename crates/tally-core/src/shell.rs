//! Shell quoting, Python's `shlex.quote`/`shlex.join` byte for byte: the one quoter for batch
//! scripts (tally-cluster) and the command lines `--dry-run` prints (tally-launch). A person can
//! paste the line into a POSIX shell and get exactly the argument vector Tally would run. (The
//! `shlex` crate quotes differently: it quotes `,` and switches to double quotes around a `'`;
//! NeMo-Skills prints Python's. Splitting is tally-launch's `shell_words::split`.)

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
