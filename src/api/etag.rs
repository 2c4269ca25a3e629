//! ETags and `If-Match`: every mutable resource carries a version; an update must name the
//! version it read (428 without `If-Match`, 412 when someone changed it since).

use poem::{Request, RequestBody};
use poem_openapi::param::Header;
use poem_openapi::registry::{MetaParamIn, MetaSchemaRef, Registry};
use poem_openapi::types::Type;
use poem_openapi::{ApiExtractor, ApiExtractorType, ExtractParamOptions};

use super::error::ApiError;
use crate::store::StoreError;

/// The ETag of version `version` of resource `id`.
pub fn etag(id: i64, version: i32) -> String {
    format!("\"{id}-{version}\"")
}

/// A strong ETag of a response body, as the page cache makes them.
pub use crate::cache::etag_of_content as of_content;

/// Check `If-Match` against the current version and return the version to write against. The
/// store's update repeats the comparison atomically, so a change that slips in between still
/// fails (see [`mismatch`]). Comparison is strong (RFC 9110 §13.1.1): a weak tag `W/"…"` never
/// matches.
pub fn check_if_match(
    if_match: Option<&str>,
    id: i64,
    current_version: i32,
) -> Result<i32, ApiError> {
    let header = if_match
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .ok_or_else(ApiError::precondition_required)?;
    let current = etag(id, current_version);
    let matches = header == "*" || header.split(',').map(str::trim).any(|t| t == current);
    if matches {
        Ok(current_version)
    } else {
        Err(ApiError::version_mismatch(current))
    }
}

/// Map a store error of an update, giving a version mismatch the resource's real ETag.
pub fn mismatch(id: i64) -> impl FnOnce(StoreError) -> ApiError {
    move |err| match err {
        StoreError::VersionMismatch { current } => ApiError::version_mismatch(etag(id, current)),
        other => other.into(),
    }
}

/// The `If-Match` header of an update, as an operation parameter (declare it as
/// `#[oai(name = "If-Match")] if_match: IfMatch`): optional in the document, so that its absence
/// is answered 428 by [`IfMatch::check`] in the order the write path decides, not 400 by the
/// framework.
pub struct IfMatch(Option<String>);

impl IfMatch {
    /// The version to write against, or 428 / 412 (see [`check_if_match`]).
    pub fn check(&self, id: i64, current_version: i32) -> Result<i32, ApiError> {
        check_if_match(self.0.as_deref(), id, current_version)
    }
}

impl<'a> ApiExtractor<'a> for IfMatch {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::Parameter];
    const PARAM_IS_REQUIRED: bool = false;
    type ParamType = Option<String>;
    type ParamRawType = String;

    fn register(registry: &mut Registry) {
        <Option<String> as Type>::register(registry);
    }

    fn param_in() -> Option<MetaParamIn> {
        Some(MetaParamIn::Header)
    }

    fn param_schema_ref() -> Option<MetaSchemaRef> {
        Some(<Option<String> as Type>::schema_ref())
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        let header = <Header<Option<String>>>::from_request(request, body, param_opts).await?;
        Ok(IfMatch(header.0))
    }
}
