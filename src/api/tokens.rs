//! `/tokens`: API tokens for tools. A token is shown once, when made; only its hash is kept.

use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::auth::{Require, StaffAuth};
use super::error::{ApiError, ApiResult};
use super::etag::etag;
use super::validation_text;
use super::write::Change;
use super::{ApiTags, Created};
use crate::domain::policy::Action;
pub use crate::service::accounts::Token;
use crate::state::AppState;
use crate::store::tokens;

super::write::audited!(Token => "token");

/// A new token: `token` is shown this once.
#[derive(Debug, Object)]
pub struct IssuedToken {
    pub id: i64,
    pub label: String,
    /// Use as `Authorization: Bearer <token>`. It cannot be shown again.
    pub token: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Object)]
#[oai(example)]
pub struct TokenInput {
    /// What the token is for, e.g. "newsletter layout tool".
    pub label: String,
}

super::example!(TokenInput, { "label": "通讯编辑部导出" });

pub struct TokensApi;

#[OpenApi(tag = "ApiTags::Accounts")]
impl TokensApi {
    /// List tokens
    ///
    /// One's own; admins may pass `all=true` for everyone's (a scoped admin: of the accounts
    /// granted inside their subtree).
    ///
    /// Permission: any signed-in staff.
    #[oai(path = "/tokens", method = "get")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        all: Query<Option<bool>>,
    ) -> ApiResult<Json<Vec<Token>>> {
        let staff = auth.staff();
        let owner = if all.0 == Some(true) {
            staff.require(Action::ManageUsers)?;
            None
        } else {
            Some(staff.user_id)
        };
        let rows = tokens::list(
            &state.db,
            owner,
            owner.is_none().then_some(staff.scope).flatten(),
        )
        .await?;
        Ok(Json(rows.iter().map(Token::from).collect()))
    }

    /// Issue a token
    ///
    /// Permission: any signed-in staff.
    #[oai(path = "/tokens", method = "post")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        body: Json<TokenInput>,
    ) -> ApiResult<Created<IssuedToken>> {
        let staff = auth.staff();
        let label = validation_text("label", &body.label, 100)?;
        let secret = tokens::generate();
        let txn = Change::begin(&state.db, state.clock.now(), staff).await?;
        let m = tokens::insert(&txn, Some(staff.user_id), &label, &secret).await?;
        txn.done("issue", None, Some(&Token::from(&m))).await?;
        let (location, tag) = (format!("/api/v1/tokens/{}", m.id), etag(m.id, 1));
        let issued = IssuedToken {
            id: m.id,
            label: m.label,
            token: secret,
            created_at: m.created_at,
        };
        Ok(Created::new(location, tag, issued))
    }

    /// Revoke a token
    ///
    /// One's own, or anyone's for an admin (a scoped admin: of accounts granted inside their
    /// subtree); another user's token is "not found".
    ///
    /// Permission: any signed-in staff.
    #[oai(path = "/tokens/:id", method = "delete")]
    async fn revoke(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<i64>,
    ) -> ApiResult<Json<Token>> {
        let staff = auth.staff();
        let token = tokens::get(&state.db, id.0).await?;
        if token.user_id != Some(staff.user_id) {
            // Another's: an admin's to revoke, when the account is one they reach.
            let reached = match (staff.may(Action::ManageUsers), token.user_id) {
                (false, _) => false,
                (true, None) => staff.scope.is_none(),
                (true, Some(owner)) => super::users::reach_user(&state, staff, owner).await.is_ok(),
            };
            if !reached {
                return Err(ApiError::not_found("token"));
            }
        }
        let txn = Change::begin(&state.db, state.clock.now(), staff).await?;
        let m = Token::from(&tokens::revoke(&txn, id.0, state.clock.now()).await?);
        txn.done("revoke", Some(&Token::from(&token)), Some(&m))
            .await?;
        Ok(Json(m))
    }
}
