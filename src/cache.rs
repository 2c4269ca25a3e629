//! The page cache. Rendered public pages are kept in memory (bounded in bytes) and served again
//! until something they read changes. Each render records what it read (`store::reads`: tags
//! such as `resident:5`, `list:story`), and each committed change names what it changed through
//! its audit event (`changes`), so a write invalidates only the pages that read what it touched:
//! creating a resident without consent invalidates nothing public, editing one resident leaves
//! every other resident's page cached. This node applies its own API writes' events before the
//! write's response leaves; a watcher of the audit log applies other nodes' (and the CLI's)
//! within seconds, with the same targeting.
//!
//! One render per page at a time: concurrent requests for a page being rendered wait for that
//! render. While it runs they may get the previous copy (stale-while-revalidate, at most
//! [`STALE_FOR`]); the request that starts the render always waits for it, so a client sees its
//! own write on its next request. Consent changes and deletions purge everything at once: no
//! stale copy is ever served after them. Entries also expire after [`TTL`], since pages show
//! time-dependent text (days left of a 公示). Every page carries a strong `ETag`;
//! `If-None-Match` gets a 304. The `X-Cache` header says how a page was served: `hit`, `stale`,
//! `shared` (waited for another request's render) or `miss` (rendered for this request).

mod changes;

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use poem::http::{header, HeaderValue, Method, StatusCode};
use poem::{Body, Endpoint, IntoResponse, Middleware, Request, Response};

pub use changes::{latest_change, watch_changes};
use sea_orm::DatabaseConnection;

/// How long a rendered page may be served without re-rendering, even when nothing changed.
pub const TTL: Duration = Duration::from_secs(60);
/// How long after a render started that a stale copy may still be served to other requests.
pub const STALE_FOR: Duration = Duration::from_secs(5);
/// Bytes of pages kept (bodies and keys); the least useful go first.
pub const MAX_BYTES: u64 = 64 * 1024 * 1024;
/// Tags hash into this many slots: a collision only invalidates a page for nothing.
const SLOTS: usize = 1 << 16;

struct Entry {
    /// The change epoch when its render started: any change after it makes the entry stale.
    epoch: u64,
    at: Instant,
    slots: Box<[u32]>,
    body: bytes::Bytes,
    etag: HeaderValue,
    content_type: HeaderValue,
}

/// How a request was answered, for the `X-Cache` header and the counters.
#[derive(Clone, Copy)]
enum Served {
    Hit,
    Stale,
    Shared,
    Miss,
}

impl Served {
    fn header(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Served::Hit => "hit",
            Served::Stale => "stale",
            Served::Shared => "shared",
            Served::Miss => "miss",
        })
    }
}

/// Counters since start, for logs and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    pub hits: u64,
    pub stale: u64,
    pub shared: u64,
    pub renders: u64,
    pub entries: u64,
    pub bytes: u64,
}

impl CacheStats {
    /// Requests answered without a render of their own.
    pub fn hit_ratio(&self) -> f64 {
        let served = self.hits + self.stale + self.shared;
        let all = served + self.renders;
        if all == 0 {
            0.0
        } else {
            served as f64 / all as f64
        }
    }
}

/// A render in progress: followers wait for its sender to go.
struct Flight {
    id: u64,
    started: Instant,
    done: tokio::sync::watch::Receiver<()>,
}

pub struct PageCache {
    entries: moka::sync::Cache<String, Arc<Entry>>,
    /// Bumped by every change; renders remember it at their start.
    epoch: AtomicU64,
    /// Per tag slot: the epoch of the last change to it.
    changed: Box<[AtomicU64]>,
    /// The epoch of the last purge: nothing rendered before it may be served, not even stale.
    purged: AtomicU64,
    flights: Mutex<HashMap<String, Flight>>,
    counters: [AtomicU64; 4],
    /// Which audit events have been applied (see `changes`).
    applied: tokio::sync::Mutex<changes::Applied>,
}

impl Default for PageCache {
    fn default() -> Self {
        PageCache::with_capacity(MAX_BYTES)
    }
}

fn slot(tag: &str) -> u32 {
    let mut h = std::hash::DefaultHasher::new();
    tag.hash(&mut h);
    (h.finish() % SLOTS as u64) as u32
}

impl PageCache {
    pub fn with_capacity(max_bytes: u64) -> Self {
        PageCache {
            entries: moka::sync::Cache::builder()
                .max_capacity(max_bytes)
                .weigher(|key: &String, e: &Arc<Entry>| {
                    let bytes = key.len() + e.body.len() + e.slots.len() * 4 + 256;
                    u32::try_from(bytes).unwrap_or(u32::MAX)
                })
                .time_to_live(TTL + STALE_FOR)
                .build(),
            epoch: AtomicU64::new(1),
            changed: (0..SLOTS).map(|_| AtomicU64::new(0)).collect(),
            purged: AtomicU64::new(0),
            flights: Mutex::default(),
            counters: Default::default(),
            applied: Default::default(),
        }
    }

