//! Youde's schema. Migrations are the only source of the schema, in tests too; they are
//! append-only: a breaking change is expand → backfill → contract in new files.

pub use sea_orm_migration::prelude::*;

mod m20261125_000001_create_registry_tables;
mod m20261125_000010_create_photos;
mod m20261125_000020_create_search_outbox;
mod m20261125_000030_create_accounts_and_workflow;
mod m20261125_000040_create_stories_and_issues;
mod m20261125_000050_story_photos;
mod m20261125_000060_index_published_stories;
mod m20261130_010000_server_secrets_and_pruning;
mod m20261130_020001_resident_erasure;
mod m20261130_020002_record_verification;
mod m20261130_020003_record_confirmed_on;
mod m20261130_050001_list_filter_indexes;
mod m20261130_060001_create_certificates;
mod m20261130_140001_activity_hours;
mod m20261130_140002_create_imports;
mod m20261130_200001_hours_certificates;
mod m20261130_200002_certificate_seals;
mod m20261201_000001_user_scope;
mod m20261201_000002_slug_prefix_indexes;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_create_registry_tables::Migration),
            Box::new(m20261125_000010_create_photos::Migration),
            Box::new(m20261125_000020_create_search_outbox::Migration),
            Box::new(m20261125_000030_create_accounts_and_workflow::Migration),
            Box::new(m20261125_000040_create_stories_and_issues::Migration),
            Box::new(m20261125_000050_story_photos::Migration),
            Box::new(m20261125_000060_index_published_stories::Migration),
            Box::new(m20261130_010000_server_secrets_and_pruning::Migration),
            Box::new(m20261130_020001_resident_erasure::Migration),
            Box::new(m20261130_020002_record_verification::Migration),
            Box::new(m20261130_020003_record_confirmed_on::Migration),
            Box::new(m20261130_050001_list_filter_indexes::Migration),
            Box::new(m20261130_060001_create_certificates::Migration),
            Box::new(m20261130_140001_activity_hours::Migration),
            Box::new(m20261130_140002_create_imports::Migration),
            Box::new(m20261130_200001_hours_certificates::Migration),
            Box::new(m20261130_200002_certificate_seals::Migration),
            Box::new(m20261201_000001_user_scope::Migration),
            Box::new(m20261201_000002_slug_prefix_indexes::Migration),
        ]
    }
}
