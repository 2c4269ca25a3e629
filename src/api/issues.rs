//! `/issues`: newsletter issues (期) — name, date, theme, editor's note (编者按) and ordered
//! stories — and their export pack for layout software.

use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::{Attachment, AttachmentType, Json};
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::auth::{StaffAuth, Viewer};
use super::error::{ApiError, ApiResult};
use super::etag::{etag, mismatch, IfMatch};
use super::pagination::{page, ListPage, PageRequest};
use super::stories::PublishInput;
use super::write::Change;
use super::{ApiTags, Created, Deleted};
use crate::domain::policy::Action;
use crate::domain::story::IssueDraft;
use crate::pack;
pub use crate::service::issues::{view, Issue};
use crate::state::AppState;
use crate::store::entities::newsletter_issue::Model;
use crate::store::{issues, stories};

super::write::audited!(Issue => "issue");

#[derive(Debug, Object)]
#[oai(example)]
pub struct IssueInput {
    pub name: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    pub theme: Option<String>,
    pub editors_note: Option<String>,
    /// Stories in order.
    #[oai(default)]
    pub story_ids: Vec<i64>,
}

super::example!(IssueInput, { "name": "2026年第3期", "date": "2026-06-01", "theme": "身边的有德之士" });

#[derive(ApiResponse)]
pub enum IssueResponse {
    /// The issue.
    #[oai(status = 200)]
    Ok(Json<Issue>, #[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum PackResponse {
    /// A zip for layout software: the issue and its stories as Markdown and clean HTML, captions,
    /// and `manifest.json`.
    #[oai(status = 200, content_type = "application/zip")]
    Ok(Attachment<Vec<u8>>),
}

async fn load(state: &AppState, id: i64, viewer: &Viewer) -> Result<Model, ApiError> {
    let m = issues::get(&state.db, id).await?;
    if m.state != stories::PUBLISHED && !viewer.may(Action::EditStories) {
        return Err(ApiError::not_found("issue"));
    }
    Ok(m)
}

fn parse(body: IssueInput) -> Result<IssueDraft, ApiError> {
    Ok(IssueDraft::parse(
        &body.name,
        &body.date,
        body.theme.as_deref(),
        body.editors_note.as_deref(),
        body.story_ids,
    )?)
}

pub struct IssuesApi;

#[OpenApi(tag = "ApiTags::Editorial")]
impl IssuesApi {
    /// List newsletter issues
    ///
    /// Published ones; editors see drafts too.
    #[oai(path = "/issues", method = "get")]
    async fn list(
        &self,
        state: Data<&AppState>,
        viewer: Data<&Viewer>,
        limit: Query<Option<u64>>,
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<ListPage<Issue>>> {
        let req = PageRequest::parse(limit.0, cursor.0.as_deref())?;
        let editor = viewer.may(Action::EditStories);
        let rows = issues::list(&state.db, !editor, req.after, req.limit).await?;
        let next = rows.next_after;
        let mut items = Vec::new();
        for m in rows.items {
            items.push(view(&state.db, &state.public_url, m, !editor).await?);
        }
        Ok(Json(page(
            crate::store::Page {
                items,
                next_after: next,
            },
            |i| i,
        )))
    }

    /// Get a newsletter issue
    #[oai(path = "/issues/:id", method = "get")]
    async fn get(
        &self,
        state: Data<&AppState>,
        viewer: Data<&Viewer>,
        id: Path<i64>,
    ) -> ApiResult<IssueResponse> {
        let m = load(&state, id.0, &viewer).await?;
        let tag = etag(m.id, m.version);
        Ok(IssueResponse::Ok(
            Json(
                view(
                    &state.db,
                    &state.public_url,
                    m,
                    !viewer.may(Action::EditStories),
                )
                .await?,
            ),
            tag,
        ))
    }

    /// Assemble a newsletter issue
    ///
    /// Permission: `edit_stories`.
    #[oai(path = "/issues", method = "post")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        body: Json<IssueInput>,
    ) -> ApiResult<Created<Issue>> {
        let staff = auth.require(Action::EditStories)?;
        let draft = parse(body.0)?;
        let txn = Change::begin(&state.db, state.clock.now(), staff).await?;
        let m = issues::insert(&txn, &draft, state.clock.now()).await?;
        let tag = etag(m.id, m.version);
        let dto = view(&txn, &state.public_url, m, false).await?;
        txn.created(&dto).await?;
        Ok(Created::at("/api/v1/issues", tag, dto))
    }

