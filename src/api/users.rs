//! `/users`: staff accounts and roles (admins), and one's own password.

use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::auth::{address_hash, StaffAuth};
use super::error::{ApiError, ApiResult};
use super::etag::{etag, mismatch, IfMatch};
use super::pagination::{page, ListPage, PageRequest};
use super::write::Change;
use super::{ApiTags, Created};
use crate::domain::policy::{Action, Role};
use crate::domain::user::{check_password, UserDraft};
pub use crate::service::accounts::User;
use crate::service::auth;
use crate::state::AppState;
use crate::store::{communities, users};

super::write::audited!(User => "user");

#[derive(Debug, Object)]
#[oai(example)]
pub struct NewUser {
    /// 3–32 lower-case letters, digits, `-`, `_` or `.`.
    pub username: String,
    pub display_name: String,
    /// Any of `admin`, `nominator`, `reviewer`, `editor`.
    pub roles: Vec<String>,
    /// At least 10 characters.
    pub password: String,
    /// The community whose subtree the roles are granted for (a 街道 for its staff, a district
    /// for the district's); omit or null for the whole deployment. An admin who is scoped
    /// themselves must name a community in their own subtree (422 otherwise).
    pub community_id: Option<i64>,
}

super::example!(NewUser, { "username": "wangli", "display_name": "王丽", "roles": ["nominator"], "password": "a long enough passphrase" });

#[derive(Debug, Object)]
#[oai(example)]
pub struct UserUpdate {
    pub display_name: String,
    pub roles: Vec<String>,
    /// Replaced like the other fields: omit or null for the whole deployment (see `NewUser`).
    pub community_id: Option<i64>,
}

super::example!(UserUpdate, { "display_name": "王丽", "roles": ["nominator", "reviewer"] });

#[derive(Debug, Object)]
#[oai(example)]
pub struct PasswordChange {
    pub password: String,
    /// Needed when changing one's own password.
    pub current_password: Option<String>,
}

super::example!(PasswordChange, { "password": "a new long passphrase", "current_password": "the old passphrase" });

#[derive(ApiResponse)]
pub enum UserResponse {
    /// The user.
    #[oai(status = 200)]
    Ok(Json<User>, #[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum NoContent {
    /// Done.
    #[oai(status = 204)]
    Ok,
}

async fn hash(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || users::hash_password(&password))
        .await
        .map_err(|_| ApiError::internal())
}

/// Refuse a change that would leave no active admin of the whole deployment (a scoped admin
/// cannot manage categories or the seal, nor grant beyond their subtree).
async fn keep_an_admin(state: &AppState, id: i64, still_admin: bool) -> Result<(), ApiError> {
    if still_admin {
        return Ok(());
    }
    let others = users::list(&state.db, None, 10_000, None)
        .await?
        .items
        .into_iter()
        .filter(|u| {
            u.id != id
                && u.disabled_at.is_none()
                && u.community_id.is_none()
                && users::roles(u).contains(&Role::Admin)
        });
    if others.count() == 0 {
        return Err(ApiError::conflict(
            "这是最后一位管理员，不能取消其管理员角色或停用",
        ));
    }
    Ok(())
}

/// User `id`, when an admin scoped to a subtree reaches them: their grant lies in it (404
/// otherwise, as for any object outside one's scope).
pub(crate) async fn reach_user(
    state: &AppState,
    staff: &auth::Staff,
    id: i64,
) -> Result<crate::store::entities::user::Model, ApiError> {
    let m = users::get(&state.db, id).await?;
    if let Some(root) = staff.scope {
        let inside = match m.community_id {
            Some(c) => communities::is_within(&state.db, c, root).await?,
            None => false,
        };
        if !inside {
            return Err(ApiError::not_found("user"));
        }
    }
    Ok(m)
}

/// The community a grant names, checked: it exists, and an admin scoped themselves grants only
/// inside their own subtree (never the whole deployment).
async fn grantable(
    state: &AppState,
    staff: &auth::Staff,
    community_id: Option<i64>,
) -> Result<Option<i64>, ApiError> {
    let exists = match community_id {
        Some(c) => match staff.scope {
            Some(root) => communities::is_within(&state.db, c, root).await?,
            None => communities::get(&state.db, c).await.is_ok(),
        },
        None => staff.scope.is_none(),
    };
    if !exists {
        let what = community_id.map_or_else(|| "全部社区".to_string(), |c| format!("社区 {c}"));
        return Err(ApiError::field(
            "community_id",
            format!("{what}不在您可授权的范围内"),
        ));
    }
    Ok(community_id)
}

/// The account `id` when it is the caller's own, or one an admin manages and reaches; anyone
/// else's is "not found".
async fn own_or_managed(
    state: &AppState,
    staff: &super::auth::Staff,
    id: i64,
) -> Result<crate::store::entities::user::Model, ApiError> {
    if staff.user_id == id {
        Ok(users::get(&state.db, id).await?)
    } else if staff.may(Action::ManageUsers) {
        reach_user(state, staff, id).await
    } else {
        Err(ApiError::not_found("user"))
    }
}

pub struct UsersApi;

#[OpenApi(tag = "ApiTags::Accounts")]
impl UsersApi {
    /// List users
    ///
    /// Permission: `manage_users`.
    #[oai(path = "/users", method = "get")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        limit: Query<Option<u64>>,
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<ListPage<User>>> {
        let staff = auth.require(Action::ManageUsers)?;
        let req = PageRequest::parse(limit.0, cursor.0.as_deref())?;
        let rows = users::list(&state.db, req.after, req.limit, staff.scope).await?;
        Ok(Json(page(rows, |m| User::from(&m))))
    }

