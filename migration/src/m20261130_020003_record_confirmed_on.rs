//! Known-until for ongoing facts: an ongoing service record carries the partial date it was last
//! confirmed (`2019-09`), and summaries count the period only to there, never to today.

use sea_orm_migration::prelude::*;

use crate::m20261125_000001_create_registry_tables::text_null;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("service_records"))
                    .add_column(text_null("confirmed_on"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("service_records"))
                    .drop_column(Alias::new("confirmed_on"))
                    .to_owned(),
            )
            .await
    }
}
