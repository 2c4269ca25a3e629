//! Volunteer hours (志愿服务时长): an activity records the hours each participant served by
//! default. A participant's own hours (the default, or their own figure) are the 小时 measure on
//! their record of the activity, so they carry who recorded and who verified them like any record,
//! and summaries and star levels count them with every other record's hours.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("activities"))
                    .add_column(ColumnDef::new(Alias::new("hours")).double().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("activities"))
                    .drop_column(Alias::new("hours"))
                    .to_owned(),
            )
            .await
    }
}
