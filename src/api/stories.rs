//! `/stories`: the editors' stories, and the read API for pulling featured stories into the paper
//! newsletter and other channels. Published stories whose residents consented are readable without
//! a token; drafts need an editor.

use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use sea_orm::ConnectionTrait;
use serde_json::{json, Map, Value};

use super::auth::{StaffAuth, Viewer};
use super::error::{ApiError, ApiResult};
use super::etag::{check_if_match, etag, mismatch};
use super::pagination::{encode, PageRequest};
use super::write::Change;
use super::{snap, ApiTags, Created, Deleted};
use crate::state::AppState;
use std::collections::HashMap;

use crate::domain::photo::OwnerKind;
use crate::domain::policy::Action;
use crate::domain::story::{StoryDraft, StoryInput as DomainInput};
use crate::markdown;
use crate::store::entities::story::Model;
use crate::store::photos::Reader;
use crate::store::residents::{self, Visibility};
use crate::store::{communities, photos, stories, StoreError};

/// A linked resident: the name always; the profile link only when their profile is public.
#[derive(Debug, Clone, Object)]
pub struct StoryResident {
    pub id: i64,
    pub name: String,
    pub slug: Option<String>,
    pub community: String,
}

#[derive(Debug, Object)]
pub struct Story {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub subtitle: Option<String>,
    /// 栏目 / kicker, e.g. 长寿先锋.
    pub section: Option<String>,
    /// Theme tags, e.g. 有德之士.
    pub themes: Vec<String>,
    /// e.g. 记者 周晶.
    pub byline: Option<String>,
    /// Markdown as written.
    pub body: String,
    /// The body rendered to sanitised HTML.
    pub body_html: String,
    pub recognition_story: bool,
    pub featured: bool,
    /// `draft` or `published`.
    pub state: String,
    pub published_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Why the story needs an editor's attention: set when it was taken back to draft because a
    /// resident it named was deleted or erased; cleared when it is published again.
    pub attention: Option<String>,
    pub resident_ids: Vec<i64>,
    pub residents: Vec<StoryResident>,
    /// The public page.
    pub url: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    /// The story's public photos: its own (`owner_kind` = `story`) in upload order; when it has
    /// none, the public photos of the residents it names, in their order. The first is the lead
    /// photo of the story page, the feeds and the issue pack.
    pub photos: Vec<crate::api::photos::Photo>,
}

/// Photos a story shows at most (its own, or its residents').
const STORY_PHOTOS: usize = 50;

/// Each story's public photos: its own in upload order; when it has none, the public photos of
/// the residents it names, in their order. Four queries for any number of stories.
async fn stories_photos(
    db: &impl ConnectionTrait,
    story_ids: &[i64],
    named: &HashMap<i64, Vec<i64>>,
) -> Result<HashMap<i64, Vec<crate::api::photos::Photo>>, StoreError> {
    let own = photos::of_owners(
        db,
        OwnerKind::Story,
        story_ids,
        Reader::Public,
        STORY_PHOTOS,
    )
    .await?;
    let has_own = |id: &i64| own.get(id).is_some_and(|p| !p.is_empty());
    let mut borrowed: Vec<i64> = story_ids
        .iter()
        .filter(|id| !has_own(id))
        .flat_map(|id| named.get(id).into_iter().flatten().copied())
        .collect();
    borrowed.sort_unstable();
    borrowed.dedup();
    let of_residents = photos::of_owners(
        db,
        OwnerKind::Resident,
        &borrowed,
        Reader::Public,
        STORY_PHOTOS,
    )
    .await?;
    let mut shown: Vec<(i64, Vec<i64>)> = Vec::with_capacity(story_ids.len());
    let mut rows: HashMap<i64, crate::store::entities::photo::Model> = HashMap::new();
    for id in story_ids {
        let chosen: Vec<&crate::store::entities::photo::Model> = if has_own(id) {
            own[id].iter().collect()
        } else {
            named
                .get(id)
                .into_iter()
                .flatten()
                .flat_map(|r| of_residents.get(r).into_iter().flatten())
                .collect()
        };
        for m in &chosen {
            rows.entry(m.id).or_insert_with(|| (*m).clone());
        }
        shown.push((*id, chosen.iter().map(|m| m.id).collect()));
    }
    let mut rows: Vec<_> = rows.into_values().collect();
    rows.sort_by_key(|m| m.id);
    let views: HashMap<i64, crate::api::photos::Photo> =
        crate::api::photos::views(db, rows, Visibility::Public)
            .await
            .map_err(|_| {
                StoreError::Db(sea_orm::DbErr::Custom(
                    "photos of a story could not be described".into(),
                ))
            })?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
    Ok(shown
        .into_iter()
        .map(|(story, ids)| {
            (
                story,
                ids.iter().filter_map(|p| views.get(p).cloned()).collect(),
            )
        })
        .collect())
}

