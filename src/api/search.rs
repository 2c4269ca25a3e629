//! `/search`: ranked hits by name (孙建伟), pinyin (`sunjianwei`, `sun jianwei`), initials
//! (`sjw`), traditional characters (孫建偉) or what people did (智慧社区, 接待参访), with
//! highlighted snippets and facet counts. Anonymous queries see only public documents; staff may
//! ask for `scope=staff` to find everyone.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use poem::web::Data;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::OpenApi;

use super::auth::Viewer;
use super::error::{ApiError, ApiResult};
use super::ApiTags;
use crate::search::{text, Facets, Scope, SearchQuery};
pub use crate::service::search::{hit, FacetCount, SearchFacets, SearchHit, SearchPage, KINDS};
use crate::state::AppState;
use crate::store::communities;
use crate::store::residents::Visibility;

/// Longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 100;
pub const DEFAULT_LIMIT: usize = 20;
pub const MAX_LIMIT: usize = 50;
/// Results beyond this many are not paged to (refine the query instead).
pub const MAX_OFFSET: usize = 1000;

fn encode_cursor(offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("offset:{offset}"))
}

fn decode_cursor(cursor: &str) -> Result<usize, ApiError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|s| s.strip_prefix("offset:").and_then(|n| n.parse().ok()))
        .filter(|n| *n <= MAX_OFFSET)
        .ok_or_else(|| {
            ApiError::bad_request(
                "invalid_cursor",
                "cursor 无效：请使用上一页返回的 next_cursor",
            )
        })
}

fn counts<T: ToString>(values: Vec<(T, u64)>) -> Vec<FacetCount> {
    values
        .into_iter()
        .map(|(v, count)| FacetCount {
            value: v.to_string(),
            label: None,
            count,
        })
        .collect()
}

pub struct SearchApi;

#[OpenApi(tag = "ApiTags::Search")]
impl SearchApi {
    /// Search
    ///
    /// Finds people by name (孙建伟; two characters of a name find it too), pinyin (`sunjianwei`,
    /// `sun jianwei`), initials (`sjw`), traditional characters (孫建偉) or what they did
    /// (智慧社区, 业委会, 接待参访), and published stories by any word of their title, subtitle,
    /// kicker, byline or body (`kind` = `story`, `url` = `/stories/{slug}`). Every word of the
    /// query must match; a person whose name is the query ranks before stories that mention it.
    /// Anonymous callers get only residents who consented to a public profile; staff may pass
    /// `scope=staff` to find everyone. Stories are in the index only while the public may read
    /// them (published, every named resident's story consent, an honour behind a recognition
    /// story), for both scopes. An empty query, or one over 100 characters, is refused with 422.
    #[oai(path = "/search", method = "get")]
    #[allow(clippy::too_many_arguments)]
    async fn search(
        &self,
        state: Data<&AppState>,
        viewer: Data<&Viewer>,
        /// What to look for (1–100 characters).
        q: Query<Option<String>>,
        /// A community id or slug: only people in it or below it (and stories naming them).
        community: Query<Option<String>>,
        /// A category, e.g. 接待参访, or a story theme, e.g. 有德之士 (see `facets.category`).
        category: Query<Option<String>>,
        /// Only people with service in this year, and stories published in it.
        year: Query<Option<i32>>,
        /// `resident` or `story`.
        kind: Query<Option<String>>,
        /// `public` (default) or `staff` (staff token required).
        scope: Query<Option<String>>,
        /// Page size, 1–50 (default 20).
        limit: Query<Option<usize>>,
        /// `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<SearchPage>> {
        let raw = q.0.unwrap_or_default();
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(ApiError::field("q", "请输入要搜索的姓名、拼音或事迹"));
        }
        if raw.chars().count() > MAX_QUERY_CHARS {
            return Err(ApiError::field(
                "q",
                format!("搜索内容不能超过 {MAX_QUERY_CHARS} 个字"),
            ));
        }
        let mut query = SearchQuery::new(raw);
        if text::query_words(&query.text).is_empty() {
            return Err(ApiError::field("q", "搜索内容需要包含文字、字母或数字"));
        }
        query.scope = match scope.0.as_deref() {
            None | Some("public") => Scope::Public,
            // Whoever may see residents without consent (staff) may search them.
            Some("staff") if viewer.visibility().is_staff() => Scope::Staff,
            Some("staff") => {
                return Err(ApiError::unauthorized(
                    "unauthorized",
                    "scope=staff 需要可查看全部居民的工作人员令牌",
                ))
            }
            Some(_) => return Err(ApiError::field("scope", "scope 只能是 public 或 staff")),
        };
        query.limit = limit.0.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&query.limit) {
            return Err(ApiError::field(
                "limit",
                format!("limit 应在 1 到 {MAX_LIMIT} 之间"),
            ));
        }
        query.offset = cursor
            .0
            .as_deref()
            .map(decode_cursor)
            .transpose()?
            .unwrap_or(0);
        if let Some(kind) = kind.0 {
            if !KINDS.contains(&kind.as_str()) {
                return Err(ApiError::field(
                    "kind",
                    format!("kind 只能是 {}", KINDS.join("、")),
                ));
            }
            query.kind = Some(kind);
        }
        if let Some(c) = community
            .0
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            let id = match c.parse::<i64>() {
                Ok(id) => Some(id),
                Err(_) => communities::find_by_slug(&state.db, c).await?.map(|m| m.id),
            };
            query.community =
                Some(id.ok_or_else(|| ApiError::field("community", format!("社区 {c} 不存在")))?);
        }
        // Staff scoped to a subtree search only in it: a community outside it does not exist
        // for them; one above it narrows to their subtree.
        if let (Scope::Staff, Visibility::Within(root)) = (query.scope, viewer.visibility()) {
            query.community = match query.community {
                None => Some(root),
                Some(c) if communities::is_within(&state.db, c, root).await? => Some(c),
                Some(c) if communities::is_within(&state.db, root, c).await? => Some(root),
                Some(c) => return Err(ApiError::field("community", format!("社区 {c} 不存在"))),
            };
        }
        query.category = category
            .0
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty());
        if let Some(y) = year.0 {
            if !(1900..=2100).contains(&y) {
                return Err(ApiError::field("year", "year 应是 1900 到 2100 之间的年份"));
            }
            query.year = Some(y);
        }

        let started = std::time::Instant::now();
        let results = state.search.index.search(&query).await;
        state.metrics.searched(
            state.search.index.engine(),
            results.is_ok(),
            started.elapsed().as_secs_f64(),
        );
        let results = results?;
        let Facets {
            kind,
            community,
            category,
            year,
        } = results.facets;
        let ids: Vec<i64> = community.iter().map(|(id, _)| *id).collect();
        let names = communities::names(&state.db, &ids).await?;
        let community = community
            .into_iter()
            .map(|(id, count)| FacetCount {
                value: id.to_string(),
                label: names.get(&id).cloned(),
                count,
            })
            .collect();
        let words = query.words();
        let shown = results.hits.len();
        let next = query.offset + shown;
        let next_cursor =
            (shown == query.limit && (next as u64) < results.total && next <= MAX_OFFSET)
                .then(|| encode_cursor(next));
        Ok(Json(SearchPage {
            hits: results
                .hits
                .into_iter()
                .map(|d| hit(d, &words, query.scope))
                .collect(),
            total: results.total,
            facets: SearchFacets {
                kind: counts(kind),
                community,
                category: counts(category),
                year: counts(year),
            },
            next_cursor,
        }))
    }
}
