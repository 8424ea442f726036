//! The extension point: anything that turns a prompt into a generation.

use std::sync::Arc;

use async_trait::async_trait;

use crate::breaker::Halted;
use crate::error::BackendError;
use crate::request::{GenerationRequest, GenerationResponse};

/// A model that generates text: an HTTP server, an embedded model, a test double.
///
/// Implementations retry what is worth retrying themselves; an `Err` is final and says which
/// record status it becomes ([`BackendError::status`]). They are shared across many concurrent
/// requests, hence `Send + Sync` and `&self`.
#[async_trait]
pub trait Backend: Send + Sync {
    /// Generates one completion.
    async fn generate(&self, req: &GenerationRequest) -> Result<GenerationResponse, BackendError>;

    /// The model's name as the server knows it (configured, or discovered once and cached).
    async fn model_name(&self) -> Result<String, BackendError>;

    /// A quick check, before a run, that the model can be reached at all: a few seconds at most,
    /// so an unreachable server is an error naming its URL instead of a run of failed requests.
    /// Models that need no connection have nothing to check.
    async fn check(&self) -> Result<(), BackendError> {
        Ok(())
    }

    /// Set once the backend has stopped sending (its circuit breaker tripped): callers send no
    /// further request and end the run.
    fn halted(&self) -> Option<Halted> {
        None
    }
}

#[async_trait]
impl<B: Backend + ?Sized> Backend for Arc<B> {
    async fn generate(&self, req: &GenerationRequest) -> Result<GenerationResponse, BackendError> {
        (**self).generate(req).await
    }

    async fn model_name(&self) -> Result<String, BackendError> {
        (**self).model_name().await
    }

    async fn check(&self) -> Result<(), BackendError> {
        (**self).check().await
    }

    fn halted(&self) -> Option<Halted> {
        (**self).halted()
    }
}

#[async_trait]
impl<B: Backend + ?Sized> Backend for &B {
    async fn generate(&self, req: &GenerationRequest) -> Result<GenerationResponse, BackendError> {
        (**self).generate(req).await
    }

    async fn model_name(&self) -> Result<String, BackendError> {
        (**self).model_name().await
    }

    async fn check(&self) -> Result<(), BackendError> {
        (**self).check().await
    }

    fn halted(&self) -> Option<Halted> {
        (**self).halted()
    }
}
