//! `/stories`: the editors' stories, and the read API for pulling featured stories into the paper
//! newsletter and other channels. Published stories whose residents consented are readable without
//! a token; drafts need an editor.

use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde_json::{json, Map, Value};

use super::auth::{StaffAuth, Viewer};
use super::error::{ApiError, ApiResult};
use super::etag::{etag, mismatch, IfMatch};
use super::pagination::{encode, PageRequest};
use super::write::Change;
use super::{ApiTags, Created, Deleted};
pub use crate::service::stories::{view, view_as, views_as, Story, StoryResident};
use crate::state::AppState;

use crate::domain::policy::Action;
use crate::domain::story::{StoryDraft, StoryInput as DomainInput};
use crate::store::entities::story::Model;
use crate::store::stories;

super::write::audited!(Story => "story");

#[derive(Debug, Object)]
#[oai(example)]
pub struct StoryInput {
    pub title: String,
    pub subtitle: Option<String>,
    pub section: Option<String>,
    #[oai(default)]
    pub themes: Vec<String>,
    pub byline: Option<String>,
    /// Markdown.
    pub body: String,
    /// A story about a recognition: publishable only with a recognition or a clean 公示 behind each resident.
    #[oai(default)]
    pub recognition_story: bool,
    #[oai(default)]
    pub featured: bool,
    /// Residents the story names, in order; each must consent to appearing in stories (`story`).
    #[oai(default)]
    pub resident_ids: Vec<i64>,
}

super::example!(StoryInput, { "title": "十二年，一分钱不拿", "section": "有德之士", "body": "孙建伟担任业委会主任十二年……" });

impl StoryInput {
    fn parse(self) -> Result<StoryDraft, ApiError> {
        Ok(StoryDraft::parse(DomainInput {
            title: self.title,
            subtitle: self.subtitle,
            section: self.section,
            themes: self.themes,
            byline: self.byline,
            body: self.body,
            recognition_story: self.recognition_story,
            featured: self.featured,
            resident_ids: self.resident_ids,
        })?)
    }
}

#[derive(Debug, Object)]
#[oai(example)]
pub struct PublishInput {
    /// `true` to publish, `false` to take back to draft.
    pub published: bool,
}

super::example!(PublishInput, { "published": true });

impl PublishInput {
    /// The audit log's verb: `publish` or `unpublish`.
    pub fn verb(&self) -> &'static str {
        if self.published {
            "publish"
        } else {
            "unpublish"
        }
    }
}

/// 409 `publication_refused` (with `details.problems`) when story `m` may not be public as it
/// stands: the one check before a story is or stays published, inside the change's transaction.
async fn refuse_unpublishable(
    txn: &Change<'_>,
    m: &crate::store::entities::story::Model,
    visibility: crate::store::residents::Visibility,
) -> Result<(), ApiError> {
    let problems = stories::problems_for(txn, m, visibility).await?;
    if problems.is_empty() {
        return Ok(());
    }
    Err(ApiError::conflict_code(
        "publication_refused",
        problems.join("；"),
        Some(json!({ "problems": problems })),
    ))
}

/// A page of stories. Each item is a story object, cut to `fields` when asked.
#[derive(Debug, Object)]
pub struct StoryList {
    pub items: Vec<Value>,
    pub next_cursor: Option<String>,
}

