//! Server secrets (the key that throttled client addresses are HMAC'd with, generated once per
//! deployment and shared by every app node through the database) and the indexes that let the
//! pruning of old login attempts and expired sessions run without scanning the tables.

use sea_orm_migration::prelude::*;

use crate::m20261125_000001_create_registry_tables::{index, text, timestamp};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("server_secrets"))
                    .col(
                        ColumnDef::new(Alias::new("name"))
                            .text()
                            .not_null()
                            .primary_key(),
                    )
                    // Hex; never shown, logged or exported.
                    .col(text("value"))
                    .col(timestamp("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("login_attempts", &["at"], false))
            .await?;
        manager
            .create_index(index("sessions", &["expires_at"], false))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, name) in [
            ("sessions", "idx_sessions_expires_at"),
            ("login_attempts", "idx_login_attempts_at"),
        ] {
            manager
                .drop_index(Index::drop().name(name).table(Alias::new(table)).to_owned())
                .await?;
        }
        manager
            .drop_table(Table::drop().table(Alias::new("server_secrets")).to_owned())
            .await?;
        Ok(())
    }
}
