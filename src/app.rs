//! The one place that wires the application: state, routes, middleware, start-up.

use std::sync::Arc;

use poem::middleware::Tracing;
use poem::{Endpoint, EndpointExt, Middleware, Request, Route};
use sea_orm::DatabaseConnection;

use crate::api;
use crate::api::auth::Authenticate;
use crate::api::error::ApiError;
use crate::web;

/// Shared by every request.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    /// `YOUDE_ADMIN_TOKEN`, accepted as a staff bearer token when set.
    pub admin_token: Option<Arc<str>>,
    /// Largest JSON request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// The search engine and the outbox relay that feeds it.
    pub search: crate::search::Search,
}

/// Every route of the service.
pub fn routes(state: AppState) -> impl Endpoint {
    let service = api::service();
    let spec = service.spec_endpoint();
    let docs = service.swagger_ui();
    let max_body = state.max_body_bytes;
    Route::new()
        .nest("/api/v1", service.with(BodyLimit(max_body)))
        .at("/api/openapi.json", spec)
        .nest("/api/docs", docs)
        .nest("/", web::routes())
        .with(Authenticate)
        .data(state)
        .catch_all_error(|err| async move { api::error::catch_all(err) })
        .with(Tracing)
}

/// Refuses bodies over the limit with 413 before anything reads them: by `Content-Length` when
/// given, by counting otherwise (chunked uploads).
struct BodyLimit(usize);

impl<E: Endpoint> Middleware<E> for BodyLimit {
    type Output = BodyLimitEndpoint<E>;
    fn transform(&self, ep: E) -> Self::Output {
        BodyLimitEndpoint {
            inner: ep,
            max: self.0,
        }
    }
}

struct BodyLimitEndpoint<E> {
    inner: E,
    max: usize,
}

fn too_large(max: usize) -> poem::Error {
    ApiError::PayloadTooLarge(poem_openapi::payload::Json(api::error::ErrorBody {
        error: api::error::ErrorInfo {
            code: "payload_too_large".into(),
            message: format!("请求内容超过 {} KB 的上限", max / 1024),
            details: Some(serde_json::json!({ "max_bytes": max })),
        },
    }))
    .into()
}

impl<E: Endpoint> Endpoint for BodyLimitEndpoint<E> {
    type Output = E::Output;

    async fn call(&self, mut req: Request) -> poem::Result<Self::Output> {
        let declared = req
            .headers()
            .get(poem::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        match declared {
            Some(len) if len > self.max => return Err(too_large(self.max)),
            Some(_) => {}
            None => {
                let body = req
                    .take_body()
                    .into_bytes_limit(self.max)
                    .await
                    .map_err(|_| too_large(self.max))?;
                req.set_body(body);
            }
        }
        self.inner.call(req).await
    }
}

/// Today in Shanghai's calendar (UTC+8, no daylight saving): the day summaries count up to and
/// the latest date a consent may be signed.
pub fn today() -> chrono::NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive()
}
