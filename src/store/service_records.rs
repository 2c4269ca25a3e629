//! Service records, and the conversions between their rows and the domain types.

use chrono::NaiveDate;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::{Deserialize, Serialize};

use super::entities::service_record::{ActiveModel, Column, Entity, Model};
use super::outbox::{self, OutboxKind};
use super::reads::Scope;
use super::{now, Page, StoreError, StoreResult};
use crate::domain::measure::Measure;
use crate::domain::partial_date::{PartialDate, Period};
use crate::domain::service_record::RecordFacts;
use crate::domain::service_record::{RecordKind, ServiceRecordDraft};

/// The stored JSON form of one measure.
#[derive(Serialize, Deserialize)]
struct StoredMeasure {
    value: f64,
    unit: String,
    qualifier: String,
}

fn measures_to_json(measures: &[Measure]) -> String {
    let stored: Vec<StoredMeasure> = measures
        .iter()
        .map(|m| StoredMeasure {
            value: m.value(),
            unit: m.unit().code().into(),
            qualifier: m.qualifier().code().into(),
        })
        .collect();
    serde_json::to_string(&stored).expect("measures serialise")
}

fn corrupt(what: &str, id: i64) -> StoreError {
    StoreError::Corrupt(format!("service record {id}: stored {what} is not valid"))
}

/// A stored record as domain types. Rows were validated on the way in, so a failure here means
/// the database was edited by hand; it is reported, not papered over.
pub fn measures(model: &Model) -> StoreResult<Vec<Measure>> {
    let stored: Vec<StoredMeasure> =
        serde_json::from_str(&model.measures).map_err(|_| corrupt("measures", model.id))?;
    stored
        .into_iter()
        .map(|m| {
            Measure::parse(m.value, &m.unit, &m.qualifier)
                .map_err(|_| corrupt("measures", model.id))
        })
        .collect()
}

pub fn facts(model: &Model) -> StoreResult<RecordFacts> {
    let kind = model
        .kind
        .parse::<RecordKind>()
        .map_err(|()| corrupt("kind", model.id))?;
    let start = PartialDate::parse(&model.start_date).map_err(|_| corrupt("start", model.id))?;
    let end = model
        .end_date
        .as_deref()
        .map(PartialDate::parse)
        .transpose()
        .map_err(|_| corrupt("end", model.id))?;
    let period = Period::new(start, end).map_err(|_| corrupt("period", model.id))?;
    let known_until = model
        .confirmed_on
        .as_deref()
        .map(PartialDate::parse)
        .transpose()
        .map_err(|_| corrupt("confirmed_on", model.id))?;
    Ok(RecordFacts {
        kind,
        period,
        unpaid: model.unpaid,
        measures: measures(model)?,
        known_until,
    })
}

pub async fn list_for_resident(
    db: &impl ConnectionTrait,
    resident_id: i64,
) -> StoreResult<Vec<Model>> {
    super::reads::rows("service_record", Scope::Owner("resident", resident_id), []);
    Ok(Entity::find()
        .filter(Column::ResidentId.eq(resident_id))
        .order_by_asc(Column::StartDate)
        .order_by_asc(Column::Id)
        .all(db)
        .await?)
}

/// The records of the given residents (a page's worth of ids) in one query, each resident's in
/// the order of [`list_for_resident`].
pub async fn list_for_residents(
    db: &impl ConnectionTrait,
    resident_ids: &[i64],
) -> StoreResult<Vec<Model>> {
    super::reads::owned_by("service_record", "resident", resident_ids);
    if resident_ids.is_empty() {
        return Ok(vec![]);
    }
    Ok(Entity::find()
        .filter(Column::ResidentId.is_in(resident_ids.to_vec()))
        .order_by_asc(Column::ResidentId)
        .order_by_asc(Column::StartDate)
        .order_by_asc(Column::Id)
        .all(db)
        .await?)
}

