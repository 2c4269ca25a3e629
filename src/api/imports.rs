//! `/imports`: rosters (名册) in, in two steps. `POST /imports` checks an uploaded .xlsx, .xls or
//! .csv and keeps it with its report, writing nothing else; `POST /imports/{id}/commit` applies
//! it in one transaction — all rows or none — audited as one import with an event per resident,
//! service record or activity created or changed. Three kinds of roster: residents, service
//! records, and activity participation (签到表) with hours. Only registry editors import.

use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::types::multipart::Upload;
use poem_openapi::{ApiResponse, Multipart, Object, OpenApi};
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::auth::{Require, Staff, StaffAuth};
use super::error::{ApiError, ApiResult};
use super::residents::Resident;
use super::service_records::ServiceRecord;
use super::write::Change;
use super::{snap, ApiTags};
use crate::domain::policy::Action;
use crate::domain::roster::SheetKind;
use crate::roster::participation::{self, Written};
use crate::roster::{self, records, sheet, Outline, Progress, RowAction};
use crate::state::AppState;
use crate::store::imports::{self, NewImport};
use crate::store::residents::Visibility;

/// How rows find their resident, as the report says it.
pub const RESIDENT_KEY: &str =
    "按身份证号码匹配居民；没有身份证号码时按“姓名 + 小区”匹配。匹配到多位时报告，不做猜测。";

/// How a service records sheet's rows find their record.
pub const RECORD_KEY: &str = "居民按身份证号码匹配，没有身份证号码时按“姓名 + 小区”匹配，须已在系统中；记录按“居民 + 类型 + 事项 + 开始时间”匹配，已有则更新（空白单元格保留原内容），没有则新建。匹配到多个时报告，不做猜测。";

/// How a sign-in sheet's rows find their activity and participant.
pub const PARTICIPATION_KEY: &str = "活动按“活动名称 + 日期”匹配，系统中没有则新建；居民按身份证号码或“姓名 + 小区”匹配，须已在系统中。每位参与者一条参加活动的记录：新参与者新建，时长不同的更新，表中没有列出的参与者保持不变。匹配到多个时报告，不做猜测。";

fn key_of(kind: SheetKind) -> &'static str {
    match kind {
        SheetKind::Residents => RESIDENT_KEY,
        SheetKind::ServiceRecords => RECORD_KEY,
        SheetKind::Participation => PARTICIPATION_KEY,
    }
}

#[derive(Debug, Multipart)]
pub struct ImportUpload {
    /// The roster: .xlsx, .xls or .csv (UTF-8 with or without BOM, or GBK). The type is read
    /// from the bytes.
    pub file: Upload,
    /// What the roster holds: `residents` (the default), `service_records` or `participation`
    /// (an activity sign-in sheet with hours).
    pub kind: Option<String>,
}

/// One problem of one cell, in Chinese.
#[derive(Debug, Clone, Object, Serialize, Deserialize)]
pub struct ImportProblem {
    /// The row as the spreadsheet numbers it (the header is usually row 1).
    pub row: u64,
    /// The column's header as the file has it.
    pub column: String,
    pub value: String,
    pub message: String,
}

/// What one valid row does.
#[derive(Debug, Clone, Object, Serialize, Deserialize)]
pub struct ImportItem {
    pub row: u64,
    /// `create`, `update` or `unchanged`.
    pub action: String,
    pub name: String,
    pub community: String,
    /// The matched resident (after the commit, also the created one).
    pub resident_id: Option<i64>,
    /// What the row records beyond the resident: the service record (类型：事项（开始）) or the
    /// activity (活动（日期）, with the hours). None for residents.
    pub subject: Option<String>,
    /// The matched service record (after the commit, also the created one). None for residents.
    pub record_id: Option<i64>,
}

/// The check's report; after the commit, what was done.
#[derive(Debug, Clone, Object, Serialize, Deserialize)]
pub struct ImportReport {
    pub id: i64,
    /// `residents`, `service_records` or `participation`.
    pub kind: String,
    pub file_name: String,
    /// How rows are matched to residents (and records, activities).
    pub key: String,
    /// Data rows read (empty rows are not counted).
    pub rows: u64,
    pub create: u64,
    pub update: u64,
    pub unchanged: u64,
    /// Every problem found; an import with problems cannot be committed.
    pub problems: Vec<ImportProblem>,
    pub items: Vec<ImportItem>,
    pub committed: bool,
}

