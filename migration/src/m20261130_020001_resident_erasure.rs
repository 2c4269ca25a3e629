//! Deletion and erasure never widen what is public. `residents.erased_at` marks a resident erased
//! on request (PIPL Art. 47): the row stays as a tombstone so the workflow's record stands and the
//! old profile address answers 410, but its private fields are gone. `stories.attention` says why
//! a story was taken back to draft without an editor asking (a resident it named was deleted or
//! erased), so the editors' desk can show it as needing attention.

use sea_orm_migration::prelude::*;

use crate::m20261125_000001_create_registry_tables::{text_null, timestamp_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds one column per ALTER TABLE.
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("residents"))
                    .add_column(timestamp_null("erased_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("stories"))
                    .add_column(text_null("attention"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("stories"))
                    .drop_column(Alias::new("attention"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("residents"))
                    .drop_column(Alias::new("erased_at"))
                    .to_owned(),
            )
            .await
    }
}
