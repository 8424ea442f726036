//! Tool-integrated reasoning (spec §3): the model writes a code block, the sandbox runs it, the
//! output is appended to the prompt, and generation continues — up to `max_code_executions`
//! times, plus one final round in which code is never run.
//!
//! The loop is written against two small traits so it can be driven by any backend and any
//! executor (the engine plugs in `tally-backend` and `tally-sandbox`'s client); the rules are the
//! seed's, byte for byte: code is detected only when a round ENDS with `code_end` and the last
//! `code_begin` is unclosed before it (T5); the token budget counts model tokens of all rounds but
//! the last (code output is not charged); the remaining-executions text follows the output block
//! (T6); the final text is trimmed at the first stop phrase other than `code_end` (§8.3).

use std::time::{Duration, Instant};

use async_trait::async_trait;
use tally_core::Status;

/// One generation call as the TIR loop needs it.
#[async_trait]
pub trait TirModel: Send + Sync {
    async fn generate(
        &self,
        prompt: &str,
        max_tokens: u64,
        stop: &[String],
    ) -> Result<TirTurn, TirFailure>;
}

/// What one model call returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TirTurn {
    /// The raw text, the matched stop phrase still at its end (as NeMo-Skills' clients return
    /// it): the loop sees from it that a code block ended.
    pub text: String,
    pub tokens: u64,
    /// The call ran out of its token budget.
    pub truncated: bool,
}

impl TirTurn {
    pub fn new(text: impl Into<String>, tokens: u64) -> TirTurn {
        TirTurn {
            text: text.into(),
            tokens,
            truncated: false,
        }
    }
}

/// Runs one code block, in the sample's session (created on first use).
#[async_trait]
pub trait CodeExecutor: Send + Sync {
    /// Runs `code` in `session` (`None`: the sample's first block; the executor opens a session
    /// and returns its id in [`CodeResult::session`]). A session whose state was lost must be an
    /// `Err` (status `sandbox_error`), never a result from an empty namespace.
    async fn execute(&self, code: &str, session: Option<&str>) -> Result<CodeResult, TirFailure>;

    /// The sample is over (however it ended): its session can be freed. The loop calls this
    /// once per sample that got a session. An executor whose first `execute` fails before
    /// returning a session id cleans that session up itself.
    async fn end_session(&self, _session: &str) {}
}

/// What the sandbox returned for one block (already formatted as spec §3.1: stripped, cut,
/// ending in `\n` when non-empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeResult {
    pub stdout: String,
    pub stderr: String,
    /// The session to continue in.
    pub session: Option<String>,
}

/// A failure that ends the sample with a status (the transcript so far is kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TirFailure {
    pub status: Status,
    pub message: String,
}

/// The template's code tags and the loop's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TirConfig {
    pub code_begin: String,
    pub code_end: String,
    pub code_output_begin: String,
    pub code_output_end: String,
    /// Stop phrases of the template (+ extra), without `code_end`.
    pub stop_phrases: Vec<String>,
    pub max_code_executions: u32,
    pub add_remaining_code_executions: bool,
    /// `tokens_to_generate`: the budget for model tokens of the whole trajectory.
    pub tokens_to_generate: u64,
}

/// The outcome of one TIR sample.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TirOutcome {
    /// Everything after the original prompt, trimmed at the first (non-code) stop phrase.
    pub generation: String,
    pub code_rounds_executed: u32,
    /// Model tokens of every round except the final no-execution one (the seed's accounting).
    pub num_generated_tokens: u64,
    /// `ok`; `truncated` when the token budget ran out (the last call hit its limit, or the
    /// trajectory's budget was spent); else the status of the failure that ended the sample.
    pub status: Status,
    pub error: Option<String>,
    /// Time spent in model calls and in the sandbox.
    pub generation_time: Duration,
    pub code_execution_time: Duration,
}

