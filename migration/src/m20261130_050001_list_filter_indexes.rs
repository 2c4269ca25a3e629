//! Indexes for the list filters that had none, so that every list reads the rows it returns and
//! not the table: honours by year, nominations by nominator, stories by section and featured
//! flag (newest first), the audit log by actor and by action.

use sea_orm_migration::prelude::*;

use crate::m20261125_000001_create_registry_tables::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEXES: [(&str, &[&str]); 6] = [
    ("recognitions", &["year"]),
    ("nominations", &["nominator_id"]),
    ("stories", &["section", "published_at"]),
    ("stories", &["featured", "published_at"]),
    ("audit_events", &["actor_user_id"]),
    ("audit_events", &["action"]),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, columns) in INDEXES {
            manager.create_index(index(table, columns, false)).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, columns) in INDEXES {
            manager
                .drop_index(
                    Index::drop()
                        .name(format!("idx_{table}_{}", columns.join("_")))
                        .table(Alias::new(table))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
