//! Residents. Public reads go through [`Visibility::Public`], which admits only residents with an
//! active profile consent; private columns are loaded but the API's public view never carries them.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Select, Set,
};

use super::entities::community;
use super::entities::consent;
use super::entities::resident::{ActiveModel, Model};
pub use super::entities::resident::{Column, Entity};
use super::outbox::{self, OutboxKind};
use super::reads::Scope;
use super::{now, Page, StoreError, StoreResult};
use crate::domain::consent::ConsentScope;
use crate::domain::naming;
use crate::domain::resident::ResidentDraft;
use crate::domain::ValidationErrors;

/// Who is asking decides which residents exist for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Anonymous readers: only residents with an active profile consent.
    Public,
    /// Staff whose roles reach the whole deployment: everyone.
    Staff,
    /// Staff scoped to a community subtree: everyone whose community is this one or below it;
    /// nobody else exists for them, public or not.
    Within(i64),
}

impl Visibility {
    /// `table.column` (a resident id of the outer query) names a resident this reader reaches:
    /// no condition for the whole deployment, the subtree for a scoped member of staff. The
    /// public's consent rule is the caller's (it differs per object).
    pub fn reach_condition(
        self,
        table: &str,
        column: &str,
    ) -> Option<sea_orm::sea_query::SimpleExpr> {
        match self {
            Visibility::Within(root) => Some(sea_orm::sea_query::Expr::cust(format!(
                r#""{table}"."{column}" IN (SELECT residents.id FROM residents WHERE {})"#,
                super::communities::subtree_sql("residents", "community_id", root)
            ))),
            Visibility::Public | Visibility::Staff => None,
        }
    }

    /// Whether this reader sees private fields (phone, ID number, address).
    pub fn is_staff(self) -> bool {
        !matches!(self, Visibility::Public)
    }
}

/// The resident row of the outer query has an active profile consent (`EXISTS`, correlated on
/// `residents.id`).
pub fn public_condition() -> sea_orm::sea_query::SimpleExpr {
    consent_exists(ConsentScope::Profile)
}

/// `EXISTS` an active consent of `scope` for the resident row of the outer query.
pub fn consent_exists(scope: ConsentScope) -> sea_orm::sea_query::SimpleExpr {
    super::consents::active_exists(scope, (Entity, Column::Id))
}

fn visible(query: Select<Entity>, visibility: Visibility) -> Select<Entity> {
    match visibility {
        Visibility::Public => query.filter(public_condition()),
        Visibility::Staff => query,
        Visibility::Within(root) => query.filter(super::communities::in_subtree(
            "residents",
            "community_id",
            root,
        )),
    }
}

pub async fn get(db: &impl ConnectionTrait, id: i64, visibility: Visibility) -> StoreResult<Model> {
    super::reads::row("resident", id);
    visible(Entity::find_by_id(id), visibility)
        .one(db)
        .await?
        .ok_or(StoreError::NotFound("resident"))
}

pub async fn find_by_slug(
    db: &impl ConnectionTrait,
    slug: &str,
    visibility: Visibility,
) -> StoreResult<Model> {
    let found = visible(Entity::find().filter(Column::Slug.eq(slug)), visibility)
        .one(db)
        .await?
        .ok_or(StoreError::NotFound("resident"))?;
    super::reads::row("resident", found.id);
    Ok(found)
}

/// The residents with the given ids (a page's worth) that `visibility` admits, in one query.
pub async fn get_many(
    db: &impl ConnectionTrait,
    ids: &[i64],
    visibility: Visibility,
) -> StoreResult<std::collections::HashMap<i64, Model>> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    for id in ids {
        super::reads::row("resident", *id);
    }
    let rows = visible(
        Entity::find().filter(Column::Id.is_in(ids.to_vec())),
        visibility,
    )
    .all(db)
    .await?;
    Ok(rows.into_iter().map(|m| (m.id, m)).collect())
}

pub async fn is_public(db: &impl ConnectionTrait, id: i64) -> StoreResult<bool> {
    super::reads::row("resident", id);
    Ok(Entity::find_by_id(id)
        .filter(public_condition())
        .count(db)
        .await?
        > 0)
}

pub struct ListFilter {
    pub after: Option<i64>,
    pub limit: u64,
    pub community_id: Option<i64>,
    /// Only residents of this community or one below it (a site's people).
    pub within: Option<i64>,
    pub visibility: Visibility,
}

pub async fn list(db: &impl ConnectionTrait, filter: ListFilter) -> StoreResult<Page<Model>> {
    let mut query = visible(Entity::find(), filter.visibility)
        .order_by_asc(Column::Id)
        .limit(filter.limit + 1);
    if let Some(after) = filter.after {
        query = query.filter(Column::Id.gt(after));
    }
    if let Some(community) = filter.community_id {
        query = query.filter(Column::CommunityId.eq(community));
    }
    if let Some(root) = filter.within {
        query = query.filter(super::communities::in_subtree(
            "residents",
            "community_id",
            root,
        ));
    }
    let rows = query.all(db).await?;
    // A subtree's membership changes with any community below it: read as the whole list.
    let scope = match (filter.community_id, filter.within) {
        (Some(community), None) => Scope::Community(community),
        _ => Scope::All,
    };
    super::reads::rows("resident", scope, rows.iter().map(|m| m.id));
    Ok(Page::from_rows(rows, filter.limit, |m| m.id))
}