/// The story as the public sees it (pages, feeds): see [`view_as`].
pub async fn view(
    db: &impl ConnectionTrait,
    public_url: &str,
    m: Model,
) -> Result<Story, StoreError> {
    view_as(db, public_url, m, Visibility::Public).await
}

/// The story for a viewer: see [`views_as`].
pub async fn view_as(
    db: &impl ConnectionTrait,
    public_url: &str,
    m: Model,
    visibility: Visibility,
) -> Result<Story, StoreError> {
    let mut one = views_as(db, public_url, vec![m], visibility).await?;
    Ok(one.remove(0))
}

/// Stories for a viewer, in the order given, in a fixed number of queries however many there are
/// (lists, feeds, issue pages and packs). A linked resident shows their name and community to
/// staff who may read private data, and otherwise only when the public may see them — a public
/// profile, or consent to appear in stories; editors see the others as [`HIDDEN_RESIDENT`], as
/// the public would.
///
/// [`HIDDEN_RESIDENT`]: crate::domain::story::HIDDEN_RESIDENT
pub async fn views_as(
    db: &impl ConnectionTrait,
    public_url: &str,
    rows: Vec<Model>,
    visibility: Visibility,
) -> Result<Vec<Story>, StoreError> {
    let ids: Vec<i64> = rows.iter().map(|m| m.id).collect();
    let named = stories::resident_ids_of(db, &ids).await?;
    let mut everyone: Vec<i64> = named.values().flatten().copied().collect();
    everyone.sort_unstable();
    everyone.dedup();
    let people = residents::get_many(db, &everyone, Visibility::Staff).await?;
    let public = residents::get_many(db, &everyone, Visibility::Public).await?;
    let consenting = stories::consenting_to_stories(db, &everyone).await?;
    let mut community_ids: Vec<i64> = people.values().map(|r| r.community_id).collect();
    community_ids.sort_unstable();
    community_ids.dedup();
    let places = communities::get_many(db, &community_ids).await?;
    let mut photos = stories_photos(db, &ids, &named).await?;
    let mut out = Vec::with_capacity(rows.len());
    for m in rows {
        let resident_ids = named.get(&m.id).cloned().unwrap_or_default();
        let mut linked = Vec::new();
        for id in &resident_ids {
            let Some(r) = people.get(id) else { continue };
            let is_public = public.contains_key(id);
            let shown = is_public || visibility == Visibility::Staff || consenting.contains(id);
            linked.push(if shown {
                StoryResident {
                    id: r.id,
                    name: r.name.clone(),
                    slug: is_public.then(|| r.slug.clone()),
                    community: places
                        .get(&r.community_id)
                        .map(|c| c.name.clone())
                        .unwrap_or_default(),
                }
            } else {
                StoryResident {
                    id: r.id,
                    name: crate::domain::story::HIDDEN_RESIDENT.into(),
                    slug: None,
                    community: String::new(),
                }
            });
        }
        out.push(Story {
            id: m.id,
            url: format!("{public_url}/stories/{}", m.slug),
            slug: m.slug.clone(),
            themes: stories::themes(&m),
            body_html: markdown::to_safe_html(&m.body),
            photos: photos.remove(&m.id).unwrap_or_default(),
            title: m.title,
            subtitle: m.subtitle,
            section: m.section,
            byline: m.byline,
            body: m.body,
            recognition_story: m.recognition_story,
            featured: m.featured,
            state: m.state,
            published_at: m.published_at,
            attention: m.attention,
            resident_ids,
            residents: linked,
            created_at: m.created_at,
            updated_at: m.updated_at,
        });
    }
    Ok(out)
}

