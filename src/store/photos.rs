//! Photos, their rendition files and the residents they show. The publication rule of
//! `domain::photo` lives here once, as SQL ([`public_condition`]), and every public read — the
//! list, one photo, a file under `/media` — goes through it at request time.

use std::collections::HashSet;

use sea_orm::sea_query::{Condition, Expr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Select, Set, SqlErr,
};

use super::consents::active_holders as consented;
use super::entities::photo::{ActiveModel, Column, Entity, Model};
use super::entities::{photo_file, photo_resident};
use super::reads::Scope;
use super::residents::{self, Visibility};
use super::{activities, now, stories, Page, StoreError, StoreResult};
use crate::domain::consent::ConsentScope;
use crate::domain::photo::{Owner, OwnerKind, PhotoDraft, PhotoText};
use crate::domain::ValidationErrors;

/// The publication rule: the owner is public (an activity; a resident with active `profile` and
/// `photo` consents; a story the public may read now, see [`stories::public_ids`]) and no resident
/// shown lacks an active `photo` consent.
fn public_condition() -> Condition {
    let owner_public = Condition::any()
        .add(Column::OwnerKind.eq(OwnerKind::Activity.code()))
        .add(
            Condition::all()
                .add(Column::OwnerKind.eq(OwnerKind::Resident.code()))
                .add(Column::ResidentId.in_subquery(consented(ConsentScope::Profile)))
                .add(Column::ResidentId.in_subquery(consented(ConsentScope::Photo))),
        )
        .add(
            Condition::all()
                .add(Column::OwnerKind.eq(OwnerKind::Story.code()))
                .add(Column::StoryId.in_subquery(stories::public_ids())),
        );
    let someone_without_consent = Query::select()
        .expr(Expr::val(1))
        .from(photo_resident::Entity)
        .and_where(
            Expr::col((photo_resident::Entity, photo_resident::Column::PhotoId))
                .equals((Entity, Column::Id)),
        )
        .and_where(
            photo_resident::Column::ResidentId.not_in_subquery(consented(ConsentScope::Photo)),
        )
        .to_owned();
    Condition::all()
        .add(owner_public)
        .add(Expr::exists(someone_without_consent).not())
}

/// Who reads photos: the public (only public photos), editors (also every story's own photos,
/// drafts included, which they write and illustrate), staff (everything) or staff scoped to a
/// community subtree (the photos of the residents they reach).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    Public,
    Editor,
    Staff,
    Within(i64),
}

impl From<Visibility> for Reader {
    fn from(v: Visibility) -> Self {
        match v {
            Visibility::Public => Reader::Public,
            Visibility::Staff => Reader::Staff,
            Visibility::Within(root) => Reader::Within(root),
        }
    }
}

fn visible(query: Select<Entity>, reader: impl Into<Reader>) -> Select<Entity> {
    match reader.into() {
        Reader::Public => query.filter(public_condition()),
        Reader::Editor => query.filter(
            Condition::any()
                .add(public_condition())
                .add(Column::OwnerKind.eq(OwnerKind::Story.code())),
        ),
        Reader::Staff => query,
        // Scoped staff: the photos of residents they reach, and the public photos of activities
        // and stories; a resident of another subtree has no photos for them, as no record.
        Reader::Within(root) => query.filter(
            Condition::any()
                .add(
                    Condition::all()
                        .add(Column::OwnerKind.ne(OwnerKind::Resident.code()))
                        .add(public_condition()),
                )
                .add(
                    Visibility::Within(root)
                        .reach_condition("photos", "resident_id")
                        .expect("a scoped reader has a condition"),
                ),
        ),
    }
}

fn owner_column(kind: OwnerKind) -> Column {
    match kind {
        OwnerKind::Resident => Column::ResidentId,
        OwnerKind::Activity => Column::ActivityId,
        OwnerKind::Story => Column::StoryId,
    }
}

/// The owner a row belongs to.
pub fn owner_of(m: &Model) -> Option<Owner> {
    match m.owner_kind.as_str() {
        "resident" => m.resident_id.map(|id| Owner {
            kind: OwnerKind::Resident,
            id,
        }),
        "activity" => m.activity_id.map(|id| Owner {
            kind: OwnerKind::Activity,
            id,
        }),
        "story" => m.story_id.map(|id| Owner {
            kind: OwnerKind::Story,
            id,
        }),
        _ => None,
    }
}

pub async fn get(
    db: &impl ConnectionTrait,
    id: i64,
    reader: impl Into<Reader>,
) -> StoreResult<Model> {
    visible(Entity::find_by_id(id), reader)
        .one(db)
        .await?
        .ok_or(StoreError::NotFound("photo"))
}

