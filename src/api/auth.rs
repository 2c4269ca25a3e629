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
use crate::domain::policy::{any_allows, Action, Role};
use crate::state::AppState;
use crate::store::audit::Actor;
use crate::store::residents::Visibility;
use crate::store::{tokens, users};

/// The session cookie set by `POST /api/v1/sessions`.
pub const SESSION_COOKIE: &str = "youde_session";

/// A signed-in member of staff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staff {
    pub user_id: i64,
    pub username: String,
    pub name: String,
    pub roles: Vec<Role>,
}

impl Staff {
    pub fn may(&self, action: Action) -> bool {
        any_allows(&self.roles, action)
    }

    /// 403 unless the policy table lets one of this user's roles do `action`.
    pub fn require(&self, action: Action) -> Result<(), ApiError> {
        if self.may(action) {
            Ok(())
        } else {
            Err(ApiError::forbidden())
        }
    }

    pub fn actor(&self) -> Actor {
        Actor {
            user_id: Some(self.user_id),
            name: self.name.clone(),
        }
    }

    pub fn visibility(&self) -> Visibility {
        if self.may(Action::ReadPrivate) {
            Visibility::Staff
        } else {
            Visibility::Public
        }
    }
}

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Viewer {
    Anonymous,
    Staff(Staff),
}

impl Viewer {
    /// Staff whose roles allow reading private data see everything; everyone else the public view.
    pub fn visibility(&self) -> Visibility {
        match self {
            Viewer::Anonymous => Visibility::Public,
            Viewer::Staff(staff) => staff.visibility(),
        }
    }

    pub fn staff(&self) -> Option<&Staff> {
        match self {
            Viewer::Staff(staff) => Some(staff),
            Viewer::Anonymous => None,
        }
    }

    pub fn may(&self, action: Action) -> bool {
        self.staff().is_some_and(|s| s.may(action))
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

/// Compare secrets in time that does not depend on where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The member of staff a user account acts as; none while it is disabled.
pub fn staff_of(user: crate::store::entities::user::Model) -> Option<Staff> {
    if user.disabled_at.is_some() {
        return None;
    }
    let roles = users::roles(&user);
    Some(Staff {
        user_id: user.id,
        username: user.username,
        name: user.display_name,
        roles,
    })
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

/// The value of the cookie `name` in the request, if any.
pub fn cookie(req: &Request, name: &str) -> Option<String> {
    req.headers()
        .get_all(poem::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|header| {
            header.split(';').map(str::trim).find_map(|pair| {
                pair.strip_prefix(name)
                    .and_then(|rest| rest.strip_prefix('='))
                    .map(str::to_string)
            })
        })
}

/// The session token in the request's cookies, if any.
pub fn session_token(req: &Request) -> Option<String> {
    cookie(req, SESSION_COOKIE)
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

/// The client's address: the socket's peer, or — when the peer is a trusted proxy — the last
/// address in `X-Forwarded-For` that is not itself a trusted proxy (the entries before it could
/// be made up by the client).
pub fn client_ip(
    peer: Option<IpAddr>,
    forwarded_for: Option<&str>,
    trusted: &[IpAddr],
) -> Option<IpAddr> {
    let peer = peer?;
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    let Some(header) = forwarded_for else {
        return Some(peer);
    };
    for hop in header.split(',').map(str::trim).rev() {
        match parse_hop(hop) {
            Some(ip) if trusted.contains(&ip) => continue,
            Some(ip) => return Some(ip),
            // A malformed entry: nothing before it can be trusted; count it as the last proxy.
            None => break,
        }
    }
    Some(peer)
}

/// One `X-Forwarded-For` entry: `203.0.113.9`, `203.0.113.9:4711`, `2001:db8::1` or
/// `[2001:db8::1]:4711`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse() {
        return Some(ip);
    }
    if let Ok(addr) = hop.parse::<std::net::SocketAddr>() {
        return Some(addr.ip());
    }
    hop.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .and_then(|h| h.parse().ok())
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

/// HMAC-SHA256 of `value` under `key`, in hex.
pub fn keyed_hash(key: &[u8], value: &str) -> String {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(value.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::client_ip;
    use std::net::IpAddr;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client_whatever_the_header_says() {
        let got = client_ip(Some(ip("203.0.113.9")), Some("1.2.3.4"), &[]);
        assert_eq!(got, Some(ip("203.0.113.9")));
    }

    #[test]
    fn behind_a_trusted_proxy_each_visitor_is_counted_apart() {
        let proxy = [ip("10.0.0.2")];
        let a = client_ip(Some(ip("10.0.0.2")), Some("198.51.100.7"), &proxy);
        let b = client_ip(Some(ip("10.0.0.2")), Some("198.51.100.8"), &proxy);
        assert_eq!(a, Some(ip("198.51.100.7")));
        assert_eq!(b, Some(ip("198.51.100.8")));
    }

    #[test]
    fn a_forged_first_entry_does_not_escape_the_throttle() {
        // The client sent "X-Forwarded-For: 1.1.1.1"; the proxy appended the real address.
        let proxy = [ip("10.0.0.2")];
        let got = client_ip(Some(ip("10.0.0.2")), Some("1.1.1.1, 198.51.100.7"), &proxy);
        assert_eq!(got, Some(ip("198.51.100.7")));
        // Two proxies in a row: the last untrusted hop is the client.
        let two = [ip("10.0.0.2"), ip("10.0.0.3")];
        let got = client_ip(Some(ip("10.0.0.2")), Some("198.51.100.7, 10.0.0.3"), &two);
        assert_eq!(got, Some(ip("198.51.100.7")));
        // Ports and bracketed IPv6, as some proxies write them.
        let got = client_ip(Some(ip("10.0.0.2")), Some("198.51.100.7:4711"), &proxy);
        assert_eq!(got, Some(ip("198.51.100.7")));
        let got = client_ip(Some(ip("10.0.0.2")), Some("[2001:db8::7]:4711"), &proxy);
        assert_eq!(got, Some(ip("2001:db8::7")));
        // Garbage where the proxy's entry should be: fall back to the proxy itself.
        let got = client_ip(Some(ip("10.0.0.2")), Some("198.51.100.7, nonsense"), &proxy);
        assert_eq!(got, Some(ip("10.0.0.2")));
    }
}
