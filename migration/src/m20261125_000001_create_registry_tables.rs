//! Communities, residents, consents, service records, activities and API tokens.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn id() -> ColumnDef {
    ColumnDef::new(Alias::new("id")).big_integer().not_null().auto_increment().primary_key().to_owned()
}

fn text(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name)).text().not_null().to_owned()
}

fn text_null(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name)).text().null().to_owned()
}

fn version() -> ColumnDef {
    ColumnDef::new(Alias::new("version")).integer().not_null().default(1).to_owned()
}

fn timestamp(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name)).timestamp_with_time_zone().not_null().to_owned()
}

fn timestamp_null(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name)).timestamp_with_time_zone().null().to_owned()
}

fn fk(from_table: &str, column: &str, to_table: &str, on_delete: ForeignKeyAction) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{from_table}_{column}"))
        .from(Alias::new(from_table), Alias::new(column))
        .to(Alias::new(to_table), Alias::new("id"))
        .on_delete(on_delete)
        .to_owned()
}

fn index(table: &str, columns: &[&str], unique: bool) -> IndexCreateStatement {
    let mut stmt = Index::create();
    stmt.name(format!("idx_{table}_{}", columns.join("_"))).table(Alias::new(table));
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
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("communities"))
                    .col(id())
                    .col(text("name"))
                    .col(text("kind"))
                    .col(ColumnDef::new(Alias::new("parent_id")).big_integer().null())
                    .col(text("slug"))
                    .col(version())
                    .col(timestamp("created_at"))
                    .col(timestamp("updated_at"))
                    .foreign_key(&mut fk("communities", "parent_id", "communities", ForeignKeyAction::Restrict))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index("communities", &["slug"], true)).await?;
        manager.create_index(index("communities", &["parent_id"], false)).await?;

        manager
            .create_table(
                Table::create()
                    .table(Alias::new("residents"))
                    .col(id())
                    .col(text("name"))
                    .col(text("pinyin"))
                    .col(text("slug"))
                    .col(ColumnDef::new(Alias::new("community_id")).big_integer().not_null())
                    .col(text_null("citation"))
                    // Private: never in any public page, feed, search document or log line.
                    .col(text_null("phone"))
                    .col(text_null("id_number"))
                    .col(ColumnDef::new(Alias::new("birth_year")).integer().null())
                    .col(text_null("address"))
                    .col(version())
                    .col(timestamp("created_at"))
                    .col(timestamp("updated_at"))
                    .foreign_key(&mut fk("residents", "community_id", "communities", ForeignKeyAction::Restrict))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index("residents", &["slug"], true)).await?;
        manager.create_index(index("residents", &["community_id"], false)).await?;

        // Separate consent per scope (PIPL Art. 25); a withdrawal keeps the row for the record.
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("consents"))
                    .col(id())
                    .col(ColumnDef::new(Alias::new("resident_id")).big_integer().not_null())
                    .col(text("scope"))
                    .col(text("text_version"))
                    .col(ColumnDef::new(Alias::new("signed_on")).date().not_null())
                    .col(text("recorded_by"))
                    .col(text_null("evidence"))
                    .col(ColumnDef::new(Alias::new("withdrawn_on")).date().null())
                    .col(timestamp("created_at"))
                    .foreign_key(&mut fk("consents", "resident_id", "residents", ForeignKeyAction::Cascade))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index("consents", &["resident_id", "scope"], false)).await?;

        manager
            .create_table(
                Table::create()
                    .table(Alias::new("activities"))
                    .col(id())
                    .col(text("title"))
                    .col(text("date"))
                    .col(text_null("place"))
                    .col(text_null("organiser"))
                    .col(text_null("description"))
                    .col(ColumnDef::new(Alias::new("unpaid")).boolean().not_null().default(false))
                    .col(text("recorded_by"))
                    .col(version())
                    .col(timestamp("created_at"))
                    .col(timestamp("updated_at"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Alias::new("service_records"))
                    .col(id())
                    .col(ColumnDef::new(Alias::new("resident_id")).big_integer().not_null())
                    // Set for records written by recording an activity; the activity's participants
                    // are exactly the residents holding such a record.
                    .col(ColumnDef::new(Alias::new("activity_id")).big_integer().null())
                    .col(text("kind"))
                    .col(text("title"))
                    .col(text_null("organisation"))
                    // Partial dates as text (`2007`, `2018-12`, `2019-08-30`): they sort correctly.
                    .col(text("start_date"))
                    .col(text_null("end_date"))
                    .col(ColumnDef::new(Alias::new("unpaid")).boolean().not_null().default(false))
                    // JSON list of {value, unit, qualifier}.
                    .col(text("measures"))
                    .col(text_null("evidence"))
                    .col(text("recorded_by"))
                    .col(text_null("verified_by"))
                    .col(ColumnDef::new(Alias::new("verified_on")).date().null())
                    .col(version())
                    .col(timestamp("created_at"))
                    .col(timestamp("updated_at"))
                    .foreign_key(&mut fk("service_records", "resident_id", "residents", ForeignKeyAction::Cascade))
                    .foreign_key(&mut fk("service_records", "activity_id", "activities", ForeignKeyAction::Cascade))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index("service_records", &["resident_id", "start_date"], false)).await?;
        manager.create_index(index("service_records", &["activity_id"], false)).await?;

        // Bearer tokens for staff tools, stored as SHA-256 hashes only.
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("api_tokens"))
                    .col(id())
                    .col(text("label"))
                    .col(text("token_hash"))
                    .col(timestamp("created_at"))
                    .col(timestamp_null("last_used_at"))
                    .col(timestamp_null("revoked_at"))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index("api_tokens", &["token_hash"], true)).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["api_tokens", "service_records", "activities", "consents", "residents", "communities"] {
            manager.drop_table(Table::drop().table(Alias::new(table)).to_owned()).await?;
        }
        Ok(())
    }
}
