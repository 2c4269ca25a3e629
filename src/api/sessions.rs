//! `/sessions`: sign-in with username and password (a session cookie), sign-out, and "who am I".
//! Failed sign-ins are throttled per account and per client address.

use poem::web::Data;
use poem::Request;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::auth::{address_hash, session_token, StaffAuth};
use super::error::{ApiError, ApiResult};
use super::ApiTags;
use crate::domain::policy::{Action, Role};
use crate::service::auth::{authenticate, session_cookie, SignInError};
use crate::state::AppState;
use crate::store::users::{self, SESSION_ABSOLUTE};

#[derive(Debug, Object)]
#[oai(example)]
pub struct LoginInput {
    pub username: String,
    pub password: String,
}

super::example!(LoginInput, { "username": "wangli", "password": "the account's password" });

/// The signed-in user and what their roles allow.
#[derive(Debug, Object)]
pub struct Me {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    /// `admin`, `nominator`, `reviewer`, `editor`.
    pub roles: Vec<String>,
    /// What the policy table allows these roles, e.g. `nominate`, `review`, `decide`.
    pub permissions: Vec<String>,
}

const PERMISSIONS: [(Action, &str); 9] = [
    (Action::ReadPrivate, "read_private"),
    (Action::EditRegistry, "edit_registry"),
    (Action::ManageConsent, "manage_consent"),
    (Action::Nominate, "nominate"),
    (Action::Review, "review"),
    (Action::Decide, "decide"),
    (Action::ManageCategories, "manage_categories"),
    (Action::ManageUsers, "manage_users"),
    (Action::ReadAudit, "read_audit"),
];

pub fn me(user_id: i64, username: &str, display_name: &str, roles: &[Role]) -> Me {
    Me {
        id: user_id,
        username: username.to_string(),
        display_name: display_name.to_string(),
        roles: roles.iter().map(|r| r.code().to_string()).collect(),
        permissions: PERMISSIONS
            .iter()
            .filter(|(a, _)| crate::domain::policy::any_allows(roles, *a))
            .map(|(_, name)| name.to_string())
            .collect(),
    }
}

#[derive(ApiResponse)]
pub enum LoginResponse {
    /// Signed in; the session cookie is set (HttpOnly, SameSite=Lax, Secure over https).
    #[oai(status = 201)]
    Ok(Json<Me>, #[oai(header = "Set-Cookie")] String),
}

#[derive(ApiResponse)]
pub enum LogoutResponse {
    /// Signed out; the cookie is cleared.
    #[oai(status = 204)]
    Ok(#[oai(header = "Set-Cookie")] String),
}

/// The API's answer to a refused sign-in.
pub fn refused(err: SignInError) -> ApiError {
    match err {
        SignInError::Wrong => ApiError::unauthorized("invalid_credentials", "用户名或密码不正确"),
        SignInError::Throttled => ApiError::too_many("登录失败次数过多，请 15 分钟后再试"),
        SignInError::Store(err) => err.into(),
    }
}

pub struct SessionsApi;

#[OpenApi(tag = "ApiTags::Accounts")]
impl SessionsApi {
    /// Sign in
    ///
    /// Sets the session cookie. Sessions end after 2 hours without use and 12 hours after sign-in.
    /// After 5 failed password checks for one account, or 20 failures from one address (bad bearer
    /// tokens included), within 15 minutes: 429, without checking the password. Attempts sent at
    /// once are counted one by one.
    #[oai(path = "/sessions", method = "post")]
    async fn login(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: Json<LoginInput>,
    ) -> ApiResult<LoginResponse> {
        let address = address_hash(req);
        let user = authenticate(
            &state.db,
            state.clock.now(),
            &body.username,
            &body.password,
            &address,
        )
        .await
        .map_err(refused)?;
        // A fresh token at every sign-in: a session id planted before sign-in is worthless.
        if let Some(old) = session_token(req) {
            users::end_session(&state.db, &old).await?;
        }
        let token = users::create_session(&state.db, user.id, state.clock.now()).await?;
        let cookie = session_cookie(&token, SESSION_ABSOLUTE.num_seconds());
        let roles = users::roles(&user);
        Ok(LoginResponse::Ok(
            Json(me(user.id, &user.username, &user.display_name, &roles)),
            cookie,
        ))
    }

    /// Who am I
    ///
    /// Permission: any signed-in staff.
    #[oai(path = "/sessions/current", method = "get")]
    async fn current(&self, auth: StaffAuth) -> ApiResult<Json<Me>> {
        let s = auth.staff();
        Ok(Json(me(s.user_id, &s.username, &s.name, &s.roles)))
    }

    /// Sign out
    #[oai(path = "/sessions/current", method = "delete")]
    async fn logout(&self, state: Data<&AppState>, req: &Request) -> ApiResult<LogoutResponse> {
        if let Some(token) = session_token(req) {
            users::end_session(&state.db, &token).await?;
        }
        Ok(LogoutResponse::Ok(session_cookie("", 0)))
    }
}
