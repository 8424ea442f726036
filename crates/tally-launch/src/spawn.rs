//! Starting a command in its own process group with its output in a log file.

use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;

use tokio::process::Child;

use crate::command_line::CommandLine;
use crate::error::{LaunchError, Result};
use crate::install;
use crate::process_group::Group;

/// Spawns `command` leading a new process group, stdout and stderr both appended to `log_path`
/// (truncated first, parent directories created). `hint` says how to install the program if it
/// is missing. With `die_with_parent` the child gets SIGTERM when the spawning thread dies.
pub(crate) fn spawn_logged(
    command: &CommandLine,
    log_path: &Path,
    hint: &str,
    die_with_parent: bool,
) -> Result<(Child, Arc<Group>)> {
    let log_error = |source| LaunchError::Log {
        path: log_path.to_path_buf(),
        source,
    };
    if let Some(dir) = log_path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(log_error)?;
    }
    // One open file for both streams, so their lines interleave in the order they were written.
    let stdout = std::fs::File::create(log_path).map_err(log_error)?;
    let stderr = stdout.try_clone().map_err(log_error)?;
    let mut cmd = command.to_command();
    if die_with_parent {
        // SAFETY: runs in the forked child before exec; prctl and getppid are async-signal-safe.
        let parent = std::process::id() as libc::pid_t;
        unsafe {
            cmd.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // The parent may have died before the prctl took effect.
                if libc::getppid() != parent {
                    return Err(std::io::Error::other("the parent exited during the start"));
                }
                Ok(())
            });
        }
    }
    let child = cmd
        .stdout(Stdio::from(stdout))
        .stderr(Stdio::from(stderr))
        .spawn()
        .map_err(|e| install::spawn_error(&command.program, hint, e))?;
    let pid = child.id().ok_or_else(|| LaunchError::Spawn {
        program: command.program.clone(),
        source: std::io::Error::other("the child exited before its pid was read"),
    })?;
    tracing::info!(pid, log = %log_path.display(), command = %command, "started");
    // The child leads its group (process_group(0)), so the group id is its pid.
    Ok((child, Group::new(pid as i32)))
}
