//! `/certificates`: certificates anyone can verify (证书). Reviewers and admins issue a
//! certificate for a recognition (荣誉证书) or for a resident's volunteer hours over a period
//! (志愿服务记录证明), reissue it under a new number that supersedes the old one, and revoke it
//! with a reason; revoking the recognition revokes its certificates, erasing the resident revokes
//! theirs. Anyone checks one by its verification code (the QR code) or by its number and the
//! holder's name.
//!
//! Issuing takes the year's next number as the first statement of its transaction (see
//! `store::certificates`), so numbers run without gaps or duplicates however many are issued at
//! once, and a refused issue gives its number back.

use chrono::Datelike;
use poem::web::Data;
use poem::Request;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::{Binary, Json};
use poem_openapi::{ApiRequest, Object, OpenApi};

use super::auth::{address_hash, Staff, StaffAuth};
use super::error::{ApiError, ApiResult};
use super::pagination::{encode, ListPage, PageRequest};
use super::write::{Audited, Change};
use super::{validation_text, ApiTags, Created, RevokeInput};
use crate::domain::certificate::{mask_id_number, parse_period};
use crate::domain::policy::Action;
use crate::domain::validation::required_text;
use crate::domain::ValidationErrors;
use crate::media::seal::{self, SealError};
use crate::service::certificates::{
    self as desk_service, hours_statement, kind_label, Desk, HoursStatement, Lookup, Verified,
};
use crate::service::registry::reach_resident;
use crate::store::certificates::{self, HoursFacts, NewCertificate};
use crate::store::entities::certificate::Model;
use crate::store::residents;
use crate::store::{audit, recognitions};

super::write::audited!(Certificate => "certificate", SealInfo => "certificate_seal");

/// A certificate as staff see it: what it states, its number and verification code, and its
/// standing.
#[derive(Debug, Object)]
pub struct Certificate {
    pub id: i64,
    /// `recognition` (荣誉证书) or `hours` (志愿服务记录证明).
    pub kind: String,
    pub kind_label: String,
    pub recognition_id: Option<i64>,
    pub resident_id: i64,
    /// e.g. `长寿〔2026〕第001号`.
    pub number: String,
    pub year: i32,
    /// The sequence number within the year.
    pub seq: i32,
    /// The unguessable code in the QR code (128 bits, base32).
    pub verification_code: String,
    /// The public verification address the QR code carries.
    pub verify_url: String,
    pub holder_name: String,
    pub title: String,
    pub category: String,
    pub citation: String,
    pub issuing_body: String,
    pub signatory: String,
    pub issued_on: chrono::NaiveDate,
    /// `valid`, `superseded` (reissued under a new number) or `revoked`.
    pub standing: String,
    #[oai(skip_serializing_if_is_none)]
    pub superseded_by: Option<i64>,
    #[oai(skip_serializing_if_is_none)]
    pub superseded_at: Option<chrono::DateTime<chrono::Utc>>,
    #[oai(skip_serializing_if_is_none)]
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
    #[oai(skip_serializing_if_is_none)]
    pub revoke_reason: Option<String>,
    /// 志愿服务记录证明: the first day of the period.
    #[oai(skip_serializing_if_is_none)]
    pub period_start: Option<chrono::NaiveDate>,
    /// 志愿服务记录证明: the last day of the period.
    #[oai(skip_serializing_if_is_none)]
    pub period_end: Option<chrono::NaiveDate>,
    /// 志愿服务记录证明: the total hours of the records lying wholly in the period.
    #[oai(skip_serializing_if_is_none)]
    pub hours: Option<f64>,
    /// 志愿服务记录证明: the ID number as printed, e.g. `3101**********4411` (never the full
    /// number; cleared when the resident's information is erased).
    #[oai(skip_serializing_if_is_none)]
    pub masked_id_number: Option<String>,
}

