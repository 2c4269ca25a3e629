//! What an operator sees of every request: a request id (taken from `X-Request-Id` when a trusted
//! proxy sends one, made otherwise) echoed in the response and carried by every log line of the
//! request; a panic in a handler answered with a 500 that names the id, while the process keeps
//! serving; and the Prometheus metrics served at `/metrics` to the addresses the operator allows.

use std::net::IpAddr;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Instant;

use futures_util::FutureExt;
use poem::http::{header, StatusCode};
use poem::PathPattern;
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use tracing::Instrument;

pub const REQUEST_ID: &str = "x-request-id";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EngineLabels {
    pub engine: &'static str,
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: String,
}

type HistogramFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

/// The process's metrics. Gauges that describe the database (the search outbox) are read at
/// scrape time by [`Metrics::render`]'s caller.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    durations: HistogramFamily,
    panics: Counter,
    pub outbox_backlog: Gauge,
    pub outbox_oldest_age_seconds: Gauge,
    pub relay_consecutive_failures: Gauge,
    /// Page requests since start, by how the page cache served them (set at scrape time).
    pub page_cache_requests: Family<OutcomeLabels, Gauge>,
    pub page_cache_hit_ratio: Gauge<f64, std::sync::atomic::AtomicU64>,
    pub page_cache_bytes: Gauge,
    pub db_pool_connections: Gauge,
    pub db_pool_idle: Gauge,
    /// Time to check and render an uploaded photo (decode, orient, resize, encode).
    pub photo_ingest_seconds: Histogram,
    search_seconds: Family<EngineLabels, Histogram, fn() -> Histogram>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("youde");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route template and status",
            requests.clone(),
        );
        let durations: HistogramFamily =
            Family::new_with_constructor(|| Histogram::new(exponential_buckets(0.0005, 2.0, 16)));
        registry.register(
            "http_request_duration_seconds",
            "Time to answer, by method and route template",
            durations.clone(),
        );
        let panics = Counter::default();
        registry.register(
            "http_panics",
            "Handler panics answered with 500",
            panics.clone(),
        );
        let outbox_backlog = Gauge::default();
        registry.register(
            "search_outbox_backlog",
            "Changes waiting for delivery to the search engine",
            outbox_backlog.clone(),
        );
        let outbox_oldest_age_seconds = Gauge::default();
        registry.register(
            "search_outbox_oldest_age_seconds",
            "Age of the oldest change waiting for delivery (0 when none waits)",
            outbox_oldest_age_seconds.clone(),
        );
        let relay_consecutive_failures = Gauge::default();
        registry.register(
            "search_relay_consecutive_failures",
            "Deliveries to the search engine that failed in a row",
            relay_consecutive_failures.clone(),
        );
        let page_cache_requests = Family::<OutcomeLabels, Gauge>::default();
        registry.register(
            "page_cache_requests",
            "Cached-page requests since start, by outcome: hit, stale (previous copy while a render runs), shared (waited for another request's render), render",
            page_cache_requests.clone(),
        );
        let page_cache_hit_ratio = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
        registry.register(
            "page_cache_hit_ratio",
            "Share of cached-page requests answered without a render of their own",
            page_cache_hit_ratio.clone(),
        );
        let page_cache_bytes = Gauge::default();
        registry.register(
            "page_cache_bytes",
            "Bytes of pages held by the page cache",
            page_cache_bytes.clone(),
        );
        let db_pool_connections = Gauge::default();
        registry.register(
            "db_pool_connections",
            "Database connections the pool holds",
            db_pool_connections.clone(),
        );
        let db_pool_idle = Gauge::default();
        registry.register(
            "db_pool_idle",
            "Database connections of the pool not in use",
            db_pool_idle.clone(),
        );
        let photo_ingest_seconds = Histogram::new(exponential_buckets(0.01, 2.0, 12));
        registry.register(
            "photo_ingest_seconds",
            "Time to check and render an uploaded photo",
            photo_ingest_seconds.clone(),
        );
        let search_seconds: Family<EngineLabels, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(|| Histogram::new(exponential_buckets(0.0005, 2.0, 14)));
        registry.register(
            "search_seconds",
            "Time the search engine took to answer a search (API and search page), by engine and outcome",
            search_seconds.clone(),
        );
        let build = Family::<BuildLabels, Gauge>::default();
        build
            .get_or_create(&BuildLabels {
                version: env!("CARGO_PKG_VERSION").into(),
            })
            .set(1);
        registry.register("build_info", "The running version", build);
        Metrics {
            registry,
            requests,
            durations,
            panics,
            outbox_backlog,
            outbox_oldest_age_seconds,
            relay_consecutive_failures,
            page_cache_requests,
            page_cache_hit_ratio,
            page_cache_bytes,
            db_pool_connections,
            db_pool_idle,
            photo_ingest_seconds,
            search_seconds,
        }
    }
}

