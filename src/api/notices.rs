//! `/notices` (公示) and objections (异议). Open notices are public with the resident's public
//! profile and citation only. Anyone may object while a notice is open; the objector's name and
//! contact are kept private, and a receipt code lets them follow it up.

use poem::web::Data;
use poem::Request;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use sea_orm::ConnectionTrait;

use super::auth::{address_hash, StaffAuth, Viewer};
use super::error::{ApiError, ApiResult};
use super::pagination::{encode, ListPage, PageRequest};
use super::write::Change;
use super::{ApiTags, Created};
use crate::domain::nomination::{NominationState, ObjectionState};
use crate::domain::policy::Action;
pub use crate::service::notices::OBJECTIONS_PER_ADDRESS_PER_HOUR;
use crate::service::notices::{file_objection, ObjectionRefused, ObjectionText};
pub use crate::service::notices::{Notice, Objection};
use crate::service::registry::reach_resident;
use crate::state::AppState;
use crate::store::entities::{objection, public_notice};
use crate::store::residents::{self, Visibility};
use crate::store::{nominations, StoreError};

super::write::audited!(Objection => "objection");

/// What the objector may see of their objection, by receipt code.
#[derive(Debug, Object)]
pub struct ObjectionReceipt {
    pub receipt_code: String,
    pub notice_id: i64,
    pub state: ObjectionState,
    pub state_label: String,
    pub resolution_note: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl TryFrom<&objection::Model> for ObjectionReceipt {
    type Error = StoreError;
    fn try_from(o: &objection::Model) -> Result<Self, StoreError> {
        let state = nominations::objection_state(o)?;
        Ok(ObjectionReceipt {
            receipt_code: o.receipt_code.clone(),
            notice_id: o.notice_id,
            state,
            state_label: state.label().to_string(),
            resolution_note: o.resolution_note.clone(),
            created_at: o.created_at,
        })
    }
}

#[derive(Debug, Object)]
#[oai(example)]
pub struct ObjectionInput {
    /// 真实姓名 (kept private).
    pub name: String,
    /// 联系方式 (kept private).
    pub contact: String,
    /// 异议内容.
    pub content: String,
}

super::example!(ObjectionInput, { "name": "李明", "contact": "lm@example.cn", "content": "材料中所述节省金额与业委会公示不一致，请核实。" });

#[derive(Debug, Object)]
#[oai(example)]
pub struct ObjectionTransition {
    /// `investigating`, `upheld` or `dismissed`.
    pub to: String,
    /// The finding (核查结果); needed for `upheld` and `dismissed`, shown to the objector.
    pub note: Option<String>,
}

super::example!(ObjectionTransition, { "to": "investigating", "note": "已联系异议人，正在核实" });

/// The notice's nomination, when its resident is one the member of staff reaches (404 otherwise).
async fn reach_nomination(
    state: &AppState,
    staff: &crate::service::auth::Staff,
    nomination_id: i64,
) -> Result<crate::store::entities::nomination::Model, ApiError> {
    let nomination = nominations::get(&state.db, nomination_id).await?;
    reach_resident(&state.db, staff.reach(), nomination.resident_id, "notice").await?;
    Ok(nomination)
}

async fn view(
    db: &impl ConnectionTrait,
    n: public_notice::Model,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Notice, StoreError> {
    let mut one = views(db, vec![n], now, Visibility::Staff).await?;
    one.pop().ok_or(StoreError::NotFound("resident"))
}

/// The notices as answers, in a fixed number of queries however many there are: nominations,
/// residents, categories and community paths each for all of them at once. With
/// [`Visibility::Public`], notices of residents whose profile is not public are left out.
async fn views(
    db: &impl ConnectionTrait,
    rows: Vec<public_notice::Model>,
    now: chrono::DateTime<chrono::Utc>,
    visibility: Visibility,
) -> Result<Vec<Notice>, StoreError> {
    let described = crate::service::notices::describe(db, rows, visibility).await?;
    Ok(described
        .into_iter()
        .map(|d| {
            let (n, nomination) = (d.notice, d.nomination);
            let open = nomination.state == NominationState::PublicNotice.code()
                && n.opens_at <= now
                && now < n.closes_at;
            Notice {
                id: n.id,
                nomination_id: nomination.id,
                resident_id: d.resident.id,
                resident_name: d.resident.name,
                resident_slug: d.resident.slug,
                community: d.community,
                category: d.category,
                honour_title: nomination.honour_title,
                year: nomination.year,
                citation: nomination.citation,
                opens_at: n.opens_at,
                closes_at: n.closes_at,
                open,
                days_left: if open {
                    crate::domain::nomination::days_left(n.closes_at, now)
                } else {
                    0
                },
            }
        })
        .collect())
}

/// A notice the public may see: open, and the resident still consents to a public profile.
async fn public_notice(state: &AppState, id: i64) -> Result<public_notice::Model, ApiError> {
    let n = nominations::notice(&state.db, id).await?;
    let nomination = nominations::get(&state.db, n.nomination_id).await?;
    let now = state.clock.now();
    let open = nomination.state == NominationState::PublicNotice.code()
        && n.opens_at <= now
        && now < n.closes_at;
    if !open || !residents::is_public(&state.db, nomination.resident_id).await? {
        return Err(ApiError::not_found("notice"));
    }
    Ok(n)
}

pub struct NoticesApi;

#[OpenApi(tag = "ApiTags::Workflow")]
impl NoticesApi {
    /// List public notices
    ///
    /// Open notices, with the resident's public profile and citation only. Reviewers may pass
    /// `all=true` for closed ones too.
    #[oai(path = "/notices", method = "get")]
    async fn list(
        &self,
        state: Data<&AppState>,
        viewer: Data<&Viewer>,
        all: Query<Option<bool>>,
        limit: Query<Option<u64>>,
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<ListPage<Notice>>> {
        let req = PageRequest::parse(limit.0, cursor.0.as_deref())?;
        let now = state.clock.now();
        let every = all.0 == Some(true) && viewer.may(Action::Review);
        let rows = if every {
            nominations::all_notices(&state.db, req.after, req.limit).await?
        } else {
            nominations::open_notices(&state.db, now, req.after, req.limit).await?
        };
        let shown = if every {
            viewer.visibility()
        } else {
            Visibility::Public
        };
        let items = views(&state.db, rows.items, now, shown).await?;
        Ok(Json(ListPage {
            items,
            next_cursor: rows.next_after.map(encode),
        }))
    }

    /// Get a public notice
    #[oai(path = "/notices/:id", method = "get")]
    async fn get(
        &self,
        state: Data<&AppState>,
        viewer: Data<&Viewer>,
        id: Path<i64>,
    ) -> ApiResult<Json<Notice>> {
        let now = state.clock.now();
        // Reviewers see any notice of a resident they reach; otherwise it answers as to anyone.
        if viewer.may(Action::Review) {
            let n = nominations::notice(&state.db, id.0).await?;
            if let Some(one) = views(&state.db, vec![n], now, viewer.visibility())
                .await?
                .pop()
            {
                return Ok(Json(one));
            }
        }
        let n = public_notice(&state, id.0).await?;
        Ok(Json(view(&state.db, n, now).await?))
    }

    /// File an objection (异议)
    ///
    /// Open to anyone while the notice is open. Name and contact are kept private; the answer
    /// holds the receipt code to follow the objection up. At most 5 per address per hour (429).
    #[oai(path = "/notices/:id/objections", method = "post")]
    async fn object(
        &self,
        state: Data<&AppState>,
        req: &Request,
        id: Path<i64>,
        body: Json<ObjectionInput>,
    ) -> ApiResult<Created<ObjectionReceipt>> {
        let n = public_notice(&state, id.0).await?;
        let text = ObjectionText {
            name: &body.name,
            contact: &body.contact,
            content: &body.content,
        };
        let now = state.clock.now();
        let o = file_objection(&state.db, now, n.id, text, &address_hash(req))
            .await
            .map_err(|refused| match refused {
                ObjectionRefused::Invalid(errors) => errors.into(),
                ObjectionRefused::TooMany => ApiError::too_many("提交过于频繁，请一小时后再试"),
                ObjectionRefused::Store(err) => err.into(),
            })?;
        Ok(Created::new(
            format!("/api/v1/objections/{}", o.receipt_code),
            format!("\"{}-1\"", o.id),
            ObjectionReceipt::try_from(&o)?,
        ))
    }

    /// Follow up an objection by its receipt code
    #[oai(path = "/objections/:receipt_code", method = "get")]
    async fn receipt(
        &self,
        state: Data<&AppState>,
        receipt_code: Path<String>,
    ) -> ApiResult<Json<ObjectionReceipt>> {
        let o = nominations::objection_by_receipt(&state.db, &receipt_code.0).await?;
        Ok(Json(ObjectionReceipt::try_from(&o)?))
    }

    /// List a notice's objections (reviewers)
    ///
    /// Permission: `review`.
    #[oai(path = "/notices/:id/objections", method = "get")]
    async fn objections(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<i64>,
    ) -> ApiResult<Json<Vec<Objection>>> {
        let staff = auth.require(Action::Review)?;
        let n = nominations::notice(&state.db, id.0).await?;
        reach_nomination(&state, staff, n.nomination_id).await?;
        let rows = nominations::objections_of(&state.db, n.id).await?;
        let dtos: Result<Vec<Objection>, StoreError> =
            rows.iter().map(Objection::try_from).collect();
        Ok(Json(dtos?))
    }

    /// Handle an objection (reviewers)
    ///
    /// open → investigating → upheld / dismissed (or straight from open). An upheld objection
    /// blocks approval for good; a finding note is needed to decide. Whoever nominated the
    /// nomination or wrote a supporting statement for it may not decide its objections (403
    /// `conflict_of_interest`).
    ///
    /// Permission: `review`.
    #[oai(path = "/objections/:id/transitions", method = "post")]
    async fn decide(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<i64>,
        body: Json<ObjectionTransition>,
    ) -> ApiResult<Json<Objection>> {
        let staff = auth.require(Action::Review)?;
        let current = nominations::objection(&state.db, id.0).await?;
        let notice = nominations::notice(&state.db, current.notice_id).await?;
        let nomination = reach_nomination(&state, staff, notice.nomination_id).await?;
        if super::nominations::interested(&state.db, &nomination, staff).await? {
            return Err(ApiError::forbidden_code(
                "conflict_of_interest",
                crate::domain::nomination::CONFLICT_OF_INTEREST,
            ));
        }
        let from = nominations::objection_state(&current)?;
        let to: ObjectionState = body
            .to
            .parse()
            .map_err(|()| ApiError::field("to", format!("未知的状态“{}”", body.to)))?;
        if !from.next_states().contains(&to) {
            let allowed: Vec<&str> = from.next_states().iter().map(|s| s.code()).collect();
            return Err(ApiError::conflict_code(
                "illegal_transition",
                format!("异议不能从“{}”变为“{}”", from.label(), to.label()),
                Some(serde_json::json!({ "allowed": allowed })),
            ));
        }
        let note = body
            .note
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_string);
        if matches!(to, ObjectionState::Upheld | ObjectionState::Dismissed) && note.is_none() {
            return Err(ApiError::field("note", "请填写核查结果"));
        }
        if note.as_ref().is_some_and(|n| n.chars().count() > 2000) {
            return Err(ApiError::field("note", "不能超过 2000 个字"));
        }
        let txn = Change::begin(&state.db, state.clock.now(), staff).await?;
        let o = nominations::set_objection_state(
            &txn,
            current.id,
            from,
            to,
            note,
            staff.user_id,
            state.clock.now(),
        )
        .await?;
        let (before, after) = (Objection::try_from(&current)?, Objection::try_from(&o)?);
        txn.done(to.code(), Some(&before), Some(&after)).await?;
        Ok(Json(after))
    }
}
