//! The console is a client of the JSON API, in process: each form becomes the API request a
//! tool would send, made as the signed-in user. The API's validation, policy table, transactions,
//! audit log, outbox and page-cache invalidation therefore apply to the console unchanged, and
//! the console cannot do anything the API would refuse.

use std::sync::Arc;

use poem::http::{header, Method, StatusCode};
use poem::{Body, Endpoint, Request, Response};
use poem_openapi::types::ParseFromJSON;
use serde_json::Value;

use crate::service::auth::Viewer;
use crate::state::AppState;

/// The `/api/v1` service, shared between its own route and the console.
pub type ApiEndpoint = Arc<poem::endpoint::BoxEndpoint<'static, Response>>;

/// Why the API refused a request: its stable code, Chinese message and field errors.
#[derive(Debug, Clone)]
pub struct Problem {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    /// `(field, message)` from `details.fields` of a `validation_failed` answer.
    pub fields: Vec<(String, String)>,
    pub details: Value,
}

impl Problem {
    fn from_response(status: StatusCode, body: &[u8]) -> Self {
        let value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let error = &value["error"];
        let fields = error["details"]["fields"]
            .as_array()
            .map(|list| {
                list.iter()
                    .map(|f| {
                        (
                            f["field"].as_str().unwrap_or_default().to_string(),
                            f["message"].as_str().unwrap_or_default().to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        Problem {
            status,
            code: error["code"].as_str().unwrap_or("error").to_string(),
            message: error["message"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| format!("操作未能完成（{status}）")),
            fields,
            details: error["details"].clone(),
        }
    }

    pub fn internal(message: &str) -> Self {
        Problem {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "internal".into(),
            message: message.into(),
            fields: Vec::new(),
            details: Value::Null,
        }
    }

    /// Field errors renamed to the form's field names by `rename` (unknown names kept).
    pub fn field_errors(
        &self,
        rename: impl Fn(&str) -> Option<&'static str>,
    ) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .fields
            .iter()
            .map(|(f, m)| {
                (
                    rename(f).map_or_else(|| f.clone(), str::to_string),
                    m.clone(),
                )
            })
            .collect();
        if out.is_empty() {
            out.push((String::new(), self.message.clone()));
        }
        out
    }
}

/// A successful API answer.
pub struct Reply {
    pub body: Value,
    pub etag: Option<String>,
    pub bytes: Vec<u8>,
    pub headers: poem::http::HeaderMap,
}

pub struct Api {
    pub endpoint: ApiEndpoint,
    pub state: AppState,
    pub viewer: Viewer,
}

impl Api {
    /// Send one request to the API as the console's user.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<(String, Vec<u8>)>,
        if_match: Option<&str>,
    ) -> Result<Reply, Problem> {
        let mut builder = Request::builder().method(method).uri_str(path);
        if let Some(tag) = if_match.filter(|t| !t.is_empty()) {
            builder = builder.header(header::IF_MATCH, tag);
        }
        let mut req = match body {
            Some((content_type, bytes)) => builder
                .header(header::CONTENT_TYPE, content_type)
                .body(Body::from(bytes)),
            None => builder.finish(),
        };
        req.extensions_mut().insert(self.state.clone());
        req.extensions_mut().insert(self.viewer.clone());
        let resp = match self.endpoint.call(req).await {
            Ok(resp) => resp,
            Err(err) => err.into_response(),
        };
        let status = resp.status();
        let headers = resp.headers().clone();
        let etag = headers
            .get(header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let bytes = resp
            .into_body()
            .into_vec()
            .await
            .map_err(|_| Problem::internal("读取接口应答失败"))?;
        if !status.is_success() {
            return Err(Problem::from_response(status, &bytes));
        }
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok(Reply {
            body,
            etag,
            bytes,
            headers,
        })
    }

    /// `GET` a resource as the API's typed answer.
    pub async fn get<T: ParseFromJSON>(&self, path: &str) -> Result<T, Problem> {
        Ok(self.get_tagged(path).await?.0)
    }

    /// `GET` a resource and its `ETag`.
    pub async fn get_tagged<T: ParseFromJSON>(&self, path: &str) -> Result<(T, String), Problem> {
        let reply = self.call(Method::GET, path, None, None).await?;
        let value = T::parse_from_json(Some(reply.body))
            .map_err(|e| Problem::internal(&format!("接口应答无法解析：{}", e.into_message())))?;
        Ok((value, reply.etag.unwrap_or_default()))
    }

    /// `GET` a resource into a plain serde view and its `ETag`, for answers whose OpenAPI type
    /// has read-only properties (which poem-openapi refuses to parse back).
    pub async fn get_view<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
    ) -> Result<(T, String), Problem> {
        let reply = self.call(Method::GET, path, None, None).await?;
        let value = serde_json::from_value(reply.body)
            .map_err(|e| Problem::internal(&format!("接口应答无法解析：{e}")))?;
        Ok((value, reply.etag.unwrap_or_default()))
    }

    /// Every item of a cursor-paged list (the console's lists are street-office sized).
    pub async fn get_all<T: ParseFromJSON>(&self, path: &str) -> Result<Vec<T>, Problem> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        let sep = if path.contains('?') { '&' } else { '?' };
        for _ in 0..100 {
            let url = match &cursor {
                Some(c) => format!("{path}{sep}limit=200&cursor={c}"),
                None => format!("{path}{sep}limit=200"),
            };
            let reply = self.call(Method::GET, &url, None, None).await?;
            let page = reply.body;
            for item in page["items"].as_array().cloned().unwrap_or_default() {
                items.push(T::parse_from_json(Some(item)).map_err(|e| {
                    Problem::internal(&format!("接口应答无法解析：{}", e.into_message()))
                })?);
            }
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_string()),
                None => break,
            }
        }
        Ok(items)
    }

    /// Send JSON (`POST`/`PUT`/`DELETE`).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        json: &Value,
        if_match: Option<&str>,
    ) -> Result<Reply, Problem> {
        let bytes = serde_json::to_vec(json).map_err(|_| Problem::internal("无法编码请求"))?;
        self.call(
            method,
            path,
            Some(("application/json".into(), bytes)),
            if_match,
        )
        .await
    }
}
