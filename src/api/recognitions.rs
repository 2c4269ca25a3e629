//! `/recognitions`: the honours (表彰) on the honour roll. Public for public residents; a
//! recognition can be revoked with a reason.

use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use sea_orm::ConnectionTrait;

use super::auth::{StaffAuth, Viewer};
use super::certificates::Certificate;
use super::error::ApiResult;
use super::pagination::{encode, ListPage, PageRequest};
use super::write::Change;
use super::{validation_text, ApiTags};
use crate::domain::policy::Action;
use crate::state::AppState;
use crate::store::entities::recognition::Model;
use crate::store::residents::{self, Visibility};
use crate::store::{categories, certificates, communities, recognitions, StoreError};

super::write::audited!(Recognition => "recognition");

#[derive(Debug, Object)]
pub struct Recognition {
    pub id: i64,
    pub nomination_id: i64,
    pub resident_id: i64,
    pub resident_name: String,
    pub resident_slug: String,
    pub community_id: i64,
    pub community_name: String,
    pub category_code: String,
    pub category_name: String,
    /// e.g. "2019年度长寿路街道有德之士".
    pub title: String,
    pub year: i32,
    pub citation: String,
    pub recognised_on: chrono::NaiveDate,
    /// Staff only: set when revoked.
    #[oai(skip_serializing_if_is_none)]
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
    #[oai(skip_serializing_if_is_none)]
    pub revoke_reason: Option<String>,
}

pub async fn view(db: &impl ConnectionTrait, r: Model) -> Result<Recognition, StoreError> {
    Ok(views(db, vec![r]).await?.remove(0))
}

/// The answers for a page of recognitions: their residents, communities and categories loaded
/// in three queries for the whole page, not three per item.
pub async fn views(
    db: &impl ConnectionTrait,
    rows: Vec<Model>,
) -> Result<Vec<Recognition>, StoreError> {
    let ids: Vec<i64> = rows.iter().map(|r| r.resident_id).collect();
    let people = residents::get_many(db, &ids, Visibility::Staff).await?;
    let community_ids: Vec<i64> = people.values().map(|p| p.community_id).collect();
    let community_names = communities::names(db, &community_ids).await?;
    let categories = categories::by_id(db).await?;
    rows.into_iter()
        .map(|r| {
            let resident = people
                .get(&r.resident_id)
                .ok_or(StoreError::NotFound("resident"))?;
            let category = categories
                .get(&r.category_id)
                .ok_or(StoreError::NotFound("category"))?;
            Ok(Recognition {
                id: r.id,
                nomination_id: r.nomination_id,
                resident_id: resident.id,
                resident_name: resident.name.clone(),
                resident_slug: resident.slug.clone(),
                community_id: resident.community_id,
                community_name: community_names
                    .get(&resident.community_id)
                    .cloned()
                    .ok_or(StoreError::NotFound("community"))?,
                category_code: category.code.clone(),
                category_name: category.name.clone(),
                title: r.title,
                year: r.year,
                citation: r.citation,
                recognised_on: r.recognised_on,
                revoked_at: r.revoked_at,
                revoke_reason: r.revoke_reason,
            })
        })
        .collect()
}

#[derive(Debug, Object)]
#[oai(example)]
pub struct RevokeInput {
    pub reason: String,
}

super::example!(RevokeInput, { "reason": "经核查，事迹材料与事实不符" });

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
