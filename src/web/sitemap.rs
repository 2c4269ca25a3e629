//! `/robots.txt` and the sitemaps. `/sitemap.xml` is a sitemap index: `/sitemaps/site.xml` holds
//! the home page, the 公示 board, the open notices and the community pages, and each
//! `/sitemaps/people-N.xml` the public profiles whose ids fall in the N-th block of
//! [`PEOPLE_PER_SITEMAP`]. Blocks by id keep each part's address stable as residents come and go
//! (a new profile changes one part, not all of them after it) and each part one bounded query,
//! however many residents a city registers.
//!
//! Each 街道's or district's site has its own: `/s/{slug}/sitemap.xml` with the same parts below
//! `/s/{slug}/sitemaps/`, listing that site's pages, its subtree's communities and open notices
//! and the public profiles of its people (at a host of its own, `/sitemap.xml` there).

use askama::Template;
use poem::web::{Data, Path};
use poem::{handler, Request, Response};

use super::{Site, WebError};
use crate::state::AppState;
use crate::store::communities;
use crate::store::residents::{self, Visibility};

/// Ids per people sitemap: a part lists at most this many profiles (the protocol allows 50,000
/// URLs a file; smaller parts are quicker to render and to re-render after a change).
pub const PEOPLE_PER_SITEMAP: i64 = 10_000;

/// `/robots.txt`, naming the sitemap of the host asked: a site's own at a host of `YOUDE_SITES`.
#[handler]
pub fn robots(req: &Request, state: Data<&AppState>) -> String {
    let own = super::host_site(&state, req);
    let base = match &own {
        Some(site) => site.origin.as_str(),
        None => state.public_url.trim_end_matches('/'),
    };
    format!("User-agent: *\nAllow: /\nDisallow: /api/\nDisallow: /admin/\nSitemap: {base}/sitemap.xml\n")
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

/// `/sitemap.xml`: the deployment's parts.
#[handler]
pub async fn index(state: Data<&AppState>) -> Result<Response, WebError> {
    index_of(&state, &super::deployment_site(&state).await?).await
}

/// `/s/{slug}/sitemap.xml`: one site's parts.
#[handler]
pub async fn site_index(
    req: &Request,
    state: Data<&AppState>,
    Path(slug): Path<String>,
) -> Result<Response, WebError> {
    index_of(&state, &super::site_of(&state, req, &slug).await?).await
}

/// `/sitemaps/{file}`: one of the deployment's parts.
#[handler]
pub async fn part(state: Data<&AppState>, Path(file): Path<String>) -> Result<Response, WebError> {
    part_of(&state, &super::deployment_site(&state).await?, &file).await
}

/// `/s/{slug}/sitemaps/{file}`: one of a site's parts.
#[handler]
pub async fn site_part(
    req: &Request,
    state: Data<&AppState>,
    Path((slug, file)): Path<(String, String)>,
) -> Result<Response, WebError> {
    part_of(&state, &super::site_of(&state, req, &slug).await?, &file).await
}

/// The parts: one for the site and one per block of profile ids up to the highest public one.
async fn index_of(state: &AppState, site: &Site) -> Result<Response, WebError> {
    let mut sitemaps = vec![site.absolute(&state.public_url, "/sitemaps/site.xml")];
    if let Some(last) = residents::last_public_id(&state.db).await? {
        let blocks = (last - 1) / PEOPLE_PER_SITEMAP + 1;
        sitemaps.extend(
            (0..blocks)
                .map(|n| site.absolute(&state.public_url, &format!("/sitemaps/people-{n}.xml"))),
        );
    }
    xml(SitemapIndex { sitemaps }.render())
}

/// `site.xml` and `people-N.xml`; anything else is not found.
async fn part_of(state: &AppState, site: &Site, file: &str) -> Result<Response, WebError> {
    let urls = match file.strip_suffix(".xml") {
        Some("site") => site_urls(state, site).await?,
        Some(name) => {
            let block = name
                .strip_prefix("people-")
                .filter(|n| n.bytes().all(|b| b.is_ascii_digit()) && n.len() <= 9)
                .and_then(|n| n.parse::<i64>().ok())
                .ok_or(WebError::NotFound)?;
            people_urls(state, site, block).await?
        }
        None => return Err(WebError::NotFound),
    };
    xml(Sitemap { urls }.render())
}

/// The site's own pages, then its communities and open notices. Profiles, communities and
/// notices are the deployment's pages, at `YOUDE_PUBLIC_URL` whichever site lists them.
async fn site_urls(state: &AppState, site: &Site) -> Result<Vec<String>, WebError> {
    let base = state.public_url.trim_end_matches('/');
    let mut urls = vec![
        site.absolute(&state.public_url, "/"),
        site.absolute(&state.public_url, "/notices"),
    ];
    let communities = match site.community_id {
        Some(root) => communities::subtree(&state.db, root, 100_000).await?,
        None => {
            communities::list(&state.db, None, 100_000, None, None)
                .await?
                .items
        }
    };
    for c in communities {
        urls.push(format!("{base}/communities/{}", c.slug));
    }
    for n in super::notices::open_notices(state, site.community_id).await? {
        urls.push(format!("{base}/notices/{}", n.id));
    }
    Ok(urls)
}

/// The public profiles of the site's people with ids in block `block`: ids `block × N + 1` to
/// `(block + 1) × N`. A block past the highest public id is not found; a block of the
/// deployment's that holds none of the site's people is an empty part.
async fn people_urls(state: &AppState, site: &Site, block: i64) -> Result<Vec<String>, WebError> {
    let base = state.public_url.trim_end_matches('/');
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
            within: site.community_id,
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
