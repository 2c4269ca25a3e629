//! The JSON API under `/api/v1`, described by poem-openapi: one `#[OpenApi]` struct per resource,
//! combined in [`service`]. Reads are public and show only public data; writes need a staff token.

// Every file here is a module, and every `#[OpenApi] impl` in one joins the service: a new
// resource is a new file, with no line to add here (see `build.rs`).
automod::dir!(pub "src/api");

use poem_openapi::payload::Json;
use poem_openapi::types::{ParseFromJSON, ToJSON};
use poem_openapi::{ApiResponse, Object, OpenApiService, Tags};
use serde_json::Value;

use error::ApiError;

#[derive(Tags)]
pub enum ApiTags {
    /// 社区: 区 › 街道 › 居民区 › 小区
    Communities,
    /// 居民 and their derived service summary
    Residents,
    /// 服务记录: evidenced facts of service
    ServiceRecords,
    /// 活动: dated events that write a record per participant
    Activities,
    /// 同意: separate consent per scope (PIPL Art. 25); staff only
    Consents,
    /// 提名 → 评审 → 公示 (异议) → 表彰
    Workflow,
    /// Sign-in, users and roles, API tokens, the audit log
    Accounts,
    /// 编辑: stories, newsletter issues (期), featured stories and export packs
    Editorial,
    /// 照片: uploads, derivatives and captions; public only with everyone's portrait consent
    Photos,
    /// 搜索: by name, pinyin, initials or what people did
    Search,
    /// 名册: rosters in (check, then commit) and out (exports)
    Imports,
}

/// A request body's example, written as the JSON a client sends: the document shows it, Swagger
/// UI's "Try it out" starts from it, and the role matrix (`tests/api/roles.rs`) sends it. The
/// body's `#[derive(Object)]` carries `#[oai(example)]`; the role matrix fails for a JSON body
/// without one.
macro_rules! example {
    ($ty:ty, $json:tt) => {
        impl poem_openapi::types::Example for $ty {
            fn example() -> Self {
                let json = serde_json::json!($json);
                <$ty as poem_openapi::types::ParseFromJSON>::parse_from_json(Some(json))
                    .unwrap_or_else(|e| {
                        panic!("the example of {} parses: {}", stringify!($ty), e.message())
                    })
            }
        }
    };
}
pub(crate) use example;

/// Why a recognition or a certificate is revoked (kept for staff and the audit log).
#[derive(Debug, Object)]
#[oai(example)]
pub struct RevokeInput {
    pub reason: String,
}

example!(RevokeInput, { "reason": "经核查，事迹材料与事实不符" });

/// `201 Created` with `Location` and `ETag`.
#[derive(ApiResponse)]
pub enum Created<T: ParseFromJSON + ToJSON + Send + Sync> {
    /// Created.
    #[oai(status = 201)]
    Created(
        Json<T>,
        #[oai(header = "Location")] String,
        #[oai(header = "ETag")] String,
    ),
}

impl<T: ParseFromJSON + ToJSON + Send + Sync> Created<T> {
    pub fn new(location: String, etag: String, body: T) -> Self {
        Created::Created(Json(body), location, etag)
    }
}

impl<T: write::Audited + ParseFromJSON + Send + Sync> Created<T> {
    /// The new resource at `{collection}/{id}`.
    pub fn at(collection: &str, etag: String, body: T) -> Self {
        let location = format!("{collection}/{}", body.audit_id());
        Created::Created(Json(body), location, etag)
    }
}

/// `204 No Content`.
#[derive(ApiResponse)]
pub enum Deleted {
    /// Deleted.
    #[oai(status = 204)]
    NoContent,
}

/// A required text field, trimmed and length-checked, or a 422 naming it.
pub fn validation_text(field: &str, value: &str, max: usize) -> Result<String, ApiError> {
    let mut errors = crate::domain::ValidationErrors::default();
    let value = crate::domain::validation::required_text(&mut errors, field, value, max);
    Ok(errors.finish(|| value)?)
}

/// A resource as the audit log keeps it: its staff view, as JSON.
pub fn snap<T: ToJSON>(dto: &T) -> Option<Value> {
    dto.to_json()
}

include!(concat!(env!("OUT_DIR"), "/api_resources.rs"));

pub fn service() -> OpenApiService<impl poem_openapi::OpenApi, ()> {
    OpenApiService::new(resources(), "有德 Youde API", env!("CARGO_PKG_VERSION"))
        .description(description())
        .server("/api/v1")
}

/// The document's description: the conventions, then the permissions each role has, from the
/// policy table itself. Each staff operation's description ends in the permission it needs
/// ("Permission: `edit_registry`."); `tests/api/roles.rs` reads those and checks every role's
/// answer against this table.
fn description() -> String {
    use crate::domain::policy::{allows, Action, Role};
    use std::fmt::Write as _;
    let mut text = String::from(
        "长寿路街道有德之士登记系统。Reads are public and return only consented public data. \
         Staff sign in with a bearer token (`Authorization: Bearer <token>`) or the console's \
         session; they see more and may write as their roles' permissions allow (below). \
         Errors are `{\"error\": {\"code\", \"message\", \"details\"}}`. Lists take `limit` \
         and an opaque `cursor`. Mutable resources return an `ETag`; updates need `If-Match` \
         (412 on mismatch, 428 when missing).",
    );
    text.push_str(
        "\n\nPermissions (a role is granted for a community subtree, or the whole deployment; \
         an operation without one is public):\n",
    );
    for action in Action::ALL {
        let roles: Vec<&str> = Role::ALL
            .into_iter()
            .filter(|role| allows(*role, action))
            .map(Role::code)
            .collect();
        let _ = write!(
            text,
            "\n- `{}`: {} ({})",
            action.code(),
            action.summary(),
            roles.join(", ")
        );
    }
    text
}
