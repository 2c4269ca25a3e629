//! `/search?q=`: the search page, over the same engine and rules as `GET /api/v1/search` (public
//! documents only: consented people and published stories), with facet links and pinyin hints.

use askama::Template;
use poem::web::{Data, Path, Query};
use poem::{handler, Response};
use serde::Deserialize;

use super::{html, Meta, Site, WebError};
use crate::search::document::{KIND_RESIDENT, KIND_STORY};
use crate::search::text;
use crate::search::{Scope, SearchQuery};
use crate::service::search::{hit, KINDS};
use crate::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct SearchForm {
    q: Option<String>,
    /// `resident` or `story`.
    kind: Option<String>,
    category: Option<String>,
    year: Option<i32>,
}

pub struct HitItem {
    /// `resident` or `story`.
    pub kind: String,
    /// `/people/{slug}` or `/stories/{slug}`.
    pub url: String,
    pub name: String,
    pub pinyin: String,
    pub community: String,
    pub headline: String,
    /// HTML-escaped by the search module, with `<mark>` around matches.
    pub snippet_html: String,
}

pub struct FacetLink {
    pub label: String,
    pub count: u64,
    pub href: String,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    meta: Meta,
    q: String,
    message: String,
    total: u64,
    hits: Vec<HitItem>,
    kinds: Vec<FacetLink>,
    categories: Vec<FacetLink>,
    years: Vec<FacetLink>,
}

/// What a kind is called on the page.
fn kind_label(kind: &str) -> &str {
    match kind {
        KIND_RESIDENT => "人物",
        KIND_STORY => "报道",
        other => other,
    }
}

fn link(
    site: &Site,
    q: &str,
    kind: Option<&str>,
    category: Option<&str>,
    year: Option<i32>,
) -> String {
    let mut pairs = vec![("q", q.to_string())];
    if let Some(k) = kind {
        pairs.push(("kind", k.to_string()));
    }
    if let Some(c) = category {
        pairs.push(("category", c.to_string()));
    }
    if let Some(y) = year {
        pairs.push(("year", y.to_string()));
    }
    format!(
        "{}?{}",
        site.url("/search"),
        serde_urlencoded::to_string(&pairs).unwrap_or_default()
    )
}

const MAX_QUERY_CHARS: usize = 100;

#[handler]
pub async fn search_page(
    state: Data<&AppState>,
    Query(form): Query<SearchForm>,
) -> Result<Response, WebError> {
    let site = super::deployment_site(&state).await?;
    site_search(&state, site, form).await
}

/// `/s/{slug}/search`: the search of a 街道's or district's own site, in its subtree only.
#[handler]
pub async fn site_search_page(
    req: &poem::Request,
    state: Data<&AppState>,
    Path(slug): Path<String>,
    Query(form): Query<SearchForm>,
) -> Result<Response, WebError> {
    site_search(&state, super::site_of(&state, req, &slug).await?, form).await
}

async fn site_search(state: &AppState, site: Site, form: SearchForm) -> Result<Response, WebError> {
    let q = form
        .q
        .as_deref()
        .map(str::trim)
        .unwrap_or_default()
        .to_string();
    let mut page = SearchPage {
        meta: Meta::new(
            &site,
            state,
            "/search",
            &format!("搜索 · {}", site.honours()),
            "按姓名、拼音或事迹搜索有德之士。",
        ),
        q: q.clone(),
        message: String::new(),
        total: 0,
        hits: vec![],
        kinds: vec![],
        categories: vec![],
        years: vec![],
    };
    if q.is_empty() {
        return html(&page);
    }
    if q.chars().count() > MAX_QUERY_CHARS {
        page.message = format!("搜索内容不能超过 {MAX_QUERY_CHARS} 个字。");
        return html(&page);
    }
    let mut query = SearchQuery::new(&q);
    if text::query_words(&query.text).is_empty() {
        page.message = "请输入文字、字母或数字。".into();
        return html(&page);
    }
    let kind = form.kind.as_deref().filter(|k| !k.is_empty());
    if let Some(k) = kind {
        if !KINDS.contains(&k) {
            page.message = "只能按人物或报道筛选。".into();
            return html(&page);
        }
    }
    query.kind = kind.map(str::to_string);
    query.category = form.category.clone().filter(|c| !c.is_empty());
    query.year = form.year;
    query.community = site.community_id;
    let words = query.words();
    let started = std::time::Instant::now();
    let results = state.search.index.search(&query).await;
    state.metrics.searched(
        state.search.index.engine(),
        results.is_ok(),
        started.elapsed().as_secs_f64(),
    );
    match results {
        Ok(results) => {
            page.total = results.total;
            page.hits = results
                .hits
                .into_iter()
                .map(|doc| {
                    let h = hit(doc, &words, Scope::Public);
                    HitItem {
                        headline: h.headlines.join(" · "),
                        kind: h.kind,
                        url: h.url,
                        name: h.name,
                        pinyin: h.pinyin,
                        community: h.community_path,
                        snippet_html: h.snippet,
                    }
                })
                .collect();
            let facets = results.facets.sorted();
            page.kinds = facets
                .kind
                .iter()
                .map(|(k, n)| FacetLink {
                    label: kind_label(k).to_string(),
                    count: *n,
                    href: link(&site, &q, Some(k), form.category.as_deref(), form.year),
                    active: kind == Some(k.as_str()),
                })
                .collect();
            page.categories = facets
                .category
                .iter()
                .map(|(c, n)| FacetLink {
                    label: c.clone(),
                    count: *n,
                    href: link(&site, &q, kind, Some(c), form.year),
                    active: form.category.as_deref() == Some(c.as_str()),
                })
                .collect();
            page.years = facets
                .year
                .iter()
                .take(12)
                .map(|(y, n)| FacetLink {
                    label: format!("{y}年"),
                    count: *n,
                    href: link(&site, &q, kind, form.category.as_deref(), Some(*y)),
                    active: form.year == Some(*y),
                })
                .collect();
            if page.total == 0 {
                page.message =
                    "没有找到。可以试试姓名的一部分、拼音（sunjianwei）或首字母（sjw）。".into();
            }
        }
        Err(err) => {
            tracing::warn!(error = %err, "search page: engine unavailable");
            page.message = "搜索暂时不可用，请稍后再试。".into();
        }
    }
    html(&page)
}
