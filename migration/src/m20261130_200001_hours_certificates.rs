//! The record of volunteer hours (志愿服务记录证明) as a certificate: what it states beyond the
//! honour's columns — the period, the total hours in it, and the holder's ID number as printed
//! (masked: `3101**********4411`; the full number is never stored on a certificate). Null on an
//! honour's certificate. Numbered in the same per-year sequence as honours.

use sea_orm_migration::prelude::*;

use crate::m20261125_000001_create_registry_tables::{index, text_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn columns() -> Vec<ColumnDef> {
    vec![
        ColumnDef::new(Alias::new("period_start"))
            .date()
            .null()
            .to_owned(),
        ColumnDef::new(Alias::new("period_end"))
            .date()
            .null()
            .to_owned(),
        ColumnDef::new(Alias::new("hours"))
            .double()
            .null()
            .to_owned(),
        text_null("masked_id_number"),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters a table one column at a time.
        for mut column in columns() {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new("certificates"))
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(index("certificates", &["resident_id"], false))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_certificates_resident_id")
                    .table(Alias::new("certificates"))
                    .to_owned(),
            )
            .await?;
        for name in ["period_start", "period_end", "hours", "masked_id_number"] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new("certificates"))
                        .drop_column(Alias::new(name))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
