//! `/residents` and `/residents/{id}/summary`. Anonymous readers see only residents with an active
//! profile consent, and never the private fields; staff see both.

use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::auth::{StaffAuth, Viewer};
use super::error::{ApiError, ApiResult};
use super::etag::{etag, mismatch, IfMatch};
use super::pagination::{page, ListPage, PageRequest};
use super::service_records::MeasureDto;
use super::write::Change;
use super::{snap, ApiTags, Created, Deleted};
use crate::domain::policy::Action;
use crate::domain::resident::{ResidentDraft, ResidentInput as DomainInput};
use crate::domain::summary::{ServiceSummary, Total};
use crate::service::registry::check_community_reached;
pub use crate::service::registry::Resident;
use crate::state::AppState;
use crate::store::residents::{self, ListFilter, Visibility};
use crate::store::service_records;

super::write::audited!(Resident => "resident");

#[derive(Debug, Object)]
#[oai(example)]
pub struct ResidentInput {
    /// 姓名 (1–40 characters). Pinyin and slug are derived from it.
    pub name: String,
    pub community_id: i64,
    /// Public citation / bio in Markdown (up to 20,000 characters).
    pub citation: Option<String>,
    /// Private: 7–15 digits, may contain `+ - ( )` and spaces.
    pub phone: Option<String>,
    /// Private: 18-character resident ID number with a valid check digit.
    pub id_number: Option<String>,
    /// Private.
    pub birth_year: Option<i32>,
    /// Private.
    pub address: Option<String>,
}

super::example!(ResidentInput, { "name": "孙建伟", "community_id": 1, "citation": "十二年义务担任业委会主任" });

impl ResidentInput {
    fn parse(self) -> Result<ResidentDraft, ApiError> {
        Ok(ResidentDraft::parse(DomainInput {
            name: self.name,
            community_id: self.community_id,
            citation: self.citation,
            phone: self.phone,
            id_number: self.id_number,
            birth_year: self.birth_year,
            address: self.address,
        })?)
    }
}

/// What an erasure did.
#[derive(Debug, Object)]
pub struct ErasureReport {
    pub resident_id: i64,
    /// Stories taken back to draft (they show `attention` to editors).
    pub stories_unpublished: Vec<i64>,
    pub consents_withdrawn: u64,
    pub photos_deleted: Vec<i64>,
    /// Audit events whose private values were replaced by null.
    pub audit_events_redacted: u64,
}

/// One `story.unpublish` event per story a deletion or erasure took back to draft.
async fn audit_taken_down(txn: &Change<'_>, stories: &[i64]) -> Result<(), ApiError> {
    for story in stories {
        let after = serde_json::json!({ "state": "draft", "attention": true });
        txn.record("story.unpublish", "story", *story, None, Some(after))
            .await?;
    }
    Ok(())
}

