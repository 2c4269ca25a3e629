//! `/audit`: the audit log, for admins.

use poem::web::Data;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::OpenApi;

use super::auth::StaffAuth;
use super::error::ApiResult;
use super::pagination::{page, ListPage, PageRequest};
use super::ApiTags;
use crate::domain::policy::Action;
pub use crate::service::accounts::AuditEvent;
use crate::state::AppState;
use crate::store::audit;

pub struct AuditApi;

#[OpenApi(tag = "ApiTags::Accounts")]
impl AuditApi {
    /// Read the audit log
    ///
    /// Oldest first; filter by entity, actor, action and time.
    ///
    /// Permission: `read_audit`.
    #[oai(path = "/audit", method = "get")]
    #[allow(clippy::too_many_arguments)]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        /// e.g. `resident`, `nomination`, `consent`.
        entity_kind: Query<Option<String>>,
        entity_id: Query<Option<i64>>,
        actor_user_id: Query<Option<i64>>,
        action: Query<Option<String>>,
        since: Query<Option<chrono::DateTime<chrono::Utc>>>,
        until: Query<Option<chrono::DateTime<chrono::Utc>>>,
        limit: Query<Option<u64>>,
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<ListPage<AuditEvent>>> {
        let staff = auth.require(Action::ReadAudit)?;
        let req = PageRequest::parse(limit.0, cursor.0.as_deref())?;
        let rows = audit::list(
            &state.db,
            audit::Filter {
                after: req.after,
                limit: req.limit,
                entity_kind: entity_kind.0,
                entity_id: entity_id.0,
                actor_user_id: actor_user_id.0,
                action: action.0,
                since: since.0,
                until: until.0,
                by_staff_within: staff.scope,
            },
        )
        .await?;
        Ok(Json(page(rows, AuditEvent::from)))
    }
}
