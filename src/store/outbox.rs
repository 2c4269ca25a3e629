//! The search outbox. Every store function that changes what a search document shows calls
//! [`enqueue`] on the same connection, so the change and its outbox row commit (or roll back)
//! together; the relay in `search::relay` delivers them.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use super::entities::search_outbox::{ActiveModel, Column, Entity, Model};
use super::entities::story_resident;
use super::{now, StoreResult};

/// What changed. A `Community` change (its name, or where it hangs in the tree) affects the
/// documents of every resident in it and below it, and of the stories naming them; the relay
/// expands it when delivering. A `Story` row asks the relay to upsert the story's document when
/// the story is public under the publication rule, and to delete it otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OutboxKind {
    Resident,
    Community,
    Story,
}

impl OutboxKind {
    pub fn code(self) -> &'static str {
        match self {
            OutboxKind::Resident => "resident",
            OutboxKind::Community => "community",
            OutboxKind::Story => "story",
        }
    }
}

impl FromStr for OutboxKind {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "resident" => Ok(OutboxKind::Resident),
            "community" => Ok(OutboxKind::Community),
            "story" => Ok(OutboxKind::Story),
            _ => Err(()),
        }
    }
}

impl fmt::Display for OutboxKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Record that `kind` `id` changed. Call it on the connection (transaction) that made the change.
pub async fn enqueue(db: &impl ConnectionTrait, kind: OutboxKind, id: i64) -> StoreResult<()> {
    ActiveModel {
        kind: Set(kind.code().to_string()),
        entity_id: Set(id),
        created_at: Set(now()),
        attempts: Set(0),
        last_error: Set(None),
        delivered_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// [`enqueue`] for several residents at once (an activity's participants).
pub async fn enqueue_residents(db: &impl ConnectionTrait, ids: &[i64]) -> StoreResult<()> {
    let mut seen = Vec::with_capacity(ids.len());
    for id in ids {
        if !seen.contains(id) {
            seen.push(*id);
            enqueue(db, OutboxKind::Resident, *id).await?;
        }
    }
    Ok(())
}

/// [`enqueue`] every story naming the resident: a change of their consents, honours, name or
/// community may publish or unpublish those stories, or change their documents. Call it before a
/// change that removes the links (deleting the resident cascades to `story_residents`).
pub async fn enqueue_stories_naming(
    db: &impl ConnectionTrait,
    resident_id: i64,
) -> StoreResult<()> {
    let mut story_ids: Vec<i64> = story_resident::Entity::find()
        .select_only()
        .column(story_resident::Column::StoryId)
        .filter(story_resident::Column::ResidentId.eq(resident_id))
        .into_tuple()
        .all(db)
        .await?;
    story_ids.sort_unstable();
    story_ids.dedup();
    for id in story_ids {
        enqueue(db, OutboxKind::Story, id).await?;
    }
    Ok(())
}

/// The oldest rows not yet delivered, in the order they were written.
pub async fn pending(db: &impl ConnectionTrait, limit: u64) -> StoreResult<Vec<Model>> {
    Ok(Entity::find()
        .filter(Column::DeliveredAt.is_null())
        .order_by_asc(Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// Rows written since `since`, delivered or not: what `youde reindex` replays after its swap.
pub async fn written_since(
    db: &impl ConnectionTrait,
    since: DateTime<Utc>,
    after_id: i64,
    limit: u64,
) -> StoreResult<Vec<Model>> {
    Ok(Entity::find()
        .filter(Column::CreatedAt.gte(since))
        .filter(Column::Id.gt(after_id))
        .order_by_asc(Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// The engine confirmed these rows.
pub async fn mark_delivered(db: &impl ConnectionTrait, ids: &[i64]) -> StoreResult<()> {
    for chunk in ids.chunks(500) {
        Entity::update_many()
            .col_expr(Column::DeliveredAt, Expr::value(now()))
            .col_expr(Column::LastError, Expr::value(Option::<String>::None))
            .filter(Column::Id.is_in(chunk.to_vec()))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// A delivery attempt failed; the rows stay pending. `error` must not carry document content.
pub async fn mark_failed(db: &impl ConnectionTrait, ids: &[i64], error: &str) -> StoreResult<()> {
    let error: String = error.chars().take(500).collect();
    for chunk in ids.chunks(500) {
        Entity::update_many()
            .col_expr(Column::Attempts, Expr::col(Column::Attempts).add(1))
            .col_expr(Column::LastError, Expr::value(error.clone()))
            .filter(Column::Id.is_in(chunk.to_vec()))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// Forget delivered rows older than `before` (they are only kept for replays).
pub async fn prune(db: &impl ConnectionTrait, before: DateTime<Utc>) -> StoreResult<u64> {
    let result = Entity::delete_many()
        .filter(Column::DeliveredAt.is_not_null())
        .filter(Column::DeliveredAt.lt(before))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// How far behind delivery is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Backlog {
    pub pending: u64,
    pub oldest: Option<DateTime<Utc>>,
}

pub async fn backlog(db: &impl ConnectionTrait) -> StoreResult<Backlog> {
    let pending = Entity::find()
        .filter(Column::DeliveredAt.is_null())
        .count(db)
        .await?;
    let oldest = Entity::find()
        .filter(Column::DeliveredAt.is_null())
        .order_by_asc(Column::Id)
        .one(db)
        .await?
        .map(|m| m.created_at);
    Ok(Backlog { pending, oldest })
}

/// The newest row's id (0 when the table is empty).
pub async fn last_id(db: &impl ConnectionTrait) -> StoreResult<i64> {
    Ok(Entity::find()
        .order_by_desc(Column::Id)
        .one(db)
        .await?
        .map_or(0, |m| m.id))
}
