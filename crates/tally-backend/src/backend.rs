//! The extension point: anything that turns a prompt into a generation.

use std::sync::Arc;

use async_trait::async_trait;

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
}

#[async_trait]
impl<B: Backend + ?Sized> Backend for Arc<B> {
    async fn generate(&self, req: &GenerationRequest) -> Result<GenerationResponse, BackendError> {
        (**self).generate(req).await
    }

    async fn model_name(&self) -> Result<String, BackendError> {
        (**self).model_name().await
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
}