impl Certificate {
    /// The staff view of `m`, with its verification address under `public_url`.
    pub fn new(public_url: &str, m: Model) -> Self {
        let standing = crate::domain::certificate::Standing::of(
            m.revoked_at.is_some(),
            m.superseded_by.is_some(),
        );
        Certificate {
            id: m.id,
            kind_label: kind_label(&m.kind).into(),
            kind: m.kind,
            recognition_id: m.recognition_id,
            resident_id: m.resident_id,
            number: m.number,
            year: m.year,
            seq: m.seq,
            verify_url: desk_service::verify_url(public_url, &m.verification_code),
            verification_code: m.verification_code,
            holder_name: m.holder_name,
            title: m.title,
            category: m.category,
            citation: m.citation,
            issuing_body: m.issuing_body,
            signatory: m.signatory,
            issued_on: m.issued_on,
            standing: standing.code().into(),
            superseded_by: m.superseded_by,
            superseded_at: m.superseded_at,
            revoked_at: m.revoked_at,
            revoke_reason: m.revoke_reason,
            period_start: m.period_start,
            period_end: m.period_end,
            hours: m.hours,
            masked_id_number: m.masked_id_number,
        }
    }
}

/// What a certificate states and whether it stands, as anyone may check it. Nothing private:
/// no phone, no full ID number (a 志愿服务记录证明 states it masked, as printed), no address, no
/// reason for a revocation.
#[derive(Debug, Object)]
pub struct CertificateCheck {
    pub number: String,
    pub kind: String,
    /// 荣誉证书 or 志愿服务记录证明
    pub kind_label: String,
    pub holder_name: String,
    pub title: String,
    pub category: String,
    pub citation: String,
    pub issuing_body: String,
    pub signatory: String,
    pub issued_on: chrono::NaiveDate,
    /// `valid`, `superseded` or `revoked`.
    pub standing: String,
    /// 有效, 已被新证书替代 or 已撤销.
    pub standing_label: String,
    #[oai(skip_serializing_if_is_none)]
    pub revoked_on: Option<chrono::NaiveDate>,
    /// The number of the certificate that replaced this one.
    #[oai(skip_serializing_if_is_none)]
    pub superseded_by_number: Option<String>,
    /// The day (Shanghai) the standing was checked.
    pub checked_on: chrono::NaiveDate,
    pub verify_url: String,
    /// 志愿服务记录证明: the period and the hours in it.
    #[oai(skip_serializing_if_is_none)]
    pub period_start: Option<chrono::NaiveDate>,
    #[oai(skip_serializing_if_is_none)]
    pub period_end: Option<chrono::NaiveDate>,
    #[oai(skip_serializing_if_is_none)]
    pub hours: Option<f64>,
    /// 志愿服务记录证明: the ID number as printed on it, masked (`3101**********4411`), so a
    /// checker can compare it with the paper.
    #[oai(skip_serializing_if_is_none)]
    pub masked_id_number: Option<String>,
}

impl From<Verified> for CertificateCheck {
    fn from(v: Verified) -> Self {
        CertificateCheck {
            kind_label: kind_label(&v.kind).into(),
            standing: v.standing.code().into(),
            standing_label: v.standing.label().into(),
            number: v.number,
            kind: v.kind,
            holder_name: v.holder_name,
            title: v.title,
            category: v.category,
            citation: v.citation,
            issuing_body: v.issuing_body,
            signatory: v.signatory,
            issued_on: v.issued_on,
            revoked_on: v.revoked_on,
            superseded_by_number: v.superseded_by_number,
            checked_on: v.checked_on,
            verify_url: v.verify_url,
            period_start: v.period_start,
            period_end: v.period_end,
            hours: v.hours,
            masked_id_number: v.masked_id_number,
        }
    }
}

fn answer(lookup: Lookup) -> ApiResult<Json<CertificateCheck>> {
    match lookup {
        Lookup::Found(v) => Ok(Json((*v).into())),
        Lookup::NotFound => Err(ApiError::not_found_code(
            "certificate_not_found",
            "未找到该证书",
        )),
        Lookup::Throttled => Err(ApiError::too_many("查询失败次数过多，请一小时后再试")),
    }
}

