//! The `photos` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "photos")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub owner_kind: String,
    pub resident_id: Option<i64>,
    pub activity_id: Option<i64>,
    pub story_id: Option<i64>,
    pub caption: Option<String>,
    pub credit: Option<String>,
    pub alt: Option<String>,
    pub taken_on: Option<String>,
    pub source_sha256: String,
    pub source_format: String,
    pub width: i32,
    pub height: i32,
    pub uploaded_by: String,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
