//! A [`Backend`] as the TIR loop's [`TirModel`]: one completion call per round.

use async_trait::async_trait;
use tally_backend::{Backend, FinishReason, GenerationRequest, SamplingParams};

use crate::record::SampleOutcome;
use crate::tir::{code_to_run, TirFailure, TirModel, TirTurn};

/// Sends each round as a text completion with the pass's sampling parameters, the round's
/// remaining budget as `max_tokens`, and the loop's stop phrases.
pub struct BackendTirModel<'a, B: ?Sized> {
    backend: &'a B,
    params: SamplingParams,
    /// `(code_begin, code_end)` when the server does not say which stop phrase matched.
    infer_code_end: Option<(String, String)>,
}

impl<'a, B: Backend + ?Sized> BackendTirModel<'a, B> {
    pub fn new(backend: &'a B, params: SamplingParams) -> Self {
        BackendTirModel {
            backend,
            params,
            infer_code_end: None,
        }
    }

    /// For servers whose OpenAI endpoint leaves the matched stop string out of the text and does
    /// not report it (llama.cpp's): a round that stopped inside an unclosed code block can only
    /// have stopped at `code_end`, so it is put back, as vLLM's `stop_reason` would.
    pub fn inferring_code_end(mut self, code_begin: &str, code_end: &str) -> Self {
        self.infer_code_end = Some((code_begin.to_string(), code_end.to_string()));
        self
    }
}

#[async_trait]
impl<B: Backend + ?Sized> TirModel for BackendTirModel<'_, B> {
    async fn generate(
        &self,
        prompt: &str,
        max_tokens: u64,
        stop: &[String],
    ) -> Result<TirTurn, TirFailure> {
        let mut params = self.params.clone();
        params.max_tokens = u32::try_from(max_tokens).unwrap_or(u32::MAX);
        params.stop = stop.to_vec();
        let req = GenerationRequest::text(prompt).with_params(params);
        match self.backend.generate(&req).await {
            Ok(resp) => {
                let mut text = resp.text_with_stop();
                if let Some((begin, end)) = &self.infer_code_end {
                    let stopped_unreported =
                        resp.finish_reason == FinishReason::Stop && resp.stop_reason.is_none();
                    if stopped_unreported
                        && !text.ends_with(end.as_str())
                        && code_to_run(&format!("{text}{end}"), begin, end).is_some()
                    {
                        text.push_str(end);
                    }
                }
                Ok(TirTurn {
                    text,
                    tokens: resp.num_generated_tokens.unwrap_or(0),
                    truncated: resp.is_truncated(),
                })
            }
            Err(e) => {
                let failed = SampleOutcome::from_error(&e);
                Err(TirFailure {
                    status: failed.status,
                    message: failed.error.unwrap_or_default(),
                })
            }
        }
    }
}
