//! Photos: the photo itself (owner, caption, credit, alt text), its stored renditions (content
//! addressed by SHA-256, so one file may serve several photos), and the residents it shows.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn id() -> ColumnDef {
    ColumnDef::new(Alias::new("id"))
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

fn text(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .text()
        .not_null()
        .to_owned()
}

fn text_null(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name)).text().null().to_owned()
}

pub(crate) fn integer(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .integer()
        .not_null()
        .to_owned()
}

pub(crate) fn big_integer(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .big_integer()
        .not_null()
        .to_owned()
}

fn timestamp(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

fn fk(from_table: &str, column: &str, to_table: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{from_table}_{column}"))
        .from(Alias::new(from_table), Alias::new(column))
        .to(Alias::new(to_table), Alias::new("id"))
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

fn index(table: &str, columns: &[&str], unique: bool) -> IndexCreateStatement {
    let mut stmt = Index::create();
    stmt.name(format!("idx_{table}_{}", columns.join("_")))
        .table(Alias::new(table));
    for c in columns {
        stmt.col(Alias::new(*c));
    }
    if unique {
        stmt.unique();
    }
    stmt.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One owner column per kind, each a real foreign key: deleting a resident or an activity
        // deletes its photos (their files become orphans, which the media sweep removes).
        // `owner_kind` says which column is set; stories will add `story_id`.
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("photos"))
                    .col(id())
                    .col(text("owner_kind"))
                    .col(
                        ColumnDef::new(Alias::new("resident_id"))
                            .big_integer()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Alias::new("activity_id"))
                            .big_integer()
                            .null(),
                    )
                    .col(text_null("caption"))
                    .col(text_null("credit"))
                    .col(text_null("alt"))
                    .col(text_null("taken_on"))
                    // SHA-256 of the uploaded bytes, which are never stored: recognises a repeat.
                    .col(text("source_sha256"))
                    .col(text("source_format"))
                    .col(integer("width"))
                    .col(integer("height"))
                    .col(text("uploaded_by"))
                    .col(
                        ColumnDef::new(Alias::new("version"))
                            .integer()
                            .not_null()
                            .default(1),
                    )
                    .col(timestamp("created_at"))
                    .col(timestamp("updated_at"))
                    .foreign_key(&mut fk("photos", "resident_id", "residents"))
                    .foreign_key(&mut fk("photos", "activity_id", "activities"))
                    .to_owned(),
            )
            .await?;
        // The same picture twice for one owner is a mistake; NULL owners of the other kind do not
        // collide (NULLs are distinct in unique indexes on SQLite and PostgreSQL).
        manager
            .create_index(index("photos", &["resident_id", "source_sha256"], true))
            .await?;
        manager
            .create_index(index("photos", &["activity_id", "source_sha256"], true))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Alias::new("photo_files"))
                    .col(id())
                    .col(big_integer("photo_id"))
                    // `thumbnail`, `page`, `print`.
                    .col(text("variant"))
                    // Object name in the media store: `<sha256 of the bytes>.jpg`.
                    .col(text("object_key"))
                    .col(text("content_type"))
                    .col(integer("width"))
                    .col(integer("height"))
                    .col(big_integer("size_bytes"))
                    .foreign_key(&mut fk("photo_files", "photo_id", "photos"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("photo_files", &["photo_id", "variant"], true))
            .await?;
        manager
            .create_index(index("photo_files", &["object_key"], false))
            .await?;

        // The residents a photo shows. `resident_id` deliberately has no foreign key: a deleted
        // resident is still in the picture, and their id — now without any consent — must keep
        // the photo from being published.
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("photo_residents"))
                    .col(big_integer("photo_id"))
                    .col(big_integer("resident_id"))
                    .primary_key(
                        Index::create()
                            .col(Alias::new("photo_id"))
                            .col(Alias::new("resident_id")),
                    )
                    .foreign_key(&mut fk("photo_residents", "photo_id", "photos"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("photo_residents", &["resident_id"], false))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["photo_residents", "photo_files", "photos"] {
            manager
                .drop_table(Table::drop().table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