#[derive(ApiResponse)]
pub enum ResidentResponse {
    /// The resident.
    #[oai(status = 200)]
    Ok(Json<Resident>, #[oai(header = "ETag")] String),
}

/// A total over all records for one unit, with its Chinese rendering.
pub type TotalDto = MeasureDto;

fn total(t: &Total) -> TotalDto {
    MeasureDto::from(&t.as_measure())
}

#[derive(Debug, Object)]
pub struct YearHours {
    pub year: i32,
    pub hours: f64,
}

/// Derived from the service records at the time of the request; never stored.
#[derive(Debug, Object)]
pub struct Summary {
    pub resident_id: i64,
    /// The day ongoing periods are counted up to.
    pub as_of: chrono::NaiveDate,
    /// Whole years in the union of all role periods (overlaps counted once).
    pub service_years: i64,
    pub service_months: i64,
    /// Whole years in the union of unpaid role periods.
    pub unpaid_years: i64,
    pub unpaid_months: i64,
    /// 接待参访: total hosted visits and delegations.
    pub visits_hosted: Option<TotalDto>,
    /// 节约资金: total money saved, in yuan.
    pub money_saved: Option<TotalDto>,
    /// 调研小区: compounds surveyed.
    pub compounds_surveyed: Option<TotalDto>,
    /// Totals per unit over every record (percentages are not summed).
    pub totals: Vec<TotalDto>,
    pub activities: u64,
    pub records: u64,
    /// 志愿服务时长: hours over every record (activities' and `volunteer_hours` records').
    pub volunteer_hours: f64,
    /// Hours per year (the year a record starts in), only years with hours, ascending.
    pub hours_by_year: Vec<YearHours>,
    /// 星级志愿者, 1–5, from the total: 100 / 300 / 600 / 1,000 / 1,500 hours.
    pub star_level: Option<u8>,
    /// "三星志愿者".
    pub star_level_label: Option<String>,
    /// The Chinese lines a page shows: "无偿服务 12 年", "接待参访 52 批次", "节约资金 30 万元".
    pub headlines: Vec<String>,
    /// When every ongoing role carries a last confirmation: the latest one (`2019-09`). Ongoing
    /// periods are counted to their confirmation, never to `as_of` beyond it.
    pub known_until: Option<String>,
    /// "至 2019年9月，最后核实", said beside the years of service.
    pub known_until_text: Option<String>,
}

impl Summary {
    fn new(resident_id: i64, s: ServiceSummary) -> Self {
        Summary {
            resident_id,
            as_of: s.as_of,
            service_years: s.service_years(),
            service_months: s.service_months,
            unpaid_years: s.unpaid_years(),
            unpaid_months: s.unpaid_months,
            visits_hosted: s.visits_hosted.as_ref().map(total),
            money_saved: s.money_saved.as_ref().map(total),
            compounds_surveyed: s.compounds_surveyed.as_ref().map(total),
            totals: s.totals.iter().map(total).collect(),
            activities: s.activities as u64,
            records: s.records as u64,
            volunteer_hours: s.hours.total,
            hours_by_year: s
                .hours
                .by_year
                .iter()
                .map(|&(year, hours)| YearHours { year, hours })
                .collect(),
            star_level: s.hours.star_level.map(|l| l.stars()),
            star_level_label: s.hours.star_level.map(|l| l.label().to_string()),
            known_until_text: s.known_until_text(),
            known_until: s.known_until.map(|d| d.to_string()),
            headlines: s.headlines,
        }
    }
}

pub struct ResidentsApi;

#[OpenApi(tag = "ApiTags::Residents")]
impl ResidentsApi {
    /// List residents
    ///
    /// Anonymous: residents with an active profile consent, public fields only. Staff: everyone,
    /// private fields included.
    #[oai(path = "/residents", method = "get")]
    async fn list(
        &self,
        state: Data<&AppState>,
        viewer: Data<&Viewer>,
        community_id: Query<Option<i64>>,
        /// Page size, 1–200 (default 50).
        limit: Query<Option<u64>>,
        /// `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<ListPage<Resident>>> {
        let req = PageRequest::parse(limit.0, cursor.0.as_deref())?;
        let visibility = viewer.visibility();
        let rows = residents::list(
            &state.db,
            ListFilter {
                after: req.after,
                limit: req.limit,
                community_id: community_id.0,
                within: None,
                visibility,
            },
        )
        .await?;
        Ok(Json(page(rows, |m| Resident::view(m, visibility))))
    }

    /// Get a resident
    #[oai(path = "/residents/:id", method = "get")]
    async fn get(
        &self,
        state: Data<&AppState>,
        viewer: Data<&Viewer>,
        id: Path<i64>,
    ) -> ApiResult<ResidentResponse> {
        let m = residents::get(&state.db, id.0, viewer.visibility()).await?;
        let tag = etag(m.id, m.version);
        Ok(ResidentResponse::Ok(
            Json(Resident::view(m, viewer.visibility())),
            tag,
        ))
    }

    /// Create a resident
    ///
    /// Permission: `edit_registry`.
    #[oai(path = "/residents", method = "post")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        body: Json<ResidentInput>,
    ) -> ApiResult<Created<Resident>> {
        let staff = auth.require(Action::EditRegistry)?;
        let draft = body.0.parse()?;
        check_community_reached(&state.db, staff.reach(), draft.community_id).await?;
        let txn = Change::begin(&state.db, state.clock.now(), staff).await?;
        let m = residents::insert(&txn, &draft).await?;
        let tag = etag(m.id, m.version);
        let dto = Resident::view(m, Visibility::Staff);
        txn.created(&dto).await?;
        Ok(Created::at("/api/v1/residents", tag, dto))
    }