/// Whether photo `id` is public.
pub async fn is_public(db: &impl ConnectionTrait, id: i64) -> StoreResult<bool> {
    Ok(public_among(db, &[id]).await?.contains(&id))
}

/// Which of `ids` are public (see [`public_condition`]), in one query.
pub async fn public_among(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> StoreResult<std::collections::HashSet<i64>> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let found: Vec<i64> = Entity::find()
        .select_only()
        .column(Column::Id)
        .filter(Column::Id.is_in(ids.iter().copied()))
        .filter(public_condition())
        .into_tuple()
        .all(db)
        .await?;
    Ok(found.into_iter().collect())
}

pub struct ListFilter {
    pub owner: Option<Owner>,
    pub after: Option<i64>,
    pub limit: u64,
    pub visibility: Reader,
}

pub async fn list(db: &impl ConnectionTrait, filter: ListFilter) -> StoreResult<Page<Model>> {
    let mut query = visible(Entity::find(), filter.visibility)
        .order_by_asc(Column::Id)
        .limit(filter.limit + 1);
    if let Some(owner) = filter.owner {
        query = query
            .filter(Column::OwnerKind.eq(owner.kind.code()))
            .filter(owner_column(owner.kind).eq(owner.id));
    }
    if let Some(after) = filter.after {
        query = query.filter(Column::Id.gt(after));
    }
    let rows = query.all(db).await?;
    let scope = filter
        .owner
        .map_or(Scope::All, |o| Scope::Owner(o.kind.code(), o.id));
    super::reads::rows("photo", scope, rows.iter().map(|m| m.id));
    Ok(Page::from_rows(rows, filter.limit, |m| m.id))
}

/// The photos of many owners of one kind that `reader` may see, oldest first, at most `per_owner`
/// of each: one query for all of them (a list of stories and their lead photos).
pub async fn of_owners(
    db: &impl ConnectionTrait,
    kind: OwnerKind,
    owner_ids: &[i64],
    reader: Reader,
    per_owner: usize,
) -> StoreResult<std::collections::HashMap<i64, Vec<Model>>> {
    let mut out: std::collections::HashMap<i64, Vec<Model>> = Default::default();
    if owner_ids.is_empty() {
        return Ok(out);
    }
    let rows = visible(Entity::find(), reader)
        .filter(Column::OwnerKind.eq(kind.code()))
        .filter(owner_column(kind).is_in(owner_ids.to_vec()))
        .order_by_asc(Column::Id)
        .all(db)
        .await?;
    for m in rows {
        if let Some(owner) = owner_of(&m) {
            let own = out.entry(owner.id).or_default();
            if own.len() < per_owner {
                own.push(m);
            }
        }
    }
    for id in owner_ids {
        let ids = out
            .get(id)
            .map(|own| own.iter().map(|m| m.id).collect::<Vec<_>>());
        super::reads::rows(
            "photo",
            Scope::Owner(kind.code(), *id),
            ids.unwrap_or_default(),
        );
    }
    Ok(out)
}

/// The rendition files of the given photos.
pub async fn files(
    db: &impl ConnectionTrait,
    photo_ids: &[i64],
) -> StoreResult<Vec<photo_file::Model>> {
    if photo_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(photo_file::Entity::find()
        .filter(photo_file::Column::PhotoId.is_in(photo_ids.to_vec()))
        .order_by_asc(photo_file::Column::Id)
        .all(db)
        .await?)
}

/// `(photo_id, resident_id)` for the residents the given photos show.
pub async fn residents_shown(
    db: &impl ConnectionTrait,
    photo_ids: &[i64],
) -> StoreResult<Vec<(i64, i64)>> {
    if photo_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(photo_resident::Entity::find()
        .filter(photo_resident::Column::PhotoId.is_in(photo_ids.to_vec()))
        .order_by_asc(photo_resident::Column::PhotoId)
        .order_by_asc(photo_resident::Column::ResidentId)
        .all(db)
        .await?
        .into_iter()
        // Whether a photo is public follows the consents of everyone it shows.
        .inspect(|r| super::reads::row("resident", r.resident_id))
        .map(|r| (r.photo_id, r.resident_id))
        .collect())
}

/// The photo of `owner` made from the same uploaded bytes, if any.
pub async fn find_by_source(
    db: &impl ConnectionTrait,
    owner: Owner,
    source_sha256: &str,
) -> StoreResult<Option<Model>> {
    Ok(Entity::find()
        .filter(owner_column(owner.kind).eq(owner.id))
        .filter(Column::SourceSha256.eq(source_sha256))
        .one(db)
        .await?)
}

