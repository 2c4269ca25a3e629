//! `/exports`: rosters out for staff, as .xlsx or CSV (UTF-8 with BOM). Private columns (phone,
//! ID number, birth year, address) only for roles that may read private fields; cells that would
//! run as formulas are neutralised. The files re-import without changes.

use poem::web::Data;
use poem_openapi::param::Query;
use poem_openapi::payload::{Attachment, AttachmentType};
use poem_openapi::{ApiResponse, OpenApi};

use super::auth::StaffAuth;
use super::error::{ApiError, ApiResult};
use super::ApiTags;
use crate::domain::policy::Action;
use crate::domain::roster::SheetKind;
use crate::roster::export;
use crate::state::AppState;

#[derive(ApiResponse)]
pub enum ExportResponse {
    /// CSV in UTF-8 with BOM.
    #[oai(status = 200, content_type = "text/csv; charset=utf-8")]
    Csv(Attachment<Vec<u8>>),
    /// An .xlsx workbook.
    #[oai(
        status = 200,
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )]
    Xlsx(Attachment<Vec<u8>>),
}

pub struct ExportsApi;

#[OpenApi(tag = "ApiTags::Imports")]
impl ExportsApi {
    /// Export residents
    ///
    /// The import template's columns (姓名, 小区, 手机号码, 身份证号码, 出生年份, 住址, 事迹简介),
    /// one row per resident the caller may see; the private columns only for roles that read
    /// private fields. `format`: `xlsx` (default) or `csv`.
    ///
    /// Permission: any signed-in staff.
    #[oai(path = "/exports/residents", method = "get")]
    async fn residents(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        /// `xlsx` or `csv`.
        format: Query<Option<String>>,
    ) -> ApiResult<ExportResponse> {
        let rows = export::residents_table(&state.db, auth.staff().visibility()).await?;
        table_file(format.0.as_deref(), "居民", "youde-residents", rows)
    }

    /// Export service records
    ///
    /// The service records template's columns (姓名, 小区, 身份证号码, 类型, 事项, 所在组织, 开始时间,
    /// 结束时间, 数量, 计量单位, 限定词, 是否无偿, 证明材料, 记录人, 核实人), one row per record of the
    /// residents the caller may see; 身份证号码 only for roles that read private fields. Amounts are
    /// written as the import reads them (`60余个小区；约200人`), an ongoing record's end as 至今;
    /// records of activities are in the activities export. Re-imported with
    /// `kind=service_records`, every row is unchanged. `format`: `xlsx` (default) or `csv`.
    ///
    /// Permission: any signed-in staff.
    #[oai(path = "/exports/service-records", method = "get")]
    async fn service_records(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        /// `xlsx` or `csv`.
        format: Query<Option<String>>,
    ) -> ApiResult<ExportResponse> {
        let rows = export::service_records_table(&state.db, auth.staff().visibility()).await?;
        table_file(
            format.0.as_deref(),
            "服务记录",
            "youde-service-records",
            rows,
        )
    }

    /// Export activities with hours
    ///
    /// The sign-in sheet of every activity: one row per participant with the hours they served,
    /// who recorded and who verified them (活动, 日期, 地点, 组织者, 默认时长（小时）, 姓名, 小区,
    /// 时长（小时）, 记录人, 核实人). Roles that do not read private fields get the public
    /// participants only. `format`: `xlsx` (default) or `csv`.
    ///
    /// Permission: any signed-in staff.
    #[oai(path = "/exports/activities", method = "get")]
    async fn activities(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        /// `xlsx` or `csv`.
        format: Query<Option<String>>,
    ) -> ApiResult<ExportResponse> {
        let rows = export::activities_table(&state.db, auth.staff().visibility()).await?;
        table_file(format.0.as_deref(), "活动", "youde-activities", rows)
    }

    /// Export recognitions
    ///
    /// The honours (姓名, 小区, 荣誉称号, 年度, 类别, 推荐理由, 表彰日期, 状态): roles that read private
    /// fields get revoked ones too, marked 已撤销 with the reason; the others the honour roll's.
    /// `format`: `xlsx` (default) or `csv`.
    ///
    /// Permission: any signed-in staff.
    #[oai(path = "/exports/recognitions", method = "get")]
    async fn recognitions(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        /// `xlsx` or `csv`.
        format: Query<Option<String>>,
    ) -> ApiResult<ExportResponse> {
        let rows = export::recognitions_table(&state.db, auth.staff().visibility()).await?;
        table_file(format.0.as_deref(), "表彰", "youde-recognitions", rows)
    }