    /// Create a user
    ///
    /// Permission: `manage_users`.
    #[oai(path = "/users", method = "post")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        body: Json<NewUser>,
    ) -> ApiResult<Created<User>> {
        let staff = auth.require(Action::ManageUsers)?;
        let draft = UserDraft::parse(&body.username, &body.display_name, &body.roles)?
            .scoped_to(grantable(&state, staff, body.community_id).await?);
        check_password(&draft.username, &body.password)?;
        let password_hash = hash(body.0.password).await?;
        let txn = Change::begin(&state.db, state.clock.now(), staff).await?;
        let m = users::insert(&txn, &draft, password_hash, state.clock.now()).await?;
        let dto = User::from(&m);
        txn.created(&dto).await?;
        Ok(Created::at("/api/v1/users", etag(m.id, m.version), dto))
    }

    /// Get a user
    ///
    /// Admins see everyone; others only themselves (anyone else is "not found").
    ///
    /// Permission: any signed-in staff.
    #[oai(path = "/users/:id", method = "get")]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<i64>,
    ) -> ApiResult<UserResponse> {
        let m = own_or_managed(&state, auth.staff(), id.0).await?;
        Ok(UserResponse::Ok(
            Json(User::from(&m)),
            etag(m.id, m.version),
        ))
    }

    /// Change a user's name and roles
    ///
    /// Permission: `manage_users`.
    #[oai(path = "/users/:id", method = "put")]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<i64>,
        #[oai(name = "If-Match")] if_match: IfMatch,
        body: Json<UserUpdate>,
    ) -> ApiResult<UserResponse> {
        let staff = auth.require(Action::ManageUsers)?;
        let current = reach_user(&state, staff, id.0).await?;
        let version = if_match.check(id.0, current.version)?;
        let draft = UserDraft::parse(&current.username, &body.display_name, &body.roles)?
            .scoped_to(grantable(&state, staff, body.community_id).await?);
        let still_admin = draft.roles.contains(&Role::Admin) && draft.community_id.is_none();
        keep_an_admin(&state, id.0, still_admin).await?;
        let txn = Change::begin(&state.db, state.clock.now(), staff).await?;
        let m = users::update(&txn, id.0, version, &draft, state.clock.now())
            .await
            .map_err(mismatch(id.0))?;
        let dto = User::from(&m);
        txn.updated(&User::from(&current), &dto).await?;
        Ok(UserResponse::Ok(Json(dto), etag(m.id, m.version)))
    }

    /// Set a password
    ///
    /// One's own (with `current_password`), or anyone's for an admin. Every session of the user
    /// ends and every API token of theirs is revoked. A wrong `current_password` counts as a failed
    /// sign-in of the account (after 5 within 15 minutes: 429).
    ///
    /// Permission: any signed-in staff.
    #[oai(path = "/users/:id/password", method = "post")]
    async fn password(
        &self,
        state: Data<&AppState>,
        req: &poem::Request,
        auth: StaffAuth,
        id: Path<i64>,
        body: Json<PasswordChange>,
    ) -> ApiResult<NoContent> {
        let staff = auth.staff();
        let user = own_or_managed(&state, staff, id.0).await?;
        if staff.user_id == id.0 {
            // Counted as a sign-in: a stolen session must not become a way to guess the password.
            let current = body.current_password.as_deref().unwrap_or_default();
            let address = address_hash(req);
            let now = state.clock.now();
            let matches = auth::check_password(
                &state.db,
                now,
                &user.username,
                Some(&user),
                current,
                &address,
            )
            .await
            .map_err(super::sessions::refused)?;
            if !matches {
                return Err(ApiError::field("current_password", "当前密码不正确"));
            }
        }
        check_password(&user.username, &body.password)?;
        let password_hash = hash(body.0.password).await?;
        let txn = Change::begin(&state.db, state.clock.now(), staff).await?;
        users::set_password_hash(&txn, id.0, password_hash, state.clock.now()).await?;
        txn.commit_audited("user.password", "user", id.0, None, None)
            .await?;
        Ok(NoContent::Ok)
    }

    /// Disable a user
    ///
    /// Ends their sessions and revokes their tokens.
    ///
    /// Permission: `manage_users`.
    #[oai(path = "/users/:id/disable", method = "post")]
    async fn disable(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<i64>,
    ) -> ApiResult<Json<User>> {
        let staff = auth.require(Action::ManageUsers)?;
        if staff.user_id == id.0 {
            return Err(ApiError::conflict("不能停用自己的账号"));
        }
        let before = reach_user(&state, staff, id.0).await?;
        if users::roles(&before).contains(&Role::Admin) {
            keep_an_admin(&state, id.0, false).await?;
        }
        let txn = Change::begin(&state.db, state.clock.now(), staff).await?;
        let m = User::from(&users::set_disabled(&txn, id.0, true, state.clock.now()).await?);
        txn.done("disable", Some(&User::from(&before)), Some(&m))
            .await?;
        Ok(Json(m))
    }

    /// Enable a user
    ///
    /// Permission: `manage_users`.
    #[oai(path = "/users/:id/enable", method = "post")]
    async fn enable(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<i64>,
    ) -> ApiResult<Json<User>> {
        let staff = auth.require(Action::ManageUsers)?;
        let before = reach_user(&state, staff, id.0).await?;
        let txn = Change::begin(&state.db, state.clock.now(), staff).await?;
        let m = User::from(&users::set_disabled(&txn, id.0, false, state.clock.now()).await?);
        txn.done("enable", Some(&User::from(&before)), Some(&m))
            .await?;
        Ok(Json(m))
    }
}
