//! The 公示 board, a notice's page and its objection form (the one public form: its own CSRF
//! cookie, the objection rule of `service::notices`).

use askama::Template;
use poem::web::{Data, Form, Path};
use poem::{handler, Request, Response};

use super::{html, Meta, WebError};
use crate::domain::partial_date::PartialDate;
use crate::service::auth::client_address;
use crate::service::notices::{file_objection, ObjectionRefused, ObjectionText};
use crate::state::AppState;
use crate::store::residents::Visibility;
use crate::store::{nominations, StoreError};

pub struct NoticeItem {
    pub id: i64,
    pub name: String,
    pub community: String,
    pub title: String,
    pub category: String,
    pub closes_on: String,
    pub days_left: i64,
    pub citation: String,
}

/// The open notices of residents the public may see; `within` a community: of its subtree only.
pub(super) async fn open_notices(
    state: &AppState,
    within: Option<i64>,
) -> Result<Vec<NoticeItem>, StoreError> {
    let now = state.clock.now();
    let rows = nominations::open_notices(&state.db, now, None, 1000).await?;
    // Only notices of residents the public may see.
    let mut described =
        crate::service::notices::describe(&state.db, rows.items, Visibility::Public).await?;
    if let Some(root) = within {
        let ids: Vec<i64> = described.iter().map(|d| d.resident.id).collect();
        let inside =
            crate::store::residents::get_many(&state.db, &ids, Visibility::Within(root)).await?;
        described.retain(|d| inside.contains_key(&d.resident.id));
    }
    Ok(described
        .into_iter()
        .map(|d| NoticeItem {
            id: d.notice.id,
            name: d.resident.name,
            community: d.community,
            title: d.nomination.honour_title,
            category: d.category,
            closes_on: PartialDate::from_date(
                (d.notice.closes_at + chrono::Duration::hours(8)).date_naive(),
            )
            .to_chinese(),
            days_left: crate::domain::nomination::days_left(d.notice.closes_at, now),
            citation: d.nomination.citation,
        })
        .collect())
}

#[derive(Template)]
#[template(path = "notices.html")]
struct NoticesPage {
    meta: Meta,
    notices: Vec<NoticeItem>,
}

#[handler]
pub async fn notices_page(state: Data<&AppState>) -> Result<Response, WebError> {
    let site = super::deployment_site(&state).await?;
    site_notices(&state, site).await
}

/// `/s/{slug}/notices`: the 公示 board of a 街道's or district's own site, its subtree's only.
#[handler]
pub async fn site_notices_page(
    req: &poem::Request,
    state: Data<&AppState>,
    Path(slug): Path<String>,
) -> Result<Response, WebError> {
    site_notices(&state, super::site_of(&state, req, &slug).await?).await
}

async fn site_notices(state: &AppState, site: super::Site) -> Result<Response, WebError> {
    let page = NoticesPage {
        meta: Meta::new(
            &site,
            state,
            "/notices",
            &format!("公示 · {}", site.honours()),
            "正在公示的有德之士推荐人选，公示期内欢迎实名提出异议。",
        ),
        notices: open_notices(state, site.community_id).await?,
    };
    html(&page)
}

/// What was typed into the objection form, kept to fill it again after a refusal.
#[derive(Default, serde::Deserialize)]
pub struct ObjectionForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub contact: String,
    #[serde(default)]
    pub content: String,
    #[serde(default)]
    pub csrf: String,
}

#[derive(Template)]
#[template(path = "notice.html")]
struct NoticePage {
    meta: Meta,
    notice: NoticeItem,
    form: ObjectionForm,
    errors: Vec<(String, String)>,
    csrf: String,
}

#[derive(Template)]
#[template(path = "objection_received.html")]
struct ReceivedPage {
    meta: Meta,
    notice: NoticeItem,
    receipt_code: String,
}

async fn notice_item(state: &AppState, id: i64) -> Result<NoticeItem, WebError> {
    open_notices(state, None)
        .await?
        .into_iter()
        .find(|n| n.id == id)
        .ok_or(WebError::NotFound)
}

