//! Shell words, the way Python's `shlex` reads and writes them.
//!
//! NeMo-Skills takes `--server_args`, `--trt_prepare_args` and `ns convert`'s extra arguments as one
//! string and hands it to a POSIX shell, so Tally splits those strings the same way before it runs
//! a program without a shell. Going the other way, `--dry-run` prints command lines a person can
//! paste into a shell and get exactly the argument vector Tally would run.

use crate::error::LaunchError;

/// Quoting is tally-core's (`shlex.quote`/`shlex.join` byte for byte), shared with batch scripts.
pub use tally_core::shell::{join, quote};

/// Splits a string into words as `shlex.split` (POSIX mode) does (tally-core's splitter).
pub fn split(input: &str) -> Result<Vec<String>, LaunchError> {
    tally_core::shell::split(input).map_err(|e| LaunchError::ShellSyntax {
        input: e.input,
        reason: e.reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_like_shlex() {
        assert_eq!(quote("--port=5000"), "--port=5000");
        assert_eq!(quote("/models/Qwen2.5-7B"), "/models/Qwen2.5-7B");
        assert_eq!(quote(""), "''");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), "'it'\"'\"'s'");
        assert_eq!(quote("$HOME"), "'$HOME'");
        assert_eq!(quote("tokenizer*"), "'tokenizer*'");
        assert_eq!(quote("é"), "'é'");
    }

    #[test]
    fn splits_like_shlex() {
        let s = |x: &str| split(x).unwrap();
        assert_eq!(s(""), Vec::<String>::new());
        assert_eq!(s("  --a 1\t--b\n2 "), ["--a", "1", "--b", "2"]);
        assert_eq!(s("--x 'a b' \"c d\""), ["--x", "a b", "c d"]);
        assert_eq!(s("''"), [""]);
        assert_eq!(s("a''b"), ["ab"]);
        assert_eq!(s(r#""a\"b\\c\d""#), [r#"a"b\c\d"#]);
        assert_eq!(s(r"a\ b \'"), ["a b", "'"]);
        assert_eq!(s("--json='{\"k\": 1}'"), ["--json={\"k\": 1}"]);
        assert_eq!(s("# not a comment"), ["#", "not", "a", "comment"]);
        assert!(split("'open").is_err());
        assert!(split("\"open").is_err());
        assert!(split("end\\").is_err());
    }

    #[test]
    fn join_round_trips_through_split() {
        let words = [
            "python3",
            "-c",
            "print('hi there')",
            "",
            "a\"b",
            "$X",
            "tab\there",
        ];
        assert_eq!(split(&join(&words)).unwrap(), words);
    }
}
