//! `/photos`: upload (multipart), list by owner, read, edit the caption, credit and alt text,
//! delete. The files themselves are served under `/media/…` (`web::media`). Anonymous readers
//! see a photo only while it is public: its owner is public (a story: published and public under
//! the story publication rule) and everyone it shows has an active `photo` consent, checked at
//! every request. Editors manage the photos of stories; the registry's staff those of residents
//! and activities.

use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::types::Binary;
use poem_openapi::{ApiResponse, Multipart, Object, OpenApi};

use super::auth::{Staff, StaffAuth, Viewer};
use super::error::{ApiError, ApiResult};
use super::etag::{etag, mismatch, IfMatch};
use super::pagination::{encode, ListPage, PageRequest};
use super::write::Change;
use super::{snap, ApiTags, Created, Deleted};
use crate::domain::photo::{Owner, OwnerKind, PhotoDraft, PhotoInput, PhotoText};
use crate::domain::policy::Action;
pub use crate::service::photos::{reader, view, views, Derivative, Derivatives, Photo};
use crate::service::registry::reach_resident;
use crate::state::AppState;
use crate::store::photos::{self, ListFilter, Reader};
use crate::store::residents::Visibility;

super::write::audited!(Photo => "photo");

/// An upload. Only the bytes decide what the file is: its name and declared type are ignored.
#[derive(Debug, Multipart)]
pub struct PhotoUpload {
    /// The picture: JPEG, PNG or WebP, at most 40 megapixels (configurable).
    pub file: Binary<Vec<u8>>,
    /// `resident`, `activity` or `story`. A story's photos are uploaded by editors (the
    /// `editor` role); they are public only while the story is published and the public may read
    /// it, and in upload order the first is the story's lead photo (story page, feeds, packs).
    pub owner_kind: String,
    pub owner_id: i64,
    pub caption: Option<String>,
    /// Who took it, e.g. "记者 周晶".
    pub credit: Option<String>,
    pub alt: Option<String>,
    /// Partial date: `2019`, `2019-08` or `2019-08-30`.
    pub taken_on: Option<String>,
    /// Ids of the residents shown: repeat the field or separate ids with commas. Each of them
    /// must have an active `photo` consent before the photo is public.
    #[oai(default)]
    pub residents: Vec<String>,
}

/// What an edit replaces: every field (an omitted one is cleared).
#[derive(Debug, Object)]
#[oai(example)]
pub struct PhotoTextInput {
    pub caption: Option<String>,
    pub credit: Option<String>,
    pub alt: Option<String>,
    pub taken_on: Option<String>,
}

super::example!(PhotoTextInput, { "caption": "接待来访的兄弟街道代表团", "credit": "长寿路街道", "alt": "小区门口，一位老人向来访者介绍小区", "taken_on": "2025-10" });

