//! `/recognitions`: the honours (表彰) on the honour roll. Public for public residents; a
//! recognition can be revoked with a reason.

use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::OpenApi;

use super::auth::{StaffAuth, Viewer};
use super::certificates::Certificate;
use super::error::ApiResult;
use super::pagination::{encode, ListPage, PageRequest};
use super::write::Change;
use super::{validation_text, ApiTags, RevokeInput};
use crate::domain::policy::Action;
use crate::state::AppState;
use crate::store::residents::Visibility;
use crate::store::{certificates, recognitions};

pub use crate::service::recognitions::{view, views, Recognition};

super::write::audited!(Recognition => "recognition");

pub struct RecognitionsApi;

#[OpenApi(tag = "ApiTags::Workflow")]
impl RecognitionsApi {
    /// List recognitions
    ///
    /// The public see standing honours of residents with a public profile; staff see revoked ones
    /// too.
    #[oai(path = "/recognitions", method = "get")]
    async fn list(
        &self,
        state: Data<&AppState>,
        viewer: Data<&Viewer>,
        resident_id: Query<Option<i64>>,
        year: Query<Option<i32>>,
        limit: Query<Option<u64>>,
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<ListPage<Recognition>>> {
        let req = PageRequest::parse(limit.0, cursor.0.as_deref())?;
        let visibility = viewer.visibility();
        let rows = recognitions::list(
            &state.db,
            recognitions::ListFilter {
                after: req.after,
                limit: req.limit,
                resident_id: resident_id.0,
                community_id: None,
                year: year.0,
                visibility,
                within: None,
                newest_first: false,
            },
        )
        .await?;
        Ok(Json(ListPage {
            items: views(&state.db, rows.items).await?,
            next_cursor: rows.next_after.map(encode),
        }))
    }

    /// Get a recognition
    #[oai(path = "/recognitions/:id", method = "get")]
    async fn get(
        &self,
        state: Data<&AppState>,
        viewer: Data<&Viewer>,
        id: Path<i64>,
    ) -> ApiResult<Json<Recognition>> {
        let r = recognitions::get(&state.db, id.0, viewer.visibility()).await?;
        Ok(Json(view(&state.db, r).await?))
    }

    /// Revoke a recognition
    ///
    /// Permission: `decide`.
    #[oai(path = "/recognitions/:id/revoke", method = "post")]
    async fn revoke(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<i64>,
        body: Json<RevokeInput>,
    ) -> ApiResult<Json<Recognition>> {
        let staff = auth.require(Action::Decide)?;
        recognitions::get(&state.db, id.0, staff.reach()).await?;
        let reason = validation_text("reason", &body.reason, 2000)?;
        let txn = Change::begin(&state.db, state.clock.now(), staff).await?;
        let before = view(
            &txn,
            recognitions::get(&txn, id.0, Visibility::Staff).await?,
        )
        .await?;
        let r = recognitions::revoke(&txn, id.0, &reason, state.clock.now()).await?;
        // Its certificates no longer attest anything: revoked with it, each audited.
        let revoked = certificates::revoke_of_recognition(&txn, id.0, &reason, state.clock.now());
        for (before, after) in revoked.await? {
            let certificate = |m| Certificate::new(&state.public_url, m);
            txn.note(
                "revoke",
                Some(&certificate(before)),
                Some(&certificate(after)),
            )
            .await?;
        }
        let dto = view(&txn, r).await?;
        txn.done("revoke", Some(&before), Some(&dto)).await?;
        Ok(Json(dto))
    }
}
