//! `/activities`: dated events. Recording one writes a service record for each participant, in
//! one transaction; updating it keeps those records in step.

use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use sea_orm::ConnectionTrait;

use super::auth::{Staff, StaffAuth, Viewer};
use super::error::{ApiError, ApiResult};
use super::etag::{etag, mismatch, IfMatch};
use super::pagination::{encode, ListPage, PageRequest};
use super::write::Change;
use super::{ApiTags, Created, Deleted};
use crate::domain::activity::{ActivityDraft, ActivityInput as DomainInput};
use crate::domain::measure::{Measure, Unit};
use crate::domain::policy::Action;
use crate::state::AppState;
use crate::store::entities::activity::Model;
use crate::store::residents::{self, Visibility};
use crate::store::{activities, service_records, StoreError};

super::write::audited!(Activity => "activity");

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
    /// Default hours per participant (志愿服务时长), if the activity records hours.
    pub hours: Option<f64>,
    pub recorded_by: String,
    /// Residents who took part. Anonymous readers see only public residents.
    pub participant_ids: Vec<i64>,
    /// The participants with the hours each served (the default or their own figure), in the
    /// order of `participant_ids`.
    pub participants: Vec<Participant>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// One participant's hours (志愿服务时长).
#[derive(Debug, Clone, Object)]
pub struct Participant {
    pub resident_id: i64,
    /// Hours served; none when the activity records no hours.
    pub hours: Option<f64>,
}

#[derive(Debug, Object)]
#[oai(example)]
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
    /// Hours each participant served, 0–1000 (written on their records as a 小时 measure).
    pub hours: Option<f64>,
    /// Participants whose hours differ from `hours`; each must be in `participant_ids`.
    #[oai(default)]
    pub participant_hours: Vec<Participant>,
    /// Who organised it records the hours (谁组织谁记录). Defaults to the token's name.
    pub recorded_by: Option<String>,
}

super::example!(ActivityInput, { "title": "小区消防安全宣传", "date": "2026-05-12", "place": "长寿路街道社区活动中心", "organiser": "长寿路街道", "hours": 2.5 });

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
            hours: self.hours,
            participant_hours: self
                .participant_hours
                .into_iter()
                .map(|p| (p.resident_id, p.hours.unwrap_or(f64::NAN)))
                .collect(),
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

