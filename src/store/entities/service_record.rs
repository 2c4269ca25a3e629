//! The `service_records` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "service_records")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub resident_id: i64,
    pub activity_id: Option<i64>,
    pub kind: String,
    pub title: String,
    pub organisation: Option<String>,
    pub start_date: String,
    pub end_date: Option<String>,
    pub unpaid: bool,
    pub measures: String,
    pub evidence: Option<String>,
    pub recorded_by: String,
    pub verified_by: Option<String>,
    pub verified_on: Option<Date>,
    /// The staff account that recorded it (none for records from before accounts, or the demo).
    pub recorded_by_user_id: Option<i64>,
    /// The staff account that verified it, through the verify action only.
    pub verified_by_user_id: Option<i64>,
    /// Partial date an ongoing record was last confirmed (最后核实).
    pub confirmed_on: Option<String>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
