//! Nominations with their supporting statements, public notices (公示) and objections (异议).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::entities::nomination::{ActiveModel, Column, Entity, Model};
use super::entities::{nomination_statement as statement, objection, public_notice as notice};
use super::reads::Scope;
use super::{categories, residents, Page, StoreError, StoreResult};
use crate::domain::nomination::{NominationDraft, NominationState, ObjectionState};
use crate::domain::ValidationErrors;

pub async fn get(db: &impl ConnectionTrait, id: i64) -> StoreResult<Model> {
    super::reads::row("nomination", id);
    Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(StoreError::NotFound("nomination"))
}

/// The nominations with these ids, in one query.
pub async fn get_many(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> StoreResult<std::collections::HashMap<i64, Model>> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    for id in ids {
        super::reads::row("nomination", *id);
    }
    let rows = Entity::find()
        .filter(Column::Id.is_in(ids.to_vec()))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|m| (m.id, m)).collect())
}

pub fn state(m: &Model) -> StoreResult<NominationState> {
    m.state
        .parse()
        .map_err(|()| StoreError::Corrupt(format!("nomination {}: bad state", m.id)))
}

pub struct ListFilter {
    pub after: Option<i64>,
    pub limit: u64,
    pub state: Option<NominationState>,
    pub resident_id: Option<i64>,
    /// `Some(user)`: only this user's nominations (nominators see their own).
    pub nominator_id: Option<i64>,
    /// Hide other people's drafts (reviewers do not see drafts in progress).
    pub hide_drafts_of_others: Option<i64>,
    /// Only nominations of residents this reader reaches (a scoped member of staff's subtree).
    pub reach: super::residents::Visibility,
}

pub async fn list(db: &impl ConnectionTrait, f: ListFilter) -> StoreResult<Page<Model>> {
    let mut query = Entity::find().order_by_asc(Column::Id).limit(f.limit + 1);
    if let Some(after) = f.after {
        query = query.filter(Column::Id.gt(after));
    }
    if let Some(state) = f.state {
        query = query.filter(Column::State.eq(state.code()));
    }
    if let Some(resident) = f.resident_id {
        query = query.filter(Column::ResidentId.eq(resident));
    }
    if let Some(user) = f.nominator_id {
        query = query.filter(Column::NominatorId.eq(user));
    }
    if let Some(reach) = f.reach.reach_condition("nominations", "resident_id") {
        query = query.filter(reach);
    }
    if let Some(user) = f.hide_drafts_of_others {
        query = query.filter(
            Condition::any()
                .add(Column::State.ne(NominationState::Draft.code()))
                .add(Column::NominatorId.eq(user)),
        );
    }
    Ok(Page::from_rows(query.all(db).await?, f.limit, |m| m.id))
}

async fn check_refs(db: &impl ConnectionTrait, draft: &NominationDraft) -> StoreResult<()> {
    let mut errors = ValidationErrors::default();
    if residents::missing(db, &[draft.resident_id])
        .await?
        .contains(&draft.resident_id)
    {
        errors.add("resident_id", format!("居民 {} 不存在", draft.resident_id));
    }
    match categories::get(db, draft.category_id).await {
        Ok(c) if c.active => {}
        Ok(_) => errors.add("category_id", "该类别已停用"),
        Err(StoreError::NotFound(_)) => {
            errors.add("category_id", format!("类别 {} 不存在", draft.category_id))
        }
        Err(e) => return Err(e),
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(StoreError::Invalid(errors))
    }
}

