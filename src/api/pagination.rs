//! `limit` + opaque `cursor` for every list.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use poem_openapi::types::{ParseFromJSON, ToJSON};
use poem_openapi::Object;

use super::error::ApiError;

pub const DEFAULT_LIMIT: u64 = 50;
pub const MAX_LIMIT: u64 = 200;

/// A page of results. Pass `next_cursor` back as `cursor` to get the next page; it is absent on
/// the last page.
#[derive(Debug, Object)]
pub struct ListPage<T: ParseFromJSON + ToJSON + Send + Sync> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// Checked `limit` and decoded `cursor` (the id to continue after).
pub struct PageRequest {
    pub limit: u64,
    pub after: Option<i64>,
}

impl PageRequest {
    pub fn parse(limit: Option<u64>, cursor: Option<&str>) -> Result<Self, ApiError> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::field("limit", format!("limit 应在 1 到 {MAX_LIMIT} 之间")));
        }
        let after = cursor.map(decode).transpose()?;
        Ok(PageRequest { limit, after })
    }
}

pub fn encode(after: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("after:{after}"))
}

fn decode(cursor: &str) -> Result<i64, ApiError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|s| s.strip_prefix("after:").and_then(|n| n.parse().ok()))
        .ok_or_else(|| ApiError::bad_request("invalid_cursor", "cursor 无效：请使用上一页返回的 next_cursor"))
}

pub fn page<M, T: ParseFromJSON + ToJSON + Send + Sync>(
    page: crate::store::Page<M>,
    to_dto: impl FnMut(M) -> T,
) -> ListPage<T> {
    ListPage { items: page.items.into_iter().map(to_dto).collect(), next_cursor: page.next_after.map(encode) }
}