impl ImportReport {
    fn new(id: i64, file_name: &str, kind: SheetKind, plan: Outline) -> Self {
        ImportReport {
            id,
            kind: kind.code().into(),
            file_name: file_name.to_string(),
            key: key_of(kind).into(),
            rows: plan.rows as u64,
            create: plan.count(RowAction::Create) as u64,
            update: plan.count(RowAction::Update) as u64,
            unchanged: plan.count(RowAction::Unchanged) as u64,
            problems: plan
                .problems
                .into_iter()
                .map(|p| ImportProblem {
                    row: p.row as u64,
                    column: p.column,
                    value: p.value,
                    message: p.message,
                })
                .collect(),
            items: plan
                .lines
                .into_iter()
                .map(|p| ImportItem {
                    row: p.row as u64,
                    action: p.action.code().into(),
                    name: p.name,
                    community: p.community,
                    resident_id: p.resident_id,
                    subject: p.subject,
                    record_id: p.record_id,
                })
                .collect(),
            committed: false,
        }
    }

    fn stored(m: &crate::store::entities::import::Model) -> Result<Self, ApiError> {
        serde_json::from_str(&m.report).map_err(|e| {
            tracing::error!(import = m.id, error = %e, "stored import report is not valid");
            ApiError::internal()
        })
    }
}

#[derive(ApiResponse)]
pub enum CheckResponse {
    /// Checked: the report of every row. Nothing but the upload was stored.
    #[oai(status = 201)]
    Created(Json<ImportReport>, #[oai(header = "Location")] String),
}

fn invalid(report: ImportReport) -> ApiError {
    ApiError::unprocessable(
        "import_invalid",
        format!(
            "名册有 {} 处问题，请改正后重新上传；没有写入任何数据",
            report.problems.len()
        ),
        json!({ "problems": report.problems }),
    )
}

pub struct ImportsApi;

#[OpenApi(tag = "ApiTags::Imports")]
impl ImportsApi {
    /// Check a roster
    ///
    /// `multipart/form-data` with the file in `file`. Answers with the report of every row (row,
    /// column, value, problem in Chinese) and what the commit would create, update or leave
    /// unchanged; writes nothing but the kept upload. `kind` says what the roster holds:
    /// `residents` (default; needs 姓名, 小区), `service_records` (needs 姓名, 小区, 类型, 事项,
    /// 开始时间) or `participation` (needs 活动, 日期, 姓名, 小区; hours in 时长（小时）). 413 over
    /// `YOUDE_MAX_UPLOAD_BYTES`, 415 for anything but .xlsx, .xls or CSV text, 422
    /// `missing_columns` (naming them) when no visible sheet has the needed columns.
    ///
    /// Permission: `edit_registry`.
    #[oai(path = "/imports", method = "post")]
    async fn check(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        form: ImportUpload,
    ) -> ApiResult<CheckResponse> {
        let staff = auth.require(Action::EditRegistry)?;
        let kind = match form.kind.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
            None => SheetKind::Residents,
            Some(code) => SheetKind::parse(code).ok_or_else(|| {
                ApiError::field(
                    "kind",
                    "名册类型应为 residents（居民）、service_records（服务记录）或 participation（活动签到表）",
                )
            })?,
        };
        let file_name = form.file.file_name().unwrap_or("名册").to_string();
        let content = form.file.into_vec().await.map_err(|_| {
            ApiError::bad_request("upload_unreadable", "上传的文件无法读取，请重新上传")
        })?;
        let report = check_file(
            &state.db,
            state.clock.now(),
            staff,
            kind,
            &file_name,
            content,
            &|_| {},
        )
        .await?;
        let location = format!("/api/v1/imports/{}", report.id);
        Ok(CheckResponse::Created(Json(report), location))
    }

