//! Every route of the service in one place: the JSON API under `/api/v1` (also called in process
//! by the console), its document and docs, the staff console under `/admin`, the public site,
//! `/metrics`, and the middleware around them all.

use std::sync::Arc;

use poem::{Endpoint, EndpointExt, Request, Response, Route};

use crate::api;
use crate::api::auth::Authenticate;
use crate::cache::InvalidateOnWrite;
use crate::middleware::BodyLimit;
use crate::state::AppState;
use crate::web;

/// Every route of the service.
pub fn routes(state: AppState) -> impl Endpoint {
    let service = api::service();
    let spec = service.spec_endpoint();
    let docs = service.swagger_ui();
    let limits = BodyLimit {
        json: state.max_body_bytes,
        upload: state.media.max_upload_bytes,
    };
    let certificate_desk = certificate_desk(&state);
    // One API endpoint, served under /api/v1 and called in process by the staff console.
    let api: crate::admin::client::ApiEndpoint = Arc::new(
        service
            .with(api::text_guard::TextGuard)
            .with(limits)
            .with(InvalidateOnWrite {
                pages: state.pages.clone(),
                db: state.db.clone(),
            })
            .data(certificate_desk.clone())
            // Errors in the API's own shape for the console's in-process calls too.
            .catch_all_error(|err| async move { api::error::catch_all(err) })
            .map_to_response()
            .boxed(),
    );
    // The console's one multipart form is the photo upload, at `POST /admin/photos`; every other
    // console form is urlencoded and gets the JSON limit.
    let console_limits = BodyLimit {
        json: state.max_body_bytes,
        upload: state.media.max_upload_bytes,
    };
    let observe = crate::observe::Observe {
        metrics: state.metrics.clone(),
        trusted_proxies: state.trusted_proxies.clone(),
    };
    let secure_cookies = state.secure_cookies;
    let public_form_limits = BodyLimit {
        json: PUBLIC_FORM_MAX_BYTES,
        upload: PUBLIC_FORM_MAX_BYTES,
    };
    Route::new()
        .at("/metrics", poem::get(metrics))
        .nest("/api/v1", api.clone())
        .at("/api/openapi.json", spec)
        .nest("/api/docs", docs)
        .nest(
            "/admin",
            crate::admin::routes(api, console_limits, secure_cookies),
        )
        .nest("/", web::routes(public_form_limits, secure_cookies))
        .with(Authenticate)
        .data(state.pages.clone())
        .data(certificate_desk)
        .data(state)
        .catch_all_error(|err| async move { api::error::catch_all(err) })
        .after(move |resp: poem::Result<Response>| async move {
            resp.map(|resp| mark_cookies_secure(resp, secure_cookies))
        })
        .with(observe)
}

/// What the certificate routes of every face need, taken from the state.
fn certificate_desk(state: &AppState) -> crate::service::certificates::Desk {
    let clock = state.clock.clone();
    crate::service::certificates::Desk {
        db: state.db.clone(),
        settings: state.certificates.clone(),
        public_url: state.public_url.clone(),
        clock: Arc::new(move || clock.now()),
        media: state.media.store.clone(),
        pdf_font: Default::default(),
    }
}

/// `GET /metrics`: the Prometheus text format, for the peers `YOUDE_METRICS_ALLOW` names (the
/// socket's peer, never a forwarded address); 404 for everyone else.
#[poem::handler]
async fn metrics(req: &Request, state: poem::web::Data<&AppState>) -> poem::Response {
    use poem::IntoResponse;
    let peer = req.remote_addr().as_socket_addr().map(|a| a.ip());
    if !crate::observe::metrics_allowed(peer, &state.metrics_allow) {
        return poem::http::StatusCode::NOT_FOUND.into_response();
    }
    let m = &state.metrics;
    if let Ok(backlog) = crate::store::outbox::backlog(&state.db).await {
        m.outbox_backlog.set(backlog.pending as i64);
        let age = backlog.oldest.map_or(0, |oldest| {
            (state.clock.now() - oldest).num_seconds().max(0)
        });
        m.outbox_oldest_age_seconds.set(age);
    }
    m.relay_consecutive_failures
        .set(state.search.relay.status().consecutive_failures as i64);
    let pages = state.pages.stats();
    for (outcome, count) in [
        ("hit", pages.hits),
        ("stale", pages.stale),
        ("shared", pages.shared),
        ("render", pages.renders),
    ] {
        m.page_cache_requests
            .get_or_create(&crate::observe::OutcomeLabels { outcome })
            .set(count as i64);
    }
    m.page_cache_hit_ratio.set(pages.hit_ratio());
    m.page_cache_bytes.set(pages.bytes as i64);
    let (size, idle) = match sea_orm::ConnectionTrait::get_database_backend(&state.db) {
        sea_orm::DatabaseBackend::Postgres => {
            let pool = state.db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
        _ => {
            let pool = state.db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        }
    };
    m.db_pool_connections.set(size.into());
    m.db_pool_idle.set(idle as i64);
    m.render()
        .with_content_type("text/plain; version=0.0.4; charset=utf-8")
        .with_header("cache-control", "no-store")
        .into_response()
}

/// Over https every cookie the site sets (the session, the console's sign-in form token, the
/// objection form's token) gets `Secure`, in this one place, so none can leak over plain http.
fn mark_cookies_secure(mut resp: Response, secure: bool) -> Response {
    if !secure {
        return resp;
    }
    let cookies: Vec<String> = resp
        .headers()
        .get_all(poem::http::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(|v| {
            if v.split(';')
                .any(|attr| attr.trim().eq_ignore_ascii_case("secure"))
            {
                v.to_string()
            } else {
                format!("{v}; Secure")
            }
        })
        .collect();
    resp.headers_mut().remove(poem::http::header::SET_COOKIE);
    for cookie in cookies {
        if let Ok(value) = cookie.parse() {
            resp.headers_mut()
                .append(poem::http::header::SET_COOKIE, value);
        }
    }
    resp
}

/// The public objection form (`POST /notices/{id}`): name, contact and up to 2,000 characters.
pub const PUBLIC_FORM_MAX_BYTES: usize = 64 * 1024;
