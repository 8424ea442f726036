//! The HTTP face of the service: `POST /execute` and `DELETE /sessions/<id>` (NeMo-Skills
//! compatible; the session id comes from the body's `session_id` or, as NeMo-Skills' newest client
//! sends it, the `X-Session-ID` header) and `GET /health`.

use std::future::Future;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{delete, get, post};
use axum::{Json, Router};

use crate::service::{Deleted, SandboxService};
use crate::{ExecuteRequest, SandboxError};

/// The axum router over a running service (mount it elsewhere, or use [`serve`]).
pub fn router(service: SandboxService) -> Router {
    Router::new()
        .route("/execute", post(execute))
        .route("/sessions/{id}", delete(delete_session))
        .route("/health", get(health))
        .with_state(service)
}

async fn execute(
    State(service): State<SandboxService>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> (StatusCode, Json<serde_json::Value>) {
    let mut req: ExecuteRequest = match serde_json::from_slice(&body) {
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
    if req.session_id.is_none() {
        req.session_id = headers
            .get("x-session-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
    }
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

/// NeMo-Skills' answers: 200 `{"message"}` when the session existed, 404 `{"error"}` when not
/// (its client treats both as done). A lost session's id counts as existing: deleting it is how
/// a client acknowledges the loss and frees the id for a fresh session.
async fn delete_session(
    State(service): State<SandboxService>,
    Path(id): Path<String>,
) -> (StatusCode, Json<serde_json::Value>) {
    match service.delete_session(&id).await {
        Deleted::Closed => (
            StatusCode::OK,
            Json(serde_json::json!({"message": format!("Session {id} deleted")})),
        ),
        Deleted::WasLost => (
            StatusCode::OK,
            Json(serde_json::json!({
                "message": format!("Session {id} had already been lost; its id is free again")
            })),
        ),
        Deleted::NotFound => (
            StatusCode::NOT_FOUND,
            Json(serde_json::json!({"error": format!("Session {id} not found")})),
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
