//! Who is asking: staff and their roles, the anonymous public, and the pieces of a request that
//! say so (the session cookie, the client's address). The faces turn these into their own answers:
//! the API's `StaffAuth` extractor and 401/403, the console's sign-in page.

use std::net::IpAddr;

use poem::Request;
use sha2::Sha256;

use crate::domain::policy::{any_allows, Action, Role};
use crate::store::audit::Actor;
use crate::store::residents::Visibility;
use crate::store::users;

/// The session cookie set by `POST /api/v1/sessions`.
pub const SESSION_COOKIE: &str = "youde_session";

/// A signed-in member of staff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staff {
    pub user_id: i64,
    pub username: String,
    pub name: String,
    pub roles: Vec<Role>,
    /// The root of the community subtree the roles reach; none: the whole deployment.
    pub scope: Option<i64>,
}

impl Staff {
    /// The policy table's answer, and the scope rule: an action on the deployment as a whole needs
    /// a grant that reaches all of it.
    pub fn may(&self, action: Action) -> bool {
        any_allows(&self.roles, action) && (self.scope.is_none() || action.is_scoped())
    }

    /// The residents this member of staff reaches, whatever their roles let them do with them:
    /// everyone, or their subtree.
    pub fn reach(&self) -> Visibility {
        match self.scope {
            None => Visibility::Staff,
            Some(root) => Visibility::Within(root),
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
            self.reach()
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
        scope: user.community_id,
    })
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

/// The client's address as the throttles count it ([`crate::service::ClientAddress`], put on
/// every request by the authentication middleware); `unknown` outside it.
pub fn client_address(req: &Request) -> String {
    req.extensions()
        .get::<crate::service::ClientAddress>()
        .map_or_else(|| "unknown".to_string(), |a| a.0.clone())
}

/// The session cookie (`Secure` is added over https by `router::routes`, for every cookie).
pub fn session_cookie(token: &str, max_age_seconds: i64) -> String {
    format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_seconds}")
}

/// Why a password was not accepted.
#[derive(Debug)]
pub enum SignInError {
    /// Unknown user, wrong password or a disabled account: one answer for all three.
    Wrong,
    /// The account or the address has failed too often.
    Throttled,
    Store(crate::store::StoreError),
}

impl From<crate::store::StoreError> for SignInError {
    fn from(err: crate::store::StoreError) -> Self {
        SignInError::Store(err)
    }
}

/// A fixed hash to verify against when the username is unknown, so both answers take as long.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| users::hash_password("youde-no-such-user-password"))
}

/// Check `password` against `user`'s (or, for an unknown user, a dummy hash that takes as long),
/// counted by the sign-in throttle: the attempt is recorded before the check, so concurrent
/// guesses cannot outrun the limit. `Ok(false)` for a wrong password.
pub async fn check_password(
    db: &sea_orm::DatabaseConnection,
    now: chrono::DateTime<chrono::Utc>,
    username: &str,
    user: Option<&crate::store::entities::user::Model>,
    password: &str,
    address: &str,
) -> Result<bool, SignInError> {
    let attempt = users::admit_password_attempt(db, username, address, now)
        .await?
        .ok_or(SignInError::Throttled)?;
    let stored = user.map_or_else(|| dummy_hash().to_string(), |u| u.password_hash.clone());
    let password = password.to_string();
    // A panic in the hash check counts as a wrong password (the attempt stays counted), logged.
    let matches = tokio::task::spawn_blocking(move || users::verify_password(&stored, &password))
        .await
        .unwrap_or_else(|err| {
            tracing::error!(error = %err, "password check did not finish");
            false
        });
    let matches = matches && user.is_some_and(|u| u.disabled_at.is_none());
    if matches {
        attempt.succeeded(db).await?;
    }
    Ok(matches)
}

/// Check a username and password, with throttling; the signed-in user on success.
pub async fn authenticate(
    db: &sea_orm::DatabaseConnection,
    now: chrono::DateTime<chrono::Utc>,
    username: &str,
    password: &str,
    address: &str,
) -> Result<crate::store::entities::user::Model, SignInError> {
    let user = users::find_by_username(db, username).await?;
    let matches = check_password(db, now, username, user.as_ref(), password, address).await?;
    match user {
        Some(user) if matches => Ok(user),
        _ => Err(SignInError::Wrong),
    }
}

#[cfg(test)]
mod tests {
    use super::{client_ip, Staff};
    use crate::domain::policy::{Action, Role};
    use crate::store::residents::Visibility;
    use std::net::IpAddr;

    fn admin(scope: Option<i64>) -> Staff {
        Staff {
            user_id: 1,
            username: "a".into(),
            name: "甲".into(),
            roles: vec![Role::Admin],
            scope,
        }
    }

    #[test]
    fn a_scoped_grant_reaches_its_subtree_and_nothing_of_the_whole_deployment() {
        let city = admin(None);
        let district = admin(Some(7));
        assert_eq!(city.reach(), Visibility::Staff);
        assert_eq!(district.reach(), Visibility::Within(7));
        assert_eq!(district.visibility(), Visibility::Within(7));
        for action in [
            Action::EditRegistry,
            Action::ReadAudit,
            Action::Decide,
            Action::ManageUsers,
            Action::Erase,
        ] {
            assert!(city.may(action) && district.may(action), "{action:?}");
        }
        for action in [
            Action::ManageCategories,
            Action::ManageSeal,
            Action::EditStories,
        ] {
            assert!(city.may(action), "{action:?}");
            assert!(
                !district.may(action),
                "{action:?} needs the whole deployment"
            );
        }
    }

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
