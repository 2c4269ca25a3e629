//! Youde's schema. Migrations are the only source of the schema, in tests too; they are
//! append-only: a breaking change is expand → backfill → contract in new files.
//!
//! Every `src/m<date>_<time>_<name>.rs` is a migration, applied in file-name order; `build.rs`
//! writes the list, so a new migration is only its new file.

pub use sea_orm_migration::prelude::*;

include!(concat!(env!("OUT_DIR"), "/migrations.rs"));

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        listed()
    }
}