    /// A checked roster's report
    ///
    /// Permission: `edit_registry`.
    #[oai(path = "/imports/:id", method = "get")]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<i64>,
    ) -> ApiResult<Json<ImportReport>> {
        whole_deployment(auth.require(Action::EditRegistry)?)?;
        Ok(Json(ImportReport::stored(
            &imports::get(&state.db, id.0).await?,
        )?))
    }

    /// Commit a checked roster
    ///
    /// Reads the kept file again and applies it in one transaction against the data as it is
    /// now: every row or none (422 `import_invalid` with the problems, nothing written). Audited
    /// as `import.commit` with an event per entity written — `resident.create` /
    /// `resident.update`, `service_record.create` / `service_record.update`, `activity.create`;
    /// the search index follows through the outbox like any change. A second commit of the same
    /// check is 409; importing the same file again finds every row unchanged.
    ///
    /// Permission: `edit_registry`.
    #[oai(path = "/imports/:id/commit", method = "post")]
    async fn commit(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<i64>,
    ) -> ApiResult<Json<ImportReport>> {
        let staff = auth.require(Action::EditRegistry)?;
        Ok(Json(
            commit_import(&state.db, state.clock.now(), staff, id.0, &|_| {}).await?,
        ))
    }
}

/// Rosters match and create residents across the whole registry (by ID number, by name and
/// 小区), so importing needs a grant that reaches the whole deployment for now: a scoped member
/// of staff is refused (403 `scope_too_narrow`).
fn whole_deployment(staff: &Staff) -> ApiResult<&Staff> {
    if staff.scope.is_some() {
        return Err(ApiError::forbidden_code(
            "scope_too_narrow",
            "名册导入目前只对管辖全部社区的工作人员开放",
        ));
    }
    Ok(staff)
}

/// The plan of a roster of any kind, as the report outlines it.
enum AnyPlan {
    Residents(roster::Plan),
    Records(records::RecordsPlan),
    Participation(participation::ParticipationPlan),
}

impl AnyPlan {
    async fn make(
        db: &impl sea_orm::ConnectionTrait,
        kind: SheetKind,
        table: &sheet::Table,
        staff: &Staff,
        now: chrono::DateTime<chrono::Utc>,
        progress: Progress<'_>,
    ) -> ApiResult<Self> {
        let today = (now + chrono::Duration::hours(8)).date_naive();
        Ok(match kind {
            SheetKind::Residents => {
                AnyPlan::Residents(roster::plan_residents(db, table, progress).await?)
            }
            SheetKind::ServiceRecords => AnyPlan::Records(
                records::plan_records(db, table, &staff.name, today, progress).await?,
            ),
            SheetKind::Participation => AnyPlan::Participation(
                participation::plan_participation(db, table, &staff.name, progress).await?,
            ),
        })
    }

    fn outline(&self) -> Outline {
        match self {
            AnyPlan::Residents(p) => p.outline(),
            AnyPlan::Records(p) => p.outline(),
            AnyPlan::Participation(p) => p.outline(),
        }
    }
}

/// The check of a roster: read it, plan it, keep the upload with its report. The same for the
/// API, the console and `youde import`.
pub async fn check_file(
    db: &DatabaseConnection,
    now: chrono::DateTime<chrono::Utc>,
    staff: &Staff,
    kind: SheetKind,
    file_name: &str,
    content: Vec<u8>,
    progress: Progress<'_>,
) -> ApiResult<ImportReport> {
    staff.require(Action::EditRegistry)?;
    whole_deployment(staff)?;
    let table = sheet::read(&content, kind)?;
    let plan = AnyPlan::make(db, kind, &table, staff, now, progress).await?;
    let mut report = ImportReport::new(0, file_name, kind, plan.outline());
    drop(plan);
    let stored = imports::insert(
        db,
        NewImport {
            kind: kind.code(),
            file_name,
            sha256: format!("{:x}", Sha256::digest(&content)),
            content,
            report: String::new(),
            created_by: &staff.name,
        },
    )
    .await?;
    report.id = stored.id;
    imports::set_report(db, stored.id, &report_json(&report)).await?;
    Ok(report)
}

