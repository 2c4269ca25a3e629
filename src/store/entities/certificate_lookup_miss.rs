//! The `certificate_lookup_misses` table: failed public certificate look-ups, per client address.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "certificate_lookup_misses")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub address_hash: String,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
