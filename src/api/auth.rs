//! The authorisation guard. Every request passes [`Authenticate`], which turns the bearer token (if
//! any) into a [`Viewer`]; every write operation takes a [`StaffAuth`], which admits only staff.
//! The accounts work replaces what is checked here (users and roles), not where it sits.

use poem::http::header::AUTHORIZATION;
use poem::{Endpoint, Middleware, Request};
use poem_openapi::auth::Bearer;
use poem_openapi::SecurityScheme;
use sha2::{Digest, Sha256};

use super::error::ApiError;
use crate::app::AppState;
use crate::store::residents::Visibility;
use crate::store::tokens;

/// A signed-in member of staff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staff {
    /// Who is acting, for "recorded by" defaults and (later) the audit log.
    pub name: String,
}

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Viewer {
    Anonymous,
    Staff(Staff),
}

impl Viewer {
    pub fn visibility(&self) -> Visibility {
        match self {
            Viewer::Anonymous => Visibility::Public,
            Viewer::Staff(_) => Visibility::Staff,
        }
    }

    pub fn is_staff(&self) -> bool {
        matches!(self, Viewer::Staff(_))
    }
}

/// Staff bearer token (`Authorization: Bearer <token>`): the configured `YOUDE_ADMIN_TOKEN`, the
/// token printed once at first start, or any other token issued for a tool.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", checker = "staff_checker")]
pub struct StaffAuth(pub Staff);

async fn staff_checker(req: &Request, _bearer: Bearer) -> poem::Result<Staff> {
    match req.extensions().get::<Viewer>() {
        Some(Viewer::Staff(staff)) => Ok(staff.clone()),
        _ => Err(ApiError::unauthorized("unauthorized", "需要有效的令牌").into()),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn resolve(state: &AppState, token: &str) -> Result<Option<Staff>, ApiError> {
    if let Some(admin) = &state.admin_token {
        // Compare digests so the comparison takes the same time whatever the input's length.
        let (a, b) = (Sha256::digest(admin.as_bytes()), Sha256::digest(token.as_bytes()));
        if constant_time_eq(&a, &b) {
            return Ok(Some(Staff { name: "admin".into() }));
        }
    }
    Ok(tokens::find_active(&state.db, token).await?.map(|t| Staff { name: t.label }))
}

/// Resolves the bearer token into a [`Viewer`] request extension. A token that is given but not
/// valid is refused outright (401) rather than silently treated as anonymous.
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
        let viewer = match req.headers().get(AUTHORIZATION) {
            None => Viewer::Anonymous,
            Some(value) => {
                let token = value
                    .to_str()
                    .ok()
                    .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .ok_or_else(|| ApiError::unauthorized("invalid_token", "Authorization 请求头应为 Bearer <token>"))?;
                let state = req.data::<AppState>().expect("AppState is attached to every route");
                match resolve(state, token).await? {
                    Some(staff) => Viewer::Staff(staff),
                    None => return Err(ApiError::unauthorized("invalid_token", "令牌无效或已被撤销").into()),
                }
            }
        };
        req.extensions_mut().insert(viewer);
        self.inner.call(req).await
    }
}
