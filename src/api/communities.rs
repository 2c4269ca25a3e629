//! `/communities`: the 区 › 街道 › 居民区 › 小区 tree. Public to read (places are not personal data).

use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::auth::{Staff, StaffAuth};
use super::error::{ApiError, ApiResult};
use super::etag::{etag, mismatch, IfMatch};
use super::pagination::{page, ListPage, PageRequest};
use super::write::Change;
use super::{ApiTags, Created, Deleted};
use crate::domain::community::{CommunityDraft, CommunityKind};
use crate::domain::policy::Action;
pub use crate::service::registry::Community;
use crate::state::AppState;
use crate::store::communities;

super::write::audited!(Community => "community");

#[derive(Debug, Object)]
#[oai(example)]
pub struct CommunityInput {
    /// 名称, e.g. 音乐广场.
    pub name: String,
    /// `district`, `subdistrict`, `residential_area` or `compound`.
    pub kind: String,
    /// The community one level up; required for every kind but `district`.
    pub parent_id: Option<i64>,
}

super::example!(CommunityInput, { "name": "宜川路街道", "kind": "subdistrict", "parent_id": 1 });

impl CommunityInput {
    fn parse(&self) -> Result<CommunityDraft, ApiError> {
        Ok(CommunityDraft::parse(
            &self.name,
            &self.kind,
            self.parent_id,
        )?)
    }
}

#[derive(ApiResponse)]
pub enum CommunityResponse {
    /// The community.
    #[oai(status = 200)]
    Ok(Json<Community>, #[oai(header = "ETag")] String),
}

/// Community `id`, when a scoped member of staff may change it: strictly below the root of their
/// subtree (the root itself and everything outside answer 404).
async fn below_scope(
    state: &AppState,
    staff: &Staff,
    id: i64,
) -> ApiResult<crate::store::entities::community::Model> {
    let m = communities::get(&state.db, id).await?;
    if let Some(root) = staff.scope {
        if id == root || !communities::is_within(&state.db, id, root).await? {
            return Err(ApiError::not_found("community"));
        }
    }
    Ok(m)
}

/// A scoped member of staff files communities only inside their subtree (422 on `parent_id`).
async fn parent_reached(state: &AppState, staff: &Staff, parent: Option<i64>) -> ApiResult<()> {
    if let Some(root) = staff.scope {
        let inside = match parent {
            Some(p) => communities::is_within(&state.db, p, root).await?,
            None => false,
        };
        if !inside {
            let what = parent.map_or_else(|| "顶级".to_string(), |p| format!("上级社区 {p} "));
            return Err(ApiError::field(
                "parent_id",
                format!("{what}不在您的管辖范围内"),
            ));
        }
    }
    Ok(())
}

pub struct CommunitiesApi;

#[OpenApi(tag = "ApiTags::Communities")]
impl CommunitiesApi {
    /// List communities
    ///
    /// Ordered by id; filter by `parent_id` to walk the tree, or by `kind` (`district`,
    /// `subdistrict`, `residential_area`, `compound`) for one level of it.
    #[oai(path = "/communities", method = "get")]
    async fn list(
        &self,
        state: poem::web::Data<&AppState>,
        parent_id: Query<Option<i64>>,
        kind: Query<Option<String>>,
        /// Page size, 1–200 (default 50).
        limit: Query<Option<u64>>,
        /// `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<ListPage<Community>>> {
        let req = PageRequest::parse(limit.0, cursor.0.as_deref())?;
        let kind = match kind.0.as_deref() {
            None => None,
            Some(code) => Some(code.parse::<CommunityKind>().map_err(|()| {
                ApiError::field(
                    "kind",
                    "应为 district、subdistrict、residential_area 或 compound",
                )
            })?),
        };
        let rows = communities::list(&state.db, req.after, req.limit, parent_id.0, kind).await?;
        Ok(Json(page(rows, Community::from)))
    }

    /// Get a community
    #[oai(path = "/communities/:id", method = "get")]
    async fn get(
        &self,
        state: poem::web::Data<&AppState>,
        id: Path<i64>,
    ) -> ApiResult<CommunityResponse> {
        let m = communities::get(&state.db, id.0).await?;
        let tag = etag(m.id, m.version);
        Ok(CommunityResponse::Ok(Json(m.into()), tag))
    }

    /// Create a community
    ///
    /// Permission: `edit_registry`.
    #[oai(path = "/communities", method = "post")]
    async fn create(
        &self,
        state: poem::web::Data<&AppState>,
        auth: StaffAuth,
        body: Json<CommunityInput>,
    ) -> ApiResult<Created<Community>> {
        let staff = auth.require(Action::EditRegistry)?;
        let draft = body.parse()?;
        parent_reached(&state, staff, draft.parent_id).await?;
        let change = Change::begin(&state.db, state.clock.now(), staff).await?;
        let m = communities::insert(&change, &draft).await?;
        let tag = etag(m.id, m.version);
        let dto = Community::from(m);
        change.created(&dto).await?;
        Ok(Created::new(
            format!("/api/v1/communities/{}", dto.id),
            tag,
            dto,
        ))
    }

    /// Update a community
    ///
    /// Needs `If-Match` with the `ETag` last read.
    ///
    /// Permission: `edit_registry`.
    #[oai(path = "/communities/:id", method = "put")]
    async fn update(
        &self,
        state: poem::web::Data<&AppState>,
        auth: StaffAuth,
        id: Path<i64>,
        #[oai(name = "If-Match")] if_match: IfMatch,
        body: Json<CommunityInput>,
    ) -> ApiResult<CommunityResponse> {
        let staff = auth.require(Action::EditRegistry)?;
        let current = below_scope(&state, staff, id.0).await?;
        let version = if_match.check(id.0, current.version)?;
        let draft = body.parse()?;
        parent_reached(&state, staff, draft.parent_id).await?;
        let change = Change::begin(&state.db, state.clock.now(), staff).await?;
        let m = communities::update(&change, id.0, version, &draft)
            .await
            .map_err(mismatch(id.0))?;
        let tag = etag(m.id, m.version);
        let dto = Community::from(m);
        change.updated(&Community::from(current), &dto).await?;
        Ok(CommunityResponse::Ok(Json(dto), tag))
    }

    /// Delete a community
    ///
    /// Refused (409) while it has sub-communities or residents.
    ///
    /// Permission: `edit_registry`.
    #[oai(path = "/communities/:id", method = "delete")]
    async fn delete(
        &self,
        state: poem::web::Data<&AppState>,
        auth: StaffAuth,
        id: Path<i64>,
    ) -> ApiResult<Deleted> {
        let staff = auth.require(Action::EditRegistry)?;
        below_scope(&state, staff, id.0).await?;
        let change = Change::begin(&state.db, state.clock.now(), staff).await?;
        let before = Community::from(communities::get(&change, id.0).await?);
        communities::delete(&change, id.0).await?;
        change.deleted(&before).await?;
        Ok(Deleted::NoContent)
    }
}