impl Metrics {
    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("metrics encode into a String");
        out
    }

    /// One search by `engine`, which took `seconds` and succeeded or not.
    pub fn searched(&self, engine: &'static str, ok: bool, seconds: f64) {
        let outcome = if ok { "ok" } else { "error" };
        self.search_seconds
            .get_or_create(&EngineLabels { engine, outcome })
            .observe(seconds);
    }

    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                method: method.into(),
                route: route.into(),
                status,
            })
            .inc();
        self.durations
            .get_or_create(&RouteLabels {
                method: method.into(),
                route: route.into(),
            })
            .observe(seconds);
    }
}

/// The id of the request being answered, for handlers and error pages.
#[derive(Clone, Debug)]
pub struct RequestId(pub Arc<str>);

/// An id sent by a trusted proxy is kept when it is short and plain; anything else is replaced.
fn acceptable_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn new_id() -> String {
    format!("{:016x}", rand::random::<u64>())
}

/// The middleware: request id, span, panic catching, request metrics, one log line a request.
#[derive(Clone)]
pub struct Observe {
    pub metrics: Arc<Metrics>,
    pub trusted_proxies: Arc<[IpAddr]>,
}

impl<E: Endpoint> Middleware<E> for Observe {
    type Output = ObserveEndpoint<E>;
    fn transform(&self, ep: E) -> Self::Output {
        ObserveEndpoint {
            inner: ep,
            observe: self.clone(),
        }
    }
}

pub struct ObserveEndpoint<E> {
    inner: E,
    observe: Observe,
}

impl<E: Endpoint> Endpoint for ObserveEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        let started = Instant::now();
        let peer = req.remote_addr().as_socket_addr().map(|a| a.ip());
        let from_proxy = peer.is_some_and(|ip| self.observe.trusted_proxies.contains(&ip));
        let id = req
            .headers()
            .get(REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .filter(|id| from_proxy && acceptable_id(id))
            .map(str::to_string)
            .unwrap_or_else(new_id);
        req.set_data(RequestId(Arc::from(id.as_str())));
        let method = req.method().to_string();
        let span = tracing::info_span!("request", request_id = %id);
        let answered = AssertUnwindSafe(self.inner.call(req).instrument(span.clone()))
            .catch_unwind()
            .await;
        let (mut response, route) = match answered {
            Ok(Ok(output)) => {
                let response = output.into_response();
                let route = response.data::<PathPattern>().map(|p| p.0.to_string());
                (response, route)
            }
            Ok(Err(err)) => {
                let route = err.data::<PathPattern>().map(|p| p.0.to_string());
                (err.into_response(), route)
            }
            Err(panic) => {
                self.observe.metrics.panics.inc();
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                span.in_scope(|| tracing::error!(panic = %what, "handler panicked; answered 500"));
                (
                    Response::builder()
                        .status(StatusCode::INTERNAL_SERVER_ERROR)
                        .finish(),
                    None,
                )
            }
        };
        if response.status() == StatusCode::INTERNAL_SERVER_ERROR {
            response = internal_error(&response, &id);
        }
        let route = route
            .filter(|r| !r.is_empty())
            .unwrap_or_else(|| "unmatched".into());
        self.observe.metrics.observe(
            &method,
            &route,
            response.status().as_u16(),
            started.elapsed().as_secs_f64(),
        );
        // One line a request, naming the route's pattern, never the path or query it was called
        // with: those can carry what a log must not keep (a phone number searched for, a
        // certificate's code). The client's address is not logged either.
        span.in_scope(|| {
            tracing::info!(
                method = %method,
                route = %route,
                status = response.status().as_u16(),
                ms = started.elapsed().as_millis() as u64,
                "answered"
            )
        });
        if let Ok(value) = id.parse() {
            response.headers_mut().insert(REQUEST_ID, value);
        }
        Ok(response)
    }
}