    /// Update a resident
    ///
    /// Replaces every field (private ones included: send them again to keep them). Needs
    /// `If-Match`. The slug stays as it was, so published links keep working.
    ///
    /// Permission: `edit_registry`.
    #[oai(path = "/residents/:id", method = "put")]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<i64>,
        #[oai(name = "If-Match")] if_match: IfMatch,
        body: Json<ResidentInput>,
    ) -> ApiResult<ResidentResponse> {
        let staff = auth.require(Action::EditRegistry)?;
        let current = residents::get(&state.db, id.0, staff.reach()).await?;
        let version = if_match.check(id.0, current.version)?;
        let draft = body.0.parse()?;
        check_community_reached(&state.db, staff.reach(), draft.community_id).await?;
        let txn = Change::begin(&state.db, state.clock.now(), staff).await?;
        let m = residents::update(&txn, id.0, version, &draft)
            .await
            .map_err(mismatch(id.0))?;
        let tag = etag(m.id, m.version);
        let dto = Resident::view(m, Visibility::Staff);
        txn.updated(&Resident::view(current, Visibility::Staff), &dto)
            .await?;
        Ok(ResidentResponse::Ok(Json(dto), tag))
    }

    /// Delete a resident
    ///
    /// Deletes their service records and consents with them.
    ///
    /// Permission: `edit_registry`.
    #[oai(path = "/residents/:id", method = "delete")]
    async fn delete(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<i64>,
    ) -> ApiResult<Deleted> {
        let staff = auth.require(Action::EditRegistry)?;
        let txn = Change::begin(&state.db, state.clock.now(), staff).await?;
        let before = residents::get(&txn, id.0, staff.reach()).await?;
        let unpublished = residents::delete(&txn, id.0).await?;
        txn.note(
            "delete",
            Some(&Resident::view(before, Visibility::Staff)),
            None,
        )
        .await?;
        audit_taken_down(&txn, &unpublished).await?;
        txn.commit().await?;
        Ok(Deleted::NoContent)
    }

    /// Erase a resident (删除个人信息, PIPL Art. 47); admins only
    ///
    /// For a resident who asks for their personal information to be deleted, including one with
    /// nominations (whose record must stand). The resident stays as a tombstone with name and
    /// slug; everything else goes at once, in one transaction: stories naming them go back to
    /// draft with `attention` set, every consent is withdrawn today, the photos they own or appear
    /// in are deleted with their files, the private fields and citation are cleared, and the
    /// private fields' values are replaced by null in every audit event about them (the events
    /// stay). Their certificates are revoked and lose the masked ID number they printed (audited
    /// as `certificate.revoke`). Their profile page answers 410; the API, search (via the
    /// outbox), feeds, sitemap, media and packs no longer show them. An erased resident cannot be edited or given consent
    /// again (409). Audited as `resident.erase`.
    ///
    /// Permission: `erase`.
    #[oai(path = "/residents/:id/erasure", method = "post")]
    async fn erase(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<i64>,
    ) -> ApiResult<Json<ErasureReport>> {
        let staff = auth.require(Action::Erase)?;
        residents::get(&state.db, id.0, staff.reach()).await?;
        let txn = Change::begin(&state.db, state.clock.now(), staff).await?;
        let done = residents::erase(&txn, id.0, state.clock.today()).await?;
        super::certificates::withdraw_for_erasure(&txn, &state.public_url, id.0, state.clock.now())
            .await?;
        let report = ErasureReport {
            resident_id: id.0,
            stories_unpublished: done.stories_unpublished.clone(),
            consents_withdrawn: done.consents_withdrawn,
            photos_deleted: done.photos_deleted.clone(),
            audit_events_redacted: done.audit_events_redacted,
        };
        txn.record("resident.erase", "resident", id.0, None, snap(&report))
            .await?;
        audit_taken_down(&txn, &done.stories_unpublished).await?;
        txn.commit().await?;
        state
            .media
            .remove_unreferenced(&state.db, &done.object_keys)
            .await;
        Ok(Json(report))
    }

    /// Service summary of a resident
    ///
    /// Derived from the records on every request: years of service as the union of role periods,
    /// totals per unit, and the Chinese headline lines.
    #[oai(path = "/residents/:id/summary", method = "get")]
    async fn summary(
        &self,
        state: Data<&AppState>,
        viewer: Data<&Viewer>,
        id: Path<i64>,
    ) -> ApiResult<Json<Summary>> {
        let resident = residents::get(&state.db, id.0, viewer.visibility()).await?;
        let records = service_records::list_for_resident(&state.db, resident.id).await?;
        let facts = records
            .iter()
            .map(service_records::facts)
            .collect::<Result<Vec<_>, _>>()?;
        let summary = ServiceSummary::derive(&facts, state.clock.today());
        Ok(Json(Summary::new(resident.id, summary)))
    }
}