async fn write_statements(
    db: &impl ConnectionTrait,
    nomination_id: i64,
    draft: &NominationDraft,
) -> StoreResult<()> {
    statement::Entity::delete_many()
        .filter(statement::Column::NominationId.eq(nomination_id))
        .exec(db)
        .await?;
    for (i, s) in draft.statements.iter().enumerate() {
        statement::ActiveModel {
            nomination_id: Set(nomination_id),
            position: Set(i as i32),
            author: Set(s.author.clone()),
            relation: Set(s.relation.clone()),
            body: Set(s.body.clone()),
            ..Default::default()
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

/// A new nomination in `draft`, with its statements. Call inside a transaction.
pub async fn insert(
    db: &impl ConnectionTrait,
    draft: &NominationDraft,
    nominator_id: i64,
    now: DateTime<Utc>,
) -> StoreResult<Model> {
    check_refs(db, draft).await?;
    let m = ActiveModel {
        resident_id: Set(draft.resident_id),
        category_id: Set(draft.category_id),
        honour_title: Set(draft.honour_title.clone()),
        year: Set(draft.year),
        citation: Set(draft.citation.clone()),
        nominator_id: Set(nominator_id),
        state: Set(NominationState::Draft.code().into()),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    write_statements(db, m.id, draft).await?;
    Ok(m)
}

/// Replace the content of a nomination that is still a draft. Call inside a transaction.
pub async fn update(
    db: &impl ConnectionTrait,
    id: i64,
    version: i32,
    draft: &NominationDraft,
    now: DateTime<Utc>,
) -> StoreResult<Model> {
    let current = get(db, id).await?;
    if state(&current)? != NominationState::Draft {
        return Err(StoreError::Conflict(
            "只有草稿可以修改；已提交的提名请撤回后重新提名".into(),
        ));
    }
    check_refs(db, draft).await?;
    let result = Entity::update_many()
        .col_expr(Column::ResidentId, Expr::value(draft.resident_id))
        .col_expr(Column::CategoryId, Expr::value(draft.category_id))
        .col_expr(Column::HonourTitle, Expr::value(draft.honour_title.clone()))
        .col_expr(Column::Year, Expr::value(draft.year))
        .col_expr(Column::Citation, Expr::value(draft.citation.clone()))
        .col_expr(Column::Version, Expr::value(version + 1))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .filter(Column::Version.eq(version))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Err(StoreError::VersionMismatch {
            current: current.version,
        });
    }
    write_statements(db, id, draft).await?;
    get(db, id).await
}

/// Move to `to` if the nomination is still at `from` (a concurrent move makes this a conflict).
pub async fn set_state(
    db: &impl ConnectionTrait,
    id: i64,
    from: NominationState,
    to: NominationState,
    now: DateTime<Utc>,
) -> StoreResult<Model> {
    let result = Entity::update_many()
        .col_expr(Column::State, Expr::value(to.code()))
        .col_expr(Column::Version, Expr::col(Column::Version).add(1))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .filter(Column::State.eq(from.code()))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Err(StoreError::Conflict(
            "提名状态已被他人改变，请刷新后重试".into(),
        ));
    }
    let m = get(db, id).await?;
    if from == NominationState::Approved || to == NominationState::Approved {
        // An approved nomination honours its resident: recognition stories naming them follow.
        super::outbox::enqueue_stories_naming(db, m.resident_id).await?;
    }
    Ok(m)
}

pub async fn statements(
    db: &impl ConnectionTrait,
    nomination_id: i64,
) -> StoreResult<Vec<statement::Model>> {
    Ok(statement::Entity::find()
        .filter(statement::Column::NominationId.eq(nomination_id))
        .order_by_asc(statement::Column::Position)
        .all(db)
        .await?)
}

/// The statements of each of these nominations, in order, in one query.
pub async fn statements_of(
    db: &impl ConnectionTrait,
    nomination_ids: &[i64],
) -> StoreResult<std::collections::HashMap<i64, Vec<statement::Model>>> {
    let mut out: std::collections::HashMap<i64, Vec<statement::Model>> = Default::default();
    if nomination_ids.is_empty() {
        return Ok(out);
    }
    let rows = statement::Entity::find()
        .filter(statement::Column::NominationId.is_in(nomination_ids.to_vec()))
        .order_by_asc(statement::Column::NominationId)
        .order_by_asc(statement::Column::Position)
        .all(db)
        .await?;
    for row in rows {
        out.entry(row.nomination_id).or_default().push(row);
    }
    Ok(out)
}

/// The 公示 of each of these nominations that has one, in one query.
pub async fn notices_of(
    db: &impl ConnectionTrait,
    nomination_ids: &[i64],
) -> StoreResult<std::collections::HashMap<i64, notice::Model>> {
    if nomination_ids.is_empty() {
        return Ok(Default::default());
    }
    let rows = notice::Entity::find()
        .filter(notice::Column::NominationId.is_in(nomination_ids.to_vec()))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|n| (n.nomination_id, n)).collect())
}

// --- public notices (公示) ---

