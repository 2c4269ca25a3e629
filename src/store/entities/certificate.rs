//! The `certificates` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "certificates")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub kind: String,
    pub recognition_id: Option<i64>,
    pub resident_id: i64,
    pub year: i32,
    pub seq: i32,
    pub number: String,
    pub verification_code: String,
    pub holder_name: String,
    pub title: String,
    pub category: String,
    pub citation: String,
    pub issuing_body: String,
    pub signatory: String,
    pub issued_on: Date,
    pub issued_by: i64,
    pub superseded_by: Option<i64>,
    pub superseded_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
    pub revoke_reason: Option<String>,
    /// 志愿服务记录证明 only: the period, the hours in it, the masked ID number as printed.
    pub period_start: Option<Date>,
    pub period_end: Option<Date>,
    #[sea_orm(column_type = "Double", nullable)]
    pub hours: Option<f64>,
    pub masked_id_number: Option<String>,
    pub version: i32,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