/// A rendition to record.
#[derive(Debug, Clone)]
pub struct NewFile {
    pub variant: &'static str,
    pub object_key: String,
    pub content_type: &'static str,
    pub width: u32,
    pub height: u32,
    pub size_bytes: u64,
}

/// A processed upload to record.
#[derive(Debug, Clone)]
pub struct NewPhoto<'a> {
    pub draft: &'a PhotoDraft,
    pub source_sha256: &'a str,
    pub source_format: &'a str,
    pub width: u32,
    pub height: u32,
    pub files: Vec<NewFile>,
    pub uploaded_by: &'a str,
}

async fn check_references(db: &impl ConnectionTrait, draft: &PhotoDraft) -> StoreResult<()> {
    let owner = draft.owner;
    let owner_exists = match owner.kind {
        OwnerKind::Resident => residents::missing(db, &[owner.id]).await?.is_empty(),
        OwnerKind::Activity => match activities::get(db, owner.id).await {
            Ok(_) => true,
            Err(StoreError::NotFound(_)) => false,
            Err(err) => return Err(err),
        },
        OwnerKind::Story => match stories::get(db, owner.id).await {
            Ok(_) => true,
            Err(StoreError::NotFound(_)) => false,
            Err(err) => return Err(err),
        },
    };
    let mut errors = ValidationErrors::default();
    if !owner_exists {
        let what = match owner.kind {
            OwnerKind::Resident => "居民",
            OwnerKind::Activity => "活动",
            OwnerKind::Story => "报道",
        };
        errors.add("owner_id", format!("{what} {} 不存在", owner.id));
    }
    let missing = residents::missing(db, &draft.resident_ids).await?;
    if !missing.is_empty() {
        let ids: Vec<String> = missing.iter().map(i64::to_string).collect();
        errors.add("residents", format!("居民 {} 不存在", ids.join("、")));
    }
    errors.finish(|| ()).map_err(StoreError::Invalid)
}

fn duplicate(existing: Option<i64>) -> StoreError {
    let which = existing
        .map(|id| format!("（照片 {id}）"))
        .unwrap_or_default();
    StoreError::Conflict(format!(
        "这张照片已经上传过{which}，如需修改说明请编辑该照片"
    ))
}

/// Record a photo with its files and the residents it shows. Call inside a transaction.
pub async fn insert(db: &impl ConnectionTrait, new: &NewPhoto<'_>) -> StoreResult<Model> {
    let draft = new.draft;
    check_references(db, draft).await?;
    if let Some(existing) = find_by_source(db, draft.owner, new.source_sha256).await? {
        return Err(duplicate(Some(existing.id)));
    }
    let now = now();
    let id = Some(draft.owner.id);
    let (resident_id, activity_id, story_id) = match draft.owner.kind {
        OwnerKind::Resident => (id, None, None),
        OwnerKind::Activity => (None, id, None),
        OwnerKind::Story => (None, None, id),
    };
    let photo = ActiveModel {
        owner_kind: Set(draft.owner.kind.code().to_string()),
        resident_id: Set(resident_id),
        activity_id: Set(activity_id),
        story_id: Set(story_id),
        caption: Set(draft.text.caption.clone()),
        credit: Set(draft.text.credit.clone()),
        alt: Set(draft.text.alt.clone()),
        taken_on: Set(draft.text.taken_on.map(|d| d.to_string())),
        source_sha256: Set(new.source_sha256.to_string()),
        source_format: Set(new.source_format.to_string()),
        width: Set(new.width as i32),
        height: Set(new.height as i32),
        uploaded_by: Set(new.uploaded_by.to_string()),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await;
    let photo = match photo {
        Ok(photo) => photo,
        // The same upload, committed by a concurrent request after the check above. (On
        // PostgreSQL the transaction is now aborted, so no further query to name it.)
        Err(err) if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            return Err(duplicate(None));
        }
        Err(err) => return Err(err.into()),
    };
    for file in &new.files {
        photo_file::ActiveModel {
            photo_id: Set(photo.id),
            variant: Set(file.variant.to_string()),
            object_key: Set(file.object_key.clone()),
            content_type: Set(file.content_type.to_string()),
            width: Set(file.width as i32),
            height: Set(file.height as i32),
            size_bytes: Set(file.size_bytes as i64),
            ..Default::default()
        }
        .insert(db)
        .await?;
    }
    for resident_id in &draft.resident_ids {
        photo_resident::ActiveModel {
            photo_id: Set(photo.id),
            resident_id: Set(*resident_id),
        }
        .insert(db)
        .await?;
    }
    Ok(photo)
}

