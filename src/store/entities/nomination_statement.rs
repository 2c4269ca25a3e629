//! The `nomination_statements` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "nomination_statements")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub nomination_id: i64,
    pub position: i32,
    pub author: String,
    pub relation: String,
    pub body: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
