//! What a committed change invalidates, read from its audit event (written in the same
//! transaction as every change, on whichever node made it). An event names its entity
//! (`resident:5`) and, in its before/after snapshots, the rows it hangs off (`resident_id`,
//! `owner_kind`/`owner_id`, `participant_ids`, …) and the community whose lists hold it
//! (`community_id`, a community's `parent_id`). Consent changes and deletions purge everything
//! instead: they are rare, and a page kept by mistake after them is the costly kind of mistake.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect,
    Statement,
};
use serde_json::{Map, Value};

use super::PageCache;
use crate::store::entities::audit_event::{Column, Entity, Model};

/// Events are applied by id; a transaction that took its id earlier may commit after a later one,
/// so the look-back covers this many ids below the highest applied.
const LOOK_BACK: i64 = 256;

/// The audit events already applied.
#[derive(Default)]
pub(super) struct Applied {
    /// The highest applied id; `None` before the first look.
    max: Option<i64>,
    /// Applied ids within the look-back.
    recent: BTreeSet<i64>,
}

enum Effect {
    Purge,
    Tags(Vec<String>),
}

/// Actions after which no stale copy may be served: whatever the page showed must go at once.
fn is_removal(event: &Model) -> bool {
    event.entity_kind == "consent"
        || event.action.contains("erase")
        || [".delete", ".withdraw", ".revoke", ".unpublish"]
            .iter()
            .any(|s| event.action.ends_with(s))
}

async fn effect(db: &impl ConnectionTrait, event: &Model) -> Effect {
    if is_removal(event) {
        return Effect::Purge;
    }
    let kind = event.entity_kind.as_str();
    let mut tags = vec![format!("{kind}:{}", event.entity_id)];
    // A resident nobody may see yet is on no public list (and has no page of their own).
    if kind == "resident"
        && !crate::store::residents::is_public(db, event.entity_id)
            .await
            .unwrap_or(true)
    {
        return Effect::Tags(tags);
    }
    tags.push(format!("list:{kind}"));
    for snapshot in [&event.before, &event.after].into_iter().flatten() {
        if let Ok(Value::Object(fields)) = serde_json::from_str(snapshot) {
            parents(kind, &fields, &mut tags);
        }
    }
    Effect::Tags(tags)
}

/// The rows an entity hangs off, named by `<kind>_id` or `<kind>_ids` fields.
fn parents(kind: &str, fields: &Map<String, Value>, tags: &mut Vec<String>) {
    for (field, value) in fields {
        let (parent, ids): (&str, Vec<i64>) = if let Some(p) = field.strip_suffix("_ids") {
            let ids = value
                .as_array()
                .map_or_else(Vec::new, |a| a.iter().filter_map(Value::as_i64).collect());
            (p, ids)
        } else if let Some(p) = field.strip_suffix("_id") {
            (p, value.as_i64().into_iter().collect())
        } else {
            continue;
        };
        let parent = match parent {
            "parent" => kind,
            "participant" => "resident",
            "owner" => match fields.get("owner_kind").and_then(Value::as_str) {
                Some(k) => k,
                None => continue,
            },
            p => p,
        };
        for id in ids {
            match parent {
                // Owners: their pages show what hangs off them.
                "resident" | "story" | "activity" | "issue" | "nomination" | "notice" => {
                    tags.push(format!("{parent}:{id}"))
                }
                // A community's pages list what is in it.
                "community" => tags.push(format!("list:{kind}@community:{id}")),
                // A category, a user: shared by many pages and changed on its own event.
                _ => {}
            }
        }
    }
}

/// Apply the audit events not applied yet. When the log cannot be read, purge: a page kept by
/// mistake costs more than a render.
pub(super) async fn catch_up(cache: &PageCache, db: &DatabaseConnection) {
    let mut applied = cache.applied.lock().await;
    if let Err(e) = apply_new(cache, db, &mut applied).await {
        tracing::warn!(error = %e, "page cache: audit log unreadable, purging");
        cache.invalidate();
    }
}

async fn apply_new(
    cache: &PageCache,
    db: &DatabaseConnection,
    applied: &mut Applied,
) -> Result<(), sea_orm::DbErr> {
    let from = applied.max.map_or(0, |m| m - LOOK_BACK);
    let ids: Vec<i64> = Entity::find()
        .select_only()
        .column(Column::Id)
        .filter(Column::Id.gt(from))
        .into_tuple()
        .all(db)
        .await?;
    let new: Vec<i64> = ids
        .into_iter()
        .filter(|id| !applied.recent.contains(id))
        .collect();
    if applied.max.is_none() {
        // First look: whatever is cached predates the log as it stands.
        cache.invalidate();
    } else if !new.is_empty() {
        let mut tags = Vec::new();
        let mut purge = false;
        for event in Entity::find()
            .filter(Column::Id.is_in(new.clone()))
            .all(db)
            .await?
        {
            match effect(db, &event).await {
                Effect::Purge => purge = true,
                Effect::Tags(t) => tags.extend(t),
            }
        }
        if purge {
            cache.invalidate();
        } else {
            cache.invalidate_tags(&tags);
        }
    }
    let max = new.iter().copied().chain(applied.max).max().unwrap_or(0);
    applied.max = Some(max);
    applied.recent.extend(new);
    applied.recent = applied.recent.split_off(&(max - LOOK_BACK));
    Ok(())
}

/// The newest audit event id: it moves with every committed change.
pub async fn latest_change(db: &DatabaseConnection) -> Option<i64> {
    let row = db
        .query_one(Statement::from_string(
            db.get_database_backend(),
            "SELECT MAX(id) AS id FROM audit_events",
        ))
        .await
        .ok()??;
    row.try_get::<Option<i64>>("", "id").ok().flatten()
}

/// Watch the audit log and apply what other nodes (or the CLI) changed; log the hit ratio
/// about once a minute when pages were served.
pub async fn watch_changes(pages: Arc<PageCache>, db: DatabaseConnection, every: Duration) {
    let report_every = (60 / every.as_secs().max(1)).max(1);
    let mut last = pages.stats();
    let mut ticks = 0u64;
    loop {
        catch_up(&pages, &db).await;
        ticks += 1;
        if ticks.is_multiple_of(report_every) {
            let stats = pages.stats();
            if stats != last {
                tracing::info!(
                    hits = stats.hits,
                    stale = stats.stale,
                    shared = stats.shared,
                    renders = stats.renders,
                    hit_ratio = stats.hit_ratio(),
                    entries = stats.entries,
                    bytes = stats.bytes,
                    "page cache"
                );
                last = stats;
            }
        }
        tokio::time::sleep(every).await;
    }
}
