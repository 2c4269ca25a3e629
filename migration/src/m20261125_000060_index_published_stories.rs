//! Data, not schema: queue every published story for the search index once. Stories joined the
//! index after they existed; without this, a deployment upgraded over published stories would
//! find them only after a manual `youde reindex`. The relay builds each story's document from the
//! database and indexes it only if the public may read it, so queueing is always safe.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The timestamp in the form the application writes (sqlx stores RFC 3339 text on SQLite),
        // so that `youde reindex`'s replay window compares it correctly.
        let now = match manager.get_database_backend() {
            DatabaseBackend::Sqlite => "strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')",
            _ => "CURRENT_TIMESTAMP",
        };
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "INSERT INTO search_outbox (kind, entity_id, created_at, attempts) \
                 SELECT 'story', id, {now}, 0 FROM stories WHERE state = 'published' ORDER BY id"
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        // Queued rows are harmless and delivered ones are pruned: nothing to undo.
        Ok(())
    }
}