#[derive(Debug, Object)]
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
pub struct PublishInput {
    /// `true` to publish, `false` to take back to draft.
    pub published: bool,
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
        txn.commit_audited("story.create", "story", dto.id, None, snap(&dto))
            .await?;
        Ok(Created::new(
            format!("/api/v1/stories/{}", dto.id),
            tag,
            dto,
        ))
    }

    /// Edit a story
    ///
    /// Needs `If-Match`.
    #[oai(path = "/stories/:id", method = "put")]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<i64>,
        #[oai(name = "If-Match")] if_match: Header<Option<String>>,
        body: Json<StoryInput>,
    ) -> ApiResult<StoryResponse> {
        let staff = auth.require(Action::EditStories)?;
        let current = stories::get(&state.db, id.0).await?;
        let version = check_if_match(if_match.0.as_deref(), id.0, current.version)?;
        let draft = body.0.parse()?;
        let txn = Change::begin(&state.db, state.clock.now(), staff).await?;
        let before = snap(&view_as(&txn, &state.public_url, current, staff.visibility()).await?);
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
            let problems = stories::problems_for(&txn, &m, staff.visibility()).await?;
            if !problems.is_empty() {
                return Err(ApiError::conflict_code(
                    "publication_refused",
                    problems.join("；"),
                    Some(json!({ "problems": problems })),
                ));
            }
        }
        let tag = etag(m.id, m.version);
        let dto = view_as(&txn, &state.public_url, m, staff.visibility()).await?;
        txn.commit_audited("story.update", "story", dto.id, before, snap(&dto))
            .await?;
        Ok(StoryResponse::Ok(Json(dto), tag))
    }

    /// Publish or unpublish a story
    ///
    /// Publishing is refused (409 `publication_refused`, with `details.problems`) while a named
    /// resident has not consented to stories, or a recognition story has no recognition or clean
    /// 公示 behind a resident.
    #[oai(path = "/stories/:id/publication", method = "put")]
    async fn publish(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<i64>,
        body: Json<PublishInput>,
    ) -> ApiResult<StoryResponse> {
        let staff = auth.require(Action::EditStories)?;
        let current = stories::get(&state.db, id.0).await?;
        if body.published {
            let problems = stories::problems_for(&state.db, &current, staff.visibility()).await?;
            if !problems.is_empty() {
                return Err(ApiError::conflict_code(
                    "publication_refused",
                    problems.join("；"),
                    Some(json!({ "problems": problems })),
                ));
            }
        }
        let txn = Change::begin(&state.db, state.clock.now(), staff).await?;
        let m = stories::set_published(&txn, id.0, body.published, state.clock.now()).await?;
        let tag = etag(m.id, m.version);
        let action = if body.published {
            "story.publish"
        } else {
            "story.unpublish"
        };
        let dto = view_as(&txn, &state.public_url, m, staff.visibility()).await?;
        txn.commit_audited(action, "story", dto.id, None, snap(&dto))
            .await?;
        Ok(StoryResponse::Ok(Json(dto), tag))
    }

    /// Delete a story
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
        let before = snap(&view_as(&txn, &state.public_url, current, staff.visibility()).await?);
        stories::delete(&txn, id.0).await?;
        txn.commit_audited("story.delete", "story", id.0, before, None)
            .await?;
        Ok(Deleted::NoContent)
    }
}
