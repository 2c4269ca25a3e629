//! `/imports`: rosters (名册) in, in two steps. `POST /imports` checks an uploaded .xlsx, .xls or
//! .csv and keeps it with its report, writing nothing else; `POST /imports/{id}/commit` applies
//! it in one transaction — all rows or none — audited as one import with an event per resident
//! created or changed. Only registry editors import.

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
use super::write::Change;
use super::{snap, ApiTags};
use crate::domain::policy::Action;
use crate::roster::{self, sheet, Plan, Progress, RowAction};
use crate::state::AppState;
use crate::store::imports::{self, NewImport};
use crate::store::residents::Visibility;

/// How rows find their resident, as the report says it.
pub const RESIDENT_KEY: &str =
    "按身份证号码匹配居民；没有身份证号码时按“姓名 + 小区”匹配。匹配到多位时报告，不做猜测。";

#[derive(Debug, Multipart)]
pub struct ImportUpload {
    /// The roster: .xlsx, .xls or .csv (UTF-8 with or without BOM, or GBK). The type is read
    /// from the bytes.
    pub file: Upload,
    /// What the roster holds: `residents`.
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
}

/// The check's report; after the commit, what was done.
#[derive(Debug, Clone, Object, Serialize, Deserialize)]
pub struct ImportReport {
    pub id: i64,
    pub kind: String,
    pub file_name: String,
    /// How rows are matched to residents.
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
    fn new(id: i64, file_name: &str, plan: &Plan) -> Self {
        ImportReport {
            id,
            kind: "residents".into(),
            file_name: file_name.to_string(),
            key: RESIDENT_KEY.into(),
            rows: plan.rows as u64,
            create: plan.count(RowAction::Create) as u64,
            update: plan.count(RowAction::Update) as u64,
            unchanged: plan.count(RowAction::Unchanged) as u64,
            problems: plan
                .problems
                .iter()
                .map(|p| ImportProblem {
                    row: p.row as u64,
                    column: p.column.clone(),
                    value: p.value.clone(),
                    message: p.message.clone(),
                })
                .collect(),
            items: plan
                .planned
                .iter()
                .map(|p| ImportItem {
                    row: p.row as u64,
                    action: p.action.code().into(),
                    name: p.draft.name.clone(),
                    community: p.community.clone(),
                    resident_id: p.current.as_ref().map(|m| m.id),
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
    /// unchanged; writes nothing but the kept upload. 413 over `YOUDE_MAX_UPLOAD_BYTES`, 415 for
    /// anything but .xlsx, .xls or CSV text, 422 `missing_columns` (naming them) when no visible
    /// sheet has the 姓名 and 小区 columns.
    #[oai(path = "/imports", method = "post")]
    async fn check(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        form: ImportUpload,
    ) -> ApiResult<CheckResponse> {
        let staff = auth.require(Action::EditRegistry)?;
        if form.kind.as_deref().is_some_and(|k| k != "residents") {
            return Err(ApiError::field("kind", "目前只能导入居民名册（residents）"));
        }
        let file_name = form.file.file_name().unwrap_or("名册").to_string();
        let content = form.file.into_vec().await.map_err(|_| {
            ApiError::bad_request("upload_unreadable", "上传的文件无法读取，请重新上传")
        })?;
        let report = check_file(&state.db, staff, &file_name, content, &|_| {}).await?;
        let location = format!("/api/v1/imports/{}", report.id);
        Ok(CheckResponse::Created(Json(report), location))
    }

    /// A checked roster's report
    #[oai(path = "/imports/:id", method = "get")]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<i64>,
    ) -> ApiResult<Json<ImportReport>> {
        auth.require(Action::EditRegistry)?;
        Ok(Json(ImportReport::stored(
            &imports::get(&state.db, id.0).await?,
        )?))
    }

    /// Commit a checked roster
    ///
    /// Reads the kept file again and applies it in one transaction against the data as it is
    /// now: every row or none (422 `import_invalid` with the problems, nothing written). Audited
    /// as `import.commit` with a `resident.create` or `resident.update` event per resident; the
    /// search index follows through the outbox like any change. A second commit of the same
    /// check is 409; importing the same file again finds every row unchanged.
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

/// The check of a residents roster: read it, plan it, keep the upload with its report. The same
/// for the API, the console and `youde import`.
pub async fn check_file(
    db: &DatabaseConnection,
    staff: &Staff,
    file_name: &str,
    content: Vec<u8>,
    progress: Progress<'_>,
) -> ApiResult<ImportReport> {
    staff.require(Action::EditRegistry)?;
    let table = sheet::read(&content)?;
    let plan = roster::plan_residents(db, &table, progress).await?;
    let mut report = ImportReport::new(0, file_name, &plan);
    let stored = imports::insert(
        db,
        NewImport {
            kind: "residents",
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
    let stored = imports::get(db, id).await?;
    if stored.committed_at.is_some() {
        return Err(ApiError::conflict_code(
            "import_committed",
            "该名册已经导入过；如需再次导入，请重新上传",
            None,
        ));
    }
    let table = sheet::read(&stored.content)?;
    let change = Change::begin(db, now, staff).await?;
    let plan = roster::plan_residents(&*change, &table, progress).await?;
    let mut report = ImportReport::new(stored.id, &stored.file_name, &plan);
    if !plan.problems.is_empty() {
        return Err(invalid(report));
    }
    let applied = roster::apply(&*change, &plan).await?;
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
    report.committed = true;
    let summary = json!({
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

fn report_json(report: &ImportReport) -> String {
    serde_json::to_string(report).expect("reports serialise")
}
