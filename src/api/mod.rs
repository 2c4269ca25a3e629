//! The JSON API under `/api/v1`, described by poem-openapi: one `#[OpenApi]` struct per resource,
//! combined in [`service`]. Reads are public and show only public data; writes need a staff token.

pub mod activities;
pub mod audit_log;
pub mod auth;
pub mod categories;
pub mod certificates;
pub mod communities;
pub mod consents;
pub mod error;
pub mod etag;
pub mod exports;
pub mod imports;
pub mod issues;
pub mod nominations;
pub mod notices;
pub mod pagination;
pub mod photos;
pub mod recognitions;
pub mod residents;
pub mod search;
pub mod service_records;
pub mod sessions;
pub mod stories;
pub mod text_guard;
pub mod tokens;
pub mod users;
pub mod write;

use poem_openapi::payload::Json;
use poem_openapi::types::{ParseFromJSON, ToJSON};
use poem_openapi::{ApiResponse, OpenApiService, Tags};
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

pub fn service() -> OpenApiService<impl poem_openapi::OpenApi, ()> {
    OpenApiService::new(
        (
            (
                communities::CommunitiesApi,
                residents::ResidentsApi,
                service_records::ServiceRecordsApi,
                activities::ActivitiesApi,
            ),
            (
                consents::ConsentsApi,
                categories::CategoriesApi,
                nominations::NominationsApi,
                notices::NoticesApi,
            ),
            (
                recognitions::RecognitionsApi,
                certificates::CertificatesApi,
                sessions::SessionsApi,
                users::UsersApi,
                tokens::TokensApi,
                audit_log::AuditApi,
            ),
            (
                stories::StoriesApi,
                issues::IssuesApi,
                photos::PhotosApi,
                search::SearchApi,
                imports::ImportsApi,
                exports::ExportsApi,
            ),
        ),
        "有德 Youde API",
        env!("CARGO_PKG_VERSION"),
    )
    .description(
        "长寿路街道有德之士登记系统。Reads are public and return only consented public data; \
         a staff bearer token (`Authorization: Bearer <token>`) sees everything and may write. \
         Errors are `{\"error\": {\"code\", \"message\", \"details\"}}`. Lists take `limit` and an \
         opaque `cursor`. Mutable resources return an `ETag`; updates need `If-Match` \
         (412 on mismatch, 428 when missing).",
    )
    .server("/api/v1")
}
