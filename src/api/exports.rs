//! `/exports`: rosters out for staff, as .xlsx or CSV (UTF-8 with BOM). Private columns (phone,
//! ID number, birth year, address) only for roles that may read private fields; cells that would
//! run as formulas are neutralised. The files re-import without changes.

use poem::web::Data;
use poem_openapi::param::Query;
use poem_openapi::payload::{Attachment, AttachmentType};
use poem_openapi::{ApiResponse, OpenApi};
use sea_orm::DatabaseConnection;

use super::auth::StaffAuth;
use super::error::{ApiError, ApiResult};
use super::ApiTags;
use crate::domain::policy::Action;
use crate::roster::export;

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
    #[oai(path = "/exports/residents", method = "get")]
    async fn residents(
        &self,
        db: Data<&DatabaseConnection>,
        auth: StaffAuth,
        /// `xlsx` or `csv`.
        format: Query<Option<String>>,
    ) -> ApiResult<ExportResponse> {
        let visibility = auth.staff().visibility();
        let rows = export::residents_table(*db, visibility).await?;
        let attachment = |bytes, ext| file(bytes, "youde-residents", ext);
        match format.0.as_deref().unwrap_or("xlsx") {
            "csv" => Ok(ExportResponse::Csv(attachment(
                export::to_csv(&rows),
                "csv",
            ))),
            "xlsx" => Ok(ExportResponse::Xlsx(attachment(
                xlsx(&[("居民", rows)])?,
                "xlsx",
            ))),
            _ => Err(ApiError::field("format", "格式应为 xlsx 或 csv")),
        }
    }

    /// The residents import template
    ///
    /// An .xlsx with the columns on its first sheet (居民) and what each means, with an example,
    /// on the second (填写说明); or, with `format=csv`, the header row alone.
    #[oai(path = "/imports/templates/residents", method = "get")]
    async fn template(
        &self,
        auth: StaffAuth,
        /// `xlsx` or `csv`.
        format: Query<Option<String>>,
    ) -> ApiResult<ExportResponse> {
        auth.require(Action::EditRegistry)?;
        let name = "youde-residents-template";
        match format.0.as_deref().unwrap_or("xlsx") {
            "csv" => Ok(ExportResponse::Csv(file(
                export::to_csv(&export::residents_header()),
                name,
                "csv",
            ))),
            "xlsx" => {
                let sheets = [
                    ("居民", export::residents_header()),
                    ("填写说明", export::residents_guide()),
                ];
                Ok(ExportResponse::Xlsx(file(xlsx(&sheets)?, name, "xlsx")))
            }
            _ => Err(ApiError::field("format", "格式应为 xlsx 或 csv")),
        }
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
