//! The one place where failures become HTTP. Every error body is
//! `{"error": {"code", "message", "details"}}` with a stable `code`; internal causes are logged
//! and never sent.

use poem::http::StatusCode;
use poem::{Endpoint, IntoResponse, Response};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object};
use serde_json::{json, Value};

use crate::domain::ValidationErrors;
use crate::media::processing::ProcessingError;
use crate::media::MediaError;
use crate::roster::sheet::SheetError;
use crate::store::StoreError;

#[derive(Debug, Clone, Object)]
pub struct ErrorInfo {
    /// Stable machine-readable code, e.g. `validation_failed`, `not_found`, `version_mismatch`.
    pub code: String,
    /// Human-readable explanation (Chinese).
    pub message: String,
    /// Structured details: for `validation_failed`, `{"fields": [{"field", "message"}]}`.
    pub details: Option<Value>,
}

#[derive(Debug, Clone, Object)]
pub struct ErrorBody {
    pub error: ErrorInfo,
}

fn body(code: &str, message: impl Into<String>, details: Option<Value>) -> Json<ErrorBody> {
    Json(ErrorBody {
        error: ErrorInfo {
            code: code.into(),
            message: message.into(),
            details,
        },
    })
}

/// Every error an operation may answer with.
#[derive(Debug, ApiResponse)]
pub enum ApiError {
    /// Malformed request (e.g. an invalid cursor).
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// Missing or invalid bearer token.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorBody>),
    /// The token is valid but may not do this.
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
    /// No such resource (or not visible to the caller).
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// The change conflicts with other data.
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
    /// `If-Match` does not match the current `ETag`.
    #[oai(status = 412)]
    PreconditionFailed(Json<ErrorBody>),
    /// The request body is too large.
    #[oai(status = 413)]
    PayloadTooLarge(Json<ErrorBody>),
    /// The body is not `application/json`, or an upload is not a JPEG, PNG or WebP image.
    #[oai(status = 415)]
    UnsupportedMediaType(Json<ErrorBody>),
    /// One or more fields are invalid; `details.fields` names each.
    #[oai(status = 422)]
    Unprocessable(Json<ErrorBody>),
    /// Updates need `If-Match` with the resource's `ETag`.
    #[oai(status = 428)]
    PreconditionRequired(Json<ErrorBody>),
    /// Too many attempts; try again later.
    #[oai(status = 429)]
    TooManyRequests(Json<ErrorBody>),
    /// Something went wrong on our side; the cause is in the server log.
    #[oai(status = 500)]
    Internal(Json<ErrorBody>),
    /// A service this operation needs (the search engine) is unavailable; try again shortly.
    #[oai(status = 503)]
    ServiceUnavailable(Json<ErrorBody>),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// The Chinese message, for fronts other than HTTP (the CLI).
    pub fn message(&self) -> &str {
        match self {
            ApiError::BadRequest(b)
            | ApiError::Unauthorized(b)
            | ApiError::Forbidden(b)
            | ApiError::NotFound(b)
            | ApiError::Conflict(b)
            | ApiError::PreconditionFailed(b)
            | ApiError::PayloadTooLarge(b)
            | ApiError::UnsupportedMediaType(b)
            | ApiError::Unprocessable(b)
            | ApiError::PreconditionRequired(b)
            | ApiError::TooManyRequests(b)
            | ApiError::Internal(b)
            | ApiError::ServiceUnavailable(b) => &b.0.error.message,
        }
    }

    pub fn not_found(what: &str) -> Self {
        ApiError::NotFound(body(
            "not_found",
            format!("{}不存在", chinese_name(what)),
            Some(json!({ "resource": what })),
        ))
    }

    /// 404 with its own code and message (e.g. `certificate_not_found`).
    pub fn not_found_code(code: &str, message: impl Into<String>) -> Self {
        ApiError::NotFound(body(code, message, None))
    }

    pub fn bad_request(code: &str, message: impl Into<String>) -> Self {
        ApiError::BadRequest(body(code, message, None))
    }

    pub fn unauthorized(code: &str, message: impl Into<String>) -> Self {
        ApiError::Unauthorized(body(code, message, None))
    }

    pub fn forbidden() -> Self {
        ApiError::Forbidden(body("forbidden", "当前账号的角色不能进行这项操作", None))
    }

