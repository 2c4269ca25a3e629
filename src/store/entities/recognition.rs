//! The `recognitions` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "recognitions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub nomination_id: i64,
    pub resident_id: i64,
    pub category_id: i64,
    pub title: String,
    pub year: i32,
    pub citation: String,
    pub recognised_on: Date,
    pub recognised_by: i64,
    pub revoked_at: Option<DateTimeUtc>,
    pub revoke_reason: Option<String>,
    pub version: i32,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