#[derive(ApiResponse)]
pub enum PhotoResponse {
    /// The photo.
    #[oai(status = 200)]
    Ok(Json<Photo>, #[oai(header = "ETag")] String),
}

/// A scoped member of staff manages the photos of residents they reach and of activities whose
/// participants they all reach (404 for others'; 422 on `owner_id` when uploading).
async fn reach_owner(
    db: &impl sea_orm::ConnectionTrait,
    staff: &Staff,
    kind: OwnerKind,
    id: i64,
    uploading: bool,
) -> ApiResult<()> {
    let reached = match kind {
        OwnerKind::Resident => reach_resident(db, staff.reach(), id, "photo").await.is_ok(),
        OwnerKind::Activity => super::activities::reach_activity(db, staff, id)
            .await
            .is_ok(),
        OwnerKind::Story => true,
    };
    match (reached, uploading) {
        (true, _) => Ok(()),
        (false, true) => Err(ApiError::field("owner_id", format!("{id} 不存在"))),
        (false, false) => Err(ApiError::not_found("photo")),
    }
}

async fn reach_photo(
    db: &impl sea_orm::ConnectionTrait,
    staff: &Staff,
    m: &crate::store::entities::photo::Model,
) -> ApiResult<()> {
    match photos::owner_of(m) {
        Some(owner) => reach_owner(db, staff, owner.kind, owner.id, false).await,
        None => Err(ApiError::not_found("photo")),
    }
}

/// Who may upload, edit and delete photos of this owner kind: editors those of stories, the
/// registry's staff the others (an unknown kind is refused later, as invalid input).
fn manage_action(owner_kind: &str) -> Action {
    match owner_kind.trim().parse() {
        Ok(OwnerKind::Story) => Action::EditStories,
        _ => Action::EditRegistry,
    }
}

fn owner_filter(kind: Option<String>, id: Option<i64>) -> Result<Option<Owner>, ApiError> {
    match (kind, id) {
        (None, None) => Ok(None),
        (Some(kind), Some(id)) => {
            let kind: OwnerKind = kind
                .parse()
                .map_err(|e: String| ApiError::field("owner_kind", e))?;
            Ok(Some(Owner { kind, id }))
        }
        (None, Some(_)) => Err(ApiError::field("owner_kind", "与 owner_id 一同给出")),
        (Some(_), None) => Err(ApiError::field("owner_id", "与 owner_kind 一同给出")),
    }
}

pub struct PhotosApi;

#[OpenApi(tag = "ApiTags::Photos")]
impl PhotosApi {
    /// List photos
    ///
    /// Optionally of one owner (`owner_kind` with `owner_id`). Anonymous readers get only the
    /// photos that are public right now; editors also every story's own photos (drafts included);
    /// staff everything.
    #[oai(path = "/photos", method = "get")]
    async fn list(
        &self,
        state: Data<&AppState>,
        viewer: Data<&Viewer>,
        /// `resident`, `activity` or `story`.
        owner_kind: Query<Option<String>>,
        owner_id: Query<Option<i64>>,
        /// Page size, 1–200 (default 50).
        limit: Query<Option<u64>>,
        /// `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<ListPage<Photo>>> {
        let req = PageRequest::parse(limit.0, cursor.0.as_deref())?;
        let owner = owner_filter(owner_kind.0, owner_id.0)?;
        let reader = reader(&viewer);
        // Editors see a story's own photos (drafts too) as staff do; everything else as the public.
        let story_owner = owner.as_ref().is_some_and(|o| o.kind == OwnerKind::Story);
        let visibility = match reader {
            Reader::Editor if story_owner => Visibility::Staff,
            _ => viewer.visibility(),
        };
        let rows = photos::list(
            &state.db,
            ListFilter {
                owner,
                after: req.after,
                limit: req.limit,
                visibility: reader,
            },
        )
        .await?;
        let next_cursor = rows.next_after.map(encode);
        Ok(Json(ListPage {
            items: views(&state.db, rows.items, visibility).await?,
            next_cursor,
        }))
    }

    /// Get a photo
    ///
    /// Visible as in the list: public photos to everyone, a story's own photos to editors too,
    /// everything to staff; otherwise 404.
    #[oai(path = "/photos/:id", method = "get")]
    async fn get(
        &self,
        state: Data<&AppState>,
        viewer: Data<&Viewer>,
        id: Path<i64>,
    ) -> ApiResult<PhotoResponse> {
        let reader = reader(&viewer);
        let m = photos::get(&state.db, id.0, reader).await?;
        let visibility = match reader {
            Reader::Editor if m.owner_kind == OwnerKind::Story.code() => Visibility::Staff,
            _ => viewer.visibility(),
        };
        let tag = etag(m.id, m.version);
        Ok(PhotoResponse::Ok(
            Json(view(&state.db, m, visibility).await?),
            tag,
        ))
    }

