//! `/robots.txt` and the sitemaps. `/sitemap.xml` is a sitemap index: `/sitemaps/site.xml` holds
//! the home page, the 公示 board, the open notices and the community pages, and each
//! `/sitemaps/people-N.xml` the public profiles whose ids fall in the N-th block of
//! [`PEOPLE_PER_SITEMAP`]. Blocks by id keep each part's address stable as residents come and go
//! (a new profile changes one part, not all of them after it) and each part one bounded query,
//! however many residents a city registers.

use askama::Template;
use poem::web::{Data, Path};
use poem::{handler, Response};

use super::WebError;
use crate::state::AppState;
use crate::store::communities;
use crate::store::residents::{self, Visibility};

/// Ids per people sitemap: a part lists at most this many profiles (the protocol allows 50,000
/// URLs a file; smaller parts are quicker to render and to re-render after a change).
pub const PEOPLE_PER_SITEMAP: i64 = 10_000;

#[handler]
pub fn robots(state: Data<&AppState>) -> String {
    format!(
        "User-agent: *\nAllow: /\nDisallow: /api/\nDisallow: /admin/\nSitemap: {}/sitemap.xml\n",
        state.public_url.trim_end_matches('/')
    )
}

#[derive(Template)]
#[template(path = "sitemap_index.xml")]
struct SitemapIndex {
    sitemaps: Vec<String>,
}

#[derive(Template)]
#[template(path = "sitemap.xml")]
struct Sitemap {
    urls: Vec<String>,
}

fn xml(body: Result<String, askama::Error>) -> Result<Response, WebError> {
    let body = body.map_err(|e| WebError::Internal(e.to_string()))?;
    Ok(Response::builder()
        .content_type("application/xml; charset=utf-8")
        .body(body))
}

/// `/sitemap.xml`: the parts, one for the site and one per block of profile ids up to the highest
/// public one.
#[handler]
pub async fn index(state: Data<&AppState>) -> Result<Response, WebError> {
    let base = state.public_url.trim_end_matches('/');
    let mut sitemaps = vec![format!("{base}/sitemaps/site.xml")];
    if let Some(last) = residents::last_public_id(&state.db).await? {
        let blocks = (last - 1) / PEOPLE_PER_SITEMAP + 1;
        sitemaps.extend((0..blocks).map(|n| format!("{base}/sitemaps/people-{n}.xml")));
    }
    xml(SitemapIndex { sitemaps }.render())
}

/// `/sitemaps/site.xml` and `/sitemaps/people-N.xml`; anything else is not found.
#[handler]
pub async fn part(state: Data<&AppState>, Path(file): Path<String>) -> Result<Response, WebError> {
    let base = state.public_url.trim_end_matches('/');
    let urls = match file.strip_suffix(".xml") {
        Some("site") => site_urls(&state, base).await?,
        Some(name) => {
            let block = name
                .strip_prefix("people-")
                .filter(|n| n.bytes().all(|b| b.is_ascii_digit()) && n.len() <= 9)
                .and_then(|n| n.parse::<i64>().ok())
                .ok_or(WebError::NotFound)?;
            people_urls(&state, base, block).await?
        }
        None => return Err(WebError::NotFound),
    };
    xml(Sitemap { urls }.render())
}

async fn site_urls(state: &AppState, base: &str) -> Result<Vec<String>, WebError> {
    let mut urls = vec![format!("{base}/"), format!("{base}/notices")];
    for c in communities::list(&state.db, None, 100_000, None)
        .await?
        .items
    {
        urls.push(format!("{base}/communities/{}", c.slug));
    }
    for n in super::notices::open_notices(state, None).await? {
        urls.push(format!("{base}/notices/{}", n.id));
    }
    Ok(urls)
}

/// The public profiles with ids in block `block`: ids `block × N + 1` to `(block + 1) × N`. A
/// block past the highest public id is not found.
async fn people_urls(state: &AppState, base: &str, block: i64) -> Result<Vec<String>, WebError> {
    let last = residents::last_public_id(&state.db).await?;
    if last.is_none_or(|last| block > (last - 1) / PEOPLE_PER_SITEMAP) {
        return Err(WebError::NotFound);
    }
    let first = block * PEOPLE_PER_SITEMAP + 1;
    let end = first + PEOPLE_PER_SITEMAP;
    let people = residents::list(
        &state.db,
        residents::ListFilter {
            after: Some(first - 1),
            limit: PEOPLE_PER_SITEMAP as u64,
            community_id: None,
            visibility: Visibility::Public,
        },
    )
    .await?;
    Ok(people
        .items
        .iter()
        .filter(|r| r.id < end)
        .map(|r| format!("{base}/people/{}", r.slug))
        .collect())
}