/// Take the year's next number, then write what the recognition `recognition_id` states as a
/// new certificate: the one body of issuing and reissuing. The recognition may have no other
/// standing certificate than `replacing`. Everything is read after the number was taken, under
/// its lock: an issuer of the same recognition at the same moment has committed by then, and
/// this one sees its certificate.
/// Certificate `id`, when its holder is a resident the member of staff reaches (404 otherwise).
async fn reached(db: &impl sea_orm::ConnectionTrait, staff: &Staff, id: i64) -> ApiResult<Model> {
    let m = certificates::get(db, id).await?;
    reach_resident(db, staff.reach(), m.resident_id, "certificate").await?;
    Ok(m)
}

async fn issue_for_recognition(
    desk: &Desk,
    change: &Change<'_>,
    staff: &Staff,
    recognition_id: i64,
    replacing: Option<&Model>,
) -> ApiResult<Model> {
    let today = desk.today();
    let seq = certificates::next_seq(change, today.year()).await?;
    let recognition = recognitions::get(change, recognition_id, staff.reach()).await?;
    if recognition.revoked_at.is_some() {
        return Err(ApiError::conflict_code(
            "recognition_revoked",
            "该表彰已撤销，不能颁发证书",
            None,
        ));
    }
    let holder = residents::get(change, recognition.resident_id, staff.reach()).await?;
    if holder.erased_at.is_some() {
        return Err(ApiError::conflict_code(
            "resident_erased",
            "该居民的个人信息已按本人要求删除，不能颁发证书",
            None,
        ));
    }
    let standing = certificates::standing_of_recognition(change, recognition_id).await?;
    if let Some(existing) = standing.filter(|c| Some(c.id) != replacing.map(|r| r.id)) {
        return Err(ApiError::conflict_code(
            "certificate_exists",
            format!(
                "该表彰已有有效证书（{}）；如需换发，请补发该证书",
                existing.number
            ),
            Some(serde_json::json!({ "certificate_id": existing.id })),
        ));
    }
    if let Some(old) = replacing {
        // As it stands now, not as it was read before the lock.
        certificates::refuse_unless_standing(&certificates::get(change, old.id).await?)?;
    }
    let honour = crate::service::recognitions::view(change, recognition).await?;
    let new = NewCertificate {
        kind: "recognition",
        recognition_id: Some(honour.id),
        resident_id: honour.resident_id,
        holder_name: &honour.resident_name,
        title: &honour.title,
        category: &honour.category_name,
        citation: &honour.citation,
        issued_on: today,
        issued_by: staff.user_id,
        hours: None,
    };
    Ok(certificates::insert(change, &new, &desk.settings, seq, desk.now()).await?)
}

/// The period of a 志愿服务记录证明.
#[derive(Debug, Object)]
#[oai(example)]
pub struct HoursCertificateInput {
    /// The first day of the period, `2019-01-01`.
    pub from: String,
    /// The last day of the period (inclusive), `2019-12-31`; not after today.
    pub to: String,
}

super::example!(HoursCertificateInput, { "from": "2025-01-01", "to": "2025-12-31" });

/// One service record as a 志愿服务记录证明 counts it.
#[derive(Debug, Object)]
pub struct CountedRecord {
    pub id: i64,
    pub title: String,
    /// Partial date, `2019-08-28` or `2019`.
    pub start: String,
    #[oai(skip_serializing_if_is_none)]
    pub end: Option<String>,
    pub hours: f64,
}