/// Replace the caption, credit, alt text and date.
pub async fn update(
    db: &impl ConnectionTrait,
    id: i64,
    expected_version: i32,
    text: &PhotoText,
) -> StoreResult<Model> {
    let current = get(db, id, Visibility::Staff).await?;
    if current.version != expected_version {
        return Err(StoreError::VersionMismatch {
            current: current.version,
        });
    }
    let result = Entity::update_many()
        .col_expr(Column::Caption, Expr::value(text.caption.clone()))
        .col_expr(Column::Credit, Expr::value(text.credit.clone()))
        .col_expr(Column::Alt, Expr::value(text.alt.clone()))
        .col_expr(
            Column::TakenOn,
            Expr::value(text.taken_on.map(|d| d.to_string())),
        )
        .col_expr(Column::Version, Expr::value(expected_version + 1))
        .col_expr(Column::UpdatedAt, Expr::value(now()))
        .filter(Column::Id.eq(id))
        .filter(Column::Version.eq(expected_version))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Err(StoreError::VersionMismatch {
            current: get(db, id, Visibility::Staff).await?.version,
        });
    }
    get(db, id, Visibility::Staff).await
}

/// The ids of the photos a resident owns or appears in.
pub async fn of_resident(db: &impl ConnectionTrait, resident_id: i64) -> StoreResult<Vec<i64>> {
    Ok(Entity::find()
        .select_only()
        .column(Column::Id)
        .filter(
            Condition::any()
                .add(Column::ResidentId.eq(resident_id))
                .add(
                    Column::Id.in_subquery(
                        Query::select()
                            .column(photo_resident::Column::PhotoId)
                            .from(photo_resident::Entity)
                            .and_where(photo_resident::Column::ResidentId.eq(resident_id))
                            .to_owned(),
                    ),
                ),
        )
        .order_by_asc(Column::Id)
        .into_tuple()
        .all(db)
        .await?)
}

/// Delete a photo; returns the object keys it used (its files and shown residents go with it).
pub async fn delete(db: &impl ConnectionTrait, id: i64) -> StoreResult<Vec<String>> {
    let keys: Vec<String> = files(db, &[id])
        .await?
        .into_iter()
        .map(|f| f.object_key)
        .collect();
    let result = Entity::delete_by_id(id).exec(db).await?;
    if result.rows_affected == 0 {
        return Err(StoreError::NotFound("photo"));
    }
    Ok(keys)
}

/// Of the given object keys, those no photo uses.
pub async fn unreferenced(db: &impl ConnectionTrait, keys: &[String]) -> StoreResult<Vec<String>> {
    if keys.is_empty() {
        return Ok(vec![]);
    }
    let used: Vec<String> = photo_file::Entity::find()
        .select_only()
        .column(photo_file::Column::ObjectKey)
        .filter(photo_file::Column::ObjectKey.is_in(keys.to_vec()))
        .into_tuple()
        .all(db)
        .await?;
    let mut unused: Vec<String> = keys.iter().filter(|k| !used.contains(k)).cloned().collect();
    unused.dedup();
    Ok(unused)
}

/// Every object key in use.
pub async fn all_keys(db: &impl ConnectionTrait) -> StoreResult<HashSet<String>> {
    let keys: Vec<String> = photo_file::Entity::find()
        .select_only()
        .column(photo_file::Column::ObjectKey)
        .distinct()
        .into_tuple()
        .all(db)
        .await?;
    Ok(keys.into_iter().collect())
}

/// Whether the viewer may read the object `key`: some photo uses it and, for the public, one
/// such photo is public now.
pub async fn key_visible(
    db: &impl ConnectionTrait,
    key: &str,
    reader: impl Into<Reader>,
) -> StoreResult<bool> {
    let users = Query::select()
        .column(photo_file::Column::PhotoId)
        .from(photo_file::Entity)
        .and_where(photo_file::Column::ObjectKey.eq(key))
        .to_owned();
    Ok(
        visible(Entity::find().filter(Column::Id.in_subquery(users)), reader)
            .count(db)
            .await?
            > 0,
    )
}

/// The public photos the given residents own (a page's worth of ids), by id: the first one of a
/// resident is their portrait. One query for a whole honour roll instead of one per honour.
pub async fn public_of_residents(
    db: &impl ConnectionTrait,
    resident_ids: &[i64],
) -> StoreResult<Vec<Model>> {
    super::reads::owned_by("photo", "resident", resident_ids);
    if resident_ids.is_empty() {
        return Ok(vec![]);
    }
    let rows = visible(Entity::find(), Reader::Public)
        .filter(Column::OwnerKind.eq(OwnerKind::Resident.code()))
        .filter(Column::ResidentId.is_in(resident_ids.to_vec()))
        .order_by_asc(Column::Id)
        .all(db)
        .await?;
    for m in &rows {
        super::reads::row("photo", m.id);
    }
    Ok(rows)
}
