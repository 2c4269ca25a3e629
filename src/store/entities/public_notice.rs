//! The `public_notices` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "public_notices")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub nomination_id: i64,
    pub opens_at: DateTimeUtc,
    pub closes_at: DateTimeUtc,
    pub opened_by: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
