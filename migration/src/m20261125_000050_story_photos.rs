//! Photos owned by a story: a nullable `story_id` beside `resident_id` and `activity_id`
//! (`owner_kind` = `story` says it is the one set). Deleting a story deletes its photos, as for
//! the other owners (their files become orphans, which the media sweep removes).

use sea_orm_migration::prelude::*;

use crate::m20261125_000001_create_registry_tables::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite cannot add a foreign key with ALTER TABLE … ADD CONSTRAINT, but both it and
        // PostgreSQL take a column constraint on ADD COLUMN, so one statement serves both.
        manager
            .get_connection()
            .execute_unprepared(
                "ALTER TABLE photos ADD COLUMN story_id BIGINT NULL \
                 CONSTRAINT fk_photos_story_id REFERENCES stories (id) ON DELETE CASCADE",
            )
            .await?;
        // The same picture twice for one story is a mistake, as for the other owners.
        manager
            .create_index(index("photos", &["story_id", "source_sha256"], true))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_photos_story_id_source_sha256")
                    .table(Alias::new("photos"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("photos"))
                    .drop_column(Alias::new("story_id"))
                    .to_owned(),
            )
            .await
    }
}
