//! `/residents/{id}/consents`: separate consent per scope (`profile`, `photo`, `story`). A resident
//! is public only while a profile consent is active. Staff only: consent records are personal data.

use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::auth::StaffAuth;
use super::error::{ApiError, ApiResult};
use super::etag::etag;
use super::write::Change;
use super::{ApiTags, Created};
use crate::domain::consent::{parse_date, ConsentDraft};
use crate::domain::policy::Action;
use crate::domain::ValidationErrors;
pub use crate::service::registry::Consent;
use crate::state::AppState;
use crate::store::consents;
use crate::store::residents;

super::write::audited!(Consent => "consent");

#[derive(Debug, Object)]
#[oai(example)]
pub struct ConsentInput {
    /// `profile`, `photo` or `story`.
    pub scope: String,
    pub text_version: String,
    /// `YYYY-MM-DD`, not in the future.
    pub signed_on: String,
    /// Defaults to the token's name.
    pub recorded_by: Option<String>,
    /// Where the signed form is kept, e.g. "纸质同意书存档于居委会".
    pub evidence: Option<String>,
}

super::example!(ConsentInput, { "scope": "story", "text_version": "2026-01", "signed_on": "2026-03-01", "recorded_by": "王丽" });

#[derive(Debug, Object)]
#[oai(example)]
pub struct WithdrawalInput {
    /// `YYYY-MM-DD`; defaults to today.
    pub withdrawn_on: Option<String>,
}

super::example!(WithdrawalInput, { "withdrawn_on": "2026-09-01" });

pub struct ConsentsApi;

#[OpenApi(tag = "ApiTags::Consents")]
impl ConsentsApi {
    /// List a resident's consents
    ///
    /// Permission: `read_private`.
    #[oai(path = "/residents/:id/consents", method = "get")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<i64>,
    ) -> ApiResult<Json<Vec<Consent>>> {
        let staff = auth.require(Action::ReadPrivate)?;
        let resident = residents::get(&state.db, id.0, staff.reach()).await?;
        let rows = consents::list_for_resident(&state.db, resident.id).await?;
        let dtos: Result<Vec<Consent>, _> = rows.into_iter().map(Consent::try_from).collect();
        Ok(Json(dtos?))
    }

    /// Record a consent
    ///
    /// 409 while the same scope already has an active consent.
    ///
    /// Permission: `manage_consent`.
    #[oai(path = "/residents/:id/consents", method = "post")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<i64>,
        body: Json<ConsentInput>,
    ) -> ApiResult<Created<Consent>> {
        let staff = auth.require(Action::ManageConsent)?;
        let resident = residents::get(&state.db, id.0, staff.reach()).await?;
        let b = body.0;
        let recorded_by = b.recorded_by.unwrap_or_else(|| staff.name.clone());
        let draft = ConsentDraft::parse(
            &b.scope,
            &b.text_version,
            &b.signed_on,
            &recorded_by,
            b.evidence.as_deref(),
            state.clock.today(),
        )?;
        let txn = Change::begin(&state.db, state.clock.now(), staff).await?;
        let m = consents::insert(&txn, resident.id, &draft).await?;
        let tag = etag(m.id, 1);
        let dto = Consent::try_from(m)?;
        txn.done("record", None, Some(&dto)).await?;
        let consents = format!("/api/v1/residents/{}/consents", resident.id);
        Ok(Created::at(&consents, tag, dto))
    }

    /// Withdraw a consent
    ///
    /// Takes effect at once: without an active profile consent the resident disappears from every
    /// public answer.
    ///
    /// Permission: `manage_consent`.
    #[oai(path = "/residents/:id/consents/:consent_id/withdraw", method = "post")]
    async fn withdraw(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<i64>,
        consent_id: Path<i64>,
        body: Json<WithdrawalInput>,
    ) -> ApiResult<Json<Consent>> {
        let staff = auth.require(Action::ManageConsent)?;
        residents::get(&state.db, id.0, staff.reach()).await?;
        let on = match body.0.withdrawn_on.as_deref() {
            None => state.clock.today(),
            Some(s) => {
                let mut errors = ValidationErrors::default();
                parse_date(&mut errors, "withdrawn_on", s)
                    .ok_or_else(|| ApiError::validation(&errors))?
            }
        };
        let txn = Change::begin(&state.db, state.clock.now(), staff).await?;
        let m = consents::withdraw(&txn, id.0, consent_id.0, on).await?;
        let dto = Consent::try_from(m)?;
        txn.done("withdraw", None, Some(&dto)).await?;
        Ok(Json(dto))
    }
}
