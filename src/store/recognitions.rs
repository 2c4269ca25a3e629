//! Recognitions (表彰): the honours on the honour roll.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Set,
};

use super::entities::nomination;
use super::entities::recognition::{ActiveModel, Column, Entity, Model};
use super::reads::Scope;
use super::residents::{self, Visibility};
use super::{Page, StoreError, StoreResult};

pub async fn insert(
    db: &impl ConnectionTrait,
    n: &nomination::Model,
    recognised_on: NaiveDate,
    recognised_by: i64,
    now: DateTime<Utc>,
) -> StoreResult<Model> {
    // A recognition story naming them may become public.
    super::outbox::enqueue_stories_naming(db, n.resident_id).await?;
    Ok(ActiveModel {
        nomination_id: Set(n.id),
        resident_id: Set(n.resident_id),
        category_id: Set(n.category_id),
        title: Set(n.honour_title.clone()),
        year: Set(n.year),
        citation: Set(n.citation.clone()),
        recognised_on: Set(recognised_on),
        recognised_by: Set(recognised_by),
        revoked_at: Set(None),
        revoke_reason: Set(None),
        version: Set(1),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

pub async fn get(db: &impl ConnectionTrait, id: i64, visibility: Visibility) -> StoreResult<Model> {
    let r = Entity::find_by_id(id)
        .apply_if(
            visibility.reach_condition("recognitions", "resident_id"),
            |q, c| q.filter(c),
        )
        .one(db)
        .await?
        .ok_or(StoreError::NotFound("recognition"))?;
    if visibility == Visibility::Public
        && (r.revoked_at.is_some() || !residents::is_public(db, r.resident_id).await?)
    {
        return Err(StoreError::NotFound("recognition"));
    }
    Ok(r)
}

pub struct ListFilter {
    pub after: Option<i64>,
    pub limit: u64,
    pub resident_id: Option<i64>,
    /// Only honours of residents registered directly in this community.
    pub community_id: Option<i64>,
    pub year: Option<i32>,
    pub visibility: Visibility,
    /// Only honours of residents in this community's subtree (a 街道's or district's own site).
    pub within: Option<i64>,
    /// Newest first (by id, descending): the honour roll shows the latest honours.
    pub newest_first: bool,
}

/// The public see standing honours of public residents; staff see revoked ones too. Visibility
/// and the community are `EXISTS` look-ups per row, so the database answers with one page whatever the size.
pub async fn list(db: &impl ConnectionTrait, f: ListFilter) -> StoreResult<Page<Model>> {
    let mut query = Entity::find().limit(f.limit + 1);
    query = match (f.newest_first, f.after) {
        (false, after) => query
            .order_by_asc(Column::Id)
            .apply_if(after, |q, a| q.filter(Column::Id.gt(a))),
        (true, after) => query
            .order_by_desc(Column::Id)
            .apply_if(after, |q, a| q.filter(Column::Id.lt(a))),
    };
    if let Some(resident) = f.resident_id {
        query = query.filter(Column::ResidentId.eq(resident));
    }
    if let Some(year) = f.year {
        query = query.filter(Column::Year.eq(year));
    }
    if let Some(community) = f.community_id {
        query = query.filter(Expr::exists(
            Query::select()
                .expr(Expr::val(1))
                .from(residents::Entity)
                .and_where(
                    Expr::col((residents::Entity, residents::Column::Id))
                        .equals((Entity, Column::ResidentId)),
                )
                .and_where(residents::Column::CommunityId.eq(community))
                .to_owned(),
        ));
    }
    if let Some(reach) = f.visibility.reach_condition("recognitions", "resident_id") {
        query = query.filter(reach);
    }
    if let Some(root) = f.within {
        query = query.filter(
            Visibility::Within(root)
                .reach_condition("recognitions", "resident_id")
                .expect("a subtree has a condition"),
        );
    }
    if f.visibility == Visibility::Public {
        query = query
            .filter(Column::RevokedAt.is_null())
            .filter(super::consents::active_exists(
                crate::domain::consent::ConsentScope::Profile,
                (Entity, Column::ResidentId),
            ));
    }
    let rows = query.all(db).await?;
    // A community-scoped list stays tagged as the whole list: a recognition's change names its
    // resident, not the resident's community.
    let scope = f
        .resident_id
        .map_or(Scope::All, |r| Scope::Owner("resident", r));
    super::reads::rows("recognition", scope, rows.iter().map(|m| m.id));
    Ok(Page::from_rows(rows, f.limit, |m| m.id))
}

pub async fn revoke(
    db: &impl ConnectionTrait,
    id: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> StoreResult<Model> {
    let r = get(db, id, Visibility::Staff).await?;
    if r.revoked_at.is_some() {
        return Err(StoreError::Conflict("该表彰已撤销".into()));
    }
    let version = r.version;
    let mut active: ActiveModel = r.into();
    active.revoked_at = Set(Some(now));
    active.revoke_reason = Set(Some(reason.to_string()));
    active.version = Set(version + 1);
    let m = active.update(db).await?;
    // A recognition story naming them may no longer be public.
    super::outbox::enqueue_stories_naming(db, m.resident_id).await?;
    Ok(m)
}

/// The recognition of each of these nominations that has one, in one query.
pub async fn of_nominations(
    db: &impl ConnectionTrait,
    nomination_ids: &[i64],
) -> StoreResult<std::collections::HashMap<i64, Model>> {
    if nomination_ids.is_empty() {
        return Ok(Default::default());
    }
    let rows = Entity::find()
        .filter(Column::NominationId.is_in(nomination_ids.to_vec()))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|r| (r.nomination_id, r)).collect())
}

pub async fn of_nomination(
    db: &impl ConnectionTrait,
    nomination_id: i64,
) -> StoreResult<Option<Model>> {
    Ok(Entity::find()
        .filter(Column::NominationId.eq(nomination_id))
        .one(db)
        .await?)
}