pub async fn open_notice(
    db: &impl ConnectionTrait,
    nomination_id: i64,
    opens_at: DateTime<Utc>,
    closes_at: DateTime<Utc>,
    opened_by: i64,
) -> StoreResult<notice::Model> {
    Ok(notice::ActiveModel {
        nomination_id: Set(nomination_id),
        opens_at: Set(opens_at),
        closes_at: Set(closes_at),
        opened_by: Set(opened_by),
        created_at: Set(opens_at),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

/// Run the 公示 again from `opens_at`: a new full window (objections filed so far stay with it).
pub async fn restart_notice(
    db: &impl ConnectionTrait,
    notice_id: i64,
    opens_at: DateTime<Utc>,
    closes_at: DateTime<Utc>,
    opened_by: i64,
) -> StoreResult<notice::Model> {
    let mut active: notice::ActiveModel = notice(db, notice_id).await?.into();
    active.opens_at = Set(opens_at);
    active.closes_at = Set(closes_at);
    active.opened_by = Set(opened_by);
    Ok(active.update(db).await?)
}

pub async fn notice(db: &impl ConnectionTrait, id: i64) -> StoreResult<notice::Model> {
    notice::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(StoreError::NotFound("notice"))
}

pub async fn notice_of(
    db: &impl ConnectionTrait,
    nomination_id: i64,
) -> StoreResult<Option<notice::Model>> {
    Ok(notice::Entity::find()
        .filter(notice::Column::NominationId.eq(nomination_id))
        .one(db)
        .await?)
}

/// Notices that are public now: the window is open and the nomination is in 公示. Whether the
/// resident may be shown is the caller's to check (consent).
pub async fn open_notices(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    after: Option<i64>,
    limit: u64,
) -> StoreResult<Page<notice::Model>> {
    let in_notice = Query::select()
        .column(Column::Id)
        .from(Entity)
        .and_where(Column::State.eq(NominationState::PublicNotice.code()))
        .to_owned();
    let mut query = notice::Entity::find()
        .filter(notice::Column::NominationId.in_subquery(in_notice))
        .filter(notice::Column::OpensAt.lte(now))
        .filter(notice::Column::ClosesAt.gt(now))
        .order_by_asc(notice::Column::Id)
        .limit(limit + 1);
    if let Some(after) = after {
        query = query.filter(notice::Column::Id.gt(after));
    }
    let rows = query.all(db).await?;
    // Which notices are open follows the nominations' states (a state change names the list).
    super::reads::rows(
        "nomination",
        Scope::All,
        rows.iter().map(|n| n.nomination_id),
    );
    Ok(Page::from_rows(rows, limit, |m| m.id))
}

// --- objections (异议) ---

pub struct NewObjection<'a> {
    pub notice_id: i64,
    pub receipt_code: &'a str,
    pub objector_name: &'a str,
    pub objector_contact: &'a str,
    pub content: &'a str,
    pub address_hash: &'a str,
}

pub async fn insert_objection(
    db: &impl ConnectionTrait,
    o: NewObjection<'_>,
    now: DateTime<Utc>,
) -> StoreResult<objection::Model> {
    Ok(objection::ActiveModel {
        notice_id: Set(o.notice_id),
        receipt_code: Set(o.receipt_code.to_string()),
        objector_name: Set(o.objector_name.to_string()),
        objector_contact: Set(o.objector_contact.to_string()),
        content: Set(o.content.to_string()),
        address_hash: Set(o.address_hash.to_string()),
        state: Set(ObjectionState::Open.code().into()),
        resolution_note: Set(None),
        decided_by: Set(None),
        decided_at: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

pub async fn objections_from_address_since(
    db: &impl ConnectionTrait,
    address_hash: &str,
    since: DateTime<Utc>,
) -> StoreResult<u64> {
    Ok(objection::Entity::find()
        .filter(objection::Column::AddressHash.eq(address_hash))
        .filter(objection::Column::CreatedAt.gt(since))
        .count(db)
        .await?)
}

pub async fn objections_of(
    db: &impl ConnectionTrait,
    notice_id: i64,
) -> StoreResult<Vec<objection::Model>> {
    Ok(objection::Entity::find()
        .filter(objection::Column::NoticeId.eq(notice_id))
        .order_by_asc(objection::Column::Id)
        .all(db)
        .await?)
}

pub async fn objection(db: &impl ConnectionTrait, id: i64) -> StoreResult<objection::Model> {
    objection::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(StoreError::NotFound("objection"))
}

pub async fn objection_by_receipt(
    db: &impl ConnectionTrait,
    code: &str,
) -> StoreResult<objection::Model> {
    objection::Entity::find()
        .filter(objection::Column::ReceiptCode.eq(code.trim().to_ascii_uppercase()))
        .one(db)
        .await?
        .ok_or(StoreError::NotFound("objection"))
}

pub fn objection_state(o: &objection::Model) -> StoreResult<ObjectionState> {
    o.state
        .parse()
        .map_err(|()| StoreError::Corrupt(format!("objection {}: bad state", o.id)))
}

/// Move an objection if it is still at `from`.
pub async fn set_objection_state(
    db: &impl ConnectionTrait,
    id: i64,
    from: ObjectionState,
    to: ObjectionState,
    note: Option<String>,
    decided_by: i64,
    now: DateTime<Utc>,
) -> StoreResult<objection::Model> {
    let result = objection::Entity::update_many()
        .col_expr(objection::Column::State, Expr::value(to.code()))
        .col_expr(objection::Column::ResolutionNote, Expr::value(note))
        .col_expr(objection::Column::DecidedBy, Expr::value(decided_by))
        .col_expr(objection::Column::DecidedAt, Expr::value(now))
        .col_expr(
            objection::Column::Version,
            Expr::col(objection::Column::Version).add(1),
        )
        .col_expr(objection::Column::UpdatedAt, Expr::value(now))
        .filter(objection::Column::Id.eq(id))
        .filter(objection::Column::State.eq(from.code()))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Err(StoreError::Conflict(
            "异议状态已被他人改变，请刷新后重试".into(),
        ));
    }
    objection(db, id).await
}

/// Every notice, for reviewers.
pub async fn all_notices(
    db: &impl ConnectionTrait,
    after: Option<i64>,
    limit: u64,
) -> StoreResult<Page<notice::Model>> {
    let mut query = notice::Entity::find()
        .order_by_asc(notice::Column::Id)
        .limit(limit + 1);
    if let Some(after) = after {
        query = query.filter(notice::Column::Id.gt(after));
    }
    Ok(Page::from_rows(query.all(db).await?, limit, |m| m.id))
}
