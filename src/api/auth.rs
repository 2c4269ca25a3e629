//! The authorisation guard. Every request passes [`Authenticate`], which turns a bearer token or a
//! session cookie into a [`Viewer`]; every write operation takes a [`StaffAuth`] and asks
//! [`Staff::require`] for the [`Action`] it performs — the one policy table in
//! `domain::policy` decides. Deny by default.

use std::net::IpAddr;

use poem::http::header::AUTHORIZATION;
use poem::{Endpoint, Middleware, Request, RequestBody};
use poem_openapi::auth::{ApiKey, Bearer};
use poem_openapi::registry::Registry;
use poem_openapi::{ApiExtractor, ApiExtractorType, ExtractParamOptions, SecurityScheme};
use sha2::{Digest, Sha256};

use super::error::ApiError;
use crate::domain::policy::Action;
pub use crate::service::auth::{
    client_ip, constant_time_eq, cookie, keyed_hash, session_token, staff_of, Staff, Viewer,
    SESSION_COOKIE,
};
use crate::state::AppState;
use crate::store::{tokens, users};

/// 403 unless the policy table lets one of the member of staff's roles do `action`.
pub trait Require {
    fn require(&self, action: Action) -> Result<(), ApiError>;
}

impl Require for Staff {
    fn require(&self, action: Action) -> Result<(), ApiError> {
        if self.may(action) {
            Ok(())
        } else {
            Err(ApiError::forbidden())
        }
    }
}

fn signed_in(req: &Request) -> poem::Result<Staff> {
    match req.extensions().get::<Viewer>() {
        Some(Viewer::Staff(staff)) => Ok(staff.clone()),
        _ => Err(ApiError::unauthorized("unauthorized", "请先登录，或提供有效的令牌").into()),
    }
}

/// Staff bearer token (`Authorization: Bearer <token>`): an API token issued to a user, or the
/// configured `YOUDE_ADMIN_TOKEN` (acting as the first admin). Declared for the OpenAPI document;
/// [`StaffAuth`] does the checking.
#[derive(SecurityScheme)]
#[oai(ty = "bearer")]
#[allow(dead_code)] // declared for the OpenAPI document only
pub struct BearerToken(Bearer);

/// The session cookie `youde_session` of a signed-in user (browser use). Declared for the OpenAPI
/// document; [`StaffAuth`] does the checking.
#[derive(SecurityScheme)]
#[oai(ty = "api_key", key_name = "youde_session", key_in = "cookie")]
#[allow(dead_code)] // declared for the OpenAPI document only
pub struct SessionCookie(ApiKey);

/// A signed-in member of staff, by bearer token or session cookie. The [`Authenticate`]
/// middleware has already resolved either into a [`Viewer`]; this extractor admits only staff (401
/// otherwise) and documents both schemes as alternatives.
pub struct StaffAuth(Staff);

impl<'a> ApiExtractor<'a> for StaffAuth {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::SecurityScheme];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        <BearerToken as ApiExtractor>::register(registry);
        <SessionCookie as ApiExtractor>::register(registry);
    }

    fn security_schemes() -> Vec<&'static str> {
        vec!["BearerToken", "SessionCookie"]
    }

    async fn from_request(
        req: &'a Request,
        _body: &mut RequestBody,
        _opts: ExtractParamOptions<()>,
    ) -> poem::Result<Self> {
        signed_in(req).map(StaffAuth)
    }
}

impl StaffAuth {
    pub fn staff(&self) -> &Staff {
        &self.0
    }

    /// The signed-in user, if the policy allows them `action`.
    pub fn require(&self, action: Action) -> Result<&Staff, ApiError> {
        self.0.require(action)?;
        Ok(&self.0)
    }
}

