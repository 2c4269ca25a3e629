//! Residents. Public reads go through [`Visibility::Public`], which admits only residents with an
//! active profile consent; private columns are loaded but the API's public view never carries them.

use sea_orm::sea_query::{Expr, Query};
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
use crate::domain::naming;
use crate::domain::resident::ResidentDraft;
use crate::domain::ValidationErrors;

/// Who is asking decides which residents exist for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Anonymous readers: only residents with an active profile consent.
    Public,
    /// Staff: everyone.
    Staff,
}

/// `residents.id IN (active profile consents)`.
pub fn public_condition() -> sea_orm::sea_query::SimpleExpr {
    Column::Id.in_subquery(
        Query::select()
            .column(consent::Column::ResidentId)
            .from(consent::Entity)
            .and_where(consent::Column::Scope.eq("profile"))
            .and_where(consent::Column::WithdrawnOn.is_null())
            .to_owned(),
    )
}

fn visible(query: Select<Entity>, visibility: Visibility) -> Select<Entity> {
    match visibility {
        Visibility::Public => query.filter(public_condition()),
        Visibility::Staff => query,
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
    let rows = query.all(db).await?;
    let scope = filter.community_id.map_or(Scope::All, Scope::Community);
    super::reads::rows("resident", scope, rows.iter().map(|m| m.id));
    Ok(Page::from_rows(rows, filter.limit, |m| m.id))
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

/// Delete a resident with their records and consents (the foreign keys cascade). A resident with
/// nominations is kept: the workflow's record must stand (withdraw their consent instead).
pub async fn delete(db: &impl ConnectionTrait, id: i64) -> StoreResult<()> {
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
    outbox::enqueue_stories_naming(db, id).await?;
    let result = Entity::delete_by_id(id).exec(db).await?;
    if result.rows_affected == 0 {
        return Err(StoreError::NotFound("resident"));
    }
    outbox::enqueue(db, OutboxKind::Resident, id).await?;
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
