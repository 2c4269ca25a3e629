//! Data minimisation: what is kept only as long as it is needed.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::entities::objection::{Column, Entity};
use super::StoreResult;

/// What an objector's contact becomes once it is no longer needed.
pub const FORGOTTEN_CONTACT: &str = "";

/// Clear the contact details of objections decided before `decided_before` (the objector was
/// answered; the decision, the content and the receipt stay). Returns how many were cleared.
pub async fn forget_objector_contacts(
    db: &impl ConnectionTrait,
    decided_before: DateTime<Utc>,
) -> StoreResult<u64> {
    let result = Entity::update_many()
        .col_expr(Column::ObjectorContact, Expr::value(FORGOTTEN_CONTACT))
        .filter(Column::DecidedAt.is_not_null())
        .filter(Column::DecidedAt.lt(decided_before))
        .filter(Column::ObjectorContact.ne(FORGOTTEN_CONTACT))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}
