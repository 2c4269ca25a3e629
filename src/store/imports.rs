//! Roster imports: the checked upload kept by id until its commit, and the lookups the check
//! and the commit match rows with.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use super::entities::import::{ActiveModel, Column, Entity, Model};
use super::entities::{activity, community, resident, service_record};
use super::{now, StoreError, StoreResult};

pub struct NewImport<'a> {
    pub kind: &'a str,
    pub file_name: &'a str,
    pub content: Vec<u8>,
    pub sha256: String,
    pub report: String,
    pub created_by: &'a str,
}

pub async fn insert(db: &impl ConnectionTrait, new: NewImport<'_>) -> StoreResult<Model> {
    Ok(ActiveModel {
        kind: Set(new.kind.to_string()),
        file_name: Set(new.file_name.to_string()),
        content: Set(new.content),
        sha256: Set(new.sha256),
        report: Set(new.report),
        created_by: Set(new.created_by.to_string()),
        created_at: Set(now()),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

pub async fn get(db: &impl ConnectionTrait, id: i64) -> StoreResult<Model> {
    Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(StoreError::NotFound("import"))
}

pub async fn set_report(db: &impl ConnectionTrait, id: i64, report: &str) -> StoreResult<()> {
    Entity::update_many()
        .col_expr(Column::Report, Expr::value(report))
        .filter(Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Mark the import committed, once: a second commit of the same check finds it done.
pub async fn mark_committed(
    db: &impl ConnectionTrait,
    id: i64,
    by: &str,
    report: String,
) -> StoreResult<()> {
    let result = Entity::update_many()
        .col_expr(Column::CommittedBy, Expr::value(by))
        .col_expr(Column::CommittedAt, Expr::value(now()))
        .col_expr(Column::Report, Expr::value(report))
        .filter(Column::Id.eq(id))
        .filter(Column::CommittedAt.is_null())
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Err(StoreError::Conflict("该导入已经提交过".into()));
    }
    Ok(())
}

/// Communities with this name (a name may repeat across the tree: the caller reports that).
pub async fn communities_named(
    db: &impl ConnectionTrait,
    name: &str,
) -> StoreResult<Vec<community::Model>> {
    Ok(community::Entity::find()
        .filter(community::Column::Name.eq(name))
        .order_by_asc(community::Column::Id)
        .limit(2)
        .all(db)
        .await?)
}

/// Residents (not erased) with this ID number; two or more is an ambiguity to report.
pub async fn residents_with_id_number(
    db: &impl ConnectionTrait,
    id_number: &str,
) -> StoreResult<Vec<resident::Model>> {
    first_two_residents(
        db,
        Condition::all().add(resident::Column::IdNumber.eq(id_number)),
    )
    .await
}

/// Residents (not erased) of this name in this community.
pub async fn residents_named(
    db: &impl ConnectionTrait,
    name: &str,
    community_id: i64,
) -> StoreResult<Vec<resident::Model>> {
    let condition = Condition::all()
        .add(resident::Column::Name.eq(name))
        .add(resident::Column::CommunityId.eq(community_id));
    first_two_residents(db, condition).await
}

/// Enough to tell one match from several.
async fn first_two_residents(
    db: &impl ConnectionTrait,
    condition: Condition,
) -> StoreResult<Vec<resident::Model>> {
    Ok(resident::Entity::find()
        .filter(condition)
        .filter(resident::Column::ErasedAt.is_null())
        .order_by_asc(resident::Column::Id)
        .limit(2)
        .all(db)
        .await?)
}

/// A resident's service records of this kind, title and start that no activity wrote: the key a
/// service records sheet matches its rows by. At most two.
pub async fn records_matching(
    db: &impl ConnectionTrait,
    resident_id: i64,
    kind: &str,
    title: &str,
    start: &str,
) -> StoreResult<Vec<service_record::Model>> {
    Ok(service_record::Entity::find()
        .filter(service_record::Column::ResidentId.eq(resident_id))
        .filter(service_record::Column::Kind.eq(kind))
        .filter(service_record::Column::Title.eq(title))
        .filter(service_record::Column::StartDate.eq(start))
        .filter(service_record::Column::ActivityId.is_null())
        .order_by_asc(service_record::Column::Id)
        .limit(2)
        .all(db)
        .await?)
}

/// Activities of this title on this date: the key a sign-in sheet matches its activity by. At
/// most two.
pub async fn activities_titled(
    db: &impl ConnectionTrait,
    title: &str,
    date: &str,
) -> StoreResult<Vec<activity::Model>> {
    Ok(activity::Entity::find()
        .filter(activity::Column::Title.eq(title))
        .filter(activity::Column::Date.eq(date))
        .order_by_asc(activity::Column::Id)
        .limit(2)
        .all(db)
        .await?)
}

/// A page of the service records that no activity wrote, in the order they were recorded: what
/// the service records export lists (activities' records are in the activities export).
pub async fn records_page(
    db: &impl ConnectionTrait,
    after: Option<i64>,
    limit: u64,
) -> StoreResult<super::Page<service_record::Model>> {
    let mut query = service_record::Entity::find()
        .filter(service_record::Column::ActivityId.is_null())
        .order_by_asc(service_record::Column::Id)
        .limit(limit + 1);
    if let Some(after) = after {
        query = query.filter(service_record::Column::Id.gt(after));
    }
    Ok(super::Page::from_rows(query.all(db).await?, limit, |m| {
        m.id
    }))
}

/// How many values one `IN (…)` list holds (well under SQLite's and PostgreSQL's limits).
const CHUNK: usize = 500;

/// Communities with any of these names: a check looks a sheet's 小区 up in one go.
pub async fn communities_in(
    db: &impl ConnectionTrait,
    names: &[String],
) -> StoreResult<Vec<community::Model>> {
    let mut found = Vec::new();
    for chunk in names.chunks(CHUNK) {
        found.extend(
            community::Entity::find()
                .filter(community::Column::Name.is_in(chunk.to_vec()))
                .order_by_asc(community::Column::Id)
                .all(db)
                .await?,
        );
    }
    Ok(found)
}

/// Residents (not erased) holding any of these ID numbers, by id.
pub async fn residents_with_id_numbers(
    db: &impl ConnectionTrait,
    id_numbers: &[String],
) -> StoreResult<Vec<resident::Model>> {
    let mut found = Vec::new();
    for chunk in id_numbers.chunks(CHUNK) {
        found.extend(
            resident::Entity::find()
                .filter(resident::Column::IdNumber.is_in(chunk.to_vec()))
                .filter(resident::Column::ErasedAt.is_null())
                .order_by_asc(resident::Column::Id)
                .all(db)
                .await?,
        );
    }
    Ok(found)
}

/// Residents (not erased) of this community with any of these names, by id.
pub async fn residents_named_any(
    db: &impl ConnectionTrait,
    community_id: i64,
    names: &[String],
) -> StoreResult<Vec<resident::Model>> {
    let mut found = Vec::new();
    for chunk in names.chunks(CHUNK) {
        found.extend(
            resident::Entity::find()
                .filter(resident::Column::CommunityId.eq(community_id))
                .filter(resident::Column::Name.is_in(chunk.to_vec()))
                .filter(resident::Column::ErasedAt.is_null())
                .order_by_asc(resident::Column::Id)
                .all(db)
                .await?,
        );
    }
    Ok(found)
}
