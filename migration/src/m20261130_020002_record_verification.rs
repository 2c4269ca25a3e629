//! Verification as an act: a service record remembers which staff account recorded it and which
//! one verified it. `verified_by` (a name) and `verified_on` stay, now written only by the verify
//! action (`POST …/service-records/{id}/verification`) from the verifier's account.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn user_column(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .big_integer()
        .null()
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds one column per ALTER TABLE.
        for column in ["recorded_by_user_id", "verified_by_user_id"] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new("service_records"))
                        .add_column(user_column(column))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in ["verified_by_user_id", "recorded_by_user_id"] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new("service_records"))
                        .drop_column(Alias::new(column))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