    /// Export the audit log for a period
    ///
    /// Every event from `from` to `to` (days in Beijing time, both included), oldest first, with
    /// the snapshots before and after. Needs the role that reads the audit log.
    ///
    /// Permission: `read_audit`.
    #[oai(path = "/exports/audit", method = "get")]
    async fn audit(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        /// First day, `2019-09-01` (required).
        from: Query<Option<chrono::NaiveDate>>,
        /// Last day, `2019-09-30` (required).
        to: Query<Option<chrono::NaiveDate>>,
        /// `xlsx` or `csv`.
        format: Query<Option<String>>,
    ) -> ApiResult<ExportResponse> {
        // Checked after the role, so that who may not export learns nothing more.
        let staff = auth.require(Action::ReadAudit)?;
        let (Some(from), Some(to)) = (from.0, to.0) else {
            return Err(ApiError::field(
                "from",
                "请给出导出的时段：from 与 to（如 2019-09-01）",
            ));
        };
        if to < from {
            return Err(ApiError::field("to", "结束日期不能早于开始日期"));
        }
        // Midnight in Beijing (UTC+8) of the first day, and of the day after the last.
        let start = |day: chrono::NaiveDate| {
            day.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc()
                - chrono::Duration::hours(8)
        };
        let rows = export::audit_table(
            &state.db,
            start(from),
            start(to + chrono::Days::new(1)),
            staff.scope,
        )
        .await?;
        let name = format!("youde-audit-{from}-{to}");
        table_file(format.0.as_deref(), "审计日志", &name, rows)
    }

    /// The residents import template
    ///
    /// An .xlsx with the columns on its first sheet (居民), a dropdown of the communities under
    /// 小区 (from a hidden sheet, 小区列表), and what each column means with a sample row on the
    /// second (填写说明); or, with `format=csv`, the header row alone.
    ///
    /// Permission: `edit_registry`.
    #[oai(path = "/imports/templates/residents", method = "get")]
    async fn template(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        /// `xlsx` or `csv`.
        format: Query<Option<String>>,
    ) -> ApiResult<ExportResponse> {
        template_file(&state, &auth, SheetKind::Residents, format.0.as_deref()).await
    }

    /// The service records import template
    ///
    /// As the residents template, for `kind=service_records`: 姓名, 小区, 身份证号码, 类型, 事项,
    /// 所在组织, 开始时间, 结束时间, 数量, 计量单位, 限定词, 是否无偿, 证明材料, 记录人, 核实人, with
    /// dropdowns for 小区, 类型 (record kinds), 计量单位 (units), 限定词 (qualifiers) and 是否无偿.
    ///
    /// Permission: `edit_registry`.
    #[oai(path = "/imports/templates/service-records", method = "get")]
    async fn service_records_template(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        /// `xlsx` or `csv`.
        format: Query<Option<String>>,
    ) -> ApiResult<ExportResponse> {
        template_file(
            &state,
            &auth,
            SheetKind::ServiceRecords,
            format.0.as_deref(),
        )
        .await
    }

    /// The sign-in sheet (participation) import template
    ///
    /// As the residents template, for `kind=participation`: 活动, 日期, 地点, 组织者, 默认时长（小时）,
    /// 姓名, 小区, 身份证号码, 时长（小时）, 记录人, 核实人 — the columns of the activities export —
    /// with a dropdown for 小区.
    ///
    /// Permission: `edit_registry`.
    #[oai(path = "/imports/templates/participation", method = "get")]
    async fn participation_template(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        /// `xlsx` or `csv`.
        format: Query<Option<String>>,
    ) -> ApiResult<ExportResponse> {
        template_file(&state, &auth, SheetKind::Participation, format.0.as_deref()).await
    }
}

/// A `kind` template as the asked format, for registry editors.
async fn template_file(
    state: &AppState,
    auth: &StaffAuth,
    kind: SheetKind,
    format: Option<&str>,
) -> ApiResult<ExportResponse> {
    auth.require(Action::EditRegistry)?;
    let name = format!("youde-{}-template", kind.code().replace('_', "-"));
    match format.unwrap_or("xlsx") {
        "csv" => Ok(ExportResponse::Csv(file(
            export::to_csv(&export::template_header(kind)),
            &name,
            "csv",
        ))),
        "xlsx" => {
            let communities = export::community_names(&state.db).await?;
            let bytes = export::template_xlsx(kind, &communities).map_err(|e| {
                tracing::error!(error = %e, "writing a template failed");
                ApiError::internal()
            })?;
            Ok(ExportResponse::Xlsx(file(bytes, &name, "xlsx")))
        }
        _ => Err(ApiError::field("format", "格式应为 xlsx 或 csv")),
    }
}

/// One table as the asked format: `xlsx` (the default) or `csv`.
fn table_file(
    format: Option<&str>,
    sheet: &str,
    name: &str,
    rows: Vec<Vec<String>>,
) -> ApiResult<ExportResponse> {
    match format.unwrap_or("xlsx") {
        "csv" => Ok(ExportResponse::Csv(file(
            export::to_csv(&rows),
            name,
            "csv",
        ))),
        "xlsx" => Ok(ExportResponse::Xlsx(file(
            xlsx(&[(sheet, rows)])?,
            name,
            "xlsx",
        ))),
        _ => Err(ApiError::field("format", "格式应为 xlsx 或 csv")),
    }
}

fn file(bytes: Vec<u8>, name: &str, ext: &str) -> Attachment<Vec<u8>> {
    Attachment::new(bytes)
        .attachment_type(AttachmentType::Attachment)
        .filename(format!("{name}.{ext}"))
}

fn xlsx(sheets: &[(&str, Vec<Vec<String>>)]) -> Result<Vec<u8>, ApiError> {
    export::to_xlsx(sheets).map_err(|e| {
        tracing::error!(error = %e, "writing a workbook failed");
        ApiError::internal()
    })
}
