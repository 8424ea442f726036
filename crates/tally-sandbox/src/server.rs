//! The HTTP face of the service: `POST /execute` (NeMo-Skills compatible) and `GET /health`.

use std::future::Future;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};

use crate::service::SandboxService;
use crate::{ExecuteRequest, SandboxError};

/// The axum router over a running service (mount it elsewhere, or use [`serve`]).
pub fn router(service: SandboxService) -> Router {
    Router::new()
        .route("/execute", post(execute))
        .route("/health", get(health))
        .with_state(service)
}

async fn execute(
    State(service): State<SandboxService>,
    body: axum::body::Bytes,
) -> (StatusCode, Json<serde_json::Value>) {
    let req: ExecuteRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                Json(serde_json::json!({
                    "process_status": "error",
                    "stdout": "",
                    "stderr": format!("Bad request: {e}\n"),
                })),
            )
        }
    };
    match service.execute(&req).await {
        Ok(result) => (
            StatusCode::OK,
            Json(serde_json::to_value(result).expect("serializable")),
        ),
        Err(rejection) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({
                "process_status": "busy",
                "stdout": "",
                "stderr": rejection.message(),
            })),
        ),
    }
}

async fn health(State(service): State<SandboxService>) -> Json<crate::service::Health> {
    Json(service.health())
}

/// Serves the service on `listener` until `shutdown` resolves, then kills the workers.
pub async fn serve(
    service: SandboxService,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), SandboxError> {
    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let app = router(service.clone());
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|source| SandboxError::Serve { addr, source });
    service.shutdown().await;
    result
}
