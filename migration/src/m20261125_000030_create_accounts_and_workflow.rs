//! Accounts (users, sessions, login attempts, token owners), the recognition workflow (categories,
//! nominations, supporting statements, public notices, objections, recognitions) and the audit log.

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

fn big_null(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .big_integer()
        .null()
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("users"))
                    .col(id())
                    .col(text("username"))
                    .col(text("display_name"))
                    .col(text("password_hash"))
                    // Comma-separated roles: admin, nominator, reviewer, editor.
                    .col(text("roles"))
                    .col(timestamp_null("disabled_at"))
                    .col(version())
                    .col(timestamp("created_at"))
                    .col(timestamp("updated_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("users", &["username"], true))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Alias::new("sessions"))
                    .col(id())
                    .col(text("token_hash"))
                    .col(big("user_id"))
                    .col(timestamp("created_at"))
                    .col(timestamp("last_seen_at"))
                    .col(timestamp("expires_at"))
                    .foreign_key(&mut fk(
                        "sessions",
                        "user_id",
                        "users",
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("sessions", &["token_hash"], true))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Alias::new("login_attempts"))
                    .col(id())
                    .col(text("username"))
                    // SHA-256 of the client address: enough to throttle, not an address log.
                    .col(text("address_hash"))
                    .col(ColumnDef::new(Alias::new("succeeded")).boolean().not_null())
                    .col(timestamp("at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("login_attempts", &["username", "at"], false))
            .await?;
        manager
            .create_index(index("login_attempts", &["address_hash", "at"], false))
            .await?;

        // Tokens now belong to a user; tokens made before accounts existed are given to the first
        // admin at start-up.
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("api_tokens"))
                    .add_column(big_null("user_id"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Alias::new("categories"))
                    .col(id())
                    .col(text("code"))
                    .col(text("name"))
                    // national: the five 道德模范 / 中国好人榜 categories; local: managed by admins.
                    .col(text("origin"))
                    .col(
                        ColumnDef::new(Alias::new("active"))
                            .boolean()
                            .not_null()
                            .default(true),
                    )
                    .col(version())
                    .col(timestamp("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("categories", &["code"], true))
            .await?;
        for (code, name, origin) in [
            ("helping_others", "助人为乐", "national"),
            ("courage", "见义勇为", "national"),
            ("honesty", "诚实守信", "national"),
            ("dedication", "敬业奉献", "national"),
            ("filial_piety", "孝老爱亲", "national"),
            ("community_governance", "社区治理", "local"),
            ("volunteering", "志愿服务", "local"),
        ] {
            manager
                .exec_stmt(
                    Query::insert()
                        .into_table(Alias::new("categories"))
                        .columns([
                            Alias::new("code"),
                            Alias::new("name"),
                            Alias::new("origin"),
                            Alias::new("active"),
                            Alias::new("version"),
                            Alias::new("created_at"),
                        ])
                        .values_panic([
                            code.into(),
                            name.into(),
                            origin.into(),
                            true.into(),
                            1.into(),
                            Expr::current_timestamp().into(),
                        ])
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(Alias::new("nominations"))
                    .col(id())
                    .col(big("resident_id"))
                    .col(big("category_id"))
                    .col(text("honour_title"))
                    .col(ColumnDef::new(Alias::new("year")).integer().not_null())
                    .col(text("citation"))
                    .col(big("nominator_id"))
                    .col(text("state"))
                    .col(version())
                    .col(timestamp("created_at"))
                    .col(timestamp("updated_at"))
                    .foreign_key(&mut fk(
                        "nominations",
                        "resident_id",
                        "residents",
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "nominations",
                        "category_id",
                        "categories",
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "nominations",
                        "nominator_id",
                        "users",
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("nominations", &["state"], false))
            .await?;
        manager
            .create_index(index("nominations", &["resident_id"], false))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Alias::new("nomination_statements"))
                    .col(id())
                    .col(big("nomination_id"))
                    .col(ColumnDef::new(Alias::new("position")).integer().not_null())
                    .col(text("author"))
                    .col(text("relation"))
                    .col(text("body"))
                    .foreign_key(&mut fk(
                        "nomination_statements",
                        "nomination_id",
                        "nominations",
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("nomination_statements", &["nomination_id"], false))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Alias::new("public_notices"))
                    .col(id())
                    .col(big("nomination_id"))
                    .col(timestamp("opens_at"))
                    .col(timestamp("closes_at"))
                    .col(big("opened_by"))
                    .col(timestamp("created_at"))
                    .foreign_key(&mut fk(
                        "public_notices",
                        "nomination_id",
                        "nominations",
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("public_notices", &["nomination_id"], true))
            .await?;
        manager
            .create_index(index("public_notices", &["closes_at"], false))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Alias::new("objections"))
                    .col(id())
                    .col(big("notice_id"))
                    .col(text("receipt_code"))
                    // Private: the objector's real name and contact, for reviewers only.
                    .col(text("objector_name"))
                    .col(text("objector_contact"))
                    .col(text("content"))
                    .col(text("address_hash"))
                    .col(text("state"))
                    .col(text_null("resolution_note"))
                    .col(big_null("decided_by"))
                    .col(timestamp_null("decided_at"))
                    .col(version())
                    .col(timestamp("created_at"))
                    .col(timestamp("updated_at"))
                    .foreign_key(&mut fk(
                        "objections",
                        "notice_id",
                        "public_notices",
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("objections", &["receipt_code"], true))
            .await?;
        manager
            .create_index(index("objections", &["notice_id"], false))
            .await?;
        manager
            .create_index(index("objections", &["address_hash", "created_at"], false))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Alias::new("recognitions"))
                    .col(id())
                    .col(big("nomination_id"))
                    .col(big("resident_id"))
                    .col(big("category_id"))
                    .col(text("title"))
                    .col(ColumnDef::new(Alias::new("year")).integer().not_null())
                    .col(text("citation"))
                    .col(
                        ColumnDef::new(Alias::new("recognised_on"))
                            .date()
                            .not_null(),
                    )
                    .col(big("recognised_by"))
                    .col(timestamp_null("revoked_at"))
                    .col(text_null("revoke_reason"))
                    .col(version())
                    .col(timestamp("created_at"))
                    .foreign_key(&mut fk(
                        "recognitions",
                        "nomination_id",
                        "nominations",
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "recognitions",
                        "resident_id",
                        "residents",
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "recognitions",
                        "category_id",
                        "categories",
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("recognitions", &["nomination_id"], true))
            .await?;
        manager
            .create_index(index("recognitions", &["resident_id"], false))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Alias::new("audit_events"))
                    .col(id())
                    .col(big_null("actor_user_id"))
                    .col(text("actor_name"))
                    .col(text("action"))
                    .col(text("entity_kind"))
                    .col(big("entity_id"))
                    .col(text_null("before"))
                    .col(text_null("after"))
                    .col(timestamp("at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("audit_events", &["entity_kind", "entity_id"], false))
            .await?;
        manager
            .create_index(index("audit_events", &["at"], false))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "audit_events",
            "recognitions",
            "objections",
            "public_notices",
            "nomination_statements",
            "nominations",
            "categories",
            "login_attempts",
            "sessions",
            "users",
        ] {
            manager
                .drop_table(Table::drop().table(Alias::new(table)).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("api_tokens"))
                    .drop_column(Alias::new("user_id"))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}