/// The highest id of a public resident (`None` when none is public): how many blocks the
/// sitemap's profile parts need. Read as the list of public residents, so any change to who is
/// public invalidates what used it.
pub async fn last_public_id(db: &impl ConnectionTrait) -> StoreResult<Option<i64>> {
    let last: Option<Option<i64>> = visible(Entity::find(), Visibility::Public)
        .select_only()
        .column_as(Column::Id.max(), "last")
        .into_tuple()
        .one(db)
        .await?;
    super::reads::rows("resident", Scope::All, std::iter::empty());
    Ok(last.flatten())
}

async fn check_community(db: &impl ConnectionTrait, community_id: i64) -> StoreResult<()> {
    if community::Entity::find_by_id(community_id)
        .count(db)
        .await?
        == 0
    {
        return Err(StoreError::Invalid(ValidationErrors::single(
            "community_id",
            format!("社区 {community_id} 不存在"),
        )));
    }
    Ok(())
}

pub async fn insert(db: &impl ConnectionTrait, draft: &ResidentDraft) -> StoreResult<Model> {
    check_community(db, draft.community_id).await?;
    let base = naming::person_slug(&draft.name);
    let taken = super::taken_slugs::<Entity>(db, Column::Slug, &base).await?;
    let now = now();
    let model = ActiveModel {
        name: Set(draft.name.clone()),
        pinyin: Set(draft.pinyin.clone()),
        slug: Set(naming::unique_slug(&base, &taken)),
        community_id: Set(draft.community_id),
        citation: Set(draft.citation.clone()),
        phone: Set(draft.private.phone.clone()),
        id_number: Set(draft.private.id_number.clone()),
        birth_year: Set(draft.private.birth_year),
        address: Set(draft.private.address.clone()),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    let model = model.insert(db).await?;
    outbox::enqueue(db, OutboxKind::Resident, model.id).await?;
    Ok(model)
}

/// Replace a resident's fields. The slug stays as it was: published links keep working after a
/// name is corrected.
pub async fn update(
    db: &impl ConnectionTrait,
    id: i64,
    expected_version: i32,
    draft: &ResidentDraft,
) -> StoreResult<Model> {
    let current = get(db, id, Visibility::Staff).await?;
    refuse_if_erased(&current)?;
    if current.version != expected_version {
        return Err(StoreError::VersionMismatch {
            current: current.version,
        });
    }
    check_community(db, draft.community_id).await?;
    let result = Entity::update_many()
        .col_expr(Column::Name, Expr::value(draft.name.clone()))
        .col_expr(Column::Pinyin, Expr::value(draft.pinyin.clone()))
        .col_expr(Column::CommunityId, Expr::value(draft.community_id))
        .col_expr(Column::Citation, Expr::value(draft.citation.clone()))
        .col_expr(Column::Phone, Expr::value(draft.private.phone.clone()))
        .col_expr(
            Column::IdNumber,
            Expr::value(draft.private.id_number.clone()),
        )
        .col_expr(Column::BirthYear, Expr::value(draft.private.birth_year))
        .col_expr(Column::Address, Expr::value(draft.private.address.clone()))
        .col_expr(Column::Version, Expr::value(expected_version + 1))
        .col_expr(Column::UpdatedAt, Expr::value(now()))
        .filter(Column::Id.eq(id))
        .filter(Column::Version.eq(expected_version))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        let current = get(db, id, Visibility::Staff).await?;
        return Err(StoreError::VersionMismatch {
            current: current.version,
        });
    }
    outbox::enqueue(db, OutboxKind::Resident, id).await?;
    outbox::enqueue_stories_naming(db, id).await?;
    get(db, id, Visibility::Staff).await
}

/// What a story taken down because of its resident says to the editors.
pub const DELETED_ATTENTION: &str =
    "报道中的居民已被删除，报道已自动撤回发布；请编辑核对后决定是否修改重发";
pub const ERASED_ATTENTION: &str =
    "报道中的居民已按本人要求删除个人信息，报道已自动撤回发布；请编辑修改后再决定是否重发";

