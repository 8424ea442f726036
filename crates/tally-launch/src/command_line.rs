//! A program to run: its name, arguments and extra environment, printable for `--dry-run`.

use std::fmt;
use std::process::Stdio;

use crate::shell_words::quote;

/// One command as Tally runs it: no shell, an exact argument vector, and environment variables set
/// on top of the inherited environment.
///
/// `Display` writes it as one POSIX shell line (`NAME=value program arg…`, every word quoted as
/// `shlex.quote` would), so what `--dry-run` prints, pasted into a shell, runs the same vector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandLine {
    /// The program: a name looked up on `PATH`, or a path.
    pub program: String,
    pub args: Vec<String>,
    /// Set for the child only, in this order.
    pub env: Vec<(String, String)>,
}

impl CommandLine {
    pub fn new(program: impl Into<String>) -> Self {
        CommandLine {
            program: program.into(),
            args: Vec::new(),
            env: Vec::new(),
        }
    }

    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    /// The full argument vector, program first, as `execvp` gets it.
    pub fn argv(&self) -> Vec<&str> {
        std::iter::once(self.program.as_str())
            .chain(self.args.iter().map(String::as_str))
            .collect()
    }

    /// A tokio command for this line: own process group, stdin closed, no shell.
    ///
    /// The child leads a new process group so that stopping it reaches everything it spawned
    /// (vLLM's and SGLang's worker processes, MPI ranks), and so that a Ctrl-C in the terminal is
    /// Tally's to handle rather than killing the server half-way through a request.
    pub(crate) fn to_command(&self) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(&self.program);
        cmd.args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .process_group(0);
        cmd
    }
}

impl fmt::Display for CommandLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, value) in &self.env {
            // Names are not quoted: a quoted name would turn the assignment into a command word.
            write!(f, "{name}={} ", quote(value))?;
        }
        write!(f, "{}", quote(&self.program))?;
        for arg in &self.args {
            write!(f, " {}", quote(arg))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_shell_quoted_with_env_first() {
        let c = CommandLine::new("python3")
            .args(["-m", "vllm.entrypoints.openai.api_server", "--model=/m/a b"])
            .env("NCCL_DEBUG", "INFO")
            .env("EMPTY", "");
        assert_eq!(
            c.to_string(),
            "NCCL_DEBUG=INFO EMPTY='' python3 -m vllm.entrypoints.openai.api_server '--model=/m/a b'"
        );
        assert_eq!(
            c.argv(),
            [
                "python3",
                "-m",
                "vllm.entrypoints.openai.api_server",
                "--model=/m/a b"
            ]
        );
    }
}
