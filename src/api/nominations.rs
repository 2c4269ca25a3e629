//! `/nominations` and their transitions: draft → submitted → in_review → public_notice → approved
//! → recognised, with rejected and withdrawn from any open state. Staff only; the public sees the
//! 公示 board (`/notices`) and the honour roll (`/recognitions`).

use chrono::Duration;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use sea_orm::ConnectionTrait;
use serde_json::json;

use super::auth::{Staff, StaffAuth};
use super::error::{ApiError, ApiResult};
use super::etag::{etag, mismatch, IfMatch};
use super::pagination::{encode, ListPage, PageRequest};
use super::write::Change;
use super::{snap, ApiTags, Created};
use crate::domain::consent::ConsentScope;
use crate::domain::nomination::{
    check_transition, Mover, NominationDraft, NominationState, StatementInput, TransitionError,
    CONFLICT_OF_INTEREST,
};
use crate::domain::policy::{Action, Role};
use crate::service::registry::{check_resident_reached, reach_resident};
pub use crate::service::workflow::{Nomination, NoticeWindow, StatementDto};
use crate::state::AppState;
use crate::store::entities::nomination::Model;
use crate::store::residents::{self, Visibility};
use crate::store::{categories, consents, nominations, recognitions, StoreError};

super::write::audited!(Nomination => "nomination");

#[derive(Debug, Object)]
#[oai(example)]
pub struct NominationInput {
    pub resident_id: i64,
    pub category_id: i64,
    pub honour_title: String,
    pub year: i32,
    pub citation: String,
    /// At least one supporting statement (事迹材料 / 推荐意见).
    pub statements: Vec<StatementDto>,
}

super::example!(NominationInput, { "resident_id": 1, "category_id": 1, "honour_title": "长寿路街道有德之士", "year": 2026, "citation": "十二年不拿一分钱担任业委会主任，为小区节省三十万元。", "statements": [{ "author": "王丽", "relation": "居民区党总支书记", "body": "他把小区的事当作自己家的事。" }] });

#[derive(Debug, Object)]
#[oai(example)]
pub struct TransitionInput {
    /// The state to move to.
    pub to: String,
    /// A note for the audit log (e.g. the reason for a rejection).
    pub note: Option<String>,
    /// When opening the 公示: its length in days (1–30; default from `YOUDE_NOTICE_DAYS`).
    pub window_days: Option<u32>,
}

super::example!(TransitionInput, { "to": "submitted" });