/// One page of a resident's records, in the order they were recorded.
pub async fn page_for_resident(
    db: &impl ConnectionTrait,
    resident_id: i64,
    after: Option<i64>,
    limit: u64,
) -> StoreResult<Page<Model>> {
    let mut query = Entity::find()
        .filter(Column::ResidentId.eq(resident_id))
        .order_by_asc(Column::Id)
        .limit(limit + 1);
    if let Some(after) = after {
        query = query.filter(Column::Id.gt(after));
    }
    Ok(Page::from_rows(query.all(db).await?, limit, |m| m.id))
}

pub async fn list_for_activity(
    db: &impl ConnectionTrait,
    activity_id: i64,
) -> StoreResult<Vec<Model>> {
    Ok(Entity::find()
        .filter(Column::ActivityId.eq(activity_id))
        .order_by_asc(Column::Id)
        .all(db)
        .await?)
}

/// A record of this resident (records of other residents are "not found" through this path).
pub async fn get(db: &impl ConnectionTrait, resident_id: i64, id: i64) -> StoreResult<Model> {
    Entity::find_by_id(id)
        .filter(Column::ResidentId.eq(resident_id))
        .one(db)
        .await?
        .ok_or(StoreError::NotFound("service record"))
}

pub async fn insert(
    db: &impl ConnectionTrait,
    resident_id: i64,
    activity_id: Option<i64>,
    draft: &ServiceRecordDraft,
) -> StoreResult<Model> {
    let now = now();
    let model = ActiveModel {
        resident_id: Set(resident_id),
        activity_id: Set(activity_id),
        kind: Set(draft.kind.code().to_string()),
        title: Set(draft.title.clone()),
        organisation: Set(draft.organisation.clone()),
        start_date: Set(draft.period.start.to_string()),
        end_date: Set(draft.period.end.map(|d| d.to_string())),
        unpaid: Set(draft.unpaid),
        measures: Set(measures_to_json(&draft.measures)),
        evidence: Set(draft.evidence.clone()),
        recorded_by: Set(draft.recorded_by.clone()),
        verified_by: Set(draft.verified_by.clone()),
        verified_on: Set(draft.verified_on),
        confirmed_on: Set(draft.confirmed_on.map(|d| d.to_string())),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    let model = model.insert(db).await?;
    outbox::enqueue(db, OutboxKind::Resident, resident_id).await?;
    Ok(model)
}

/// Replace a record's fields if `expected_version` is still current. Pass `None` to overwrite
/// regardless (used when an activity rewrites its participants' records).
pub async fn update(
    db: &impl ConnectionTrait,
    resident_id: i64,
    id: i64,
    expected_version: Option<i32>,
    draft: &ServiceRecordDraft,
) -> StoreResult<Model> {
    let current = get(db, resident_id, id).await?;
    let version = expected_version.unwrap_or(current.version);
    if current.version != version {
        return Err(StoreError::VersionMismatch {
            current: current.version,
        });
    }
    let mut update = Entity::update_many();
    if facts_changed(&current, draft) {
        // A verification vouches for the facts as they were: changed facts are unverified.
        update = update
            .col_expr(Column::VerifiedBy, Expr::value(Option::<String>::None))
            .col_expr(Column::VerifiedOn, Expr::value(Option::<NaiveDate>::None))
            .col_expr(Column::VerifiedByUserId, Expr::value(Option::<i64>::None));
    }
    let result = update
        .col_expr(Column::Kind, Expr::value(draft.kind.code()))
        .col_expr(Column::Title, Expr::value(draft.title.clone()))
        .col_expr(
            Column::Organisation,
            Expr::value(draft.organisation.clone()),
        )
        .col_expr(
            Column::StartDate,
            Expr::value(draft.period.start.to_string()),
        )
        .col_expr(
            Column::EndDate,
            Expr::value(draft.period.end.map(|d| d.to_string())),
        )
        .col_expr(Column::Unpaid, Expr::value(draft.unpaid))
        .col_expr(
            Column::Measures,
            Expr::value(measures_to_json(&draft.measures)),
        )
        .col_expr(Column::Evidence, Expr::value(draft.evidence.clone()))
        .col_expr(Column::RecordedBy, Expr::value(draft.recorded_by.clone()))
        .col_expr(
            Column::ConfirmedOn,
            Expr::value(draft.confirmed_on.map(|d| d.to_string())),
        )
        .col_expr(Column::Version, Expr::value(version + 1))
        .col_expr(Column::UpdatedAt, Expr::value(now()))
        .filter(Column::Id.eq(id))
        .filter(Column::Version.eq(version))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        let current = get(db, resident_id, id).await?;
        return Err(StoreError::VersionMismatch {
            current: current.version,
        });
    }
    outbox::enqueue(db, OutboxKind::Resident, resident_id).await?;
    get(db, resident_id, id).await
}