/// Every 500 names the request id, so a report of the error can be found in the logs; the cause
/// itself is only in the logs.
fn internal_error(original: &Response, id: &str) -> Response {
    let json = original
        .content_type()
        .is_some_and(|ct| ct.starts_with("application/json"));
    let message = format!("服务器内部错误，请稍后再试（请求编号 {id}）");
    if json {
        let body = serde_json::json!({
            "error": { "code": "internal", "message": message, "details": { "request_id": id } }
        });
        Response::builder()
            .status(StatusCode::INTERNAL_SERVER_ERROR)
            .content_type("application/json; charset=utf-8")
            .body(body.to_string())
    } else {
        Response::builder()
            .status(StatusCode::INTERNAL_SERVER_ERROR)
            .header(header::CACHE_CONTROL, "no-store")
            .content_type("text/html; charset=utf-8")
            .body(format!(
                "<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><title>服务器内部错误</title>\
                 <h1>服务器内部错误</h1><p>请稍后再试。请求编号：<code>{id}</code></p></html>"
            ))
    }
}

/// May `peer` read `/metrics`?
pub fn metrics_allowed(peer: Option<IpAddr>, allowed: &[IpAddr]) -> bool {
    peer.is_some_and(|ip| allowed.contains(&ip))
}

#[cfg(test)]
mod tests {
    use super::*;
    use poem::test::TestClient;
    use poem::{handler, EndpointExt, Route};

    #[handler]
    fn boom() -> &'static str {
        panic!("a bug in a handler")
    }

    #[handler]
    fn fine() -> &'static str {
        "fine"
    }

    fn app(metrics: Arc<Metrics>) -> impl Endpoint {
        Route::new()
            .at("/boom", boom)
            .at("/people/:slug", fine)
            .with(Observe {
                metrics,
                trusted_proxies: Arc::from(Vec::new()),
            })
    }

    #[tokio::test]
    async fn a_panic_answers_500_with_the_request_id_and_the_next_request_is_served() {
        let metrics = Arc::new(Metrics::default());
        let client = TestClient::new(app(metrics.clone()));
        let resp = client.get("/boom").send().await;
        resp.assert_status(StatusCode::INTERNAL_SERVER_ERROR);
        let id = resp
            .0
            .headers()
            .get(REQUEST_ID)
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        assert!(acceptable_id(&id));
        let body = resp.0.into_body().into_string().await.unwrap();
        assert!(body.contains(&id), "{body}");
        client.get("/people/a").send().await.assert_status_is_ok();
        let scraped = metrics.render();
        assert!(scraped.contains("youde_http_panics_total 1"), "{scraped}");
        assert!(
            scraped.contains(
                r#"youde_http_requests_total{method="GET",route="/people/:slug",status="200"} 1"#
            ),
            "{scraped}"
        );
    }

    #[tokio::test]
    async fn an_id_from_an_untrusted_client_is_replaced() {
        let client = TestClient::new(app(Arc::new(Metrics::default())));
        let resp = client
            .get("/people/a")
            .header(REQUEST_ID, "made-up-by-the-client")
            .send()
            .await;
        let id = resp.0.headers().get(REQUEST_ID).unwrap().to_str().unwrap();
        assert_ne!(id, "made-up-by-the-client");
        assert!(!acceptable_id("a b"));
        assert!(!acceptable_id(&"x".repeat(65)));
    }
}