    /// Upload a photo
    ///
    /// `multipart/form-data` with the picture in `file`. Checked in this order before anything
    /// is stored: the request size (413 over `YOUDE_MAX_UPLOAD_BYTES`), the type read from the
    /// bytes (415 unless JPEG, PNG or WebP), the pixel count from the header (422
    /// `image_too_large`), then decoding (422 `image_truncated` / `image_undecodable`). The
    /// picture is turned upright by its EXIF orientation and re-encoded without any metadata
    /// (GPS included) into the thumbnail, page and print derivatives. The same picture twice for
    /// one owner is refused with 409; identical files are stored once.
    ///
    /// Permission: `edit_registry`; a story's photo takes `edit_stories` instead.
    #[oai(path = "/photos", method = "post")]
    async fn upload(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        form: PhotoUpload,
    ) -> ApiResult<Created<Photo>> {
        let staff = auth.require(manage_action(&form.owner_kind))?;
        let draft = PhotoDraft::parse(PhotoInput {
            owner_kind: form.owner_kind,
            owner_id: form.owner_id,
            caption: form.caption,
            credit: form.credit,
            alt: form.alt,
            taken_on: form.taken_on,
            residents: form.residents,
        })?;
        // An editor names only residents the public could see, and learns nothing of the others
        // (staff who read private data get the store's own check, with the owner's).
        // Scoped staff likewise name only residents they reach, and own photos of them.
        if staff.visibility() != Visibility::Staff {
            crate::store::stories::refuse_unseen_residents(
                &state.db,
                "residents",
                &draft.resident_ids,
                staff.visibility(),
            )
            .await?;
        }
        reach_owner(&state.db, staff, draft.owner.kind, draft.owner.id, true).await?;
        let started = std::time::Instant::now();
        let processed = state.media.process(form.file.0).await;
        state
            .metrics
            .photo_ingest_seconds
            .observe(started.elapsed().as_secs_f64());
        let processed = processed?;
        let m = state
            .media
            .save(
                &state.db,
                &draft,
                &processed,
                &staff.actor(),
                state.clock.now(),
            )
            .await?;
        let tag = etag(m.id, m.version);
        let dto = view(&state.db, m, Visibility::Staff).await?;
        Ok(Created::at("/api/v1/photos", tag, dto))
    }

    /// Edit a photo's caption, credit, alt text and date
    ///
    /// Replaces the four fields. Needs `If-Match`.
    ///
    /// Permission: `edit_registry`; a story's photo takes `edit_stories` instead.
    #[oai(path = "/photos/:id", method = "put")]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<i64>,
        #[oai(name = "If-Match")] if_match: IfMatch,
        body: Json<PhotoTextInput>,
    ) -> ApiResult<PhotoResponse> {
        let current = photos::get(&state.db, id.0, Visibility::Staff).await?;
        let staff = auth.require(manage_action(&current.owner_kind))?;
        reach_photo(&state.db, staff, &current).await?;
        let version = if_match.check(id.0, current.version)?;
        let b = body.0;
        let text = PhotoText::parse(
            b.caption.as_deref(),
            b.credit.as_deref(),
            b.alt.as_deref(),
            b.taken_on.as_deref(),
        )?;
        let before = view(&state.db, current, Visibility::Staff).await?;
        let txn = Change::begin(&state.db, state.clock.now(), staff).await?;
        let m = photos::update(&txn, id.0, version, &text)
            .await
            .map_err(mismatch(id.0))?;
        let tag = etag(m.id, m.version);
        let after = view(&txn, m, Visibility::Staff).await?;
        txn.updated(&before, &after).await?;
        Ok(PhotoResponse::Ok(Json(after), tag))
    }

    /// Delete a photo
    ///
    /// Its files are removed unless another photo uses the same picture.
    ///
    /// Permission: `edit_registry`; a story's photo takes `edit_stories` instead.
    #[oai(path = "/photos/:id", method = "delete")]
    async fn delete(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<i64>,
    ) -> ApiResult<Deleted> {
        let current = photos::get(&state.db, id.0, Visibility::Staff).await?;
        let staff = auth.require(manage_action(&current.owner_kind))?;
        reach_photo(&state.db, staff, &current).await?;
        let before = snap(&view(&state.db, current, Visibility::Staff).await?);
        state
            .media
            .delete(&state.db, id.0, &staff.actor(), state.clock.now(), before)
            .await?;
        Ok(Deleted::NoContent)
    }
}
