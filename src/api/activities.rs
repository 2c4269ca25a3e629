//! `/activities`: dated events. Recording one writes a service record for each participant, in
//! one transaction; updating it keeps those records in step.

use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use sea_orm::ConnectionTrait;

use super::auth::{StaffAuth, Viewer};
use super::error::{ApiError, ApiResult};
use super::etag::{check_if_match, etag, mismatch};
use super::pagination::{encode, ListPage, PageRequest};
use super::write::Change;
use super::{snap, ApiTags, Created, Deleted};
use crate::state::AppState;
use crate::domain::activity::{ActivityDraft, ActivityInput as DomainInput};
use crate::domain::policy::Action;
use crate::store::entities::activity::Model;
use crate::store::residents::{self, Visibility};
use crate::store::{activities, StoreError};

#[derive(Debug, Object)]
pub struct Activity {
    pub id: i64,
    pub title: String,
    /// Partial date, usually a day: `2019-08-30`.
    pub date: String,
    pub place: Option<String>,
    pub organiser: Option<String>,
    pub description: Option<String>,
    pub unpaid: bool,
    pub recorded_by: String,
    /// Residents who took part. Anonymous readers see only public residents.
    pub participant_ids: Vec<i64>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Object)]
pub struct ActivityInput {
    pub title: String,
    /// Partial date: `2019`, `2019-08` or `2019-08-30`.
    pub date: String,
    pub place: Option<String>,
    pub organiser: Option<String>,
    pub description: Option<String>,
    /// Whether taking part was unpaid (copied to the participants' records).
    #[oai(default)]
    pub unpaid: bool,
    /// Residents who took part; each gets a service record of kind `activity`.
    #[oai(default)]
    pub participant_ids: Vec<i64>,
    /// Defaults to the token's name.
    pub recorded_by: Option<String>,
}

impl ActivityInput {
    fn parse(self, actor: &str) -> Result<ActivityDraft, ApiError> {
        Ok(ActivityDraft::parse(DomainInput {
            title: self.title,
            date: self.date,
            place: self.place,
            organiser: self.organiser,
            description: self.description,
            unpaid: self.unpaid,
            participant_ids: self.participant_ids,
            recorded_by: self.recorded_by.unwrap_or_else(|| actor.to_string()),
        })?)
    }
}

#[derive(ApiResponse)]
pub enum ActivityResponse {
    /// The activity.
    #[oai(status = 200)]
    Ok(Json<Activity>, #[oai(header = "ETag")] String),
}

async fn view(
    db: &impl ConnectionTrait,
    m: Model,
    visibility: Visibility,
) -> Result<Activity, StoreError> {
    let mut participant_ids = activities::participant_ids(db, m.id).await?;
    if visibility == Visibility::Public {
        participant_ids = residents::public_subset(db, &participant_ids).await?;
    }
    Ok(Activity {
        id: m.id,
        title: m.title,
        date: m.date,
        place: m.place,
        organiser: m.organiser,
        description: m.description,
        unpaid: m.unpaid,
        recorded_by: m.recorded_by,
        participant_ids,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

pub struct ActivitiesApi;

#[OpenApi(tag = "ApiTags::Activities")]
impl ActivitiesApi {
    /// List activities
    #[oai(path = "/activities", method = "get")]
    async fn list(
        &self,
        state: Data<&AppState>,
        viewer: Data<&Viewer>,
        /// Page size, 1–200 (default 50).
        limit: Query<Option<u64>>,
        /// `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<ListPage<Activity>>> {
        let req = PageRequest::parse(limit.0, cursor.0.as_deref())?;
        let rows = activities::list(&state.db, req.after, req.limit).await?;
        let mut items = Vec::with_capacity(rows.items.len());
        for m in rows.items {
            items.push(view(&state.db, m, viewer.visibility()).await?);
        }
        Ok(Json(ListPage {
            items,
            next_cursor: rows.next_after.map(encode),
        }))
    }

    /// Get an activity
    #[oai(path = "/activities/:id", method = "get")]
    async fn get(
        &self,
        state: Data<&AppState>,
        viewer: Data<&Viewer>,
        id: Path<i64>,
    ) -> ApiResult<ActivityResponse> {
        let m = activities::get(&state.db, id.0).await?;
        let tag = etag(m.id, m.version);
        Ok(ActivityResponse::Ok(
            Json(view(&state.db, m, viewer.visibility()).await?),
            tag,
        ))
    }

    /// Record an activity
    ///
    /// Writes one service record of kind `activity` for each participant, all or nothing.
    #[oai(path = "/activities", method = "post")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        body: Json<ActivityInput>,
    ) -> ApiResult<Created<Activity>> {
        let staff = auth.require(Action::EditRegistry)?;
        let draft = body.0.parse(&staff.name)?;
        let txn = Change::begin(&state.db, state.clock.now(), staff).await?;
        let m = activities::insert(&txn, &draft).await?;
        let tag = etag(m.id, m.version);
        let location = format!("/api/v1/activities/{}", m.id);
        let dto = view(&txn, m, Visibility::Staff).await?;
        txn.commit_audited("activity.create", "activity", dto.id, None, snap(&dto))
            .await?;
        Ok(Created::new(location, tag, dto))
    }

    /// Update an activity
    ///
    /// Replaces every field and brings the participants' records in line. Needs `If-Match`.
    #[oai(path = "/activities/:id", method = "put")]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<i64>,
        #[oai(name = "If-Match")] if_match: Header<Option<String>>,
        body: Json<ActivityInput>,
    ) -> ApiResult<ActivityResponse> {
        let staff = auth.require(Action::EditRegistry)?;
        let current = activities::get(&state.db, id.0).await?;
        let version = check_if_match(if_match.0.as_deref(), id.0, current.version)?;
        let draft = body.0.parse(&staff.name)?;
        let txn = Change::begin(&state.db, state.clock.now(), staff).await?;
        let before = snap(&view(&txn, current, Visibility::Staff).await?);
        let m = activities::update(&txn, id.0, version, &draft)
            .await
            .map_err(mismatch(id.0))?;
        let tag = etag(m.id, m.version);
        let dto = view(&txn, m, Visibility::Staff).await?;
        txn.commit_audited("activity.update", "activity", dto.id, before, snap(&dto))
            .await?;
        Ok(ActivityResponse::Ok(Json(dto), tag))
    }

    /// Delete an activity
    ///
    /// Its participants' records go with it.
    #[oai(path = "/activities/:id", method = "delete")]
    async fn delete(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<i64>,
    ) -> ApiResult<Deleted> {
        let staff = auth.require(Action::EditRegistry)?;
        let txn = Change::begin(&state.db, state.clock.now(), staff).await?;
        let before =
            snap(&view(&txn, activities::get(&txn, id.0).await?, Visibility::Staff).await?);
        activities::delete(&txn, id.0).await?;
        txn.commit_audited("activity.delete", "activity", id.0, before, None)
            .await?;
        Ok(Deleted::NoContent)
    }
}
