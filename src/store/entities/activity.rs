//! The `activities` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "activities")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub title: String,
    pub date: String,
    pub place: Option<String>,
    pub organiser: Option<String>,
    pub description: Option<String>,
    pub unpaid: bool,
    /// Default hours per participant; each participant's own hours are the 小时 measure of their
    /// record of the activity.
    #[sea_orm(column_type = "Double", nullable)]
    pub hours: Option<f64>,
    pub recorded_by: String,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