#[derive(ApiResponse)]
pub enum NominationResponse {
    /// The nomination.
    #[oai(status = 200)]
    Ok(Json<Nomination>, #[oai(header = "ETag")] String),
}

fn parse(input: NominationInput) -> Result<NominationDraft, ApiError> {
    let statements = input
        .statements
        .into_iter()
        .map(|s| StatementInput {
            author: s.author,
            relation: s.relation,
            body: s.body,
        })
        .collect();
    Ok(NominationDraft::parse(
        input.resident_id,
        input.category_id,
        &input.honour_title,
        input.year,
        &input.citation,
        statements,
    )?)
}

/// Whether `staff` may see this nomination at all: their own, or any but others' drafts for
/// reviewers, or all for admins. Anything else is "not found", so ids give nothing away.
fn visible_to(m: &Model, staff: &Staff) -> bool {
    m.nominator_id == staff.user_id
        || staff.roles.contains(&Role::Admin)
        || staff.may(Action::Review) && m.state != NominationState::Draft.code()
}

/// Whether `staff` nominated `m` or wrote one of its supporting statements (an author is matched
/// by the user's display name or user name, as statements name their author in free text).
pub async fn interested(
    db: &impl ConnectionTrait,
    m: &Model,
    staff: &Staff,
) -> Result<bool, StoreError> {
    if m.nominator_id == staff.user_id {
        return Ok(true);
    }
    let statements = nominations::statements(db, m.id).await?;
    Ok(statements.iter().any(|s| wrote(&s.author, staff)))
}

/// A statement's author names `staff` (display name or user name).
fn wrote(author: &str, staff: &Staff) -> bool {
    let author = author.trim();
    author == staff.name.trim() || author == staff.username
}

fn allowed_for(m: &Model, staff: &Staff, interested: bool) -> Vec<NominationState> {
    let Ok(state) = nominations::state(m) else {
        return vec![];
    };
    let mover = Mover {
        roles: &staff.roles,
        is_nominator: m.nominator_id == staff.user_id,
        interested,
    };
    state
        .next_states()
        .into_iter()
        .filter(|to| check_transition(state, *to, mover).is_ok())
        .collect()
}

async fn view(
    db: &impl ConnectionTrait,
    m: Model,
    staff: &Staff,
) -> Result<Nomination, StoreError> {
    let mut one = views(db, vec![m], staff).await?;
    one.pop().ok_or(StoreError::NotFound("nomination"))
}

/// The nominations as `staff` sees them, in a fixed number of queries however many there are.
async fn views(
    db: &impl ConnectionTrait,
    rows: Vec<Model>,
    staff: &Staff,
) -> Result<Vec<Nomination>, StoreError> {
    let ids: Vec<i64> = rows.iter().map(|m| m.id).collect();
    let resident_ids: Vec<i64> = rows.iter().map(|m| m.resident_id).collect();
    let residents = residents::get_many(db, &resident_ids, Visibility::Staff).await?;
    let categories = categories::by_id(db).await?;
    let mut statements = nominations::statements_of(db, &ids).await?;
    let mut notices = nominations::notices_of(db, &ids).await?;
    let recognitions = recognitions::of_nominations(db, &ids).await?;
    let mut out = Vec::with_capacity(rows.len());
    for m in rows {
        let resident = residents
            .get(&m.resident_id)
            .ok_or(StoreError::NotFound("resident"))?;
        let category = categories
            .get(&m.category_id)
            .ok_or(StoreError::NotFound("category"))?;
        let statements = statements.remove(&m.id).unwrap_or_default();
        let interested =
            m.nominator_id == staff.user_id || statements.iter().any(|s| wrote(&s.author, staff));
        let state = nominations::state(&m)?;
        out.push(Nomination {
            allowed_transitions: allowed_for(&m, staff, interested),
            id: m.id,
            resident_id: m.resident_id,
            resident_name: resident.name.clone(),
            category_id: m.category_id,
            category_name: category.name.clone(),
            honour_title: m.honour_title,
            year: m.year,
            citation: m.citation,
            statements: statements
                .into_iter()
                .map(|s| StatementDto {
                    author: s.author,
                    relation: s.relation,
                    body: s.body,
                })
                .collect(),
            nominator_id: m.nominator_id,
            state,
            state_label: state.label().to_string(),
            notice: notices.remove(&m.id).map(|n| NoticeWindow {
                id: n.id,
                opens_at: n.opens_at,
                closes_at: n.closes_at,
            }),
            recognition_id: recognitions.get(&m.id).map(|r| r.id),
            created_at: m.created_at,
            updated_at: m.updated_at,
        });
    }
    Ok(out)
}

/// Nominations are for those who nominate or review; everyone else is refused outright.
fn require_workflow_role(staff: &Staff) -> Result<(), ApiError> {
    if staff.may(Action::Nominate) || staff.may(Action::Review) {
        Ok(())
    } else {
        Err(ApiError::forbidden())
    }
}

async fn load(state: &AppState, id: i64, staff: &Staff) -> Result<Model, ApiError> {
    require_workflow_role(staff)?;
    let m = nominations::get(&state.db, id).await?;
    reach_resident(&state.db, staff.reach(), m.resident_id, "nomination").await?;
    if !visible_to(&m, staff) {
        return Err(ApiError::not_found("nomination"));
    }
    Ok(m)
}

fn transition_error(err: TransitionError) -> ApiError {
    match err {
        TransitionError::Illegal { ref allowed, .. } => {
            let allowed: Vec<&str> = allowed.iter().map(|s| s.code()).collect();
            ApiError::conflict_code(
                "illegal_transition",
                err.to_string(),
                Some(json!({ "allowed": allowed })),
            )
        }
        TransitionError::NotPermitted(message) => ApiError::forbidden_code(
            if message == CONFLICT_OF_INTEREST {
                "conflict_of_interest"
            } else {
                "forbidden"
            },
            message,
        ),
    }
}

/// What a move needs beyond the state machine and the roles, checked and done on the change
/// before the state changes: opening (or restarting) the 公示 needs the profile consent and makes
/// a window of `days`; approval needs a closed window that stayed public throughout and no
/// objection standing in the way.
async fn prepare_move(
    txn: &Change<'_>,
    current: &crate::store::entities::nomination::Model,
    to: NominationState,
    days: u32,
    user_id: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), ApiError> {
    match to {
        NominationState::PublicNotice => {
            if !residents::is_public(txn, current.resident_id).await? {
                return Err(ApiError::conflict_code(
                    "consent_required",
                    "公示会公开居民的姓名和推荐理由，需要先记录本人的“公开个人资料”同意（profile）",
                    None,
                ));
            }
            if !(1..=30).contains(&days) {
                return Err(ApiError::field("window_days", "公示期应为 1 到 30 天"));
            }
            let closes = now + Duration::days(days as i64);
            match nominations::notice_of(txn, current.id).await? {
                // Restarting: a new full window from now.
                Some(notice) => {
                    nominations::restart_notice(txn, notice.id, now, closes, user_id).await?;
                }
                None => {
                    nominations::open_notice(txn, current.id, now, closes, user_id).await?;
                }
            }
        }
        NominationState::Approved => {
            let notice = nominations::notice_of(txn, current.id)
                .await?
                .ok_or_else(|| ApiError::conflict("尚未公示"))?;
            if now < notice.closes_at {
                return Err(ApiError::conflict_code(
                    "notice_open",
                    "公示期尚未结束，不能批准",
                    Some(json!({ "closes_at": notice.closes_at })),
                ));
            }
            // A 公示 counts only if it was public for the whole window.
            let opened_on = (notice.opens_at + Duration::hours(8)).date_naive();
            if !residents::is_public(txn, current.resident_id).await?
                || consents::withdrawn_since(
                    txn,
                    current.resident_id,
                    ConsentScope::Profile,
                    opened_on,
                )
                .await?
            {
                return Err(ApiError::conflict_code(
                    "notice_interrupted",
                    "公示期间本人撤回了公开同意，公示未能完整公开；重新取得同意后，需重新公示（public_notice）满一个完整公示期才能批准",
                    Some(json!({ "opens_at": notice.opens_at })),
                ));
            }
            let objections = nominations::objections_of(txn, notice.id).await?;
            let blocking = objections
                .iter()
                .filter(|o| {
                    nominations::objection_state(o)
                        .map(|s| s.blocks_approval())
                        .unwrap_or(true)
                })
                .count();
            if blocking > 0 {
                return Err(ApiError::conflict_code(
                    "objections_pending",
                    format!("还有 {blocking} 条异议未处理或成立，不能批准"),
                    Some(json!({ "blocking_objections": blocking })),
                ));
            }
        }
        _ => {}
    }
    Ok(())
}

pub struct NominationsApi;

#[OpenApi(tag = "ApiTags::Workflow")]
impl NominationsApi {
    /// List nominations
    ///
    /// Nominators see their own; reviewers see all but other people's drafts; admins see all.
    ///
    /// Permission: `nominate` or `review`.
    #[oai(path = "/nominations", method = "get")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        /// Filter by state, e.g. `submitted` for the review queue.
        #[oai(name = "state")]
        state_filter: Query<Option<String>>,
        resident_id: Query<Option<i64>>,
        limit: Query<Option<u64>>,
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<ListPage<Nomination>>> {
        let staff = auth.staff();
        require_workflow_role(staff)?;
        let req = PageRequest::parse(limit.0, cursor.0.as_deref())?;
        let wanted = match state_filter.0.as_deref() {
            None => None,
            Some(s) => Some(
                s.parse::<NominationState>()
                    .map_err(|()| ApiError::field("state", format!("未知的状态“{s}”")))?,
            ),
        };
        let admin = staff.roles.contains(&Role::Admin);
        let reviewer = staff.may(Action::Review);
        let rows = nominations::list(
            &state.db,
            nominations::ListFilter {
                after: req.after,
                limit: req.limit,
                state: wanted,
                resident_id: resident_id.0,
                nominator_id: (!admin && !reviewer).then_some(staff.user_id),
                hide_drafts_of_others: (!admin && reviewer).then_some(staff.user_id),
                reach: staff.reach(),
            },
        )
        .await?;
        let items = views(&state.db, rows.items, staff).await?;
        Ok(Json(ListPage {
            items,
            next_cursor: rows.next_after.map(encode),
        }))
    }

