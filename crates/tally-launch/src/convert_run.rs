//! Running a [`ConvertPlan`]: one step after another, each with its own log.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::convert::{ConvertPlan, ConvertStep};
use crate::error::{LaunchError, Result};
use crate::install::{self, display_name};
use crate::log_tail::log_tail;
use crate::process_group::Group;
use crate::running::DEFAULT_GRACE;

/// What happened to one step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepOutcome {
    pub name: &'static str,
    /// Skipped because its output already existed (the reused temporary checkpoint).
    pub skipped: bool,
    /// The step's log, for steps that ran a program.
    pub log_path: Option<PathBuf>,
    pub elapsed: Duration,
}

/// Runs the steps in order and stops at the first failure.
///
/// Step `i` logs to `<log_dir>/<i>-<name>.log` (the seed's default `log_dir` is
/// `<output_model>/conversion-logs`). Each program leads its own process group; dropping the
/// returned future (Ctrl-C in the caller) stops the running step and everything it spawned.
pub async fn run_plan(plan: &ConvertPlan, log_dir: &Path) -> Result<Vec<StepOutcome>> {
    let mut outcomes = Vec::with_capacity(plan.steps.len());
    for (i, step) in plan.steps.iter().enumerate() {
        let started = Instant::now();
        let (skipped, log_path) = match step {
            ConvertStep::Run {
                skip_if_exists: Some(marker),
                ..
            } if marker.exists() => {
                tracing::info!(step = step.name(), marker = %marker.display(), "skipped: output exists");
                (true, None)
            }
            ConvertStep::Run { name, command, .. } => {
                let log_path = log_dir.join(format!("{}-{name}.log", i + 1));
                run_logged(name, command, &log_path).await?;
                (false, Some(log_path))
            }
            ConvertStep::CopyTokenizer { from, to } => {
                copy_tokenizer(from, to)?;
                (false, None)
            }
        };
        outcomes.push(StepOutcome {
            name: step.name(),
            skipped,
            log_path,
            elapsed: started.elapsed(),
        });
    }
    Ok(outcomes)
}

async fn run_logged(
    name: &'static str,
    command: &crate::CommandLine,
    log_path: &Path,
) -> Result<()> {
    let (mut child, group) =
        crate::spawn::spawn_logged(command, log_path, install::TRTLLM_HINT, false)?;
    let mut guard = StopOnDrop(Some(Arc::clone(&group)));
    let status = child.wait().await.map_err(|source| LaunchError::Spawn {
        program: command.program.clone(),
        source,
    })?;
    // The tools may leave workers behind (convert_checkpoint's MPI ranks); none may outlive it.
    group.terminate(DEFAULT_GRACE).await?;
    guard.0 = None;
    if status.success() {
        return Ok(());
    }
    Err(LaunchError::StepFailed {
        step: name.to_string(),
        program: display_name(&command.program).to_string(),
        status: status.to_string(),
        log_path: log_path.to_path_buf(),
        log_tail: log_tail(log_path),
    })
}

/// Stops a step's process group if its future is dropped mid-run.
struct StopOnDrop(Option<Arc<Group>>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        let Some(group) = self.0.take() else { return };
        if let Err(e) = group.terminate_blocking(DEFAULT_GRACE) {
            tracing::error!(error = %e, "could not stop a conversion step");
        }
    }
}

