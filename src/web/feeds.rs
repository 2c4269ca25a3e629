//! `/feeds/stories.atom` and `/feeds/stories.json` (JSON Feed 1.1): published stories with their
//! full sanitised content, filtered like the stories API.

use atom_syndication::{Category, Content, Entry, Feed, Link, Person, Text};
use chrono::{DateTime, FixedOffset, Utc};
use poem::web::{Data, Path, Query};
use poem::{handler, Request, Response};
use serde::Deserialize;
use serde_json::json;

use super::{Site, WebError};
use crate::service::stories::{views_as, Story};
use crate::state::AppState;
use crate::store::residents::Visibility;
use crate::store::stories;

#[derive(Debug, Default, Deserialize)]
pub struct FeedQuery {
    featured: Option<bool>,
    theme: Option<String>,
    section: Option<String>,
    community: Option<i64>,
    resident: Option<i64>,
    since: Option<String>,
    until: Option<String>,
    issue: Option<i64>,
}

const FEED_SIZE: u64 = 50;

fn date(value: Option<&str>) -> Result<Option<DateTime<Utc>>, WebError> {
    let Some(v) = value.filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    crate::domain::story::parse_moment(v)
        .map(Some)
        .ok_or_else(|| WebError::BadRequest(format!("日期“{v}”应写作 2019-09-01")))
}

async fn items(state: &AppState, q: &FeedQuery, site: &Site) -> Result<Vec<Story>, WebError> {
    let rows = stories::list(
        &state.db,
        stories::Filter {
            after: None,
            limit: FEED_SIZE,
            public_only: true,
            featured: q.featured,
            theme: q.theme.clone().filter(|t| !t.is_empty()),
            section: q.section.clone().filter(|s| !s.is_empty()),
            resident_id: q.resident,
            community_id: q.community,
            within: site.community_id,
            issue_id: q.issue,
            since: date(q.since.as_deref())?,
            until: date(q.until.as_deref())?,
            newest_first: true,
        },
    )
    .await?;
    Ok(views_as(&state.db, &state.public_url, rows.items, Visibility::Public).await?)
}

fn fixed(t: DateTime<Utc>) -> DateTime<FixedOffset> {
    t.fixed_offset()
}

/// `/feeds/stories.atom`: the deployment's stories.
#[handler]
pub async fn atom(
    state: Data<&AppState>,
    Query(q): Query<FeedQuery>,
) -> Result<Response, WebError> {
    atom_of(&state, super::deployment_site(&state).await?, &q).await
}

/// `/s/{slug}/feeds/stories.atom`: the stories about the people of one 街道's or district's site.
#[handler]
pub async fn site_atom(
    req: &Request,
    state: Data<&AppState>,
    Path(slug): Path<String>,
    Query(q): Query<FeedQuery>,
) -> Result<Response, WebError> {
    atom_of(&state, super::site_of(&state, req, &slug).await?, &q).await
}

async fn atom_of(state: &AppState, site: Site, q: &FeedQuery) -> Result<Response, WebError> {
    let stories = items(state, q, &site).await?;
    let base = state.public_url.to_string();
    let title = format!("{} 报道", site.label());
    let updated = stories
        .iter()
        .map(|s| s.updated_at)
        .max()
        .unwrap_or_else(|| state.clock.now());
    let entries: Vec<Entry> = stories
        .iter()
        .map(|s| Entry {
            id: s.url.clone(),
            title: Text::plain(s.title.clone()),
            updated: fixed(s.updated_at),
            published: s.published_at.map(fixed),
            authors: s
                .byline
                .iter()
                .map(|b| Person {
                    name: b.clone(),
                    ..Default::default()
                })
                .collect(),
            categories: s
                .themes
                .iter()
                .map(|t| Category {
                    term: t.clone(),
                    ..Default::default()
                })
                .collect(),
            links: std::iter::once(Link {
                href: s.url.clone(),
                rel: "alternate".into(),
                mime_type: Some("text/html".into()),
                ..Default::default()
            })
            // The lead photo, for readers that show a picture with the entry.
            .chain(s.photos.first().map(|p| Link {
                href: format!("{base}{}", p.derivatives.page.url),
                rel: "enclosure".into(),
                mime_type: Some("image/jpeg".into()),
                length: Some(p.derivatives.page.bytes.to_string()),
                title: p.caption.clone(),
                ..Default::default()
            }))
            .collect(),
            summary: s.subtitle.clone().map(Text::plain),
            content: Some(Content {
                value: Some(s.body_html.clone()),
                content_type: Some("html".into()),
                ..Default::default()
            }),
            ..Default::default()
        })
        .collect();
    let feed = Feed {
        id: site.absolute(&state.public_url, "/feeds/stories.atom"),
        title: Text::plain(title),
        updated: fixed(updated),
        links: vec![
            Link {
                href: site.absolute(&state.public_url, "/"),
                rel: "alternate".into(),
                ..Default::default()
            },
            Link {
                href: site.absolute(&state.public_url, "/feeds/stories.atom"),
                rel: "self".into(),
                ..Default::default()
            },
        ],
        lang: Some("zh-CN".into()),
        entries,
        ..Default::default()
    };
    Ok(Response::builder()
        .content_type("application/atom+xml; charset=utf-8")
        .body(feed.to_string()))
}

/// `/feeds/stories.json`: the deployment's stories.
#[handler]
pub async fn json_feed(
    state: Data<&AppState>,
    Query(q): Query<FeedQuery>,
) -> Result<Response, WebError> {
    json_feed_of(&state, super::deployment_site(&state).await?, &q).await
}

/// `/s/{slug}/feeds/stories.json`: the stories about the people of one site.
#[handler]
pub async fn site_json_feed(
    req: &Request,
    state: Data<&AppState>,
    Path(slug): Path<String>,
    Query(q): Query<FeedQuery>,
) -> Result<Response, WebError> {
    json_feed_of(&state, super::site_of(&state, req, &slug).await?, &q).await
}

async fn json_feed_of(state: &AppState, site: Site, q: &FeedQuery) -> Result<Response, WebError> {
    let stories = items(state, q, &site).await?;
    let base = state.public_url.to_string();
    let title = format!("{} 报道", site.label());
    let items: Vec<serde_json::Value> = stories
        .iter()
        .map(|s| {
            let mut item = json!({
                "id": s.url,
                "url": s.url,
                "title": s.title,
                "content_html": s.body_html,
                "date_published": s.published_at.map(|t| t.to_rfc3339()),
                "date_modified": s.updated_at.to_rfc3339(),
                "tags": s.themes,
                "language": "zh-CN",
            });
            if let Some(sub) = &s.subtitle {
                item["summary"] = json!(sub);
            }
            if let Some(byline) = &s.byline {
                item["authors"] = json!([{ "name": byline }]);
            }
            if let Some(lead) = s.photos.first() {
                let url = format!("{base}{}", lead.derivatives.page.url);
                item["image"] = json!(url);
                item["attachments"] = json!([{
                    "url": url,
                    "mime_type": "image/jpeg",
                    "size_in_bytes": lead.derivatives.page.bytes,
                    "title": lead.caption,
                }]);
            }
            item
        })
        .collect();
    let feed = json!({
        "version": "https://jsonfeed.org/version/1.1",
        "title": title,
        "home_page_url": site.absolute(&state.public_url, "/"),
        "feed_url": site.absolute(&state.public_url, "/feeds/stories.json"),
        "language": "zh-CN",
        "items": items,
    });
    Ok(Response::builder()
        .content_type("application/feed+json; charset=utf-8")
        .body(feed.to_string()))
}