    /// 403 with its own code and message (e.g. `conflict_of_interest`).
    pub fn forbidden_code(code: &str, message: impl Into<String>) -> Self {
        ApiError::Forbidden(body(code, message, None))
    }

    pub fn too_many(message: impl Into<String>) -> Self {
        ApiError::TooManyRequests(body("too_many_requests", message, None))
    }

    pub fn conflict_code(code: &str, message: impl Into<String>, details: Option<Value>) -> Self {
        ApiError::Conflict(body(code, message, details))
    }

    /// 422 with its own code, message and details (e.g. `import_invalid` with the problems).
    pub fn unprocessable(code: &str, message: impl Into<String>, details: Value) -> Self {
        ApiError::Unprocessable(body(code, message, Some(details)))
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        ApiError::Conflict(body("conflict", message, None))
    }

    pub fn validation(errors: &ValidationErrors) -> Self {
        let fields: Vec<Value> = errors
            .0
            .iter()
            .map(|e| json!({ "field": e.field, "message": e.message }))
            .collect();
        ApiError::Unprocessable(body(
            "validation_failed",
            format!("提交的内容有误：{errors}"),
            Some(json!({ "fields": fields })),
        ))
    }

    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::validation(&ValidationErrors::single(field, message))
    }

    pub fn precondition_required() -> Self {
        ApiError::PreconditionRequired(body(
            "if_match_required",
            "修改需要带上 If-Match 请求头（取自上次读取时的 ETag），以免覆盖别人的修改",
            None,
        ))
    }

    pub fn version_mismatch(current_etag: String) -> Self {
        ApiError::PreconditionFailed(body(
            "version_mismatch",
            "内容已被他人修改，请重新读取后再提交",
            Some(json!({ "current_etag": current_etag })),
        ))
    }

    pub fn search_unavailable() -> Self {
        ApiError::ServiceUnavailable(body(
            "search_unavailable",
            "搜索暂时不可用，请稍后再试",
            None,
        ))
    }

    pub fn internal() -> Self {
        ApiError::Internal(body("internal", "服务器内部错误，请稍后再试", None))
    }
}

fn chinese_name(what: &str) -> &str {
    match what {
        "resident" => "居民",
        "community" => "社区",
        "service record" => "服务记录",
        "activity" => "活动",
        "consent" => "同意记录",
        "user" => "用户",
        "token" => "令牌",
        "category" => "类别",
        "nomination" => "提名",
        "notice" => "公示",
        "objection" => "异议",
        "recognition" => "表彰",
        "photo" => "照片",
        "certificate" => "证书",
        "import" => "名册导入",
        _ => "资源",
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(errors: ValidationErrors) -> Self {
        ApiError::validation(&errors)
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound(what) => ApiError::not_found(what),
            // The handler knows the resource and builds the right ETag; this is the fallback.
            StoreError::VersionMismatch { current } => {
                ApiError::version_mismatch(format!("\"{current}\""))
            }
            StoreError::Conflict(message) => ApiError::conflict(message),
            StoreError::Invalid(errors) => ApiError::validation(&errors),
            err if err.is_unavailable() => {
                tracing::warn!(error = %err, "database unavailable");
                ApiError::ServiceUnavailable(body(
                    "database_unavailable",
                    "数据库暂时不可用，请稍后再试",
                    None,
                ))
            }
            StoreError::Corrupt(what) => {
                tracing::error!(error = %what, "stored data is not valid");
                ApiError::internal()
            }
            StoreError::Db(db) => {
                tracing::error!(error = %db, "database error");
                ApiError::internal()
            }
        }
    }
}