/// What a 志愿服务记录证明 over a period would state, before it is issued (the console's preview).
#[derive(Debug, Object)]
pub struct HoursStatementView {
    pub resident_id: i64,
    pub holder_name: String,
    /// As the certificate prints it; absent when the resident has no ID number registered (no
    /// certificate can be issued then).
    #[oai(skip_serializing_if_is_none)]
    pub masked_id_number: Option<String>,
    pub from: chrono::NaiveDate,
    pub to: chrono::NaiveDate,
    /// The sum of the counted records' hours.
    pub total_hours: f64,
    /// The service line the certificate prints: the records' titles.
    pub service_line: String,
    /// Records with hours lying wholly in the period: counted.
    pub records: Vec<CountedRecord>,
    /// Records with hours reaching over the period's bounds (or an ongoing role's): not counted,
    /// since their hours cannot be split.
    pub left_out: Vec<CountedRecord>,
}

fn counted(rows: &[(crate::store::entities::service_record::Model, f64)]) -> Vec<CountedRecord> {
    rows.iter()
        .map(|(r, hours)| CountedRecord {
            id: r.id,
            title: r.title.clone(),
            start: r.start_date.clone(),
            end: r.end_date.clone(),
            hours: *hours,
        })
        .collect()
}

fn statement_view(
    holder: &crate::store::entities::resident::Model,
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
    s: &HoursStatement,
) -> HoursStatementView {
    HoursStatementView {
        resident_id: holder.id,
        holder_name: holder.name.clone(),
        masked_id_number: holder
            .id_number
            .as_deref()
            .filter(|id| !id.trim().is_empty())
            .map(mask_id_number),
        from,
        to,
        total_hours: s.total,
        service_line: s.service_line(),
        records: counted(&s.counted),
        left_out: counted(&s.left_out),
    }
}

/// Take the year's next number, then count the resident's hours over `from..=to` and write them
/// as a 志愿服务记录证明: the one body of issuing and reissuing one. As for honours, everything
/// is read after the number was taken. The resident may have no other standing certificate for
/// the same period than `replacing`.
async fn issue_for_hours(
    desk: &Desk,
    change: &Change<'_>,
    staff: &Staff,
    resident_id: i64,
    (from, to): (chrono::NaiveDate, chrono::NaiveDate),
    replacing: Option<&Model>,
) -> ApiResult<Model> {
    let today = desk.today();
    let seq = certificates::next_seq(change, today.year()).await?;
    let holder = residents::get(change, resident_id, staff.reach()).await?;
    if holder.erased_at.is_some() {
        return Err(ApiError::conflict_code(
            "resident_erased",
            "该居民的个人信息已按本人要求删除，不能出具证明",
            None,
        ));
    }
    let Some(id_number) = holder
        .id_number
        .as_deref()
        .filter(|id| !id.trim().is_empty())
    else {
        return Err(ApiError::conflict_code(
            "id_number_missing",
            "志愿服务记录证明须载明身份证件号码（部分隐去），请先为该居民登记身份证号码",
            None,
        ));
    };
    let standing = certificates::standing_for_period(change, resident_id, from, to).await?;
    if let Some(existing) = standing.filter(|c| Some(c.id) != replacing.map(|r| r.id)) {
        return Err(ApiError::conflict_code(
            "certificate_exists",
            format!(
                "该居民这一期间已有有效证明（{}）；如需换发，请补发该证明",
                existing.number
            ),
            Some(serde_json::json!({ "certificate_id": existing.id })),
        ));
    }
    if let Some(old) = replacing {
        certificates::refuse_unless_standing(&certificates::get(change, old.id).await?)?;
    }
    let statement = hours_statement(change, resident_id, from, to).await?;
    if statement.total <= 0.0 {
        return Err(ApiError::conflict_code(
            "no_hours_in_period",
            "该期间内没有可证明的志愿服务时长",
            None,
        ));
    }
    let masked = mask_id_number(id_number);
    let service_line = statement.service_line();
    let new = NewCertificate {
        kind: "hours",
        recognition_id: None,
        resident_id,
        holder_name: &holder.name,
        title: kind_label("hours"),
        category: "",
        citation: &service_line,
        issued_on: today,
        issued_by: staff.user_id,
        hours: Some(HoursFacts {
            period_start: from,
            period_end: to,
            hours: statement.total,
            masked_id_number: &masked,
        }),
    };
    Ok(certificates::insert(change, &new, &desk.settings, seq, desk.now()).await?)
}

