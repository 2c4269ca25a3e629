//! Certificates (证书) anyone can verify: one row per issued certificate with its number
//! (unique per year and sequence), its unguessable verification code and what it states; a
//! counter row per year from which numbers are taken inside the issuing transaction, so they run
//! without gaps or duplicates; and the failed public look-ups, which throttle guessing.

use sea_orm_migration::prelude::*;

use crate::m20261125_000001_create_registry_tables::{
    fk, id, index, text, text_null, timestamp, timestamp_null, version,
};
use crate::m20261125_000010_create_photos::{big_integer as big, integer as int};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("certificate_counters"))
                    .col(
                        ColumnDef::new(Alias::new("year"))
                            .integer()
                            .not_null()
                            .primary_key(),
                    )
                    // The last sequence number given out in the year.
                    .col(int("last"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("certificates"))
                    .col(id())
                    // `recognition` (荣誉证书); `hours` (志愿服务记录证明) comes with volunteer hours.
                    .col(text("kind"))
                    .col(
                        ColumnDef::new(Alias::new("recognition_id"))
                            .big_integer()
                            .null(),
                    )
                    .col(big("resident_id"))
                    .col(int("year"))
                    .col(int("seq"))
                    .col(text("number"))
                    .col(text("verification_code"))
                    // What the certificate states, as printed (a later change to the honour or
                    // the settings does not rewrite a certificate already handed over).
                    .col(text("holder_name"))
                    .col(text("title"))
                    .col(text("category"))
                    .col(text("citation"))
                    .col(text("issuing_body"))
                    .col(text("signatory"))
                    .col(ColumnDef::new(Alias::new("issued_on")).date().not_null())
                    .col(big("issued_by"))
                    .col(
                        ColumnDef::new(Alias::new("superseded_by"))
                            .big_integer()
                            .null(),
                    )
                    .col(timestamp_null("superseded_at"))
                    .col(timestamp_null("revoked_at"))
                    .col(text_null("revoke_reason"))
                    .col(version())
                    .col(timestamp("created_at"))
                    .foreign_key(&mut fk(
                        "certificates",
                        "recognition_id",
                        "recognitions",
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "certificates",
                        "resident_id",
                        "residents",
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        for (columns, unique) in [
            (&["year", "seq"][..], true),
            (&["number"][..], true),
            (&["verification_code"][..], true),
            (&["recognition_id"][..], false),
        ] {
            manager
                .create_index(index("certificates", columns, unique))
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("certificate_lookup_misses"))
                    .col(id())
                    // HMAC of the client address, as the other throttles keep it.
                    .col(text("address_hash"))
                    .col(timestamp("at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "certificate_lookup_misses",
                &["address_hash", "at"],
                false,
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "certificate_lookup_misses",
            "certificates",
            "certificate_counters",
        ] {
            manager
                .drop_table(Table::drop().table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
