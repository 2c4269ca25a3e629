//! Sign-in, sign-out, and getting a form back after the session expired.

use poem::http::{header, StatusCode};
use poem::web::{Data, Query};
use poem::{handler, Body, Request, Response};
use serde::Deserialize;

use super::ui::{Block, Field, Form, Kind, Page};
use super::{csrf_for, html, redirect, same, Console, Result};
use crate::service::auth::{
    authenticate, client_address, cookie, session_cookie, session_token, SignInError,
};
use crate::state::AppState;
use crate::store::users::{self, SESSION_ABSOLUTE};

/// The sign-in form's double-submit cookie (there is no session yet to bind a token to).
const LOGIN_COOKIE: &str = "youde_admin_login";

fn new_login_token() -> String {
    crate::store::tokens::generate()
}

fn login_cookie(token: &str) -> String {
    format!("{LOGIN_COOKIE}={token}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=86400")
}

/// Only console addresses are followed after sign-in (no open redirect).
fn safe_next(next: &str) -> &str {
    if next.starts_with("/admin") && !next.starts_with("//") && !next.contains('\\') {
        next
    } else {
        "/admin"
    }
}

struct LoginView<'a> {
    token: &'a str,
    next: &'a str,
    resume: &'a [(String, String)],
    username: &'a str,
    notice: Option<(&'static str, String)>,
}

fn login_response(view: LoginView<'_>, status: StatusCode) -> Response {
    let mut blocks = Vec::new();
    if let Some((kind, text)) = view.notice {
        blocks.push(Block::Notice(kind, text));
    }
    let resume = if view.resume.is_empty() {
        String::new()
    } else {
        serde_json::to_string(view.resume).unwrap_or_default()
    };
    blocks.push(Block::Form(
        Form::post("/admin/login", view.token, "登录")
            .hidden("next", safe_next(view.next))
            .hidden("resume", resume)
            .group(
                "",
                vec![
                    Field::text("username", "用户名")
                        .required()
                        .value(view.username),
                    Field::new("password", "密码", Kind::Password).required(),
                ],
            ),
    ));
    blocks.push(Block::Text(
        "忘记密码请联系管理员重置。工作台仅供街道工作人员使用。".into(),
    ));
    let page = Page {
        title: "登录".into(),
        nav: Vec::new(),
        user: String::new(),
        logout_csrf: String::new(),
        crumbs: Vec::new(),
        blocks,
    };
    let mut resp = html(page).unwrap_or_default();
    resp.set_status(status);
    if let Ok(value) = login_cookie(view.token).parse() {
        resp.headers_mut().append(header::SET_COOKIE, value);
    }
    resp
}

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    expired: Option<String>,
}

/// `GET /admin/login`
#[handler]
pub fn login_page(req: &Request, query: Query<LoginQuery>) -> Response {
    let token = cookie(req, LOGIN_COOKIE)
        .filter(|t| t.len() >= 32)
        .unwrap_or_else(new_login_token);
    let notice = query
        .expired
        .as_deref()
        .filter(|e| !e.is_empty())
        .map(|_| ("warn", "登录已过期，请重新登录。".to_string()));
    login_response(
        LoginView {
            token: &token,
            next: query.next.as_deref().unwrap_or("/admin"),
            resume: &[],
            username: "",
            notice,
        },
        StatusCode::OK,
    )
}

/// The sign-in page for a form posted without a valid session: what was typed rides along.
pub fn sign_in_again(next: &str, resume: &[(String, String)], files_dropped: bool) -> Response {
    let token = new_login_token();
    let mut notice =
        "登录已过期，请重新登录。您刚才填写的内容已保留，登录后核对一下再提交即可。".to_string();
    if files_dropped {
        notice.push_str("所选的照片文件无法保留，提交前请重新选择。");
    }
    login_response(
        LoginView {
            token: &token,
            next,
            resume,
            username: "",
            notice: Some(("warn", notice)),
        },
        StatusCode::UNAUTHORIZED,
    )
}

/// The Chinese name of a console form field, for the page that offers a form again.
fn field_label(name: &str) -> Option<&'static str> {
    Some(match name {
        "name" => "姓名 / 名称",
        "community_id" => "所属社区（编号）",
        "citation" => "事迹简介 / 推荐理由",
        "phone" => "电话",
        "id_number" => "身份证号码",
        "birth_year" => "出生年份",
        "address" => "住址",
        "kind" => "类别",
        "title" => "标题 / 事项",
        "subtitle" => "副标题",
        "section" => "栏目",
        "themes" => "主题标签",
        "byline" => "署名",
        "body" => "正文",
        "organisation" => "单位 / 组织",
        "evidence" => "出处 / 存档位置",
        "recorded_by" => "记录人",
        "verified_by" => "核实人",
        "confirmed_on" => "最后核实",
        "verified_on" => "核实日期",
        "scope" => "同意范围",
        "text_version" => "同意书版本",
        "signed_on" => "签署日期",
        "caption" => "图片说明",
        "credit" => "摄影",
        "alt" => "替代文字",
        "honour_title" => "荣誉称号",
        "year" => "年度",
        "note" => "说明 / 核查结果",
        "to" => "操作",
        "label" => "用途",
        "username" => "用户名",
        "display_name" => "姓名",
        "editors_note" => "编者按",
        "date" => "日期",
        "theme" => "主题",
        "place" => "地点",
        "organiser" => "组织方",
        "description" => "说明",
        _ => return None,
    })
}

