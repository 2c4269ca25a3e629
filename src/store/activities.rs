//! Activities. Recording one writes a service record per participant in the same transaction;
//! the participants are exactly the residents holding a record of the activity.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::entities::activity::{ActiveModel, Column, Entity, Model};
use super::entities::service_record;
use super::{now, outbox, residents, service_records, Page, StoreError, StoreResult};
use crate::domain::activity::ActivityDraft;
use crate::domain::ValidationErrors;

pub async fn get(db: &impl ConnectionTrait, id: i64) -> StoreResult<Model> {
    Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(StoreError::NotFound("activity"))
}

pub async fn list(
    db: &impl ConnectionTrait,
    after: Option<i64>,
    limit: u64,
) -> StoreResult<Page<Model>> {
    let mut query = Entity::find().order_by_asc(Column::Id).limit(limit + 1);
    if let Some(after) = after {
        query = query.filter(Column::Id.gt(after));
    }
    Ok(Page::from_rows(query.all(db).await?, limit, |m| m.id))
}

pub async fn participant_ids(db: &impl ConnectionTrait, activity_id: i64) -> StoreResult<Vec<i64>> {
    Ok(service_record::Entity::find()
        .select_only()
        .column(service_record::Column::ResidentId)
        .filter(service_record::Column::ActivityId.eq(activity_id))
        .order_by_asc(service_record::Column::Id)
        .into_tuple()
        .all(db)
        .await?)
}

async fn check_participants(db: &impl ConnectionTrait, draft: &ActivityDraft) -> StoreResult<()> {
    let missing = residents::missing(db, &draft.participant_ids).await?;
    if !missing.is_empty() {
        let ids: Vec<String> = missing.iter().map(i64::to_string).collect();
        return Err(StoreError::Invalid(ValidationErrors::single(
            "participant_ids",
            format!("居民 {} 不存在", ids.join("、")),
        )));
    }
    Ok(())
}

/// Insert the activity and one service record per participant. Call inside a transaction.
pub async fn insert(db: &impl ConnectionTrait, draft: &ActivityDraft) -> StoreResult<Model> {
    check_participants(db, draft).await?;
    let now = now();
    let activity = ActiveModel {
        title: Set(draft.title.clone()),
        date: Set(draft.date.to_string()),
        place: Set(draft.place.clone()),
        organiser: Set(draft.organiser.clone()),
        description: Set(draft.description.clone()),
        unpaid: Set(draft.unpaid),
        hours: Set(draft.hours),
        recorded_by: Set(draft.recorded_by.clone()),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    for resident_id in &draft.participant_ids {
        let record = draft.participant_record(*resident_id);
        service_records::insert(db, *resident_id, Some(activity.id), &record).await?;
    }
    Ok(activity)
}

/// Replace the activity and bring its participants' records in line: removed participants lose
/// theirs, new ones get one, the rest are rewritten. Call inside a transaction.
pub async fn update(
    db: &impl ConnectionTrait,
    id: i64,
    expected_version: i32,
    draft: &ActivityDraft,
) -> StoreResult<Model> {
    let current = get(db, id).await?;
    if current.version != expected_version {
        return Err(StoreError::VersionMismatch {
            current: current.version,
        });
    }
    check_participants(db, draft).await?;
    let result = Entity::update_many()
        .col_expr(Column::Title, Expr::value(draft.title.clone()))
        .col_expr(Column::Date, Expr::value(draft.date.to_string()))
        .col_expr(Column::Place, Expr::value(draft.place.clone()))
        .col_expr(Column::Organiser, Expr::value(draft.organiser.clone()))
        .col_expr(Column::Description, Expr::value(draft.description.clone()))
        .col_expr(Column::Unpaid, Expr::value(draft.unpaid))
        .col_expr(Column::Hours, Expr::value(draft.hours))
        .col_expr(Column::RecordedBy, Expr::value(draft.recorded_by.clone()))
        .col_expr(Column::Version, Expr::value(expected_version + 1))
        .col_expr(Column::UpdatedAt, Expr::value(now()))
        .filter(Column::Id.eq(id))
        .filter(Column::Version.eq(expected_version))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Err(StoreError::VersionMismatch {
            current: get(db, id).await?.version,
        });
    }
    let existing = service_records::list_for_activity(db, id).await?;
    let removed: Vec<i64> = existing
        .iter()
        .map(|r| r.resident_id)
        .filter(|r| !draft.participant_ids.contains(r))
        .collect();
    service_records::delete_for_activity(db, id, &removed).await?;
    for resident_id in &draft.participant_ids {
        let record = draft.participant_record(*resident_id);
        match existing.iter().find(|r| r.resident_id == *resident_id) {
            Some(r) => {
                service_records::update(db, r.resident_id, r.id, None, &record).await?;
            }
            None => {
                service_records::insert(db, *resident_id, Some(id), &record).await?;
            }
        }
    }
    get(db, id).await
}

/// Delete an activity; its participants' records go with it (foreign key cascade).
pub async fn delete(db: &impl ConnectionTrait, id: i64) -> StoreResult<()> {
    // The cascade removes the participants' records without passing through `service_records`.
    let participants = participant_ids(db, id).await?;
    let result = Entity::delete_by_id(id).exec(db).await?;
    if result.rows_affected == 0 {
        return Err(StoreError::NotFound("activity"));
    }
    outbox::enqueue_residents(db, &participants).await?;
    Ok(())
}

pub async fn find_by_title_and_date(
    db: &impl ConnectionTrait,
    title: &str,
    date: &str,
) -> StoreResult<Option<Model>> {
    Ok(Entity::find()
        .filter(Column::Title.eq(title))
        .filter(Column::Date.eq(date))
        .one(db)
        .await?)
}
