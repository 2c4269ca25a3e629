//! `/residents/{id}/service-records`: evidenced facts of service, with partial dates, measures and
//! who recorded and verified them. Public to read when the resident is public.

use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::auth::{StaffAuth, Viewer};
use super::error::{ApiError, ApiResult};
use super::etag::{etag, mismatch, IfMatch};
use super::pagination::{ListPage, PageRequest};
use super::write::Change;
use super::{ApiTags, Created, Deleted};
use crate::domain::measure::Measure;
use crate::domain::partial_date::PartialDate;
use crate::domain::policy::Action;
use crate::domain::service_record::{
    MeasureInput, ServiceRecordDraft, ServiceRecordInput as DomainInput,
};
use crate::state::AppState;
use crate::store::entities::service_record::Model;
use crate::store::residents;
use crate::store::{service_records, StoreError};

super::write::audited!(ServiceRecord => "service_record");

/// A quantity: `{"value": 60, "unit": "compounds", "qualifier": "at_least", "text": "60余个小区"}`.
#[derive(Debug, Clone, Object)]
pub struct MeasureDto {
    pub value: f64,
    /// `visit_batches` (批次), `yuan_saved` (节约资金, 元), `yuan` (元), `compounds` (个小区),
    /// `households` (户), `people` (人), `hours` (小时), `days` (天), `months` (个月),
    /// `percent` (%), `items` (项).
    pub unit: String,
    /// `exact`, `at_least` ("60几个", "100多万") or `about` (约).
    pub qualifier: String,
    /// Chinese rendering, read-only: "60余个小区", "100余万元".
    #[oai(read_only)]
    pub text: String,
}

impl From<&Measure> for MeasureDto {
    fn from(m: &Measure) -> Self {
        MeasureDto {
            value: m.value(),
            unit: m.unit().code().into(),
            qualifier: m.qualifier().code().into(),
            text: m.to_chinese(),
        }
    }
}

#[derive(Debug, Object)]
pub struct MeasureInputDto {
    pub value: f64,
    pub unit: String,
    /// `exact` (default), `at_least` or `about`.
    pub qualifier: Option<String>,
}

