//! The audit log: who changed what, with the before and after, written in the same transaction as
//! the change. Read by admins only (it holds private fields as they were).

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde_json::Value;

use super::entities::audit_event::{ActiveModel, Column, Entity, Model};
use super::{Page, StoreResult};

/// Who acted: a user, or the system itself (demo loading, start-up).
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub name: String,
}

impl Actor {
    pub fn system(name: &str) -> Self {
        Actor {
            user_id: None,
            name: name.to_string(),
        }
    }
}

pub struct Event<'a> {
    pub action: &'a str,
    pub entity_kind: &'a str,
    pub entity_id: i64,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

pub async fn record(
    db: &impl ConnectionTrait,
    actor: &Actor,
    event: Event<'_>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    ActiveModel {
        actor_user_id: Set(actor.user_id),
        actor_name: Set(actor.name.clone()),
        action: Set(event.action.to_string()),
        entity_kind: Set(event.entity_kind.to_string()),
        entity_id: Set(event.entity_id),
        before: Set(event.before.map(|v| v.to_string())),
        after: Set(event.after.map(|v| v.to_string())),
        at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

#[derive(Default)]
pub struct Filter {
    pub after: Option<i64>,
    pub limit: u64,
    pub entity_kind: Option<String>,
    pub entity_id: Option<i64>,
    pub actor_user_id: Option<i64>,
    pub action: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Only what staff granted inside this community's subtree did (a scoped admin's log: their
    /// staff act only on what the subtree holds, so the snapshots stay inside it too).
    pub by_staff_within: Option<i64>,
}

pub async fn list(db: &impl ConnectionTrait, f: Filter) -> StoreResult<Page<Model>> {
    let mut query = Entity::find().order_by_asc(Column::Id).limit(f.limit + 1);
    if let Some(after) = f.after {
        query = query.filter(Column::Id.gt(after));
    }
    if let Some(kind) = f.entity_kind {
        query = query.filter(Column::EntityKind.eq(kind));
    }
    if let Some(id) = f.entity_id {
        query = query.filter(Column::EntityId.eq(id));
    }
    if let Some(user) = f.actor_user_id {
        query = query.filter(Column::ActorUserId.eq(user));
    }
    if let Some(action) = f.action {
        query = query.filter(Column::Action.eq(action));
    }
    if let Some(since) = f.since {
        query = query.filter(Column::At.gte(since));
    }
    if let Some(until) = f.until {
        query = query.filter(Column::At.lt(until));
    }
    if let Some(root) = f.by_staff_within {
        query = query.filter(super::communities::granted_within(
            "audit_events",
            "actor_user_id",
            root,
        ));
    }
    Ok(Page::from_rows(query.all(db).await?, f.limit, |m| m.id))
}

/// Replace the values of `fields` with null in every snapshot of the events about one entity.
/// The events stay (who did what, when); the values go. Returns how many events changed.
pub async fn redact(
    db: &impl ConnectionTrait,
    entity_kind: &str,
    entity_id: i64,
    fields: &[&str],
) -> StoreResult<u64> {
    let events = Entity::find()
        .filter(Column::EntityKind.eq(entity_kind))
        .filter(Column::EntityId.eq(entity_id))
        .all(db)
        .await?;
    let mut changed = 0;
    for event in events {
        let before = redacted(event.before.as_deref(), fields);
        let after = redacted(event.after.as_deref(), fields);
        if before.is_none() && after.is_none() {
            continue;
        }
        let mut active: ActiveModel = event.clone().into();
        if let Some(before) = before {
            active.before = Set(Some(before));
        }
        if let Some(after) = after {
            active.after = Set(Some(after));
        }
        active.update(db).await?;
        changed += 1;
    }
    Ok(changed)
}

/// The snapshot with `fields` set to null, when it held a value for any of them.
fn redacted(snapshot: Option<&str>, fields: &[&str]) -> Option<String> {
    let mut value: Value = serde_json::from_str(snapshot?).ok()?;
    let object = value.as_object_mut()?;
    let mut changed = false;
    for field in fields {
        if let Some(v) = object.get_mut(*field) {
            if !v.is_null() {
                *v = Value::Null;
                changed = true;
            }
        }
    }
    changed.then(|| value.to_string())
}
