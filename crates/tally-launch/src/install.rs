//! Is the program there? Checks made before a launch, so a missing server fails in a second with
//! an install hint instead of minutes later with a Python traceback in a log.

use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use crate::error::{LaunchError, Result};

/// `pip install vllm`: vLLM's own install instructions.
pub const VLLM_HINT: &str = "install vLLM into that Python with `pip install vllm` \
     (https://docs.vllm.ai/en/latest/getting_started/installation/)";
/// SGLang's install instructions.
pub const SGLANG_HINT: &str = "install SGLang into that Python with `pip install \"sglang[all]\"` \
     (https://docs.sglang.ai/start/install.html)";
/// TensorRT-LLM's install instructions (`trtllm-serve`, `trtllm-build` and the `tensorrt_llm`
/// package come together).
pub const TRTLLM_HINT: &str = "install TensorRT-LLM with `pip install tensorrt_llm` as described in \
     https://nvidia.github.io/TensorRT-LLM/installation/linux.html, or run inside NVIDIA's container \
     nvcr.io/nvidia/tensorrt-llm/release";
/// Where Tally's CPU stand-in comes from.
pub const LLAMA_SERVER_HINT: &str =
    "build it with `bash scripts/llama-server.sh setup` (it is put at \
     ~/.cache/tally/llama-server/bin/llama-server) and pass that path, or put llama.cpp's \
     llama-server on PATH";
/// For the interpreter itself.
pub const PYTHON_HINT: &str = "install Python 3 or pass the path of the interpreter to use";

/// Resolves a program the way `execvp` will: a name with a `/` is a path, anything else is looked
/// up in `PATH`.
///
/// Reading `PATH` here is not configuration behind the caller's back: it is the same lookup the
/// spawn is about to do, done earlier so the error can say what to install.
pub fn find_program(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        let p = Path::new(program);
        return is_executable(p).then(|| p.to_path_buf());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    std::fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Fails with [`LaunchError::ProgramNotFound`] (carrying `hint`) unless `program` resolves.
pub fn require_program(program: &str, hint: &str) -> Result<PathBuf> {
    find_program(program).ok_or_else(|| LaunchError::ProgramNotFound {
        program: program.to_string(),
        hint: hint.to_string(),
    })
}

/// Fails unless `python` can import `module`.
///
/// Uses `importlib.util.find_spec`, which locates the package without importing it: importing
/// vLLM or TensorRT-LLM takes many seconds and initialises CUDA.
pub async fn require_python_module(python: &str, module: &str, hint: &str) -> Result<()> {
    require_program(python, PYTHON_HINT)?;
    let probe = format!(
        "import importlib.util, sys; sys.exit(0 if importlib.util.find_spec({module:?}) else 3)"
    );
    let status = tokio::time::timeout(
        Duration::from_secs(60),
        tokio::process::Command::new(python)
            .args(["-c", &probe])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .status(),
    )
    .await;
    match status {
        Ok(Ok(s)) if s.success() => Ok(()),
        Ok(Err(source)) => Err(LaunchError::Spawn {
            program: python.to_string(),
            source,
        }),
        // Exit 3, a crash, or a hang: in every case the server would not start.
        _ => Err(LaunchError::PythonModuleMissing {
            python: python.to_string(),
            module: module.to_string(),
            hint: hint.to_string(),
        }),
    }
}

/// Maps a failed spawn to the clearest error: "not found" gets the install hint.
pub(crate) fn spawn_error(program: &str, hint: &str, source: std::io::Error) -> LaunchError {
    if source.kind() == std::io::ErrorKind::NotFound {
        LaunchError::ProgramNotFound {
            program: program.to_string(),
            hint: hint.to_string(),
        }
    } else {
        LaunchError::Spawn {
            program: program.to_string(),
            source,
        }
    }
}

/// The name a program is known by in messages: the file name of a path.
pub(crate) fn display_name(program: &str) -> &str {
    Path::new(program)
        .file_name()
        .and_then(OsStr::to_str)
        .unwrap_or(program)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_programs_on_path_and_by_path() {
        assert!(find_program("sh").is_some());
        assert_eq!(
            find_program("/bin/sh").as_deref(),
            Some(Path::new("/bin/sh"))
        );
        assert!(find_program("tally-no-such-program-xyz").is_none());
        assert!(find_program("/nonexistent/dir/prog").is_none());
        // A directory is not a program.
        assert!(find_program("/tmp/").is_none());
    }

    #[test]
    fn missing_program_error_names_it_and_the_fix() {
        let e = require_program("trtllm-serve-not-here", TRTLLM_HINT).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("`trtllm-serve-not-here` was not found"),
            "{msg}"
        );
        assert!(msg.contains("pip install tensorrt_llm"), "{msg}");
    }

    #[tokio::test]
    async fn python_module_probe() {
        if find_program("python3").is_none() {
            eprintln!("note: python3 not on PATH; skipping");
            return;
        }
        require_python_module("python3", "json", VLLM_HINT)
            .await
            .unwrap();
        let e = require_python_module("python3", "tally_no_such_module", VLLM_HINT)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("pip install vllm"), "{e}");
    }
}
