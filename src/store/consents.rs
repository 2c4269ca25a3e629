//! Consents per resident and scope. A scope is active while its latest consent is not withdrawn.

use chrono::NaiveDate;
use sea_orm::sea_query::{Expr, IntoColumnRef, Query, SelectStatement, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};

use super::entities::consent::{ActiveModel, Column, Entity, Model};
use super::outbox::{self, OutboxKind};
use super::reads::Scope;
use super::{now, StoreError, StoreResult};
use crate::domain::consent::{ConsentDraft, ConsentScope};

/// The ids of the residents with an active consent of `scope` (`profile`, `photo`, `story`), as a
/// subquery for the publication rules that run in SQL.
pub fn active_holders(scope: ConsentScope) -> SelectStatement {
    Query::select()
        .column(Column::ResidentId)
        .from(Entity)
        .and_where(Column::Scope.eq(scope.code()))
        .and_where(Column::WithdrawnOn.is_null())
        .to_owned()
}

/// `EXISTS` an active consent of `scope` for the resident in `resident`, a column of the outer
/// query: one index look-up per row the outer query returns (`consents (resident_id, scope)`),
/// where `IN (active_holders)` would read every holder on each query.
pub fn active_exists(scope: ConsentScope, resident: impl IntoColumnRef) -> SimpleExpr {
    Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from(Entity)
            .and_where(Expr::col((Entity, Column::ResidentId)).equals(resident))
            .and_where(Column::Scope.eq(scope.code()))
            .and_where(Column::WithdrawnOn.is_null())
            .to_owned(),
    )
}

pub async fn list_for_resident(
    db: &impl ConnectionTrait,
    resident_id: i64,
) -> StoreResult<Vec<Model>> {
    super::reads::rows("consent", Scope::Owner("resident", resident_id), []);
    Ok(Entity::find()
        .filter(Column::ResidentId.eq(resident_id))
        .order_by_asc(Column::Id)
        .all(db)
        .await?)
}

pub async fn insert(
    db: &impl ConnectionTrait,
    resident_id: i64,
    draft: &ConsentDraft,
) -> StoreResult<Model> {
    let resident =
        super::residents::get(db, resident_id, super::residents::Visibility::Staff).await?;
    super::residents::refuse_if_erased(&resident)?;
    let active = Entity::find()
        .filter(Column::ResidentId.eq(resident_id))
        .filter(Column::Scope.eq(draft.scope.code()))
        .filter(Column::WithdrawnOn.is_null())
        .one(db)
        .await?;
    if let Some(active) = active {
        return Err(StoreError::Conflict(format!(
            "该居民已有有效的“{}”同意（编号 {}），如需更换请先撤回",
            draft.scope.code(),
            active.id
        )));
    }
    let model = ActiveModel {
        resident_id: Set(resident_id),
        scope: Set(draft.scope.code().to_string()),
        text_version: Set(draft.text_version.clone()),
        signed_on: Set(draft.signed_on),
        recorded_by: Set(draft.recorded_by.clone()),
        evidence: Set(draft.evidence.clone()),
        withdrawn_on: Set(None),
        created_at: Set(now()),
        ..Default::default()
    };
    let model = model.insert(db).await?;
    outbox::enqueue(db, OutboxKind::Resident, resident_id).await?;
    outbox::enqueue_stories_naming(db, resident_id).await?;
    Ok(model)
}

/// Record a withdrawal (撤回). The consent row stays, as the record of what was agreed and when.
pub async fn withdraw(
    db: &impl ConnectionTrait,
    resident_id: i64,
    id: i64,
    on: NaiveDate,
) -> StoreResult<Model> {
    let consent = Entity::find_by_id(id)
        .filter(Column::ResidentId.eq(resident_id))
        .one(db)
        .await?
        .ok_or(StoreError::NotFound("consent"))?;
    if consent.withdrawn_on.is_some() {
        return Err(StoreError::Conflict("该同意已经撤回".into()));
    }
    if on < consent.signed_on {
        return Err(StoreError::Invalid(
            crate::domain::ValidationErrors::single("withdrawn_on", "撤回日期不能早于签署日期"),
        ));
    }
    let mut active: ActiveModel = consent.into();
    active.withdrawn_on = Set(Some(on));
    let model = active.update(db).await?;
    outbox::enqueue(db, OutboxKind::Resident, resident_id).await?;
    outbox::enqueue_stories_naming(db, resident_id).await?;
    Ok(model)
}

/// Whether a consent of `scope` was withdrawn on or after `since` (a withdrawal during a 公示
/// window means the notice was not public for all of it; dates have no time of day, so a
/// withdrawal on the day the window opened counts).
pub async fn withdrawn_since(
    db: &impl ConnectionTrait,
    resident_id: i64,
    scope: ConsentScope,
    since: NaiveDate,
) -> StoreResult<bool> {
    Ok(Entity::find()
        .filter(Column::ResidentId.eq(resident_id))
        .filter(Column::Scope.eq(scope.code()))
        .filter(Column::WithdrawnOn.gte(since))
        .one(db)
        .await?
        .is_some())
}
