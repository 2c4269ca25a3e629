//! The `objections` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "objections")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub notice_id: i64,
    pub receipt_code: String,
    pub objector_name: String,
    pub objector_contact: String,
    pub content: String,
    pub address_hash: String,
    pub state: String,
    pub resolution_note: Option<String>,
    pub decided_by: Option<i64>,
    pub decided_at: Option<DateTimeUtc>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