#[derive(Debug, Object)]
pub struct ServiceRecord {
    pub id: i64,
    pub resident_id: i64,
    /// Set when the record was written by recording an activity.
    pub activity_id: Option<i64>,
    /// `role`, `hosting`, `project`, `survey`, `publication`, `activity`, `volunteer_hours`, `other`.
    pub kind: String,
    pub title: String,
    pub organisation: Option<String>,
    /// Partial date: `2007`, `2018-12` or `2019-08-30`.
    pub start: String,
    /// Partial date; null means ongoing (至今).
    pub end: Option<String>,
    pub unpaid: bool,
    pub measures: Vec<MeasureDto>,
    /// Source citation, e.g. the newsletter issue and reporter.
    pub evidence: Option<String>,
    pub recorded_by: String,
    /// The staff account that recorded it (null for activity and demo records).
    pub recorded_by_user_id: Option<i64>,
    /// Who verified it (核实): the verifier account's name, set only by `POST
    /// …/service-records/{id}/verification`; cleared when the facts change.
    pub verified_by: Option<String>,
    pub verified_by_user_id: Option<i64>,
    pub verified_on: Option<chrono::NaiveDate>,
    /// For an ongoing record: the partial date it was last confirmed (最后核实).
    pub confirmed_on: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl ServiceRecord {
    pub fn from_model(m: Model) -> Result<Self, StoreError> {
        let measures = service_records::measures(&m)?
            .iter()
            .map(MeasureDto::from)
            .collect();
        Ok(ServiceRecord {
            id: m.id,
            resident_id: m.resident_id,
            activity_id: m.activity_id,
            kind: m.kind,
            title: m.title,
            organisation: m.organisation,
            start: m.start_date,
            end: m.end_date,
            unpaid: m.unpaid,
            measures,
            evidence: m.evidence,
            recorded_by: m.recorded_by,
            recorded_by_user_id: m.recorded_by_user_id,
            verified_by: m.verified_by,
            verified_by_user_id: m.verified_by_user_id,
            verified_on: m.verified_on,
            confirmed_on: m.confirmed_on,
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
    }
}

#[derive(Debug, Object)]
#[oai(example)]
pub struct ServiceRecordInput {
    /// `role`, `hosting`, `project`, `survey`, `publication`, `activity`, `volunteer_hours`, `other`.
    pub kind: String,
    pub title: String,
    pub organisation: Option<String>,
    /// Partial date: `2007`, `2018-12` or `2019-08-30`.
    pub start: String,
    /// Partial date, not before `start`; omit or null for ongoing.
    pub end: Option<String>,
    #[oai(default)]
    pub unpaid: bool,
    #[oai(default)]
    pub measures: Vec<MeasureInputDto>,
    pub evidence: Option<String>,
    /// Who recorded the fact (谁记录); defaults to the token's name.
    pub recorded_by: Option<String>,
    /// Refused (422): verification is an act of its own, `POST …/verification`.
    pub verified_by: Option<String>,
    /// Refused (422), as `verified_by`.
    pub verified_on: Option<String>,
    /// For an ongoing record (no `end`): the partial date it was last confirmed (最后核实), e.g.
    /// `2019-09`. Omitted, it is the day of this request. Summaries and pages count the period
    /// only to here. 422 on a record with an `end` or before `start`.
    pub confirmed_on: Option<String>,
}

super::example!(ServiceRecordInput, { "kind": "other", "title": "义务担任业委会主任", "start": "2012", "end": "2024", "unpaid": true, "recorded_by": "王丽" });

impl ServiceRecordInput {
    /// Validate; an ongoing record without `confirmed_on` is confirmed as of `today`.
    fn parse(self, actor: &str, today: chrono::NaiveDate) -> Result<ServiceRecordDraft, ApiError> {
        for (field, value) in [
            ("verified_by", &self.verified_by),
            ("verified_on", &self.verified_on),
        ] {
            if value.is_some() {
                return Err(ApiError::field(
                    field,
                    "核实须由记录人以外的工作人员通过“核实”操作完成（POST …/verification），不能直接填写",
                ));
            }
        }
        Ok(ServiceRecordDraft::parse(DomainInput {
            kind: self.kind,
            title: self.title,
            organisation: self.organisation,
            start: self.start,
            end: self.end,
            unpaid: self.unpaid,
            measures: self
                .measures
                .into_iter()
                .map(|m| MeasureInput {
                    value: m.value,
                    unit: m.unit,
                    qualifier: m.qualifier.unwrap_or_else(|| "exact".into()),
                })
                .collect(),
            evidence: self.evidence,
            recorded_by: self.recorded_by.unwrap_or_else(|| actor.to_string()),
            verified_by: self.verified_by,
            verified_on: self.verified_on,
            confirmed_on: self.confirmed_on,
        })
        .map(|mut draft| {
            if draft.period.end.is_none() && draft.confirmed_on.is_none() {
                draft.confirmed_on = Some(PartialDate::from_date(today));
            }
            draft
        })?)
    }
}

#[derive(ApiResponse)]
pub enum ServiceRecordResponse {
    /// The service record.
    #[oai(status = 200)]
    Ok(Json<ServiceRecord>, #[oai(header = "ETag")] String),
}

fn respond(m: Model) -> ApiResult<ServiceRecordResponse> {
    let tag = etag(m.id, m.version);
    Ok(ServiceRecordResponse::Ok(
        Json(ServiceRecord::from_model(m)?),
        tag,
    ))
}

/// The audit event `service_record.<verb>` of a change from `before` to `after`, then commit.
async fn commit_change(
    txn: Change<'_>,
    verb: &str,
    before: Model,
    after: &Model,
) -> Result<(), ApiError> {
    let before = ServiceRecord::from_model(before)?;
    let after = ServiceRecord::from_model(after.clone())?;
    txn.done(verb, Some(&before), Some(&after)).await
}

pub struct ServiceRecordsApi;

#[OpenApi(tag = "ApiTags::ServiceRecords")]
impl ServiceRecordsApi {
    /// List a resident's service records
    ///
    /// In the order they were recorded; sort by `start` for a timeline.
    #[oai(path = "/residents/:id/service-records", method = "get")]
    async fn list(
        &self,
        state: Data<&AppState>,
        viewer: Data<&Viewer>,
        id: Path<i64>,
        /// Page size, 1–200 (default 50).
        limit: Query<Option<u64>>,
        /// `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<ListPage<ServiceRecord>>> {
        let req = PageRequest::parse(limit.0, cursor.0.as_deref())?;
        let resident = residents::get(&state.db, id.0, viewer.visibility()).await?;
        let rows = service_records::page_for_resident(&state.db, resident.id, req.after, req.limit)
            .await?;
        let items = rows
            .items
            .into_iter()
            .map(ServiceRecord::from_model)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Json(ListPage {
            items,
            next_cursor: rows.next_after.map(super::pagination::encode),
        }))
    }

    /// Get a service record
    #[oai(path = "/residents/:id/service-records/:record_id", method = "get")]
    async fn get(
        &self,
        state: Data<&AppState>,
        viewer: Data<&Viewer>,
        id: Path<i64>,
        record_id: Path<i64>,
    ) -> ApiResult<ServiceRecordResponse> {
        let resident = residents::get(&state.db, id.0, viewer.visibility()).await?;
        respond(service_records::get(&state.db, resident.id, record_id.0).await?)
    }

    /// Add a service record
    ///
    /// Permission: `edit_registry`.
    #[oai(path = "/residents/:id/service-records", method = "post")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<i64>,
        body: Json<ServiceRecordInput>,
    ) -> ApiResult<Created<ServiceRecord>> {
        let staff = auth.require(Action::EditRegistry)?;
        let resident = residents::get(&state.db, id.0, staff.reach()).await?;
        let draft = body.0.parse(&staff.name, state.clock.today())?;
        let txn = Change::begin(&state.db, state.clock.now(), staff).await?;
        let m = service_records::insert(&txn, resident.id, None, &draft).await?;
        let m = service_records::set_recorder(&txn, m, staff.user_id).await?;
        let tag = etag(m.id, m.version);
        let dto = ServiceRecord::from_model(m)?;
        txn.created(&dto).await?;
        let records = format!("/api/v1/residents/{}/service-records", resident.id);
        Ok(Created::at(&records, tag, dto))
    }

    /// Update a service record
    ///
    /// Replaces every field. Needs `If-Match`.
    ///
    /// Permission: `edit_registry`.
    #[oai(path = "/residents/:id/service-records/:record_id", method = "put")]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<i64>,
        record_id: Path<i64>,
        #[oai(name = "If-Match")] if_match: IfMatch,
        body: Json<ServiceRecordInput>,
    ) -> ApiResult<ServiceRecordResponse> {
        let staff = auth.require(Action::EditRegistry)?;
        residents::get(&state.db, id.0, staff.reach()).await?;
        let current = service_records::get(&state.db, id.0, record_id.0).await?;
        let version = if_match.check(current.id, current.version)?;
        let draft = body.0.parse(&staff.name, state.clock.today())?;
        let txn = Change::begin(&state.db, state.clock.now(), staff).await?;
        let m = service_records::update(&txn, id.0, current.id, Some(version), &draft)
            .await
            .map_err(mismatch(current.id))?;
        commit_change(txn, "update", current, &m).await?;
        respond(m)
    }

    /// Verify a service record (核实)
    ///
    /// By a member of staff who may edit the registry or review, other than whoever recorded it
    /// (403 `self_verification`; records without an account are matched by the recorder's name).
    /// Sets `verified_by` to the caller's name and account and `verified_on` to today; audited as
    /// `service_record.verify`. Any later change of the record's facts clears it.
    ///
    /// Permission: `edit_registry` or `review`.
    #[oai(
        path = "/residents/:id/service-records/:record_id/verification",
        method = "post"
    )]
    async fn verify(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<i64>,
        record_id: Path<i64>,
    ) -> ApiResult<ServiceRecordResponse> {
        let staff = auth.staff();
        if !staff.may(Action::EditRegistry) && !staff.may(Action::Review) {
            return Err(ApiError::forbidden());
        }
        residents::get(&state.db, id.0, staff.reach()).await?;
        let current = service_records::get(&state.db, id.0, record_id.0).await?;
        if service_records::recorded_by(&current, staff.user_id, &staff.name) {
            return Err(ApiError::forbidden_code(
                "self_verification",
                "记录人不能核实自己记录的服务记录，请由其他工作人员核实",
            ));
        }
        let txn = Change::begin(&state.db, state.clock.now(), staff).await?;
        let m = service_records::verify(
            &txn,
            &current,
            &staff.name,
            staff.user_id,
            state.clock.today(),
        )
        .await
        .map_err(mismatch(current.id))?;
        commit_change(txn, "verify", current, &m).await?;
        respond(m)
    }

    /// Delete a service record
    ///
    /// Permission: `edit_registry`.
    #[oai(path = "/residents/:id/service-records/:record_id", method = "delete")]
    async fn delete(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<i64>,
        record_id: Path<i64>,
    ) -> ApiResult<Deleted> {
        let staff = auth.require(Action::EditRegistry)?;
        residents::get(&state.db, id.0, staff.reach()).await?;
        let txn = Change::begin(&state.db, state.clock.now(), staff).await?;
        let before = service_records::get(&txn, id.0, record_id.0).await?;
        service_records::delete(&txn, id.0, record_id.0).await?;
        txn.deleted(&ServiceRecord::from_model(before)?).await?;
        Ok(Deleted::NoContent)
    }
}