impl From<crate::search::SearchError> for ApiError {
    fn from(err: crate::search::SearchError) -> Self {
        tracing::error!(error = %err, "search failed");
        ApiError::search_unavailable()
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(err: sea_orm::DbErr) -> Self {
        StoreError::Db(err).into()
    }
}

impl From<MediaError> for ApiError {
    fn from(err: MediaError) -> Self {
        match err {
            MediaError::Processing(err) => err.into(),
            MediaError::Store(err) => err.into(),
            MediaError::Storage(err) => {
                tracing::error!(error = %err, "media storage error");
                ApiError::internal()
            }
            MediaError::Worker(err) => {
                tracing::error!(error = %err, "image worker failed");
                ApiError::internal()
            }
        }
    }
}

impl From<ProcessingError> for ApiError {
    fn from(err: ProcessingError) -> Self {
        match err {
            ProcessingError::Empty => ApiError::field("file", "文件为空"),
            ProcessingError::UnsupportedType => ApiError::UnsupportedMediaType(body(
                "unsupported_media_type",
                "只接受 JPEG、PNG 或 WebP 图片（按文件内容判断，与文件名和声明的类型无关）",
                None,
            )),
            ProcessingError::TooManyPixels {
                width,
                height,
                max_pixels,
            } => ApiError::Unprocessable(body(
                "image_too_large",
                format!(
                    "图片为 {width}×{height} 像素，超过 {} 万像素的上限",
                    max_pixels / 10_000
                ),
                Some(json!({ "width": width, "height": height, "max_pixels": max_pixels })),
            )),
            ProcessingError::Truncated => ApiError::Unprocessable(body(
                "image_truncated",
                "图片文件不完整（可能上传中断），请重新上传",
                None,
            )),
            ProcessingError::Undecodable(cause) => {
                // The decoder's words describe our internals, not the user's mistake: logged only.
                tracing::info!(%cause, "refused an upload that does not decode");
                ApiError::Unprocessable(body(
                    "image_undecodable",
                    "图片无法解码，文件可能已损坏",
                    None,
                ))
            }
        }
    }
}

impl From<SheetError> for ApiError {
    fn from(err: SheetError) -> Self {
        match err {
            SheetError::UnsupportedType => ApiError::UnsupportedMediaType(body(
                "unsupported_media_type",
                "只接受 .xlsx、.xls 表格或 CSV 文件（UTF-8 或 GBK 编码），按文件内容判断",
                None,
            )),
            SheetError::Empty => ApiError::field("file", "文件中没有数据"),
            SheetError::MissingColumns(missing) => {
                let names: Vec<&str> = missing.iter().map(|c| c.header()).collect();
                ApiError::Unprocessable(body(
                    "missing_columns",
                    format!("表格缺少必需的列：{}", names.join("、")),
                    Some(json!({ "missing": names })),
                ))
            }
        }
    }
}

/// Turns every error that did not come from an [`ApiError`] (unknown route, wrong method, missing
/// bearer token, unparsable JSON, body over the limit) into the same JSON shape.
pub fn catch_all(err: poem::Error) -> Response {
    let status = err.status();
    let message = err.to_string();
    let response = err.into_response();
    let is_json = response
        .content_type()
        .is_some_and(|ct| ct.starts_with("application/json"));
    if is_json {
        return response;
    }
    let (status, code, message) = match status {
        StatusCode::NOT_FOUND => (status, "not_found", "没有这个地址".to_string()),
        StatusCode::METHOD_NOT_ALLOWED => (
            status,
            "method_not_allowed",
            "这个地址不支持该请求方法".to_string(),
        ),
        StatusCode::UNAUTHORIZED => (
            status,
            "unauthorized",
            "需要有效的令牌：Authorization: Bearer <token>".to_string(),
        ),
        StatusCode::FORBIDDEN => (
            status,
            "forbidden",
            "当前账号的角色不能进行这项操作".to_string(),
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (status, "payload_too_large", "请求内容过大".to_string()),
        StatusCode::LENGTH_REQUIRED => (
            status,
            "length_required",
            "请求需要 Content-Length".to_string(),
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            status,
            "unsupported_media_type",
            "请求内容类型不受支持：接口使用 application/json，上传照片使用 multipart/form-data"
                .to_string(),
        ),
        // poem-openapi reports unparsable bodies and parameters as 400; a body that is JSON but
        // not of the expected shape is a validation problem.
        StatusCode::BAD_REQUEST if message.contains("parse request payload") => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            format!("请求内容无法解析：{message}"),
        ),
        StatusCode::BAD_REQUEST => (status, "bad_request", format!("请求有误：{message}")),
        s if s.is_server_error() => {
            tracing::error!(%status, error = %message, "unhandled error");
            (status, "internal", "服务器内部错误，请稍后再试".to_string())
        }
        _ => (status, "error", message),
    };
    let body = json!({ "error": { "code": code, "message": message, "details": null } });
    poem::web::Json(body).with_status(status).into_response()
}

/// Applies [`catch_all`] to an endpoint.
pub fn json_errors<E: Endpoint>(ep: E) -> impl Endpoint {
    use poem::EndpointExt;
    ep.catch_all_error(|err| async move { catch_all(err) })
}