async fn from_token(
    state: &AppState,
    db: &impl sea_orm::ConnectionTrait,
    token: &str,
) -> crate::store::StoreResult<Option<Staff>> {
    if let Some(admin_token) = &state.admin_token {
        // Compare digests so the comparison takes the same time whatever the input's length.
        let (a, b) = (
            Sha256::digest(admin_token.as_bytes()),
            Sha256::digest(token.as_bytes()),
        );
        if constant_time_eq(&a, &b) {
            return Ok(users::first_admin(db).await?.and_then(staff_of));
        }
    }
    let Some(t) = tokens::find_active(db, token).await? else {
        return Ok(None);
    };
    let user = match t.user_id {
        Some(id) => users::get(db, id).await.ok(),
        None => users::first_admin(db).await?,
    };
    Ok(user.and_then(staff_of))
}

async fn from_session(state: &AppState, token: &str) -> Result<Option<Staff>, ApiError> {
    Ok(users::session_user(&state.db, token, state.clock.now())
        .await?
        .and_then(staff_of))
}

/// Resolves the caller into a [`Viewer`] request extension. A bearer token that is given but not
/// valid is refused outright (401) rather than silently treated as anonymous; an expired session
/// cookie just means "anonymous" (the browser will be asked to sign in again).
pub struct Authenticate;

impl<E: Endpoint> Middleware<E> for Authenticate {
    type Output = AuthenticateEndpoint<E>;
    fn transform(&self, ep: E) -> Self::Output {
        AuthenticateEndpoint { inner: ep }
    }
}

pub struct AuthenticateEndpoint<E> {
    inner: E,
}

impl<E: Endpoint> Endpoint for AuthenticateEndpoint<E> {
    type Output = E::Output;

    async fn call(&self, mut req: Request) -> poem::Result<Self::Output> {
        let state = req
            .data::<AppState>()
            .expect("AppState is attached to every route")
            .clone();
        let viewer = match req.headers().get(AUTHORIZATION) {
            Some(value) => {
                let token = value
                    .to_str()
                    .ok()
                    .and_then(|v| {
                        v.strip_prefix("Bearer ")
                            .or_else(|| v.strip_prefix("bearer "))
                    })
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .ok_or_else(|| {
                        ApiError::unauthorized(
                            "invalid_token",
                            "Authorization 请求头应为 Bearer <token>",
                        )
                    })?;
                let address = address_hash(&req);
                let checked =
                    users::check_bearer(&state.db, &address, state.clock.now(), async |db| {
                        from_token(&state, db, token).await
                    })
                    .await
                    .map_err(ApiError::from)?;
                match checked {
                    Ok(Some(staff)) => Viewer::Staff(staff),
                    Ok(None) => {
                        return Err(
                            ApiError::unauthorized("invalid_token", "令牌无效或已被撤销").into(),
                        )
                    }
                    Err(users::Throttled) => {
                        return Err(ApiError::too_many("认证失败次数过多，请 15 分钟后再试").into())
                    }
                }
            }
            None => match session_token(&req) {
                Some(token) => from_session(&state, &token)
                    .await?
                    .map_or(Viewer::Anonymous, Viewer::Staff),
                None => Viewer::Anonymous,
            },
        };
        req.extensions_mut().insert(viewer);
        // For the throttles of the pages that do not sit in this module's layer.
        let address = crate::service::ClientAddress(address_hash(&req));
        req.extensions_mut().insert(address);
        self.inner.call(req).await
    }
}

/// A client address as the throttles store it: an HMAC-SHA256 under the deployment's secret
/// address key (see `store::secrets`), enough to count by without keeping addresses, and not
/// reversible by hashing all 2³² IPv4 addresses.
pub fn address_hash(req: &Request) -> String {
    let state = req.data::<AppState>();
    let trusted: &[IpAddr] = state.map_or(&[], |s| &s.trusted_proxies);
    // Every X-Forwarded-For line, in order: a proxy may add its own line after the client's.
    let forwarded: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let forwarded = (!forwarded.is_empty()).then(|| forwarded.join(","));
    let peer = req.remote_addr().as_socket_addr().map(|a| a.ip());
    let addr = client_ip(peer, forwarded.as_deref(), trusted)
        .map(|ip| ip.to_string())
        .unwrap_or_else(|| "unknown".into());
    let key: &[u8] = state.map_or(&[], |s| &s.address_key);
    keyed_hash(key, &addr)
}