#[derive(ApiResponse)]
pub enum StoryListResponse {
    /// The stories, with an `ETag` for cheap polling.
    #[oai(status = 200)]
    Ok(Json<StoryList>, #[oai(header = "ETag")] String),
    /// Nothing changed since the `ETag` in `If-None-Match`.
    #[oai(status = 304)]
    NotModified(#[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum StoryResponse {
    /// The story.
    #[oai(status = 200)]
    Ok(Json<Story>, #[oai(header = "ETag")] String),
}

const FIELDS: [&str; 20] = [
    "id",
    "slug",
    "title",
    "subtitle",
    "section",
    "themes",
    "byline",
    "body",
    "body_html",
    "recognition_story",
    "featured",
    "state",
    "published_at",
    "attention",
    "resident_ids",
    "residents",
    "url",
    "created_at",
    "updated_at",
    "photos",
];

fn parse_time(
    field: &str,
    value: Option<&str>,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, ApiError> {
    let Some(value) = value else { return Ok(None) };
    crate::domain::story::parse_moment(value)
        .map(Some)
        .ok_or_else(|| {
            ApiError::field(
                field,
                format!("“{value}” 应为日期 2019-09-01 或 RFC 3339 时间"),
            )
        })
}

async fn load(state: &AppState, id: i64, viewer: &Viewer) -> Result<Model, ApiError> {
    let m = stories::get(&state.db, id).await?;
    if !viewer.may(Action::EditStories) && !stories::is_public(&state.db, &m).await? {
        return Err(ApiError::not_found("story"));
    }
    Ok(m)
}

pub struct StoriesApi;

#[OpenApi(tag = "ApiTags::Editorial")]
impl StoriesApi {
    /// List or pull stories
    ///
    /// Anonymous callers get published stories the public may read (every named resident consented
    /// to stories, and a recognition story has an honour behind it); editors see drafts too.
    /// Filters: `featured`, `theme`, `section`, `community`, `resident`, `since`/`until` (on the
    /// publication date; `2019-09-01` or RFC 3339), `issue`. `fields=title,url,…` keeps only those
    /// keys; `include=residents` adds the linked residents. `sort=newest` orders by publication date,
    /// newest first (default: by id). Answers carry an `ETag`; send it back in `If-None-Match` to get
    /// a 304 when nothing changed.
    #[oai(path = "/stories", method = "get")]
    #[allow(clippy::too_many_arguments)]
    async fn list(
        &self,
        state: Data<&AppState>,
        viewer: Data<&Viewer>,
        featured: Query<Option<bool>>,
        theme: Query<Option<String>>,
        section: Query<Option<String>>,
        community: Query<Option<i64>>,
        resident: Query<Option<i64>>,
        since: Query<Option<String>>,
        until: Query<Option<String>>,
        issue: Query<Option<i64>>,
        /// Comma-separated keys to keep.
        fields: Query<Option<String>>,
        /// `residents` and/or `photos` (the story's own public photos, or else those of the
        /// residents it names).
        include: Query<Option<String>>,
        /// `id` (default) or `newest`.
        sort: Query<Option<String>>,
        limit: Query<Option<u64>>,
        cursor: Query<Option<String>>,
        #[oai(name = "If-None-Match")] if_none_match: Header<Option<String>>,
    ) -> ApiResult<StoryListResponse> {
        let req = PageRequest::parse(limit.0, cursor.0.as_deref())?;
        let newest_first = match sort.0.as_deref() {
            None | Some("id") => false,
            Some("newest") => true,
            Some(other) => {
                return Err(ApiError::field(
                    "sort",
                    format!("未知的排序“{other}”，应为 id 或 newest"),
                ))
            }
        };
        let wanted: Option<Vec<String>> = fields.0.as_deref().map(|f| {
            f.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        });
        if let Some(unknown) = wanted
            .iter()
            .flatten()
            .find(|f| !FIELDS.contains(&f.as_str()))
        {
            return Err(ApiError::field("fields", format!("未知的字段“{unknown}”")));
        }
        let includes: Vec<String> = include
            .0
            .as_deref()
            .map(|i| i.split(',').map(|s| s.trim().to_string()).collect())
            .unwrap_or_default();
        if let Some(unknown) = includes
            .iter()
            .find(|i| !["residents", "photos"].contains(&i.as_str()) && !i.is_empty())
        {
            return Err(ApiError::field(
                "include",
                format!("未知的 include“{unknown}”，应为 residents 或 photos"),
            ));
        }
        let filter = stories::Filter {
            after: req.after,
            limit: req.limit,
            public_only: !viewer.may(Action::EditStories),
            featured: featured.0,
            theme: theme.0.filter(|t| !t.is_empty()),
            section: section.0.filter(|s| !s.is_empty()),
            resident_id: resident.0,
            community_id: community.0,
            within: None,
            issue_id: issue.0,
            since: parse_time("since", since.0.as_deref())?,
            until: parse_time("until", until.0.as_deref())?,
            newest_first,
        };
        let rows = stories::list(&state.db, filter).await?;
        let mut items = Vec::with_capacity(rows.items.len());
        let stories = views_as(
            &state.db,
            &state.public_url,
            rows.items,
            viewer.visibility(),
        )
        .await?;
        for story in stories {
            let mut object = match poem_openapi::types::ToJSON::to_json(&story) {
                Some(Value::Object(map)) => map,
                _ => Map::new(),
            };
            if !includes.iter().any(|i| i == "residents") {
                object.remove("residents");
            }
            if !includes.iter().any(|i| i == "photos") {
                object.remove("photos");
            }
            if let Some(keep) = &wanted {
                object.retain(|k, _| keep.iter().any(|f| f == k));
            }
            items.push(Value::Object(object));
        }
        let list = StoryList {
            items,
            next_cursor: rows.next_after.map(encode),
        };
        let body =
            serde_json::to_vec(&json!({ "items": list.items, "next_cursor": list.next_cursor }))
                .unwrap_or_default();
        let tag = super::etag::of_content(&body);
        if if_none_match.0.as_deref().is_some_and(|h| {
            h.split(',')
                .any(|t| t.trim().trim_start_matches("W/") == tag)
        }) {
            return Ok(StoryListResponse::NotModified(tag));
        }
        Ok(StoryListResponse::Ok(Json(list), tag))
    }

    /// Get a story
    #[oai(path = "/stories/:id", method = "get")]
    async fn get(
        &self,
        state: Data<&AppState>,
        viewer: Data<&Viewer>,
        id: Path<i64>,
    ) -> ApiResult<StoryResponse> {
        let m = load(&state, id.0, &viewer).await?;
        let tag = etag(m.id, m.version);
        Ok(StoryResponse::Ok(
            Json(view_as(&state.db, &state.public_url, m, viewer.visibility()).await?),
            tag,
        ))
    }

    /// Write a story
    ///
    /// Starts as a draft.
    ///
    /// Permission: `edit_stories`.
    #[oai(path = "/stories", method = "post")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        body: Json<StoryInput>,
    ) -> ApiResult<Created<Story>> {
        let staff = auth.require(Action::EditStories)?;
        let draft = body.0.parse()?;
        let txn = Change::begin(&state.db, state.clock.now(), staff).await?;
        let m = stories::insert(&txn, &draft, staff.visibility(), state.clock.now()).await?;
        let tag = etag(m.id, m.version);
        let dto = view_as(&txn, &state.public_url, m, staff.visibility()).await?;
        txn.created(&dto).await?;
        Ok(Created::at("/api/v1/stories", tag, dto))
    }

    /// Edit a story
    ///
    /// Needs `If-Match`.
    ///
    /// Permission: `edit_stories`.
    #[oai(path = "/stories/:id", method = "put")]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<i64>,
        #[oai(name = "If-Match")] if_match: IfMatch,
        body: Json<StoryInput>,
    ) -> ApiResult<StoryResponse> {
        let staff = auth.require(Action::EditStories)?;
        let current = stories::get(&state.db, id.0).await?;
        let version = if_match.check(id.0, current.version)?;
        let draft = body.0.parse()?;
        let txn = Change::begin(&state.db, state.clock.now(), staff).await?;
        let before = view_as(&txn, &state.public_url, current, staff.visibility()).await?;
        let m = stories::update(
            &txn,
            id.0,
            version,
            &draft,
            staff.visibility(),
            state.clock.now(),
        )
        .await
        .map_err(mismatch(id.0))?;
        if m.state == stories::PUBLISHED {
            refuse_unpublishable(&txn, &m, staff.visibility()).await?;
        }
        let tag = etag(m.id, m.version);
        let dto = view_as(&txn, &state.public_url, m, staff.visibility()).await?;
        txn.updated(&before, &dto).await?;
        Ok(StoryResponse::Ok(Json(dto), tag))
    }

    /// Publish or unpublish a story
    ///
    /// Publishing is refused (409 `publication_refused`, with `details.problems`) while a named
    /// resident has not consented to stories, or a recognition story has no recognition or clean
    /// 公示 behind a resident.
    ///
    /// Permission: `edit_stories`.
    #[oai(path = "/stories/:id/publication", method = "put")]
    async fn publish(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<i64>,
        body: Json<PublishInput>,
    ) -> ApiResult<StoryResponse> {
        let staff = auth.require(Action::EditStories)?;
        let txn = Change::begin(&state.db, state.clock.now(), staff).await?;
        if body.published {
            refuse_unpublishable(&txn, &stories::get(&txn, id.0).await?, staff.visibility())
                .await?;
        }
        let m = stories::set_published(&txn, id.0, body.published, state.clock.now()).await?;
        let tag = etag(m.id, m.version);
        let dto = view_as(&txn, &state.public_url, m, staff.visibility()).await?;
        txn.done(body.verb(), None, Some(&dto)).await?;
        Ok(StoryResponse::Ok(Json(dto), tag))
    }

    /// Delete a story
    ///
    /// Permission: `edit_stories`.
    #[oai(path = "/stories/:id", method = "delete")]
    async fn delete(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<i64>,
    ) -> ApiResult<Deleted> {
        let staff = auth.require(Action::EditStories)?;
        let txn = Change::begin(&state.db, state.clock.now(), staff).await?;
        let current = stories::get(&txn, id.0).await?;
        let before = view_as(&txn, &state.public_url, current, staff.visibility()).await?;
        stories::delete(&txn, id.0).await?;
        txn.deleted(&before).await?;
        Ok(Deleted::NoContent)
    }
}