    /// Edit a newsletter issue
    ///
    /// Needs `If-Match`.
    ///
    /// Permission: `edit_stories`.
    #[oai(path = "/issues/:id", method = "put")]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<i64>,
        #[oai(name = "If-Match")] if_match: IfMatch,
        body: Json<IssueInput>,
    ) -> ApiResult<IssueResponse> {
        let staff = auth.require(Action::EditStories)?;
        let current = issues::get(&state.db, id.0).await?;
        let version = if_match.check(id.0, current.version)?;
        let draft = parse(body.0)?;
        let txn = Change::begin(&state.db, state.clock.now(), staff).await?;
        let before = view(&txn, &state.public_url, current, false).await?;
        let m = issues::update(&txn, id.0, version, &draft, state.clock.now())
            .await
            .map_err(mismatch(id.0))?;
        let tag = etag(m.id, m.version);
        let dto = view(&txn, &state.public_url, m, false).await?;
        txn.updated(&before, &dto).await?;
        Ok(IssueResponse::Ok(Json(dto), tag))
    }

    /// Publish or unpublish a newsletter issue
    ///
    /// Permission: `edit_stories`.
    #[oai(path = "/issues/:id/publication", method = "put")]
    async fn publish(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<i64>,
        body: Json<PublishInput>,
    ) -> ApiResult<IssueResponse> {
        let staff = auth.require(Action::EditStories)?;
        let txn = Change::begin(&state.db, state.clock.now(), staff).await?;
        let m = issues::set_published(&txn, id.0, body.published, state.clock.now()).await?;
        let tag = etag(m.id, m.version);
        let dto = view(&txn, &state.public_url, m, false).await?;
        txn.done(body.verb(), None, Some(&dto)).await?;
        Ok(IssueResponse::Ok(Json(dto), tag))
    }

    /// Delete a newsletter issue
    ///
    /// Its stories stay.
    ///
    /// Permission: `edit_stories`.
    #[oai(path = "/issues/:id", method = "delete")]
    async fn delete(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<i64>,
    ) -> ApiResult<Deleted> {
        let staff = auth.require(Action::EditStories)?;
        let txn = Change::begin(&state.db, state.clock.now(), staff).await?;
        let current = issues::get(&txn, id.0).await?;
        let before = view(&txn, &state.public_url, current, false).await?;
        issues::delete(&txn, id.0).await?;
        txn.deleted(&before).await?;
        Ok(Deleted::NoContent)
    }

    /// Download the issue's export pack
    ///
    /// A zip: `issue.md`, `issue.html`, `stories/NN-slug.md` and `.html` for each story in order,
    /// `photos/NN-M.jpg` at print size (no EXIF) with a row each in `captions.csv` (file, caption,
    /// credit, residents shown), and `manifest.json`. Anonymous callers get published issues with the stories
    /// the public may read; editors get drafts too. The same as `youde export-issue`.
    #[oai(path = "/issues/:id/pack", method = "get")]
    async fn pack(
        &self,
        state: Data<&AppState>,
        viewer: Data<&Viewer>,
        id: Path<i64>,
    ) -> ApiResult<PackResponse> {
        let m = load(&state, id.0, &viewer).await?;
        let public = !viewer.may(Action::EditStories);
        let bytes = pack::of_issue(&state.db, &state.media, &state.public_url, &m, public)
            .await
            .map_err(|e| match e {
                pack::PackError::Store(e) => ApiError::from(e),
                e => {
                    tracing::error!(error = %e, "export pack");
                    ApiError::internal()
                }
            })?;
        let name = format!("youde-issue-{}.zip", m.id);
        Ok(PackResponse::Ok(
            Attachment::new(bytes)
                .attachment_type(AttachmentType::Attachment)
                .filename(name),
        ))
    }
}