/// `POST /admin/login`
#[handler]
pub async fn login(req: &Request, state: Data<&AppState>, body: Body) -> Response {
    let bytes = body.into_vec().await.unwrap_or_default();
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map_or(String::new(), |(_, v)| v.clone())
    };
    let next = get("next");
    let resume: Vec<(String, String)> = serde_json::from_str(&get("resume")).unwrap_or_default();
    let username = get("username").trim().to_string();
    let cookie_token = cookie(req, LOGIN_COOKIE).unwrap_or_default();
    let fresh = new_login_token();
    if cookie_token.len() < 32 || !same(&cookie_token, &get("csrf")) {
        return login_response(
            LoginView {
                token: &fresh,
                next: &next,
                resume: &resume,
                username: &username,
                notice: Some((
                    "error",
                    "登录表单已失效（校验码不符），请再次输入密码登录。".into(),
                )),
            },
            StatusCode::FORBIDDEN,
        );
    }
    // The form again, with the username and any interrupted form kept.
    let refused = |message: &str, status| {
        login_response(
            LoginView {
                token: &cookie_token,
                next: &next,
                resume: &resume,
                username: &username,
                notice: Some(("error", message.to_string())),
            },
            status,
        )
    };
    let address = client_address(req);
    let password = get("password");
    let now = state.clock.now();
    let user = match authenticate(&state.db, now, &username, &password, &address).await {
        Ok(user) => user,
        Err(SignInError::Wrong) => {
            return refused("用户名或密码不正确。", StatusCode::UNAUTHORIZED)
        }
        Err(SignInError::Throttled) => {
            return refused(
                "登录失败次数过多，请 15 分钟后再试。",
                StatusCode::TOO_MANY_REQUESTS,
            )
        }
        Err(SignInError::Store(err)) => {
            let status = if err.is_unavailable() {
                StatusCode::SERVICE_UNAVAILABLE
            } else {
                tracing::error!(error = %err, "console sign-in failed");
                StatusCode::INTERNAL_SERVER_ERROR
            };
            return refused("登录暂时无法完成，请稍后再试。", status);
        }
    };
    // A fresh session token at every sign-in.
    if let Some(old) = session_token(req) {
        let _ = users::end_session(&state.db, &old).await;
    }
    let token = match users::create_session(&state.db, user.id, state.clock.now()).await {
        Ok(t) => t,
        Err(_) => {
            return refused(
                "登录暂时无法完成，请稍后再试。",
                StatusCode::INTERNAL_SERVER_ERROR,
            )
        }
    };
    let set_cookie = session_cookie(&token, SESSION_ABSOLUTE.num_seconds());
    let mut resp = if resume.is_empty() {
        redirect(safe_next(&next)).unwrap_or_default()
    } else {
        resubmit_page(
            &user.display_name,
            &csrf_for(&token),
            safe_next(&next),
            &resume,
        )
    };
    if let Ok(value) = set_cookie.parse() {
        resp.headers_mut().append(header::SET_COOKIE, value);
    }
    // The sign-in form's token has served its purpose.
    if let Ok(value) =
        format!("{LOGIN_COOKIE}=; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=0").parse()
    {
        resp.headers_mut().append(header::SET_COOKIE, value);
    }
    resp
}

/// After signing in again: the interrupted form, ready to send once more.
fn resubmit_page(user: &str, csrf: &str, next: &str, resume: &[(String, String)]) -> Response {
    let mut form = Form::post(next, csrf, "重新提交");
    let mut shown = Vec::new();
    for (name, value) in resume {
        form = form.hidden(name, value.clone());
        if let (Some(label), false) = (field_label(name), value.trim().is_empty()) {
            shown.push((label.to_string(), value.clone()));
        }
    }
    let page = Page {
        title: "重新提交表单".into(),
        nav: Vec::new(),
        user: user.into(),
        logout_csrf: csrf.into(),
        crumbs: Vec::new(),
        blocks: vec![
            Block::Notice(
                "ok",
                format!(
                    "已重新登录。下面是您之前在“{}”填写的内容，确认无误后点击“重新提交”（密码不会保留，需要时请重新填写）。",
                    next
                ),
            ),
            Block::Facts(shown),
            Block::Form(form),
        ],
    };
    html(page).unwrap_or_default()
}

/// `POST /admin/logout`
#[handler]
pub async fn logout(req: &Request, console: Console) -> Result<Response> {
    if let Some(token) = session_token(req) {
        let _ = users::end_session(&console.state.db, &token).await;
    }
    let mut resp = redirect("/admin/login")?;
    if let Ok(value) = session_cookie("", 0).parse() {
        resp.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(resp)
}