/// Whether `draft` says something else than the record: anything but who recorded it.
fn facts_changed(current: &Model, draft: &ServiceRecordDraft) -> bool {
    current.kind != draft.kind.code()
        || current.title != draft.title
        || current.organisation != draft.organisation
        || current.start_date != draft.period.start.to_string()
        || current.end_date != draft.period.end.map(|d| d.to_string())
        || current.unpaid != draft.unpaid
        || current.measures != measures_to_json(&draft.measures)
        || current.evidence != draft.evidence
}

/// Remember which staff account recorded a record.
pub async fn set_recorder(db: &impl ConnectionTrait, m: Model, user_id: i64) -> StoreResult<Model> {
    let mut active: ActiveModel = m.into();
    active.recorded_by_user_id = Set(Some(user_id));
    Ok(active.update(db).await?)
}

/// Record that `name` (account `user_id`) verified the record on `on`. The caller checks that
/// they are not its recorder.
pub async fn verify(
    db: &impl ConnectionTrait,
    current: &Model,
    name: &str,
    user_id: i64,
    on: NaiveDate,
) -> StoreResult<Model> {
    let result = Entity::update_many()
        .col_expr(Column::VerifiedBy, Expr::value(name))
        .col_expr(Column::VerifiedOn, Expr::value(on))
        .col_expr(Column::VerifiedByUserId, Expr::value(user_id))
        .col_expr(Column::Version, Expr::value(current.version + 1))
        .col_expr(Column::UpdatedAt, Expr::value(now()))
        .filter(Column::Id.eq(current.id))
        .filter(Column::Version.eq(current.version))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Err(StoreError::VersionMismatch {
            current: get(db, current.resident_id, current.id).await?.version,
        });
    }
    outbox::enqueue(db, OutboxKind::Resident, current.resident_id).await?;
    get(db, current.resident_id, current.id).await
}

/// Whether `user_id` (named `name`) recorded the record: by account, or by name for records that
/// name no account (activities', the demo's).
pub fn recorded_by(m: &Model, user_id: i64, name: &str) -> bool {
    match m.recorded_by_user_id {
        Some(recorder) => recorder == user_id,
        None => m.recorded_by.trim() == name.trim(),
    }
}

pub async fn delete(db: &impl ConnectionTrait, resident_id: i64, id: i64) -> StoreResult<()> {
    let result = Entity::delete_many()
        .filter(Column::Id.eq(id))
        .filter(Column::ResidentId.eq(resident_id))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Err(StoreError::NotFound("service record"));
    }
    outbox::enqueue(db, OutboxKind::Resident, resident_id).await?;
    Ok(())
}

pub async fn delete_for_activity(
    db: &impl ConnectionTrait,
    activity_id: i64,
    resident_ids: &[i64],
) -> StoreResult<()> {
    Entity::delete_many()
        .filter(Column::ActivityId.eq(activity_id))
        .filter(Column::ResidentId.is_in(resident_ids.to_vec()))
        .exec(db)
        .await?;
    outbox::enqueue_residents(db, resident_ids).await?;
    Ok(())
}

pub async fn find_by_title(
    db: &impl ConnectionTrait,
    resident_id: i64,
    title: &str,
) -> StoreResult<Option<Model>> {
    Ok(Entity::find()
        .filter(Column::ResidentId.eq(resident_id))
        .filter(Column::Title.eq(title))
        .one(db)
        .await?)
}