const CSRF_COOKIE: &str = "youde_csrf";

fn csrf_cookie_value(req: &Request) -> Option<String> {
    crate::service::auth::cookie(req, CSRF_COOKIE)
}

/// The form's CSRF token: the browser's existing one, or a new one to set.
fn csrf_token(req: &Request) -> (String, bool) {
    match csrf_cookie_value(req).filter(|t| t.len() >= 32) {
        Some(t) => (t, false),
        None => (crate::store::tokens::generate(), true),
    }
}

fn with_csrf_cookie(mut response: Response, token: &str, new: bool) -> Response {
    if new {
        let cookie = format!(
            "{CSRF_COOKIE}={token}; Path=/notices; HttpOnly; SameSite=Strict; Max-Age=86400"
        );
        if let Ok(value) = cookie.parse() {
            response
                .headers_mut()
                .append(poem::http::header::SET_COOKIE, value);
        }
    }
    response
}

#[handler]
pub async fn notice_page(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    let notice = notice_item(&state, id).await?;
    let (csrf, new) = csrf_token(req);
    let site = super::deployment_site(&state).await?;
    let meta = Meta::new(
        &site,
        &state,
        &format!("/notices/{id}"),
        &format!("公示：{} · {}", notice.name, notice.title),
        &notice.citation,
    );
    let page = NoticePage {
        meta,
        notice,
        form: ObjectionForm::default(),
        errors: vec![],
        csrf: csrf.clone(),
    };
    Ok(with_csrf_cookie(html(&page)?, &csrf, new))
}

#[handler]
pub async fn object(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<i64>,
    Form(form): Form<ObjectionForm>,
) -> Result<Response, WebError> {
    let notice = notice_item(&state, id).await?;
    let cookie = csrf_cookie_value(req);
    if cookie
        .as_deref()
        .is_none_or(|c| c.len() < 32 || c != form.csrf)
    {
        return Err(WebError::Forbidden(
            "表单已过期或来源无效，请返回公示页面重新填写。".into(),
        ));
    }
    let text = ObjectionText {
        name: &form.name,
        contact: &form.contact,
        content: &form.content,
    };
    let (filed, errors) =
        match file_objection(&state.db, state.clock.now(), id, text, &client_address(req)).await {
            Ok(objection) => (Some(objection), Vec::new()),
            Err(ObjectionRefused::Invalid(invalid)) => (None, form_errors(invalid)),
            Err(ObjectionRefused::TooMany) => (
                None,
                vec![("form".into(), "提交过于频繁，请一小时后再试。".into())],
            ),
            Err(ObjectionRefused::Store(err)) => return Err(err.into()),
        };
    let site = super::deployment_site(&state).await?;
    let meta = Meta::new(
        &site,
        &state,
        &format!("/notices/{id}"),
        &format!("公示：{} · {}", notice.name, notice.title),
        &notice.citation,
    );
    // Filed exactly when there were no errors.
    let Some(objection) = filed else {
        let csrf = form.csrf.clone();
        let page = NoticePage {
            meta,
            notice,
            form,
            errors,
            csrf,
        };
        let mut response = html(&page)?;
        response.set_status(poem::http::StatusCode::UNPROCESSABLE_ENTITY);
        return Ok(response);
    };
    html(&ReceivedPage {
        meta,
        notice,
        receipt_code: objection.receipt_code,
    })
}

/// The objection form's errors in its own words: `请填写姓名`, `异议内容不能超过 5000 个字`.
fn form_errors(invalid: crate::domain::validation::ValidationErrors) -> Vec<(String, String)> {
    invalid
        .0
        .into_iter()
        .map(|e| {
            let label = match e.field.as_str() {
                "name" => "姓名",
                "contact" => "联系方式",
                _ => "异议内容",
            };
            let message = if e.message == crate::domain::validation::EMPTY {
                format!("请填写{label}")
            } else {
                format!("{label}{}", e.message)
            };
            (e.field, message)
        })
        .collect()
}