/// Delete a resident with their records and consents (the foreign keys cascade). A resident with
/// nominations is kept: the workflow's record must stand (withdraw their consent instead).
/// Published stories naming them go back to draft first (deletion never widens what is public);
/// returns their ids.
pub async fn delete(db: &impl ConnectionTrait, id: i64) -> StoreResult<Vec<i64>> {
    let nominations = super::entities::nomination::Entity::find()
        .filter(super::entities::nomination::Column::ResidentId.eq(id))
        .count(db)
        .await?;
    if nominations > 0 {
        return Err(StoreError::Conflict(format!(
            "该居民有 {nominations} 条提名记录，不能删除；如需停止公开，请撤回其同意"
        )));
    }
    // Before the delete: it cascades to the links that say which stories name them.
    let unpublished = super::stories::unpublish_naming(db, id, DELETED_ATTENTION, now()).await?;
    outbox::enqueue_stories_naming(db, id).await?;
    let result = Entity::delete_by_id(id).exec(db).await?;
    if result.rows_affected == 0 {
        return Err(StoreError::NotFound("resident"));
    }
    outbox::enqueue(db, OutboxKind::Resident, id).await?;
    Ok(unpublished)
}

/// What an erasure did, for the audit event and for removing files after the commit.
#[derive(Debug, Default)]
pub struct Erasure {
    pub stories_unpublished: Vec<i64>,
    pub consents_withdrawn: u64,
    pub photos_deleted: Vec<i64>,
    /// Object keys the deleted photos used; remove the unreferenced ones after the commit.
    pub object_keys: Vec<String>,
    pub audit_events_redacted: u64,
}

/// The private fields, as they are named in the audit log's snapshots.
pub const PRIVATE_FIELDS: [&str; 4] = ["phone", "id_number", "birth_year", "address"];

/// Erase a resident on request (PIPL Art. 47). The row stays as a tombstone (name and slug, so the
/// workflow's record stands and the old address answers 410), but: stories naming them go back to
/// draft, every consent is withdrawn today, the photos they own or appear in are deleted, the
/// private fields and citation are cleared, and the private fields' values are redacted from every
/// audit event about them (the events stay). Call inside a transaction.
pub async fn erase(
    db: &impl ConnectionTrait,
    id: i64,
    today: chrono::NaiveDate,
) -> StoreResult<Erasure> {
    get(db, id, Visibility::Staff).await?;
    let now = now();
    let mut done = Erasure {
        stories_unpublished: super::stories::unpublish_naming(db, id, ERASED_ATTENTION, now)
            .await?,
        ..Default::default()
    };
    done.consents_withdrawn = consent::Entity::update_many()
        .col_expr(consent::Column::WithdrawnOn, Expr::value(today))
        .filter(consent::Column::ResidentId.eq(id))
        .filter(consent::Column::WithdrawnOn.is_null())
        .exec(db)
        .await?
        .rows_affected;
    for photo in super::photos::of_resident(db, id).await? {
        done.object_keys
            .extend(super::photos::delete(db, photo).await?);
        done.photos_deleted.push(photo);
    }
    Entity::update_many()
        .col_expr(Column::Citation, Expr::value(Option::<String>::None))
        .col_expr(Column::Phone, Expr::value(Option::<String>::None))
        .col_expr(Column::IdNumber, Expr::value(Option::<String>::None))
        .col_expr(Column::BirthYear, Expr::value(Option::<i32>::None))
        .col_expr(Column::Address, Expr::value(Option::<String>::None))
        .col_expr(Column::ErasedAt, Expr::value(now))
        .col_expr(Column::Version, Expr::col(Column::Version).add(1))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .exec(db)
        .await?;
    done.audit_events_redacted = super::audit::redact(db, "resident", id, &PRIVATE_FIELDS).await?;
    outbox::enqueue(db, OutboxKind::Resident, id).await?;
    outbox::enqueue_stories_naming(db, id).await?;
    Ok(done)
}

/// A change to an erased resident would bring back what was erased.
pub fn refuse_if_erased(m: &Model) -> StoreResult<()> {
    if m.erased_at.is_some() {
        return Err(StoreError::Conflict(
            "该居民已按本人要求删除个人信息，不能再修改或登记同意".into(),
        ));
    }
    Ok(())
}

/// Of the given ids, those that are not residents.
pub async fn missing(db: &impl ConnectionTrait, ids: &[i64]) -> StoreResult<Vec<i64>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let found: Vec<i64> = Entity::find()
        .select_only()
        .column(Column::Id)
        .filter(Column::Id.is_in(ids.to_vec()))
        .into_tuple()
        .all(db)
        .await?;
    Ok(ids
        .iter()
        .copied()
        .filter(|id| !found.contains(id))
        .collect())
}

/// Of the given ids, those that are public.
pub async fn public_subset(db: &impl ConnectionTrait, ids: &[i64]) -> StoreResult<Vec<i64>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let found: Vec<i64> = Entity::find()
        .select_only()
        .column(Column::Id)
        .filter(Column::Id.is_in(ids.to_vec()))
        .filter(public_condition())
        .into_tuple()
        .all(db)
        .await?;
    Ok(ids
        .iter()
        .copied()
        .filter(|id| found.contains(id))
        .collect())
}

pub async fn find_by_name_in_community(
    db: &impl ConnectionTrait,
    name: &str,
    community_id: i64,
) -> StoreResult<Option<Model>> {
    Ok(Entity::find()
        .filter(Column::Name.eq(name))
        .filter(Column::CommunityId.eq(community_id))
        .one(db)
        .await?)
}
