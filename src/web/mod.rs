//! Server-rendered pages. For now: the health endpoints that deployments probe.

use poem::http::StatusCode;
use poem::web::{Data, Json};
use poem::{get, handler, IntoResponse, Route};
use serde_json::json;

use crate::app::AppState;

/// `/healthz`: the process is up and serving.
#[handler]
fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// `/readyz`: the database answers. 503 when it does not, so a load balancer stops sending traffic.
#[handler]
async fn readyz(state: Data<&AppState>) -> impl IntoResponse {
    match state.db.ping().await {
        Ok(()) => Json(json!({ "status": "ready", "database": "ok" })).with_status(StatusCode::OK),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check: database unreachable");
            Json(json!({ "status": "unavailable", "database": "unreachable" }))
                .with_status(StatusCode::SERVICE_UNAVAILABLE)
        }
    }
}

pub fn routes() -> Route {
    Route::new()
        .at("/healthz", get(healthz))
        .at("/readyz", get(readyz))
}