/// A resident's information is being erased (in `change`): revoke their certificates and clear
/// the masked ID number from them and from the audit log's snapshots of them. Each revocation is
/// audited as `certificate.revoke`; returns how many certificates changed.
pub async fn withdraw_for_erasure(
    change: &Change<'_>,
    public_url: &str,
    resident_id: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> ApiResult<usize> {
    let changed =
        certificates::withdraw_for_erasure(change, resident_id, "个人信息已按本人要求删除", now)
            .await?;
    let certificate = |m: &Model| Certificate::new(public_url, m.clone());
    for (before, after) in &changed {
        if before.revoked_at.is_none() {
            change
                .note(
                    "revoke",
                    Some(&certificate(before)),
                    Some(&certificate(after)),
                )
                .await?;
        }
        audit::redact(change, Certificate::KIND, after.id, &["masked_id_number"]).await?;
    }
    Ok(changed.len())
}

/// The official seal printed on certificates, as staff see it (the picture itself is shown only
/// on printed certificates, never served on its own).
#[derive(Debug, Object)]
pub struct SealInfo {
    pub id: i64,
    pub sha256: String,
    pub width: i32,
    pub height: i32,
    pub size_bytes: i64,
    pub uploaded_at: chrono::DateTime<chrono::Utc>,
}

impl From<crate::store::entities::certificate_seal::Model> for SealInfo {
    fn from(m: crate::store::entities::certificate_seal::Model) -> Self {
        SealInfo {
            id: m.id,
            sha256: m.sha256,
            width: m.width,
            height: m.height,
            size_bytes: m.size_bytes,
            uploaded_at: m.created_at,
        }
    }
}

/// Whether a seal is in use, and which.
#[derive(Debug, Object)]
pub struct SealStatus {
    /// Null before a seal is uploaded (certificates then print without one).
    pub seal: Option<SealInfo>,
}

/// The seal's file.
#[derive(Debug, ApiRequest)]
pub enum SealUpload {
    /// A PNG with a transparent background.
    #[oai(content_type = "image/png")]
    Png(Binary<Vec<u8>>),
}

fn seal_refused(err: SealError) -> ApiError {
    use crate::media::seal::{MAX_BYTES, MAX_SIDE, MIN_SIDE};
    match err {
        SealError::NotPng => ApiError::UnsupportedMediaType(Json(super::error::ErrorBody {
            error: super::error::ErrorInfo {
                code: "unsupported_media_type".into(),
                message: "印章只接受 PNG 图片（按文件内容判断）".into(),
                details: None,
            },
        })),
        SealError::TooLarge { bytes } => ApiError::field(
            "file",
            format!("印章图片为 {bytes} 字节，不能超过 {MAX_BYTES} 字节（512 KB）"),
        ),
        SealError::Dimensions { width, height } => ApiError::field(
            "file",
            format!("印章图片为 {width}×{height} 像素，每边应在 {MIN_SIDE} 至 {MAX_SIDE} 像素之间"),
        ),
        SealError::Undecodable => ApiError::field("file", "印章图片无法解码，文件可能已损坏"),
        SealError::NotTransparent => {
            ApiError::field("file", "印章图片须为透明背景的 PNG（印章以外的部分透明）")
        }
    }
}

/// Commit a new certificate with its audit event `certificate.<verb>`; answer 201 with its
/// address.
async fn created(
    desk: &Desk,
    change: Change<'_>,
    verb: &str,
    m: Model,
) -> ApiResult<Created<Certificate>> {
    let tag = super::etag::etag(m.id, m.version);
    let dto = Certificate::new(&desk.public_url, m);
    change.done(verb, None, Some(&dto)).await?;
    Ok(Created::at("/api/v1/certificates", tag, dto))
}

pub struct CertificatesApi;

#[OpenApi(tag = "ApiTags::Workflow")]
impl CertificatesApi {
    /// Issue a certificate for a recognition
    ///
    /// Numbers the certificate with the year's next number and gives it a verification code.
    /// A recognition has one standing certificate: to replace it, reissue it. Reviewers and admins.
    ///
    /// Permission: `decide`.
    #[oai(path = "/recognitions/:id/certificates", method = "post")]
    async fn issue(
        &self,
        desk: Data<&Desk>,
        auth: StaffAuth,
        id: Path<i64>,
    ) -> ApiResult<Created<Certificate>> {
        let staff = auth.require(Action::Decide)?;
        let change = Change::begin(&desk.db, desk.now(), staff).await?;
        let m = issue_for_recognition(&desk, &change, staff, id.0, None).await?;
        created(&desk, change, "issue", m).await
    }

    /// Issue a 志愿服务记录证明 for a resident's hours over a period
    ///
    /// Counts the hours of the resident's service records lying wholly in `from..=to` (records
    /// reaching over its bounds are left out: see `GET /residents/{id}/hours-statement`), and
    /// numbers the certificate in the same per-year sequence as honours. States the ID number
    /// only masked; refused (409) without a registered ID number (`id_number_missing`), without
    /// hours in the period (`no_hours_in_period`), for an erased resident (`resident_erased`) or
    /// when a standing one covers the same period (`certificate_exists`). Reviewers and admins.
    ///
    /// Permission: `decide`.
    #[oai(path = "/residents/:id/hours-certificates", method = "post")]
    async fn issue_hours(
        &self,
        desk: Data<&Desk>,
        auth: StaffAuth,
        id: Path<i64>,
        body: Json<HoursCertificateInput>,
    ) -> ApiResult<Created<Certificate>> {
        let staff = auth.require(Action::Decide)?;
        let period = parse_period(&body.from, &body.to, desk.today())?;
        let change = Change::begin(&desk.db, desk.now(), staff).await?;
        let m = issue_for_hours(&desk, &change, staff, id.0, period, None).await?;
        created(&desk, change, "issue", m).await
    }

    /// What a 志愿服务记录证明 over a period would state
    ///
    /// The records counted (lying wholly in `from..=to`), those left out (reaching over its
    /// bounds), the total and the masked ID number, before anything is issued. Reviewers and
    /// admins.
    ///
    /// Permission: `review`.
    #[oai(path = "/residents/:id/hours-statement", method = "get")]
    async fn hours_statement(
        &self,
        desk: Data<&Desk>,
        auth: StaffAuth,
        id: Path<i64>,
        from: Query<Option<String>>,
        to: Query<Option<String>>,
    ) -> ApiResult<Json<HoursStatementView>> {
        let staff = auth.require(Action::Review)?;
        let holder = residents::get(&desk.db, id.0, staff.reach()).await?;
        let (from, to) = parse_period(
            from.0.as_deref().unwrap_or(""),
            to.0.as_deref().unwrap_or(""),
            desk.today(),
        )?;
        let statement = hours_statement(&desk.db, holder.id, from, to).await?;
        Ok(Json(statement_view(&holder, from, to, &statement)))
    }

    /// Reissue a certificate
    ///
    /// A new certificate with a new number and code, stating the recognition as it stands (or,
    /// for a 志愿服务记录证明, the hours of the same period counted again); the old one shows as
    /// superseded. Reviewers and admins.
    ///
    /// Permission: `decide`.
    #[oai(path = "/certificates/:id/reissue", method = "post")]
    async fn reissue(
        &self,
        desk: Data<&Desk>,
        auth: StaffAuth,
        id: Path<i64>,
    ) -> ApiResult<Created<Certificate>> {
        let staff = auth.require(Action::Decide)?;
        // Read before the change begins: its first statement must be the one taking the number.
        let old = reached(&desk.db, staff, id.0).await?;
        certificates::refuse_unless_standing(&old)?;
        let change = Change::begin(&desk.db, desk.now(), staff).await?;
        let new = match (old.recognition_id, old.period_start, old.period_end) {
            (Some(recognition_id), _, _) => {
                issue_for_recognition(&desk, &change, staff, recognition_id, Some(&old)).await?
            }
            (None, Some(from), Some(to)) => {
                let period = (from, to);
                issue_for_hours(&desk, &change, staff, old.resident_id, period, Some(&old)).await?
            }
            _ => return Err(ApiError::conflict("该证书缺少补发所需的信息")),
        };
        let old = certificates::get(&change, id.0).await?;
        let superseded = certificates::supersede(&change, &old, new.id, desk.now()).await?;
        let certificate = |m| Certificate::new(&desk.public_url, m);
        change
            .note(
                "supersede",
                Some(&certificate(old)),
                Some(&certificate(superseded)),
            )
            .await?;
        created(&desk, change, "reissue", new).await
    }

    /// Revoke a certificate
    ///
    /// With a reason (kept for staff; the verify page shows only that and when it was revoked).
    /// Reviewers and admins.
    ///
    /// Permission: `decide`.
    #[oai(path = "/certificates/:id/revoke", method = "post")]
    async fn revoke(
        &self,
        desk: Data<&Desk>,
        auth: StaffAuth,
        id: Path<i64>,
        body: Json<RevokeInput>,
    ) -> ApiResult<Json<Certificate>> {
        let staff = auth.require(Action::Decide)?;
        reached(&desk.db, staff, id.0).await?;
        let reason = validation_text("reason", &body.reason, 2000)?;
        let change = Change::begin(&desk.db, desk.now(), staff).await?;
        let before = Certificate::new(&desk.public_url, certificates::get(&change, id.0).await?);
        let after = certificates::revoke(&change, id.0, &reason, desk.now()).await?;
        let dto = Certificate::new(&desk.public_url, after);
        change.done("revoke", Some(&before), Some(&dto)).await?;
        Ok(Json(dto))
    }

    /// List certificates
    ///
    /// In the order they were issued; by `year` of issue, of one recognition, of one resident
    /// (`resident_id`), or of one `kind` (`recognition`, `hours`). Reviewers and admins.
    ///
    /// Permission: `review`.
    #[oai(path = "/certificates", method = "get")]
    #[allow(clippy::too_many_arguments)]
    async fn list(
        &self,
        desk: Data<&Desk>,
        auth: StaffAuth,
        year: Query<Option<i32>>,
        recognition_id: Query<Option<i64>>,
        resident_id: Query<Option<i64>>,
        kind: Query<Option<String>>,
        limit: Query<Option<u64>>,
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<ListPage<Certificate>>> {
        let staff = auth.require(Action::Review)?;
        let req = PageRequest::parse(limit.0, cursor.0.as_deref())?;
        let rows = certificates::list(
            &desk.db,
            certificates::ListFilter {
                after: req.after,
                limit: req.limit,
                year: year.0,
                recognition_id: recognition_id.0,
                resident_id: resident_id.0,
                kind: kind.0,
                reach: staff.reach(),
            },
        )
        .await?;
        Ok(Json(ListPage {
            items: rows
                .items
                .into_iter()
                .map(|m| Certificate::new(&desk.public_url, m))
                .collect(),
            next_cursor: rows.next_after.map(encode),
        }))
    }

    /// Get a certificate
    ///
    /// Reviewers and admins.
    ///
    /// Permission: `review`.
    #[oai(path = "/certificates/:id", method = "get")]
    async fn get(
        &self,
        desk: Data<&Desk>,
        auth: StaffAuth,
        id: Path<i64>,
    ) -> ApiResult<Json<Certificate>> {
        let staff = auth.require(Action::Review)?;
        let m = reached(&desk.db, staff, id.0).await?;
        Ok(Json(Certificate::new(&desk.public_url, m)))
    }

    /// Upload the official seal
    ///
    /// The seal (公章) printed on every certificate from now on: the PNG file itself as the
    /// body (`Content-Type: image/png`), at most 512 KB, each side 120 to 1,200 pixels, with a
    /// transparent background (at least a tenth of the pixels). Refused with 415 when not a
    /// PNG, 422 `validation_failed` (field `file`) otherwise. Re-encoded and kept in the media
    /// store; never served on its own, only shown on printed certificates. Audited as
    /// `certificate_seal.upload`. Admins only.
    ///
    /// Permission: `manage_seal`.
    #[oai(path = "/certificates/seal", method = "put")]
    async fn upload_seal(
        &self,
        desk: Data<&Desk>,
        auth: StaffAuth,
        body: SealUpload,
    ) -> ApiResult<Json<SealInfo>> {
        let staff = auth.require(Action::ManageSeal)?;
        let SealUpload::Png(bytes) = body;
        let checked = seal::check(&bytes.0).map_err(seal_refused)?;
        let key = checked.key();
        let created = desk
            .media
            .put_if_absent(&key, bytes::Bytes::from(checked.png.clone()))
            .await
            .map_err(|err| {
                tracing::error!(error = %err, "cannot store the seal");
                ApiError::internal()
            })?;
        let change = Change::begin(&desk.db, desk.now(), staff).await?;
        let new = certificates::NewSeal {
            object_key: &key,
            sha256: &checked.sha256,
            width: checked.width,
            height: checked.height,
            size_bytes: checked.png.len(),
            uploaded_by: staff.user_id,
        };
        let stored = async {
            let m = certificates::insert_seal(&change, &new, desk.now()).await?;
            let dto = SealInfo::from(m);
            change.done("upload", None, Some(&dto)).await?;
            Ok::<_, ApiError>(dto)
        }
        .await;
        if stored.is_err() && created {
            // Not recorded: the file this call added goes again (an identical earlier seal keeps
            // its own).
            let _ = desk.media.delete(&key).await;
        }
        Ok(Json(stored?))
    }

    /// The official seal in use
    ///
    /// Its size and checksum under `seal`; `seal` is null before one is uploaded. Reviewers and
    /// admins.
    ///
    /// Permission: `review`.
    #[oai(path = "/certificates/seal", method = "get")]
    async fn get_seal(&self, desk: Data<&Desk>, auth: StaffAuth) -> ApiResult<Json<SealStatus>> {
        auth.require(Action::Review)?;
        let seal = certificates::current_seal(&desk.db).await?;
        Ok(Json(SealStatus {
            seal: seal.map(SealInfo::from),
        }))
    }

    /// Verify a certificate by its code
    ///
    /// The code of the certificate's QR code. Public: states what the certificate states and
    /// whether it is valid, superseded or revoked, as of today. An unknown code answers 404
    /// `certificate_not_found`; too many of those from one address answer 429.
    #[oai(path = "/certificates/verify/:code", method = "get")]
    async fn verify(
        &self,
        desk: Data<&Desk>,
        req: &Request,
        code: Path<String>,
    ) -> ApiResult<Json<CertificateCheck>> {
        let query = desk_service::Query::Code(&code.0);
        answer(desk_service::look_up(&desk, &address_hash(req), query).await?)
    }

    /// Verify a certificate by its number and name
    ///
    /// For a number typed by hand: it is found only together with the holder's name, and a
    /// wrong pair answers exactly as an unknown number does.
    #[oai(path = "/certificates/verify", method = "get")]
    async fn verify_number(
        &self,
        desk: Data<&Desk>,
        req: &Request,
        number: Query<Option<String>>,
        name: Query<Option<String>>,
    ) -> ApiResult<Json<CertificateCheck>> {
        let mut errors = ValidationErrors::default();
        let number = required_text(&mut errors, "number", number.0.as_deref().unwrap_or(""), 60);
        let name = required_text(&mut errors, "name", name.0.as_deref().unwrap_or(""), 40);
        errors.finish(|| ())?;
        let query = desk_service::Query::NumberAndName {
            number: &number,
            name: &name,
        };
        answer(desk_service::look_up(&desk, &address_hash(req), query).await?)
    }
}
