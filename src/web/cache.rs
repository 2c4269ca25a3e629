//! The page cache. Rendered public pages are kept in memory and served again until something
//! changes: a write through this node's API invalidates at once, and a watcher of the audit log
//! (written in the same transaction as every change) catches changes made by other nodes or the
//! CLI within seconds. Entries also expire after a minute, since pages show time-dependent text
//! (days left of a 公示). Every page carries a strong `ETag`; `If-None-Match` gets a 304.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::RwLock;
use std::time::{Duration, Instant};

use poem::http::{header, HeaderValue, Method, StatusCode};
use poem::{Body, Endpoint, IntoResponse, Middleware, Request, Response};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

use crate::app::AppState;

/// How long a rendered page may be served without re-rendering, even when nothing changed.
pub const TTL: Duration = Duration::from_secs(60);
/// Most pages kept; beyond that the cache starts over (crawlers of many pages cannot grow it).
const MAX_ENTRIES: usize = 5_000;

struct Entry {
    generation: u64,
    at: Instant,
    body: bytes::Bytes,
    etag: HeaderValue,
    content_type: HeaderValue,
}

#[derive(Default)]
pub struct PageCache {
    generation: AtomicU64,
    entries: RwLock<HashMap<String, Entry>>,
}

impl PageCache {
    /// Something changed: every cached page is stale.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    fn lookup(&self, key: &str) -> Option<(bytes::Bytes, HeaderValue, HeaderValue)> {
        let generation = self.generation.load(Ordering::Acquire);
        let entries = self.entries.read().ok()?;
        let e = entries.get(key)?;
        (e.generation == generation && e.at.elapsed() < TTL)
            .then(|| (e.body.clone(), e.etag.clone(), e.content_type.clone()))
    }

    fn store(
        &self,
        key: String,
        generation: u64,
        body: bytes::Bytes,
        etag: HeaderValue,
        content_type: HeaderValue,
    ) {
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(
                key,
                Entry {
                    generation,
                    at: Instant::now(),
                    body,
                    etag,
                    content_type,
                },
            );
        }
    }
}

fn etag_of(body: &[u8]) -> HeaderValue {
    HeaderValue::from_str(&crate::api::etag::of_content(body)).expect("hex is a valid header value")
}

fn not_modified(req: &Request, etag: &HeaderValue) -> bool {
    req.headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .map(str::trim)
                .any(|t| t == "*" || t.trim_start_matches("W/") == etag.to_str().unwrap_or(""))
        })
}

fn respond(
    req: &Request,
    body: bytes::Bytes,
    etag: HeaderValue,
    content_type: HeaderValue,
) -> Response {
    let mut resp = if not_modified(req, &etag) {
        Response::builder()
            .status(StatusCode::NOT_MODIFIED)
            .finish()
    } else {
        let mut r = Response::builder().body(Body::from_bytes(body));
        r.headers_mut().insert(header::CONTENT_TYPE, content_type);
        r
    };
    resp.headers_mut().insert(header::ETAG, etag);
    // Browsers and proxies may keep the page but must ask again; the ETag makes that cheap.
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, no-cache"),
    );
    resp
}

/// Serve a GET page from the cache, or render and keep it.
pub struct CachePage;

impl<E: Endpoint> Middleware<E> for CachePage {
    type Output = CachePageEndpoint<E>;
    fn transform(&self, ep: E) -> Self::Output {
        CachePageEndpoint { inner: ep }
    }
}

pub struct CachePageEndpoint<E> {
    inner: E,
}

impl<E: Endpoint> Endpoint for CachePageEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let Some(cache) = req.data::<AppState>().map(|s| s.pages.clone()) else {
            return Ok(self.inner.call(req).await?.into_response());
        };
        if req.method() != Method::GET {
            return Ok(self.inner.call(req).await?.into_response());
        }
        let key = req.uri().to_string();
        if let Some((body, etag, content_type)) = cache.lookup(&key) {
            return Ok(respond(&req, body, etag, content_type));
        }
        let generation = cache.generation.load(Ordering::Acquire);
        let headers = req.headers().clone();
        let resp = self.inner.call(req).await?.into_response();
        if resp.status() != StatusCode::OK || resp.headers().contains_key(header::SET_COOKIE) {
            return Ok(resp);
        }
        let content_type = resp
            .headers()
            .get(header::CONTENT_TYPE)
            .cloned()
            .unwrap_or_else(|| HeaderValue::from_static("text/html; charset=utf-8"));
        let body = resp.into_body().into_bytes().await?;
        let etag = etag_of(&body);
        cache.store(
            key,
            generation,
            body.clone(),
            etag.clone(),
            content_type.clone(),
        );
        let mut probe = Request::builder().finish();
        *probe.headers_mut() = headers;
        Ok(respond(&probe, body, etag, content_type))
    }
}

/// Invalidate the page cache after every successful write through this node's API.
pub struct InvalidateOnWrite;

impl<E: Endpoint> Middleware<E> for InvalidateOnWrite {
    type Output = InvalidateOnWriteEndpoint<E>;
    fn transform(&self, ep: E) -> Self::Output {
        InvalidateOnWriteEndpoint { inner: ep }
    }
}

pub struct InvalidateOnWriteEndpoint<E> {
    inner: E,
}

impl<E: Endpoint> Endpoint for InvalidateOnWriteEndpoint<E> {
    type Output = E::Output;

    async fn call(&self, req: Request) -> poem::Result<Self::Output> {
        let write = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
        let cache = req.data::<AppState>().map(|s| s.pages.clone());
        let result = self.inner.call(req).await;
        if write {
            // Even a failed write may have changed something before failing; staleness costs more
            // than a re-render.
            if let Some(cache) = cache {
                cache.invalidate();
            }
        }
        result
    }
}

/// The newest audit event id: it moves with every committed change.
pub async fn latest_change(db: &DatabaseConnection) -> Option<i64> {
    let row = db
        .query_one(Statement::from_string(
            db.get_database_backend(),
            "SELECT MAX(id) AS id FROM audit_events",
        ))
        .await
        .ok()??;
    row.try_get::<Option<i64>>("", "id").ok().flatten()
}

/// Watch the audit log and invalidate when another node (or the CLI) changed something.
pub async fn watch_changes(state: AppState, every: Duration) {
    let mut last = latest_change(&state.db).await;
    loop {
        tokio::time::sleep(every).await;
        let now = latest_change(&state.db).await;
        if now != last {
            state.pages.invalidate();
            last = now;
        }
    }
}
