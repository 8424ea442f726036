//! LLM-as-a-judge for math answers: which samples need a judge, what to send it, how to read
//! its answer and how to write the judged record — as NeMo-Skills' `math_judge` does, plus a
//! cascade and a cache so a judge is asked as rarely as possible.
//!
//! For each graded sample record, [`JudgeInput::from_record`] takes the problem, the predicted
//! answer (extracted with a caller-supplied function when the record has none) and the expected
//! answer (null is an error naming the line). [`decide`] then says whether the judge is needed:
//! no answer and identical answers are prefilled without a call, exactly like NeMo-Skills; with
//! [`JudgeWhen::SymbolicFalse`] a record the symbolic checker already accepted is skipped too,
//! and with [`JudgeWhen::Undecided`] every record the checker decided either way.
//! [`JudgeRequest::build`] renders the `judge/math` prompt through `tally_prompt`.
//!
//! The judge's reply becomes a record with [`judged_record`] (judge output first, `generation`
//! renamed to `judgement`, then the input fields it does not shadow) or [`prefilled_record`].
//! [`parse_verdict`] reads it: [`ParseMode::Compat`] is NeMo-Skills' exact rule,
//! [`ParseMode::Default`] also reads `**Judgement**: Yes`, `Yes.` and similar and reports
//! [`Verdict::Unparseable`] instead of a silent "No". [`cache_key`] and [`JudgeCache`] make a
//! rerun pay for no judgement twice.
//!
//! ```
//! use serde_json::json;
//! use tally_judge::{decide, parse_verdict, Decision, JudgeInput, JudgeRequest, JudgeWhen, ParseMode, Verdict};
//! use tally_prompt::Prompt;
//!
//! let mut record = json!({"problem": "Half of 1?", "expected_answer": "1/2",
//!                         "predicted_answer": "0.5", "is_correct": false})
//!     .as_object().unwrap().clone();
//! let input = JudgeInput::from_record(&mut record, 1, &|_| None)?;
//! assert_eq!(decide(&record, &input, JudgeWhen::SymbolicFalse), Decision::Ask);
//!
//! let prompt = Prompt::load("judge/math", Some("qwen-instruct"))?;
//! let request = JudgeRequest::build(&prompt, &record, &[])?;
//! assert!(request.prompt.as_text().unwrap().contains("Predicted answer: 0.5\nExpected answer: 1/2"));
//!
//! let reply = "Reasoning: 0.5 equals 1/2.\n**Judgement**: Yes.";
//! assert_eq!(parse_verdict(reply, ParseMode::Default), Verdict::Yes);
//! assert_eq!(parse_verdict(reply, ParseMode::Compat), Verdict::No);
//! # Ok::<(), tally_judge::JudgeError>(())
//! ```

pub mod batch;
pub mod cache;
pub mod cached_backend;
pub mod cascade;
pub mod error;
pub mod input;
pub mod record;
pub mod request;
pub mod verdict;

pub use batch::JudgeBatch;
pub use cache::{cache_key, JudgeCache};
pub use cached_backend::CachedBackend;
pub use cascade::{
    decide, Decision, JudgeWhen, SYMBOLIC_CORRECT_JUDGEMENT, SYMBOLIC_WRONG_JUDGEMENT,
};
pub use error::JudgeError;
pub use input::{JudgeInput, IDENTICAL_JUDGEMENT, NO_ANSWER_JUDGEMENT};
pub use record::{judged_record, prefilled_record};
pub use request::JudgeRequest;
pub use verdict::{is_correct_judgement_compat, parse_verdict, ParseMode, Verdict};