    /// Something changed that any page may show: every cached page is gone, none served stale.
    pub fn invalidate(&self) {
        let epoch = self.epoch.fetch_add(1, Ordering::AcqRel) + 1;
        self.purged.fetch_max(epoch, Ordering::AcqRel);
        self.entries.invalidate_all();
    }

    /// These tags changed: pages that read any of them are stale.
    pub fn invalidate_tags<S: AsRef<str>>(&self, tags: &[S]) {
        if tags.is_empty() {
            return;
        }
        let epoch = self.epoch.fetch_add(1, Ordering::AcqRel) + 1;
        for tag in tags {
            self.changed[slot(tag.as_ref()) as usize].fetch_max(epoch, Ordering::AcqRel);
        }
    }

    pub fn stats(&self) -> CacheStats {
        let [hits, stale, shared, renders] = &self.counters;
        self.entries.run_pending_tasks();
        CacheStats {
            hits: hits.load(Ordering::Relaxed),
            stale: stale.load(Ordering::Relaxed),
            shared: shared.load(Ordering::Relaxed),
            renders: renders.load(Ordering::Relaxed),
            entries: self.entries.entry_count(),
            bytes: self.entries.weighted_size(),
        }
    }

    fn count(&self, served: Served) {
        self.counters[served as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// The entry, if it may be served at all (not purged), and whether it is fresh.
    fn lookup(&self, key: &str) -> Option<(Arc<Entry>, bool)> {
        let e = self.entries.get(key)?;
        if e.epoch < self.purged.load(Ordering::Acquire) {
            return None;
        }
        let fresh = e.at.elapsed() < TTL
            && e.slots
                .iter()
                .all(|&s| self.changed[s as usize].load(Ordering::Acquire) <= e.epoch);
        Some((e, fresh))
    }

    fn store(&self, key: String, epoch: u64, tags: Vec<String>, resp: &Rendered) {
        let mut slots: Vec<u32> = tags.iter().map(|t| slot(t)).collect();
        slots.sort_unstable();
        slots.dedup();
        let entry = Entry {
            epoch,
            at: Instant::now(),
            slots: slots.into_boxed_slice(),
            body: resp.body.clone(),
            etag: resp.etag.clone(),
            content_type: resp.content_type.clone(),
        };
        self.entries.insert(key, Arc::new(entry));
    }

    /// Lead the render of `key`, or follow the one already running.
    fn join(self: &Arc<Self>, key: &str) -> Result<Lead, Flight> {
        static IDS: AtomicU64 = AtomicU64::new(1);
        let mut flights = self.flights.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(f) = flights.get(key) {
            return Err(Flight {
                id: f.id,
                started: f.started,
                done: f.done.clone(),
            });
        }
        let (tx, rx) = tokio::sync::watch::channel(());
        let id = IDS.fetch_add(1, Ordering::Relaxed);
        flights.insert(
            key.to_string(),
            Flight {
                id,
                started: Instant::now(),
                done: rx,
            },
        );
        Ok(Lead {
            cache: self.clone(),
            key: key.to_string(),
            id,
            _done: tx,
        })
    }
}

/// The request rendering a page; dropping it (done, failed or cancelled) releases the followers.
struct Lead {
    cache: Arc<PageCache>,
    key: String,
    id: u64,
    _done: tokio::sync::watch::Sender<()>,
}

impl Drop for Lead {
    fn drop(&mut self) {
        let mut flights = self.cache.flights.lock().unwrap_or_else(|e| e.into_inner());
        if flights.get(&self.key).is_some_and(|f| f.id == self.id) {
            flights.remove(&self.key);
        }
    }
}

struct Rendered {
    body: bytes::Bytes,
    etag: HeaderValue,
    content_type: HeaderValue,
}

impl From<&Entry> for Rendered {
    fn from(e: &Entry) -> Self {
        Rendered {
            body: e.body.clone(),
            etag: e.etag.clone(),
            content_type: e.content_type.clone(),
        }
    }
}

/// A strong ETag of a response body: the first 12 bytes of its SHA-256, in hex.
pub fn etag_of_content(body: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(body);
    let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

fn etag_of(body: &[u8]) -> HeaderValue {
    HeaderValue::from_str(&etag_of_content(body)).expect("hex is a valid header value")
}

fn not_modified(headers: &poem::http::HeaderMap, etag: &HeaderValue) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .map(str::trim)
                .any(|t| t == "*" || t.trim_start_matches("W/") == etag.to_str().unwrap_or(""))
        })
}