/// The seed's `format_code_output` for the `qwen` format.
pub fn format_code_output(
    result: &CodeResult,
    begin: &str,
    end: &str,
    remaining: Option<u32>,
) -> String {
    let mut out = format!("{begin}{}{}{end}", result.stdout, result.stderr);
    match remaining {
        None => {}
        Some(0) => out.push_str(
            "```system\nYou have run out of code executions! You can no longer write or execute code. Now you should continue solving the problem by relying on your mathematical reasoning and analytical skills.\n```\n",
        ),
        Some(r) => out.push_str(&format!(
            "```system\nRemaining code executions: {r}. You will not be able to call code when you run out of executions, so use it wisely. Note that you can still continue solving the problem without code after that.\n```\n"
        )),
    }
    out
}

/// The code of a round that ends with `code_end` inside an unclosed block, else `None`.
pub fn code_to_run<'a>(out: &'a str, code_begin: &str, code_end: &str) -> Option<&'a str> {
    if !out.ends_with(code_end) || out.is_empty() {
        return None;
    }
    // Python: out.rfind(code_begin) > out.rfind(code_end, 0, len(out) - 1)
    let begin = out.rfind(code_begin)?;
    let cut = &out[..out.len() - last_char_len(out)];
    let prev_end = cut.rfind(code_end);
    if prev_end.is_some_and(|e| e >= begin) {
        return None;
    }
    let code = &out[begin + code_begin.len()..];
    let stop = code.find(code_end).unwrap_or(code.len());
    Some(&code[..stop])
}

fn last_char_len(s: &str) -> usize {
    s.chars().next_back().map_or(0, char::len_utf8)
}

