//! The `imports` table: a checked roster upload waiting for (or done with) its commit.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "imports")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub kind: String,
    pub file_name: String,
    pub content: Vec<u8>,
    pub sha256: String,
    pub report: String,
    pub created_by: String,
    pub created_at: DateTimeUtc,
    pub committed_by: Option<String>,
    pub committed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
