//! Roster imports (名册导入) in two steps: the check keeps the uploaded file and its report here,
//! so the commit applies exactly the file that was checked (re-read inside the commit's
//! transaction, against the data as it is then). Rows find their resident by ID number, or by
//! name within a community: both lookups get an index, or a 10,000-row roster scans the table
//! once per row.

use sea_orm_migration::prelude::*;

use crate::m20261125_000001_create_registry_tables::{
    id, index, text, text_null, timestamp, timestamp_null,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("imports"))
                    .col(id())
                    // `residents` (service records and participation later).
                    .col(text("kind"))
                    .col(text("file_name"))
                    // The upload as it came; it holds private fields like the residents table.
                    .col(ColumnDef::new(Alias::new("content")).blob().not_null())
                    .col(text("sha256"))
                    // The check's report (JSON), as the API returns it.
                    .col(text("report"))
                    .col(text("created_by"))
                    .col(timestamp("created_at"))
                    .col(text_null("committed_by"))
                    .col(timestamp_null("committed_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("residents", &["id_number"], false))
            .await?;
        manager
            .create_index(index("residents", &["community_id", "name"], false))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in ["idx_residents_community_id_name", "idx_residents_id_number"] {
            manager
                .drop_index(
                    Index::drop()
                        .name(name)
                        .table(Alias::new("residents"))
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table(Alias::new("imports")).to_owned())
            .await
    }
}