fn respond(headers: &poem::http::HeaderMap, page: Rendered, served: Served) -> Response {
    let mut resp = if not_modified(headers, &page.etag) {
        Response::builder()
            .status(StatusCode::NOT_MODIFIED)
            .finish()
    } else {
        let mut r = Response::builder().body(Body::from_bytes(page.body));
        r.headers_mut()
            .insert(header::CONTENT_TYPE, page.content_type);
        r
    };
    resp.headers_mut().insert(header::ETAG, page.etag);
    // Browsers and proxies may keep the page but must ask again; the ETag makes that cheap.
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, no-cache"),
    );
    resp.headers_mut().insert("x-cache", served.header());
    resp
}

/// Serve a GET page from the cache, or render and keep it. The cache is the request's
/// `Arc<PageCache>` (the application adds it to every request); without one, pages are rendered.
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

impl<E: Endpoint> CachePageEndpoint<E> {
    /// Render the page, keeping it when it may be shared: a 200 without cookies.
    async fn render(&self, cache: &PageCache, key: String, req: Request) -> poem::Result<Response> {
        let epoch = cache.epoch.load(Ordering::Acquire);
        let headers = req.headers().clone();
        let (resp, tags) = crate::store::reads::recording(self.inner.call(req)).await;
        let resp = resp?.into_response();
        cache.count(Served::Miss);
        if resp.status() != StatusCode::OK || resp.headers().contains_key(header::SET_COOKIE) {
            return Ok(resp);
        }
        let content_type = resp
            .headers()
            .get(header::CONTENT_TYPE)
            .cloned()
            .unwrap_or_else(|| HeaderValue::from_static("text/html; charset=utf-8"));
        let body = resp.into_body().into_bytes().await?;
        let page = Rendered {
            etag: etag_of(&body),
            body,
            content_type,
        };
        cache.store(key, epoch, tags, &page);
        Ok(respond(&headers, page, Served::Miss))
    }
}

impl<E: Endpoint> Endpoint for CachePageEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let Some(cache) = req.data::<Arc<PageCache>>().cloned() else {
            return Ok(self.inner.call(req).await?.into_response());
        };
        if req.method() != Method::GET {
            return Ok(self.inner.call(req).await?.into_response());
        }
        // A site served at a host of its own renders its links without the `/s/{slug}` prefix:
        // its pages are kept apart from the same paths reached through the prefix.
        let key = match req.extensions().get::<crate::domain::site::HostSite>() {
            Some(host) => format!("{}{}", host.origin, req.uri()),
            None => req.uri().to_string(),
        };
        let known = cache.lookup(&key);
        if let Some((e, true)) = &known {
            cache.count(Served::Hit);
            return Ok(respond(req.headers(), Rendered::from(&**e), Served::Hit));
        }
        match cache.join(&key) {
            Ok(lead) => {
                let resp = self.render(&cache, key, req).await;
                drop(lead);
                resp
            }
            Err(mut flight) => {
                if let Some((e, _)) = known.filter(|_| flight.started.elapsed() < STALE_FOR) {
                    cache.count(Served::Stale);
                    return Ok(respond(req.headers(), Rendered::from(&*e), Served::Stale));
                }
                // Sent nothing: returns when the leader is done, whichever way it ended.
                let _ = flight.done.changed().await;
                match cache.lookup(&key) {
                    Some((e, true)) => {
                        cache.count(Served::Shared);
                        Ok(respond(req.headers(), Rendered::from(&*e), Served::Shared))
                    }
                    // Not kept (an error page, a cookie) or changed meanwhile: render our own.
                    _ => self.render(&cache, key, req).await,
                }
            }
        }
    }
}

/// Apply the audit events of every successful write through this node's API before its response
/// leaves, so that the writer's next request sees the change.
pub struct InvalidateOnWrite {
    pub pages: Arc<PageCache>,
    pub db: DatabaseConnection,
}

impl<E: Endpoint> Middleware<E> for InvalidateOnWrite {
    type Output = InvalidateOnWriteEndpoint<E>;
    fn transform(&self, ep: E) -> Self::Output {
        InvalidateOnWriteEndpoint {
            inner: ep,
            pages: self.pages.clone(),
            db: self.db.clone(),
        }
    }
}

pub struct InvalidateOnWriteEndpoint<E> {
    inner: E,
    pages: Arc<PageCache>,
    db: DatabaseConnection,
}

impl<E: Endpoint> Endpoint for InvalidateOnWriteEndpoint<E> {
    type Output = E::Output;

    async fn call(&self, req: Request) -> poem::Result<Self::Output> {
        let write = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
        let result = self.inner.call(req).await;
        if write {
            // Even a failed request may have committed something before failing: the audit log
            // says what, so there is no need to guess from the outcome.
            changes::catch_up(&self.pages, &self.db).await;
        }
        result
    }
}
