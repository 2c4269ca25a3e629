//! The editors' desk: stories (with their residents) and newsletter issues (期) with ordered stories.

use sea_orm_migration::prelude::*;

use crate::m20261125_000001_create_registry_tables::{
    fk, id, index, text, text_null, timestamp, timestamp_null, version,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn big(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .big_integer()
        .not_null()
        .to_owned()
}

fn position() -> ColumnDef {
    ColumnDef::new(Alias::new("position"))
        .integer()
        .not_null()
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("stories"))
                    .col(id())
                    .col(text("slug"))
                    .col(text("title"))
                    .col(text_null("subtitle"))
                    // 栏目 / kicker, e.g. 长寿先锋.
                    .col(text_null("section"))
                    // Comma-separated theme tags, e.g. 有德之士.
                    .col(text("themes"))
                    .col(text_null("byline"))
                    .col(text("body"))
                    // A recognition story needs a recognition or a clean 公示 behind each resident.
                    .col(
                        ColumnDef::new(Alias::new("recognition_story"))
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(text("state"))
                    .col(
                        ColumnDef::new(Alias::new("featured"))
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(timestamp_null("published_at"))
                    .col(version())
                    .col(timestamp("created_at"))
                    .col(timestamp("updated_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("stories", &["slug"], true))
            .await?;
        manager
            .create_index(index("stories", &["state", "published_at"], false))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Alias::new("story_residents"))
                    .col(id())
                    .col(big("story_id"))
                    .col(big("resident_id"))
                    .col(position())
                    .foreign_key(&mut fk(
                        "story_residents",
                        "story_id",
                        "stories",
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "story_residents",
                        "resident_id",
                        "residents",
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("story_residents", &["story_id"], false))
            .await?;
        manager
            .create_index(index("story_residents", &["resident_id"], false))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Alias::new("newsletter_issues"))
                    .col(id())
                    .col(text("name"))
                    .col(ColumnDef::new(Alias::new("issue_date")).date().not_null())
                    .col(text_null("theme"))
                    // 编者按.
                    .col(text_null("editors_note"))
                    .col(text("state"))
                    .col(timestamp_null("published_at"))
                    .col(version())
                    .col(timestamp("created_at"))
                    .col(timestamp("updated_at"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Alias::new("issue_stories"))
                    .col(id())
                    .col(big("issue_id"))
                    .col(big("story_id"))
                    .col(position())
                    .foreign_key(&mut fk(
                        "issue_stories",
                        "issue_id",
                        "newsletter_issues",
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "issue_stories",
                        "story_id",
                        "stories",
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("issue_stories", &["issue_id"], false))
            .await?;
        manager
            .create_index(index("issue_stories", &["story_id"], false))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "issue_stories",
            "newsletter_issues",
            "story_residents",
            "stories",
        ] {
            manager
                .drop_table(Table::drop().table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