/// `cp <from>/tokenizer* <to>`: regular files (symlinks followed, as in a Hugging Face cache)
/// whose names start with `tokenizer`. Like the shell glob, matching nothing is an error.
fn copy_tokenizer(from: &Path, to: &Path) -> Result<()> {
    let copy_error = |source| LaunchError::Copy {
        from: from.join("tokenizer*"),
        to: to.to_path_buf(),
        source,
    };
    let mut copied = 0;
    for entry in std::fs::read_dir(from).map_err(copy_error)? {
        let entry = entry.map_err(copy_error)?;
        let name = entry.file_name();
        if !name.to_string_lossy().starts_with("tokenizer") {
            continue;
        }
        let src = entry.path();
        if !src.is_file() {
            continue;
        }
        std::fs::copy(&src, to.join(&name)).map_err(|source| LaunchError::Copy {
            from: src.clone(),
            to: to.to_path_buf(),
            source,
        })?;
        copied += 1;
    }
    if copied == 0 {
        return Err(copy_error(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "no tokenizer files in the input model",
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CommandLine;

    #[tokio::test]
    async fn runs_steps_in_order_skips_reused_output_and_copies_the_tokenizer() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let input = d.join("hf");
        let output = d.join("engine");
        std::fs::create_dir_all(&input).unwrap();
        std::fs::create_dir_all(&output).unwrap();
        std::fs::write(input.join("tokenizer.json"), "{}").unwrap();
        std::fs::write(input.join("tokenizer_config.json"), "{}").unwrap();
        std::fs::write(input.join("config.json"), "{}").unwrap();
        let marker = d.join("exists");
        std::fs::write(&marker, "").unwrap();
        let plan = ConvertPlan {
            steps: vec![
                ConvertStep::Run {
                    name: "skipped",
                    command: CommandLine::new("false"),
                    skip_if_exists: Some(marker),
                },
                ConvertStep::Run {
                    name: "echo",
                    command: CommandLine::new("sh").args(["-c", "echo out; echo err >&2"]),
                    skip_if_exists: Some(d.join("missing")),
                },
                ConvertStep::CopyTokenizer {
                    from: input.clone(),
                    to: output.clone(),
                },
            ],
        };
        let logs = d.join("logs");
        let outcomes = run_plan(&plan, &logs).await.unwrap();
        assert_eq!(
            outcomes
                .iter()
                .map(|o| (o.name, o.skipped))
                .collect::<Vec<_>>(),
            [
                ("skipped", true),
                ("echo", false),
                ("copy-tokenizer", false)
            ]
        );
        let log = std::fs::read_to_string(logs.join("2-echo.log")).unwrap();
        assert_eq!(log, "out\nerr\n");
        assert!(output.join("tokenizer.json").is_file());
        assert!(output.join("tokenizer_config.json").is_file());
        assert!(!output.join("config.json").exists());
    }

    #[tokio::test]
    async fn a_failing_step_stops_the_plan_with_its_log_tail() {
        let dir = tempfile::tempdir().unwrap();
        let plan = ConvertPlan {
            steps: vec![
                ConvertStep::Run {
                    name: "convert_checkpoint",
                    command: CommandLine::new("sh")
                        .args(["-c", "echo 'ModuleNotFoundError: tensorrt_llm'; exit 1"]),
                    skip_if_exists: None,
                },
                ConvertStep::Run {
                    name: "never",
                    command: CommandLine::new("touch")
                        .arg(dir.path().join("ran").to_str().unwrap()),
                    skip_if_exists: None,
                },
            ],
        };
        let err = run_plan(&plan, dir.path()).await.unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("convert_checkpoint"), "{msg}");
        assert!(msg.contains("ModuleNotFoundError: tensorrt_llm"), "{msg}");
        assert!(!dir.path().join("ran").exists());
    }

    #[tokio::test]
    async fn a_missing_tool_names_it_and_how_to_install_it() {
        let dir = tempfile::tempdir().unwrap();
        let plan = ConvertPlan {
            steps: vec![ConvertStep::Run {
                name: "trtllm-build",
                command: CommandLine::new("trtllm-build-not-installed-here"),
                skip_if_exists: None,
            }],
        };
        let msg = run_plan(&plan, dir.path()).await.unwrap_err().to_string();
        assert!(
            msg.contains("`trtllm-build-not-installed-here` was not found"),
            "{msg}"
        );
        assert!(msg.contains("TensorRT-LLM"), "{msg}");
    }

    #[test]
    fn copying_no_tokenizer_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(copy_tokenizer(dir.path(), dir.path()).is_err());
    }
}