pub(crate) async fn view(
    db: &impl ConnectionTrait,
    m: Model,
    visibility: Visibility,
) -> Result<Activity, StoreError> {
    let records = service_records::list_for_activity(db, m.id).await?;
    let mut participant_ids: Vec<i64> = records.iter().map(|r| r.resident_id).collect();
    match visibility {
        Visibility::Public => {
            participant_ids = residents::public_subset(db, &participant_ids).await?;
        }
        // Scoped staff: those they reach, and whoever the public sees.
        Visibility::Within(_) => {
            let reached = residents::get_many(db, &participant_ids, visibility).await?;
            let public = residents::public_subset(db, &participant_ids).await?;
            participant_ids.retain(|id| reached.contains_key(id) || public.contains(id));
        }
        Visibility::Staff => {}
    }
    let mut participants = Vec::with_capacity(participant_ids.len());
    for record in records
        .iter()
        .filter(|r| participant_ids.contains(&r.resident_id))
    {
        let hours = service_records::measures(record)?
            .iter()
            .find(|m| m.unit() == Unit::Hours)
            .map(Measure::value);
        participants.push(Participant {
            resident_id: record.resident_id,
            hours,
        });
    }
    Ok(Activity {
        id: m.id,
        title: m.title,
        date: m.date,
        place: m.place,
        organiser: m.organiser,
        description: m.description,
        unpaid: m.unpaid,
        hours: m.hours,
        recorded_by: m.recorded_by,
        participant_ids,
        participants,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

/// Activity `id`, when a scoped member of staff reaches every one of its participants (and it has
/// some): an activity of nobody, or with someone outside their subtree, is not theirs to change
/// (404).
pub(crate) async fn reach_activity(
    db: &impl ConnectionTrait,
    staff: &Staff,
    id: i64,
) -> ApiResult<Model> {
    let m = activities::get(db, id).await?;
    if matches!(staff.reach(), Visibility::Within(_)) {
        let records = service_records::list_for_activity(db, m.id).await?;
        let ids: Vec<i64> = records.iter().map(|r| r.resident_id).collect();
        let reached = residents::get_many(db, &ids, staff.reach()).await?;
        if ids.is_empty() || reached.len() < ids.len() {
            return Err(ApiError::not_found("activity"));
        }
    }
    Ok(m)
}

/// Refuse (422 on `participant_ids`) participants a scoped member of staff does not reach, and an
/// activity of theirs without any (it would belong to no community).
async fn reach_participants(
    db: &impl ConnectionTrait,
    staff: &Staff,
    ids: &[i64],
) -> ApiResult<()> {
    if matches!(staff.reach(), Visibility::Within(_)) {
        if ids.is_empty() {
            return Err(ApiError::field(
                "participant_ids",
                "请至少填写一位本辖区的参加者",
            ));
        }
        let reached = residents::get_many(db, ids, staff.reach()).await?;
        if let Some(id) = ids.iter().find(|id| !reached.contains_key(id)) {
            return Err(ApiError::field(
                "participant_ids",
                format!("居民 {id} 不存在"),
            ));
        }
    }
    Ok(())
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
    ///
    /// Permission: `edit_registry`.
    #[oai(path = "/activities", method = "post")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        body: Json<ActivityInput>,
    ) -> ApiResult<Created<Activity>> {
        let staff = auth.require(Action::EditRegistry)?;
        let draft = body.0.parse(&staff.name)?;
        reach_participants(&state.db, staff, &draft.participant_ids).await?;
        let txn = Change::begin(&state.db, state.clock.now(), staff).await?;
        let m = activities::insert(&txn, &draft).await?;
        let tag = etag(m.id, m.version);
        let dto = view(&txn, m, Visibility::Staff).await?;
        txn.created(&dto).await?;
        Ok(Created::at("/api/v1/activities", tag, dto))
    }

    /// Update an activity
    ///
    /// Replaces every field and brings the participants' records in line. Needs `If-Match`.
    ///
    /// Permission: `edit_registry`.
    #[oai(path = "/activities/:id", method = "put")]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<i64>,
        #[oai(name = "If-Match")] if_match: IfMatch,
        body: Json<ActivityInput>,
    ) -> ApiResult<ActivityResponse> {
        let staff = auth.require(Action::EditRegistry)?;
        let current = reach_activity(&state.db, staff, id.0).await?;
        let version = if_match.check(id.0, current.version)?;
        let draft = body.0.parse(&staff.name)?;
        reach_participants(&state.db, staff, &draft.participant_ids).await?;
        let txn = Change::begin(&state.db, state.clock.now(), staff).await?;
        let before = view(&txn, current, Visibility::Staff).await?;
        let m = activities::update(&txn, id.0, version, &draft)
            .await
            .map_err(mismatch(id.0))?;
        let tag = etag(m.id, m.version);
        let dto = view(&txn, m, Visibility::Staff).await?;
        txn.updated(&before, &dto).await?;
        Ok(ActivityResponse::Ok(Json(dto), tag))
    }

    /// Delete an activity
    ///
    /// Its participants' records go with it.
    ///
    /// Permission: `edit_registry`.
    #[oai(path = "/activities/:id", method = "delete")]
    async fn delete(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<i64>,
    ) -> ApiResult<Deleted> {
        let staff = auth.require(Action::EditRegistry)?;
        reach_activity(&state.db, staff, id.0).await?;
        let txn = Change::begin(&state.db, state.clock.now(), staff).await?;
        let before = view(&txn, activities::get(&txn, id.0).await?, Visibility::Staff).await?;
        activities::delete(&txn, id.0).await?;
        txn.deleted(&before).await?;
        Ok(Deleted::NoContent)
    }
}
