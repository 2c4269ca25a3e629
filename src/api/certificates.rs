//! `/certificates`: certificates anyone can verify (证书). Reviewers and admins issue a
//! certificate for a recognition (荣誉证书), reissue it under a new number that supersedes the old
//! one, and revoke it with a reason; revoking the recognition revokes its certificates. Anyone
//! checks one by its verification code (the QR code) or by its number and the holder's name.
//!
//! Issuing takes the year's next number as the first statement of its transaction (see
//! `store::certificates`), so numbers run without gaps or duplicates however many are issued at
//! once, and a refused issue gives its number back.

use chrono::Datelike;
use poem::web::Data;
use poem::Request;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::auth::{address_hash, Staff, StaffAuth};
use super::error::{ApiError, ApiResult};
use super::pagination::{encode, ListPage, PageRequest};
use super::recognitions::RevokeInput;
use super::write::{Audited, Change};
use super::{snap, validation_text, ApiTags, Created};
use crate::domain::policy::Action;
use crate::domain::validation::required_text;
use crate::domain::ValidationErrors;
use crate::service::certificates::{self as desk_service, kind_label, Desk, Lookup, Verified};
use crate::store::certificates::{self, NewCertificate};
use crate::store::entities::certificate::Model;
use crate::store::residents::{self, Visibility};
use crate::store::{audit, recognitions};

/// A certificate as staff see it: what it states, its number and verification code, and its
/// standing.
#[derive(Debug, Object)]
pub struct Certificate {
    pub id: i64,
    /// `recognition` (荣誉证书).
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
}

impl Audited for Certificate {
    const KIND: &'static str = "certificate";
    fn audit_id(&self) -> i64 {
        self.id
    }
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
        }
    }
}

/// What a certificate states and whether it stands, as anyone may check it. Nothing private:
/// no phone, no ID number, no address, no reason for a revocation.
#[derive(Debug, Object)]
pub struct CertificateCheck {
    pub number: String,
    pub kind: String,
    /// 荣誉证书
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
async fn issue_for_recognition(
    desk: &Desk,
    change: &Change<'_>,
    staff: &Staff,
    recognition_id: i64,
    replacing: Option<&Model>,
) -> ApiResult<Model> {
    let today = desk.today();
    let seq = certificates::next_seq(change, today.year()).await?;
    let recognition = recognitions::get(change, recognition_id, Visibility::Staff).await?;
    if recognition.revoked_at.is_some() {
        return Err(ApiError::conflict_code(
            "recognition_revoked",
            "该表彰已撤销，不能颁发证书",
            None,
        ));
    }
    let holder = residents::get(change, recognition.resident_id, Visibility::Staff).await?;
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
    let honour = super::recognitions::view(change, recognition).await?;
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
    };
    Ok(certificates::insert(change, &new, &desk.settings, seq, desk.now()).await?)
}

/// Commit a new certificate with its audit event `action`; answer 201 with its address.
async fn created(
    desk: &Desk,
    change: Change<'_>,
    action: &str,
    m: Model,
) -> ApiResult<Created<Certificate>> {
    let tag = super::etag::etag(m.id, m.version);
    let dto = Certificate::new(&desk.public_url, m);
    change
        .commit_audited(action, Certificate::KIND, dto.id, None, snap(&dto))
        .await?;
    let location = format!("/api/v1/certificates/{}", dto.id);
    Ok(Created::new(location, tag, dto))
}

pub struct CertificatesApi;

#[OpenApi(tag = "ApiTags::Workflow")]
impl CertificatesApi {
    /// Issue a certificate for a recognition
    ///
    /// Numbers the certificate with the year's next number and gives it a verification code.
    /// A recognition has one standing certificate: to replace it, reissue it. Reviewers and admins.
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
        created(&desk, change, "certificate.issue", m).await
    }

    /// Reissue a certificate
    ///
    /// A new certificate with a new number and code, stating the recognition as it stands; the
    /// old one shows as superseded. Reviewers and admins.
    #[oai(path = "/certificates/:id/reissue", method = "post")]
    async fn reissue(
        &self,
        desk: Data<&Desk>,
        auth: StaffAuth,
        id: Path<i64>,
    ) -> ApiResult<Created<Certificate>> {
        let staff = auth.require(Action::Decide)?;
        // Read before the change begins: its first statement must be the one taking the number.
        let old = certificates::get(&desk.db, id.0).await?;
        certificates::refuse_unless_standing(&old)?;
        let recognition_id = old
            .recognition_id
            .ok_or(ApiError::conflict("该证书不是表彰证书，不能按表彰补发"))?;
        let change = Change::begin(&desk.db, desk.now(), staff).await?;
        let new = issue_for_recognition(&desk, &change, staff, recognition_id, Some(&old)).await?;
        let old = certificates::get(&change, id.0).await?;
        let superseded = certificates::supersede(&change, &old, new.id, desk.now()).await?;
        let event = audit::Event {
            action: "certificate.supersede",
            entity_kind: Certificate::KIND,
            entity_id: old.id,
            before: snap(&Certificate::new(&desk.public_url, old)),
            after: snap(&Certificate::new(&desk.public_url, superseded)),
        };
        audit::record(&change, &staff.actor(), event, desk.now()).await?;
        created(&desk, change, "certificate.reissue", new).await
    }

    /// Revoke a certificate
    ///
    /// With a reason (kept for staff; the verify page shows only that and when it was revoked).
    /// Reviewers and admins.
    #[oai(path = "/certificates/:id/revoke", method = "post")]
    async fn revoke(
        &self,
        desk: Data<&Desk>,
        auth: StaffAuth,
        id: Path<i64>,
        body: Json<RevokeInput>,
    ) -> ApiResult<Json<Certificate>> {
        let staff = auth.require(Action::Decide)?;
        let reason = validation_text("reason", &body.reason, 2000)?;
        let change = Change::begin(&desk.db, desk.now(), staff).await?;
        let before = Certificate::new(&desk.public_url, certificates::get(&change, id.0).await?);
        let after = certificates::revoke(&change, id.0, &reason, desk.now()).await?;
        let dto = Certificate::new(&desk.public_url, after);
        change
            .commit_audited(
                "certificate.revoke",
                Certificate::KIND,
                dto.id,
                snap(&before),
                snap(&dto),
            )
            .await?;
        Ok(Json(dto))
    }

    /// List certificates
    ///
    /// In the order they were issued; by `year` of issue, or of one recognition. Reviewers and
    /// admins.
    #[oai(path = "/certificates", method = "get")]
    async fn list(
        &self,
        desk: Data<&Desk>,
        auth: StaffAuth,
        year: Query<Option<i32>>,
        recognition_id: Query<Option<i64>>,
        limit: Query<Option<u64>>,
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<ListPage<Certificate>>> {
        auth.require(Action::Review)?;
        let req = PageRequest::parse(limit.0, cursor.0.as_deref())?;
        let rows = certificates::list(
            &desk.db,
            certificates::ListFilter {
                after: req.after,
                limit: req.limit,
                year: year.0,
                recognition_id: recognition_id.0,
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
    #[oai(path = "/certificates/:id", method = "get")]
    async fn get(
        &self,
        desk: Data<&Desk>,
        auth: StaffAuth,
        id: Path<i64>,
    ) -> ApiResult<Json<Certificate>> {
        auth.require(Action::Review)?;
        let m = certificates::get(&desk.db, id.0).await?;
        Ok(Json(Certificate::new(&desk.public_url, m)))
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
