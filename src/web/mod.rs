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

/// `/readyz`: the database answers (503 when it does not, so a load balancer stops sending
/// traffic), and how search is doing. Search being degraded — engine unreachable, deliveries
/// failing — keeps 200: reads and writes still work (changes wait in the outbox) and only search
/// answers may be stale or missing.
#[handler]
async fn readyz(state: Data<&AppState>) -> impl IntoResponse {
    let search = search_readiness(&state).await;
    match state.db.ping().await {
        Ok(()) => Json(json!({ "status": "ready", "database": "ok", "search": search }))
            .with_status(StatusCode::OK),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check: database unreachable");
            Json(json!({ "status": "unavailable", "database": "unreachable", "search": search }))
                .with_status(StatusCode::SERVICE_UNAVAILABLE)
        }
    }
}

/// `{"status": "ok"|"degraded", "engine", "backlog", "reason"}`; no internal error text.
async fn search_readiness(state: &AppState) -> serde_json::Value {
    let search = &state.search;
    let engine_ok = tokio::time::timeout(std::time::Duration::from_secs(2), search.index.health())
        .await
        .is_ok_and(|r| r.is_ok());
    let relay = search.relay.status();
    let backlog = crate::store::outbox::backlog(&state.db).await.ok();
    let reason = if !engine_ok {
        Some("search engine unreachable")
    } else if relay.consecutive_failures > 0 {
        Some("deliveries to the search engine are failing; changes wait in the outbox")
    } else {
        None
    };
    json!({
        "status": if reason.is_some() { "degraded" } else { "ok" },
        "engine": search.index.engine(),
        "backlog": backlog.as_ref().map(|b| b.pending),
        "oldest_pending": backlog.and_then(|b| b.oldest),
        "reason": reason,
    })
}

pub fn routes() -> Route {
    Route::new()
        .at("/healthz", get(healthz))
        .at("/readyz", get(readyz))
}
