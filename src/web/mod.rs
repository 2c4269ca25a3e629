//! Server-rendered pages (zh-CN, askama templates with autoescape, no JavaScript), their security
//! headers, caching and error pages, the health endpoints, and the photo files under `/media`.

pub mod certificates;
pub mod feeds;
pub mod media;
pub mod notices;
pub mod pages;
pub mod search_page;
pub mod sitemap;
pub mod stories;
pub mod timeline;

use askama::Template;
use poem::error::ResponseError;
use poem::http::{header, StatusCode};
use poem::web::{Data, Json};
use poem::{get, handler, Endpoint, EndpointExt, IntoResponse, Request, Response, Route};
use serde_json::json;

use crate::cache;
use crate::domain::site::{HostSite, HostSites};
use crate::middleware::SecurityHeaders;
pub use crate::service::site::Site;
use crate::state::AppState;
use crate::store::StoreError;

/// Title, description and canonical address of a page, for `<head>` and Open Graph, and the site
/// it belongs to (its name in the header and footer).
pub struct Meta {
    pub title: String,
    pub description: String,
    pub canonical: String,
    pub image: Option<String>,
    pub site: Site,
}

impl Meta {
    /// A page of `site` at `path` (within the site: its prefix is added).
    pub fn new(site: &Site, state: &AppState, path: &str, title: &str, description: &str) -> Self {
        Meta {
            title: title.to_string(),
            description: description.to_string(),
            canonical: site.absolute(&state.public_url, path),
            image: None,
            site: site.clone(),
        }
    }
}

/// The site at `/s/{slug}`: a 街道's or a district's (404 for any other slug). Reached at a host
/// of its own (`YOUDE_SITES`), its links and canonical addresses are that host's.
pub async fn site_of(state: &AppState, req: &Request, slug: &str) -> Result<Site, WebError> {
    let site = Site::of_slug(&state.db, slug)
        .await?
        .ok_or(WebError::NotFound)?;
    Ok(match req.extensions().get::<HostSite>() {
        Some(host) if host.slug == slug => site.at_host(host),
        _ => site,
    })
}

/// At a host of `YOUDE_SITES`, the site's own addresses (`/`, `/notices`, `/search`, its feeds
/// and sitemap) are served from `/s/{slug}/…`, marked with the [`HostSite`] they came through.
async fn host_sites<E: Endpoint>(
    next: std::sync::Arc<E>,
    mut req: Request,
) -> poem::Result<Response> {
    let found = req
        .data::<AppState>()
        .and_then(|state| host_site(state, &req));
    if let Some(host) = found {
        if let Some(path) = HostSites::rewrite(&host.slug, req.uri().path()) {
            let target = match req.uri().query() {
                Some(q) => format!("{path}?{q}"),
                None => path,
            };
            if let Ok(uri) = target.parse() {
                *req.uri_mut() = uri;
                req.extensions_mut().insert(host);
            }
        }
    }
    Ok(next.call(req).await?.into_response())
}

/// The site of `YOUDE_SITES` whose host the request names, if any (the scheme is
/// `YOUDE_PUBLIC_URL`'s).
pub fn host_site(state: &AppState, req: &Request) -> Option<HostSite> {
    if state.sites.is_empty() {
        return None;
    }
    let host = match req.uri().host() {
        Some(host) => host,
        None => req.headers().get(header::HOST)?.to_str().ok()?,
    };
    let scheme = if state.public_url.starts_with("https://") {
        "https"
    } else {
        "http"
    };
    state.sites.lookup(host, scheme)
}

/// The deployment's own site (see [`Site::of_deployment`]).
pub async fn deployment_site(state: &AppState) -> Result<Site, WebError> {
    Ok(Site::of_deployment(&state.db).await?)
}

/// Why a page cannot be shown. Rendered as a Chinese error page.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("not found")]
    NotFound,
    /// The resident withdrew their consent: the page existed and is gone for good.
    #[error("gone")]
    Gone,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Internal(String),
    /// The database cannot be reached right now: 503, try again in a moment.
    #[error("{0}")]
    Unavailable(String),
}

impl From<StoreError> for WebError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound(_) => WebError::NotFound,
            other if other.is_unavailable() => WebError::Unavailable(other.to_string()),
            other => WebError::Internal(other.to_string()),
        }
    }
}

