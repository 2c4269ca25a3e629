//! The `photo_residents` table: who a photo shows.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "photo_residents")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub photo_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub resident_id: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
