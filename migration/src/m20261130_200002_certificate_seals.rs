//! The official seal (公章) printed on certificates: a PNG with a transparent background uploaded
//! by an admin, kept in the media store under `seal-<sha256>.png` (a name the public `/media/`
//! route never serves and the media sweep never touches). One row per upload; the latest is the
//! seal in use, the earlier ones stay as the record of what was printed when.

use sea_orm_migration::prelude::*;

use crate::m20261125_000001_create_registry_tables::{id, text, timestamp};
use crate::m20261125_000010_create_photos::{big_integer as big, integer as int};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("certificate_seals"))
                    .col(id())
                    .col(text("object_key"))
                    .col(text("sha256"))
                    .col(int("width"))
                    .col(int("height"))
                    .col(big("size_bytes"))
                    .col(big("uploaded_by"))
                    .col(timestamp("created_at"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(Alias::new("certificate_seals"))
                    .to_owned(),
            )
            .await
    }
}