impl From<askama::Error> for WebError {
    fn from(err: askama::Error) -> Self {
        WebError::Internal(format!("template: {err}"))
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    meta: Meta,
    heading: String,
    message: String,
}

fn error_meta(title: &str) -> Meta {
    Meta {
        title: title.to_string(),
        description: String::new(),
        canonical: String::new(),
        image: None,
        site: Site::generic(),
    }
}

/// The Chinese page for an HTTP error status.
pub fn error_response(status: StatusCode, detail: Option<&str>) -> Response {
    let (heading, message) = match status {
        StatusCode::NOT_FOUND => ("页面不存在", "您要找的页面不存在或尚未公开。"),
        StatusCode::GONE => ("页面已撤下", "应本人要求，此页面已不再公开。感谢您的关注。"),
        StatusCode::FORBIDDEN => ("无法完成操作", detail.unwrap_or("您没有权限进行这项操作。")),
        StatusCode::BAD_REQUEST => ("请求有误", detail.unwrap_or("请求无法处理，请返回重试。")),
        StatusCode::METHOD_NOT_ALLOWED => ("无法完成操作", "这个地址不支持该请求方式。"),
        StatusCode::PAYLOAD_TOO_LARGE => (
            "提交的内容太长",
            "提交的内容超过了大小上限，请缩短后返回重试。",
        ),
        s if s.is_client_error() => ("请求有误", "请求无法处理，请返回重试。"),
        StatusCode::SERVICE_UNAVAILABLE => ("服务暂时不可用", "请稍后刷新重试。"),
        _ => (
            "服务暂时出了问题",
            "服务器内部错误，请稍后再试。我们已记录这个问题。",
        ),
    };
    let page = ErrorPage {
        meta: error_meta(heading),
        heading: heading.into(),
        message: message.into(),
    };
    let body = page.render().unwrap_or_else(|_| message.to_string());
    Response::builder()
        .status(status)
        .content_type("text/html; charset=utf-8")
        .body(body)
}

impl ResponseError for WebError {
    fn status(&self) -> StatusCode {
        match self {
            WebError::NotFound => StatusCode::NOT_FOUND,
            WebError::Gone => StatusCode::GONE,
            WebError::Forbidden(_) => StatusCode::FORBIDDEN,
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            WebError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn as_response(&self) -> Response {
        match self {
            WebError::Internal(cause) => {
                tracing::error!(error = %cause, "page failed");
                error_response(StatusCode::INTERNAL_SERVER_ERROR, None)
            }
            WebError::Forbidden(message) => error_response(StatusCode::FORBIDDEN, Some(message)),
            WebError::BadRequest(message) => error_response(StatusCode::BAD_REQUEST, Some(message)),
            WebError::Unavailable(cause) => {
                tracing::warn!(error = %cause, "page unavailable: database unreachable");
                error_response(StatusCode::SERVICE_UNAVAILABLE, None)
            }
            other => error_response(other.status(), None),
        }
    }
}

/// The QR code of `url` as inline SVG (for print pages).
pub fn qr_svg(url: &str) -> Result<String, WebError> {
    let qr = qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| WebError::Internal(format!("QR code: {e}")))?;
    let svg = qr
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(180, 180)
        .quiet_zone(true)
        .dark_color(qrcode::render::svg::Color("#000"))
        .light_color(qrcode::render::svg::Color("#fff"))
        .build();
    // The renderer starts with an XML declaration, which has no place inside HTML.
    Ok(svg
        .split_once("?>")
        .map_or(svg.clone(), |(_, svg)| svg.trim().to_string()))
}

/// Render a page.
pub fn html(page: &impl Template) -> Result<Response, WebError> {
    let body = page.render()?;
    Ok(Response::builder()
        .content_type("text/html; charset=utf-8")
        .body(body))
}

const STYLESHEET: &str = include_str!("../../static/site.css");
const FAVICON: &str = include_str!("../../static/favicon.svg");

#[handler]
fn favicon() -> Response {
    Response::builder()
        .content_type("image/svg+xml")
        .header(header::CACHE_CONTROL, "public, max-age=604800")
        .body(FAVICON)
}

#[handler]
fn stylesheet() -> Response {
    Response::builder()
        .content_type("text/css; charset=utf-8")
        .header(header::CACHE_CONTROL, "public, max-age=86400")
        .body(STYLESHEET)
}

#[handler]
fn admin_stylesheet() -> Response {
    Response::builder()
        .content_type("text/css; charset=utf-8")
        .header(header::CACHE_CONTROL, "public, max-age=86400")
        .body(include_str!("../../static/admin.css"))
}

/// The console's one script: a preview of a photo before it is uploaded.
#[handler]
fn admin_script() -> Response {
    Response::builder()
        .content_type("text/javascript; charset=utf-8")
        .header(header::CACHE_CONTROL, "public, max-age=86400")
        .body(include_str!("../../static/admin.js"))
}

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

/// The public pages (with their security headers and page cache) and the health endpoints.
/// `form_limits` bounds the one public form's body.
pub fn routes(form_limits: crate::middleware::BodyLimit, https: bool) -> impl Endpoint {
    // A body over the limit gets the Chinese page, not the API's JSON.
    let object = notices::object
        .with(form_limits)
        .around(|ep, req| async move {
            match ep.call(req).await {
                Err(err) if err.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                    Ok(error_response(StatusCode::PAYLOAD_TOO_LARGE, None))
                }
                other => other.map(IntoResponse::into_response),
            }
        });
    Route::new()
        .at("/healthz", get(healthz))
        .at("/readyz", get(readyz))
        .at("/media/:key", get(media::serve))
        .at("/", get(pages::home).with(cache::CachePage))
        .at("/s/:slug", get(pages::site_page).with(cache::CachePage))
        .at(
            "/s/:slug/notices",
            get(notices::site_notices_page).with(cache::CachePage),
        )
        // Not cached, as /search.
        .at("/s/:slug/search", get(search_page::site_search_page))
        .at(
            "/s/:slug/feeds/stories.atom",
            get(feeds::site_atom).with(cache::CachePage),
        )
        .at(
            "/s/:slug/feeds/stories.json",
            get(feeds::site_json_feed).with(cache::CachePage),
        )
        .at(
            "/s/:slug/sitemap.xml",
            get(sitemap::site_index).with(cache::CachePage),
        )
        .at(
            "/s/:slug/sitemaps/:file",
            get(sitemap::site_part).with(cache::CachePage),
        )
        .at(
            "/people/:slug",
            get(pages::person_page).with(cache::CachePage),
        )
        .at(
            "/people/:slug/print",
            get(pages::person_print).with(cache::CachePage),
        )
        .at(
            "/communities/:slug",
            get(pages::community_page).with(cache::CachePage),
        )
        .at(
            "/notices",
            get(notices::notices_page).with(cache::CachePage),
        )
        // Not cached: the form carries each visitor's own CSRF token.
        .at("/notices/:id", get(notices::notice_page).post(object))
        .at("/sitemap.xml", get(sitemap::index).with(cache::CachePage))
        .at("/sitemaps/:file", get(sitemap::part).with(cache::CachePage))
        .at(
            "/feeds/stories.atom",
            get(feeds::atom).with(cache::CachePage),
        )
        .at(
            "/feeds/stories.json",
            get(feeds::json_feed).with(cache::CachePage),
        )
        .at(
            "/stories/:slug",
            get(stories::story_page).with(cache::CachePage),
        )
        .at(
            "/issues/:id",
            get(stories::issue_page).with(cache::CachePage),
        )
        // Not cached: results follow the outbox relay, not the page cache's invalidation.
        .at("/search", get(search_page::search_page))
        // Not cached: look-ups are throttled per visitor; a certificate's standing can change.
        .at("/verify", get(certificates::by_number))
        .at("/verify/:code", get(certificates::by_code))
        .at("/verify/:code/certificate", get(certificates::printable))
        .at("/verify/:code/certificate.pdf", get(certificates::pdf))
        .at("/robots.txt", get(sitemap::robots))
        .at("/static/site.css", get(stylesheet))
        .at("/static/admin.css", get(admin_stylesheet))
        .at("/static/admin.js", get(admin_script))
        .at("/static/favicon.svg", get(favicon))
        .at("/favicon.ico", get(favicon))
        .with(SecurityHeaders::public(https, |status| {
            error_response(status, None)
        }))
        .around(host_sites)
}
