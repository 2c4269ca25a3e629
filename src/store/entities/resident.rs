//! The `residents` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "residents")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub pinyin: String,
    pub slug: String,
    pub community_id: i64,
    pub citation: Option<String>,
    pub phone: Option<String>,
    pub id_number: Option<String>,
    pub birth_year: Option<i32>,
    pub address: Option<String>,
    /// Set when the resident was erased on request (PIPL Art. 47); the row is a tombstone.
    pub erased_at: Option<DateTimeUtc>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
