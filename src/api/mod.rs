//! The JSON API under `/api/v1`, described by poem-openapi: one `#[OpenApi]` struct per resource,
//! combined in [`service`]. Reads are public and show only public data; writes need a staff token.

pub mod activities;
pub mod auth;
pub mod communities;
pub mod consents;
pub mod error;
pub mod etag;
pub mod pagination;
pub mod residents;
pub mod search;
pub mod service_records;

use poem_openapi::payload::Json;
use poem_openapi::types::{ParseFromJSON, ToJSON};
use poem_openapi::{ApiResponse, OpenApiService, Tags};

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
    /// 搜索: by name, pinyin, initials or what people did
    Search,
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

/// `204 No Content`.
#[derive(ApiResponse)]
pub enum Deleted {
    /// Deleted.
    #[oai(status = 204)]
    NoContent,
}

pub type Apis = (
    communities::CommunitiesApi,
    residents::ResidentsApi,
    service_records::ServiceRecordsApi,
    activities::ActivitiesApi,
    consents::ConsentsApi,
    search::SearchApi,
);

pub fn service() -> OpenApiService<Apis, ()> {
    OpenApiService::new(
        (
            communities::CommunitiesApi,
            residents::ResidentsApi,
            service_records::ServiceRecordsApi,
            activities::ActivitiesApi,
            consents::ConsentsApi,
            search::SearchApi,
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