    /// Get a nomination
    ///
    /// Permission: `nominate` or `review`.
    #[oai(path = "/nominations/:id", method = "get")]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<i64>,
    ) -> ApiResult<NominationResponse> {
        let staff = auth.staff();
        let m = load(&state, id.0, staff).await?;
        let tag = etag(m.id, m.version);
        Ok(NominationResponse::Ok(
            Json(view(&state.db, m, staff).await?),
            tag,
        ))
    }

    /// Create a nomination
    ///
    /// Starts as a `draft` of the caller.
    ///
    /// Permission: `nominate`.
    #[oai(path = "/nominations", method = "post")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        body: Json<NominationInput>,
    ) -> ApiResult<Created<Nomination>> {
        let staff = auth.require(Action::Nominate)?;
        let draft = parse(body.0)?;
        check_resident_reached(&state.db, staff.reach(), "resident_id", draft.resident_id).await?;
        let txn = Change::begin(&state.db, state.clock.now(), staff).await?;
        let m = nominations::insert(&txn, &draft, staff.user_id, state.clock.now()).await?;
        let tag = etag(m.id, m.version);
        let dto = view(&txn, m, staff).await?;
        txn.created(&dto).await?;
        Ok(Created::at("/api/v1/nominations", tag, dto))
    }

    /// Edit a draft nomination
    ///
    /// Only drafts, by their nominator or an admin. Needs `If-Match`.
    ///
    /// Permission: `nominate`.
    #[oai(path = "/nominations/:id", method = "put")]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<i64>,
        #[oai(name = "If-Match")] if_match: IfMatch,
        body: Json<NominationInput>,
    ) -> ApiResult<NominationResponse> {
        let staff = auth.require(Action::Nominate)?;
        let current = load(&state, id.0, staff).await?;
        if current.nominator_id != staff.user_id && !staff.roles.contains(&Role::Admin) {
            return Err(ApiError::forbidden());
        }
        let version = if_match.check(id.0, current.version)?;
        let draft = parse(body.0)?;
        check_resident_reached(&state.db, staff.reach(), "resident_id", draft.resident_id).await?;
        let txn = Change::begin(&state.db, state.clock.now(), staff).await?;
        let before = view(&txn, current, staff).await?;
        let m = nominations::update(&txn, id.0, version, &draft, state.clock.now())
            .await
            .map_err(mismatch(id.0))?;
        let tag = etag(m.id, m.version);
        let dto = view(&txn, m, staff).await?;
        txn.updated(&before, &dto).await?;
        Ok(NominationResponse::Ok(Json(dto), tag))
    }

    /// Move a nomination
    ///
    /// 409 `illegal_transition` (with `details.allowed`) for a move the state machine does not have;
    /// 403 when the caller's role may not make it (nobody approves their own nomination).
    /// Opening the 公示 needs the resident's profile consent; `public_notice` from `public_notice`
    /// restarts it with a new full window. Approval is refused (409) while the 公示 window is open
    /// (`notice_open`), when the profile consent was withdrawn on or after the day the window
    /// opened or is not active now (`notice_interrupted`: give consent again, then restart the
    /// 公示), or while an objection is open, under investigation or upheld
    /// (`objections_pending`). Whoever nominated it or wrote a supporting statement for it (matched
    /// by display name or user name) may not start its review, open its 公示, approve or recognise
    /// it (403). Recognising creates the recognition on the honour roll.
    ///
    /// Permission: `nominate` or `review`.
    #[oai(path = "/nominations/:id/transitions", method = "post")]
    async fn transition(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<i64>,
        body: Json<TransitionInput>,
    ) -> ApiResult<NominationResponse> {
        let staff = auth.staff();
        let current = load(&state, id.0, staff).await?;
        let from = nominations::state(&current)?;
        let to: NominationState = body
            .to
            .parse()
            .map_err(|()| ApiError::field("to", format!("未知的状态“{}”", body.to)))?;
        let mover = Mover {
            roles: &staff.roles,
            is_nominator: current.nominator_id == staff.user_id,
            interested: interested(&state.db, &current, staff).await?,
        };
        check_transition(from, to, mover).map_err(transition_error)?;
        let note = body
            .note
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_string);
        if note.as_ref().is_some_and(|n| n.chars().count() > 2000) {
            return Err(ApiError::field("note", "不能超过 2000 个字"));
        }
        let now = state.clock.now();
        let txn = Change::begin(&state.db, now, staff).await?;
        let days = body.window_days.unwrap_or(state.notice_days);
        prepare_move(&txn, &current, to, days, staff.user_id, now).await?;
        let before = snap(&view(&txn, current.clone(), staff).await?);
        let m = nominations::set_state(&txn, current.id, from, to, now).await?;
        if to == NominationState::Recognised {
            let r = recognitions::insert(&txn, &m, state.clock.today(), staff.user_id, now).await?;
            let after = json!({ "title": r.title, "year": r.year, "resident_id": r.resident_id });
            txn.record("recognition.create", "recognition", r.id, None, Some(after))
                .await?;
        }
        let tag = etag(m.id, m.version);
        let dto = view(&txn, m, staff).await?;
        let mut after = snap(&dto);
        if let (Some(serde_json::Value::Object(map)), Some(note)) = (after.as_mut(), note) {
            map.insert("note".into(), note.into());
        }
        txn.commit_audited(
            &format!("nomination.{}", to.code()),
            "nomination",
            dto.id,
            before,
            after,
        )
        .await?;
        Ok(NominationResponse::Ok(Json(dto), tag))
    }
}
