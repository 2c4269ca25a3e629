//! The `nominations` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "nominations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub resident_id: i64,
    pub category_id: i64,
    pub honour_title: String,
    pub year: i32,
    pub citation: String,
    pub nominator_id: i64,
    pub state: String,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
