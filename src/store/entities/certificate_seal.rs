//! The `certificate_seals` table: one row per uploaded seal; the latest is in use.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "certificate_seals")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub object_key: String,
    pub sha256: String,
    pub width: i32,
    pub height: i32,
    pub size_bytes: i64,
    pub uploaded_by: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
