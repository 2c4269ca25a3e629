//! Slug prefix look-ups on PostgreSQL. A new resident's slug is chosen after reading the slugs
//! that start with its base (`slug LIKE 'wang-wei%'`); the unique index on `slug` uses the
//! database's collation, which cannot serve a `LIKE` prefix, so at a million residents each
//! registration scanned every slug (294 ms, under a table-wide lock: about 3 new residents a
//! second for a whole city; `bench/city.sh`). A `text_pattern_ops` index serves the prefix.
//! SQLite's `LIKE` is case-insensitive and uses no index either way; its registries are small.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEXES: [(&str, &str); 3] = [
    ("idx_residents_slug_prefix", "residents"),
    ("idx_communities_slug_prefix", "communities"),
    ("idx_stories_slug_prefix", "stories"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        for (name, table) in INDEXES {
            manager
                .get_connection()
                .execute_unprepared(&format!(
                    "CREATE INDEX IF NOT EXISTS {name} ON {table} (slug text_pattern_ops)"
                ))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        for (name, _) in INDEXES {
            manager
                .get_connection()
                .execute_unprepared(&format!("DROP INDEX IF EXISTS {name}"))
                .await?;
        }
        Ok(())
    }
}
