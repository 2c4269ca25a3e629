//! Data minimisation: what is kept only as long as it is needed.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use super::entities::objection::{Column, Entity};
use super::{audit, StoreResult};

/// What an objector's contact becomes once it is no longer needed.
pub const FORGOTTEN_CONTACT: &str = "";

/// Clear the contact details of objections decided before `decided_before` (the objector was
/// answered; the decision, the content and the receipt stay), in the objection and in the
/// snapshots of its audit events. Returns how many objections were cleared. Run it in a
/// transaction: the row and its history are cleared together.
pub async fn forget_objector_contacts(
    db: &impl ConnectionTrait,
    decided_before: DateTime<Utc>,
) -> StoreResult<u64> {
    let ids: Vec<i64> = Entity::find()
        .select_only()
        .column(Column::Id)
        .filter(Column::DecidedAt.is_not_null())
        .filter(Column::DecidedAt.lt(decided_before))
        .filter(Column::ObjectorContact.ne(FORGOTTEN_CONTACT))
        .into_tuple()
        .all(db)
        .await?;
    for chunk in ids.chunks(500) {
        Entity::update_many()
            .col_expr(Column::ObjectorContact, Expr::value(FORGOTTEN_CONTACT))
            .filter(Column::Id.is_in(chunk.to_vec()))
            .exec(db)
            .await?;
    }
    for id in &ids {
        audit::redact(db, "objection", *id, &["objector_contact"]).await?;
    }
    Ok(ids.len() as u64)
}