/// The commit of a checked roster, all or nothing (see the operation's description).
pub async fn commit_import(
    db: &DatabaseConnection,
    now: chrono::DateTime<chrono::Utc>,
    staff: &Staff,
    id: i64,
    progress: Progress<'_>,
) -> ApiResult<ImportReport> {
    staff.require(Action::EditRegistry)?;
    whole_deployment(staff)?;
    let stored = imports::get(db, id).await?;
    if stored.committed_at.is_some() {
        return Err(ApiError::conflict_code(
            "import_committed",
            "该名册已经导入过；如需再次导入，请重新上传",
            None,
        ));
    }
    let kind = SheetKind::parse(&stored.kind).unwrap_or(SheetKind::Residents);
    let table = sheet::read(&stored.content, kind)?;
    let change = Change::begin(db, now, staff).await?;
    let plan = AnyPlan::make(&*change, kind, &table, staff, now, progress).await?;
    let mut report = ImportReport::new(stored.id, &stored.file_name, kind, plan.outline());
    if !report.problems.is_empty() {
        return Err(invalid(report));
    }
    // The ids the commit gave, by row: created residents, and records created or changed.
    let mut ids: std::collections::HashMap<u64, (i64, i64)> = Default::default();
    match &plan {
        AnyPlan::Residents(plan) => {
            let applied = roster::apply(&*change, plan).await?;
            for a in &applied {
                let after = snap(&Resident::view(a.after.clone(), Visibility::Staff));
                let (action, before) = match &a.before {
                    Some(m) => (
                        "resident.update",
                        snap(&Resident::view(m.clone(), Visibility::Staff)),
                    ),
                    None => ("resident.create", None),
                };
                change
                    .record(action, "resident", a.after.id, before, after)
                    .await?;
            }
            let mut created = applied.iter().filter(|a| a.before.is_none());
            for item in report.items.iter_mut().filter(|i| i.resident_id.is_none()) {
                item.resident_id = created.next().map(|a| a.after.id);
            }
        }
        AnyPlan::Records(plan) => {
            let applied = records::apply(&*change, plan, (&staff.name, staff.user_id)).await?;
            for a in applied {
                ids.insert(a.row as u64, (a.after.resident_id, a.after.id));
                record_event(&change, a.before, a.after).await?;
            }
        }
        AnyPlan::Participation(plan) => {
            for w in participation::apply(&*change, plan).await? {
                match w {
                    Written::Activity(m) => {
                        let view = super::activities::view(&*change, m, Visibility::Staff).await?;
                        change
                            .record("activity.create", "activity", view.id, None, snap(&view))
                            .await?;
                    }
                    Written::Record { row, before, after } => {
                        ids.insert(row as u64, (after.resident_id, after.id));
                        record_event(&change, before, after).await?;
                    }
                }
            }
        }
    }
    for item in report.items.iter_mut() {
        if let Some((resident_id, record_id)) = ids.get(&item.row) {
            item.resident_id = Some(*resident_id);
            item.record_id = Some(*record_id);
        }
    }
    report.committed = true;
    let summary = json!({
        "kind": kind.code(),
        "file_name": stored.file_name,
        "sha256": stored.sha256,
        "rows": report.rows,
        "create": report.create,
        "update": report.update,
        "unchanged": report.unchanged,
    });
    change
        .record("import.commit", "import", stored.id, None, Some(summary))
        .await?;
    imports::mark_committed(&*change, stored.id, &staff.name, report_json(&report)).await?;
    change.commit().await?;
    Ok(report)
}

/// The audit event of a service record an import created or changed.
async fn record_event(
    change: &Change<'_>,
    before: Option<crate::store::entities::service_record::Model>,
    after: crate::store::entities::service_record::Model,
) -> ApiResult<()> {
    let (id, action) = match &before {
        Some(_) => (after.id, "service_record.update"),
        None => (after.id, "service_record.create"),
    };
    let before = before.map(ServiceRecord::from_model).transpose()?;
    let after = ServiceRecord::from_model(after)?;
    change
        .record(
            action,
            "service_record",
            id,
            before.as_ref().and_then(snap),
            snap(&after),
        )
        .await
}

fn report_json(report: &ImportReport) -> String {
    serde_json::to_string(report).expect("reports serialise")
}