/// Runs the loop for one prompt (completion mode).
pub async fn run_tir(
    prompt: &str,
    config: &TirConfig,
    model: &dyn TirModel,
    executor: &dyn CodeExecutor,
) -> TirOutcome {
    let mut text = prompt.to_string();
    let mut stop = config.stop_phrases.clone();
    stop.push(config.code_end.clone());
    let mut budget = config.tokens_to_generate as i64;
    let mut tokens = 0u64;
    let mut rounds = 0u32;
    let mut session: Option<String> = None;
    let max = config.max_code_executions;
    let mut failure: Option<TirFailure> = None;
    let mut truncated = false;
    let (mut generation_time, mut code_execution_time) = (Duration::ZERO, Duration::ZERO);
    for i in 0..=max {
        let started = Instant::now();
        let turn = model.generate(&text, budget.max(0) as u64, &stop).await;
        generation_time += started.elapsed();
        let TirTurn {
            text: out,
            tokens: n,
            truncated: cut,
        } = match turn {
            Ok(t) => t,
            Err(e) => {
                failure = Some(e);
                break;
            }
        };
        text.push_str(&out);
        truncated = cut;
        if i == max {
            break;
        }
        budget -= n as i64;
        tokens += n;
        if budget <= 0 {
            truncated = true;
            break;
        }
        let Some(code) = code_to_run(&out, &config.code_begin, &config.code_end) else {
            break;
        };
        let started = Instant::now();
        let executed = executor.execute(code, session.as_deref()).await;
        code_execution_time += started.elapsed();
        match executed {
            Ok(result) => {
                session = result.session.clone();
                let remaining = config.add_remaining_code_executions.then(|| max - i - 1);
                text.push_str(&format_code_output(
                    &result,
                    &config.code_output_begin,
                    &config.code_output_end,
                    remaining,
                ));
                rounds += 1;
            }
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    // Every way out of the loop above (an answer, the budget, a model or sandbox failure, the
    // last round) comes through here: the session's process is freed now, not when it expires.
    if let Some(id) = session.as_deref() {
        executor.end_session(id).await;
    }
    let generation =
        tally_backend::trim_after_stop_phrases(&text[prompt.len()..], &config.stop_phrases)
            .to_string();
    TirOutcome {
        generation,
        code_rounds_executed: rounds,
        num_generated_tokens: tokens,
        status: match &failure {
            Some(f) => f.status,
            None if truncated => Status::Truncated,
            None => Status::Ok,
        },
        error: failure.map(|f| f.message),
        generation_time,
        code_execution_time,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// Scripted model turns: each call returns the next (text, tokens) and records its prompt
    /// and budget.
    struct Script {
        turns: Mutex<Vec<(String, u64)>>,
        calls: Mutex<Vec<(String, u64)>>,
    }

    impl Script {
        fn new(turns: &[(&str, u64)]) -> Self {
            Script {
                turns: Mutex::new(
                    turns
                        .iter()
                        .rev()
                        .map(|(t, n)| (t.to_string(), *n))
                        .collect(),
                ),
                calls: Mutex::new(Vec::new()),
            }
        }
    }

    #[async_trait]
    impl TirModel for Script {
        async fn generate(
            &self,
            prompt: &str,
            max_tokens: u64,
            _stop: &[String],
        ) -> Result<TirTurn, TirFailure> {
            self.calls
                .lock()
                .unwrap()
                .push((prompt.to_string(), max_tokens));
            Ok(self
                .turns
                .lock()
                .unwrap()
                .pop()
                .map(|(t, n)| TirTurn::new(t, n))
                .unwrap_or(TirTurn::new("<|im_end|>", 1)))
        }
    }

    /// Echoes the code back as output, in one session; records the calls and the ended
    /// sessions.
    struct Echo(Mutex<Vec<(String, Option<String>)>>, Mutex<Vec<String>>);

    impl Echo {
        fn new() -> Echo {
            Echo(Mutex::new(Vec::new()), Mutex::new(Vec::new()))
        }

        fn ended(&self) -> Vec<String> {
            self.1.lock().unwrap().clone()
        }
    }

    #[async_trait]
    impl CodeExecutor for Echo {
        async fn execute(
            &self,
            code: &str,
            session: Option<&str>,
        ) -> Result<CodeResult, TirFailure> {
            self.0
                .lock()
                .unwrap()
                .push((code.to_string(), session.map(str::to_string)));
            if code.contains("LOSE") {
                return Err(TirFailure {
                    status: Status::SandboxError,
                    message: "sandbox session lost: its worker restarted".into(),
                });
            }
            Ok(CodeResult {
                stdout: format!("ran {}\n", code.trim()),
                stderr: String::new(),
                session: Some("s1".into()),
            })
        }

        async fn end_session(&self, session: &str) {
            self.1.lock().unwrap().push(session.to_string());
        }
    }

    fn openmath(max: u32, remaining: bool, budget: u64) -> TirConfig {
        TirConfig {
            code_begin: "<tool_call>\n".into(),
            code_end: "</tool_call>\n".into(),
            code_output_begin: "```output\n".into(),
            code_output_end: "```\n".into(),
            stop_phrases: vec!["<|im_end|>".into(), "<|endoftext|>".into()],
            max_code_executions: max,
            add_remaining_code_executions: remaining,
            tokens_to_generate: budget,
        }
    }

    const REMAINING_7: &str = "```system\nRemaining code executions: 7. You will not be able to call code when you run out of executions, so use it wisely. Note that you can still continue solving the problem without code after that.\n```\n";

    #[tokio::test]
    async fn one_execution_then_an_answer_matches_the_spec_transcript() {
        let model = Script::new(&[
            (
                "Let me compute.\n<tool_call>\nprint(2+2)\n</tool_call>\n",
                10,
            ),
            ("So the answer is \\boxed{4}.<|im_end|>", 7),
        ]);
        let exec = Echo::new();
        let out = run_tir("PROMPT", &openmath(8, true, 100), &model, &exec).await;
        // Spec §3: text<tool_call>\nCODE\n</tool_call>\n```output\nOUT\n```\n```system\nRemaining…\n```\n…
        let want = format!(
            "Let me compute.\n<tool_call>\nprint(2+2)\n</tool_call>\n```output\nran print(2+2)\n```\n{REMAINING_7}So the answer is \\boxed{{4}}."
        );
        assert_eq!(out.generation, want);
        assert_eq!(out.code_rounds_executed, 1);
        assert_eq!(out.num_generated_tokens, 17);
        assert_eq!(out.status, Status::Ok);
        // The second call saw the whole transcript and the budget less the first round's tokens.
        let calls = model.calls.lock().unwrap();
        assert_eq!(calls[1].1, 90);
        assert!(calls[1].0.ends_with(REMAINING_7));
        assert_eq!(
            exec.0.lock().unwrap()[0],
            ("print(2+2)\n".to_string(), None)
        );
        assert_eq!(exec.ended(), ["s1"], "the sample's session ends with it");
    }

    #[tokio::test]
    async fn eight_executions_then_the_run_out_message_and_a_final_round_without_code() {
        let block = ("<tool_call>\nx\n</tool_call>\n", 5);
        let mut turns = vec![block; 9];
        turns.push(("never asked", 1));
        let model = Script::new(&turns);
        let exec = Echo::new();
        let out = run_tir("P", &openmath(8, true, 10_000), &model, &exec).await;
        assert_eq!(out.code_rounds_executed, 8);
        assert_eq!(
            model.calls.lock().unwrap().len(),
            9,
            "8 executions + 1 final round"
        );
        // Tokens of the 9th (final) round are not counted (T5).
        assert_eq!(out.num_generated_tokens, 40);
        assert!(out.generation.contains("Remaining code executions: 1."));
        assert!(out
            .generation
            .contains("You have run out of code executions!"));
        assert!(!out.generation.contains("Remaining code executions: 0"));
        // The 9th block is in the text but was never run.
        assert!(out.generation.ends_with("<tool_call>\nx\n</tool_call>\n"));
        assert_eq!(exec.0.lock().unwrap().len(), 8);
        // The session carries over from the first call.
        assert_eq!(exec.0.lock().unwrap()[1].1.as_deref(), Some("s1"));
    }

    #[tokio::test]
    async fn without_remaining_messages_and_with_the_budget_exhausted() {
        let model = Script::new(&[
            ("<tool_call>\na\n</tool_call>\n", 30),
            ("<tool_call>\nb\n</tool_call>\n", 30),
        ]);
        let exec = Echo::new();
        let out = run_tir("P", &openmath(8, false, 50), &model, &exec).await;
        // Round 1: 30 tokens, runs; round 2: budget 20 → 30 used → budget ≤ 0 → stop, no run.
        assert_eq!(out.code_rounds_executed, 1);
        assert!(!out.generation.contains("```system"));
        assert_eq!(out.num_generated_tokens, 60);
        assert_eq!(out.status, Status::Truncated);
        assert_eq!(
            exec.ended(),
            ["s1"],
            "a truncated sample ends its session too"
        );
    }

    #[tokio::test]
    async fn a_final_call_cut_at_its_token_limit_is_truncated() {
        struct Cut;
        #[async_trait]
        impl TirModel for Cut {
            async fn generate(
                &self,
                _: &str,
                max: u64,
                _: &[String],
            ) -> Result<TirTurn, TirFailure> {
                Ok(TirTurn {
                    text: "so far".into(),
                    tokens: max,
                    truncated: true,
                })
            }
        }
        let exec = Echo::new();
        let out = run_tir("P", &openmath(8, false, 50), &Cut, &exec).await;
        assert_eq!(
            (out.status, out.code_rounds_executed),
            (Status::Truncated, 0)
        );
        assert_eq!(out.generation, "so far");
        assert!(
            exec.ended().is_empty(),
            "no code ran, so there is no session"
        );
    }

    #[tokio::test]
    async fn a_lost_session_ends_the_sample_as_a_sandbox_error_and_is_still_ended() {
        let model = Script::new(&[
            ("<tool_call>\nx = 1\n</tool_call>\n", 5),
            ("<tool_call>\nprint(x)  # LOSE\n</tool_call>\n", 5),
            ("never asked", 1),
        ]);
        let exec = Echo::new();
        let out = run_tir("P", &openmath(8, true, 100), &model, &exec).await;
        assert_eq!(out.status, Status::SandboxError);
        assert!(
            out.status.is_failure(),
            "counted as a failure, not a wrong answer"
        );
        assert_eq!(
            out.error.as_deref(),
            Some("sandbox session lost: its worker restarted")
        );
        assert_eq!(out.code_rounds_executed, 1);
        // The transcript keeps the block that could not run, and nothing after it.
        assert!(out.generation.ends_with("print(x)  # LOSE\n</tool_call>\n"));
        assert_eq!(model.calls.lock().unwrap().len(), 2);
        assert_eq!(exec.ended(), ["s1"]);
    }

    #[tokio::test]
    async fn a_model_failure_after_code_ran_still_ends_the_session() {
        struct FailSecond(Mutex<u32>);
        #[async_trait]
        impl TirModel for FailSecond {
            async fn generate(&self, _: &str, _: u64, _: &[String]) -> Result<TirTurn, TirFailure> {
                let mut n = self.0.lock().unwrap();
                *n += 1;
                if *n == 1 {
                    Ok(TirTurn::new("<tool_call>\nx\n</tool_call>\n", 3))
                } else {
                    Err(TirFailure {
                        status: Status::RequestError,
                        message: "server gone".into(),
                    })
                }
            }
        }
        let exec = Echo::new();
        let out = run_tir(
            "P",
            &openmath(8, true, 100),
            &FailSecond(Mutex::new(0)),
            &exec,
        )
        .await;
        assert_eq!(out.status, Status::RequestError);
        assert_eq!(exec.ended(), ["s1"]);
    }

    #[test]
    fn code_is_detected_only_in_an_unclosed_final_block() {
        let (b, e) = ("```python\n", "```\n");
        assert_eq!(
            code_to_run("text```python\nx=1\n```\n", b, e),
            Some("x=1\n")
        );
        // Ends with a closing fence, but the last block was already closed (an output block).
        assert_eq!(
            code_to_run("```python\nx\n```\n```output\n1\n```\n", b, e),
            None
        );
        // Does not end with code_end.
        assert_eq!(code_to_run("```python\nx=1\n", b, e), None);
        assert_eq!(code_to_run("no code\n```\n", b, e), None);
        // The LAST code_begin wins.
        assert_eq!(
            code_to_run("```python\na\n```\nthen ```python\nb\n```\n", b, e),
            Some("b\n")
        );
    }

    #[test]
    fn output_formats_follow_the_seed() {
        let r = CodeResult {
            stdout: String::new(),
            stderr: String::new(),
            session: None,
        };
        assert_eq!(
            format_code_output(&r, "```output\n", "```\n", None),
            "```output\n```\n"
        );
        let r = CodeResult {
            stdout: "4\n".into(),
            stderr: "warn\n".into(),
            session: None,
        };
        assert_eq!(
            format_code_output(&r, "```output\n", "```\n", Some(7)),
            format!("```output\n4\nwarn\n```\n{REMAINING_7}")
        );
    }

    #[tokio::test]
    async fn a_sandbox_failure_is_a_status_not_a_crash() {
        struct Down;
        #[async_trait]
        impl CodeExecutor for Down {
            async fn execute(&self, _: &str, _: Option<&str>) -> Result<CodeResult, TirFailure> {
                Err(TirFailure {
                    status: Status::SandboxError,
                    message: "connection refused".into(),
                })
            }
        }
        let model = Script::new(&[("<tool_call>\nx\n</tool_call>\n", 3)]);
        let out = run_tir("P", &openmath(8, true, 100), &model, &Down).await;
        assert_eq!(out.status, Status::SandboxError);
        assert_eq!(out.error.as_deref(), Some("connection refused"));
        assert_eq!(out.generation, "<tool_call>\nx\n</tool_call>\n");
    }
}
