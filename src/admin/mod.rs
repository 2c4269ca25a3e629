//! The staff console under `/admin`: server-rendered Chinese forms for the street office's daily
//! work. It needs no JavaScript and no external assets. Every page is a [`ui::Page`]; every
//! change goes through the JSON API in process ([`client`]), as the signed-in user, so the
//! console enforces exactly what the API enforces.
//!
//! Sessions are the API's (`youde_session` cookie). Every `POST` carries a CSRF token derived
//! from the session token; the sign-in form uses a double-submit cookie. A form posted after the
//! session expired comes back on the sign-in page with what was typed kept, and after signing
//! in, one click sends it again.

// Every file here is a module, and every module with a `pub fn routes(route: Route) -> Route`
// adds its pages to the console (see `build.rs`): a new page is a new file, with no line to add.
automod::dir!(pub "src/admin");

use poem::http::{header, Method, StatusCode};
use poem::{get, post, Endpoint, EndpointExt, FromRequest, Request, RequestBody, Response, Route};

use crate::domain::policy::Action;
use crate::service::auth::{session_token, Staff, Viewer};
use crate::state::AppState;
use crate::store::tokens;
use client::{Api, ApiEndpoint, Problem};
use form::FormData;
use ui::{Block, Link, Page};

/// The API endpoint, as request data for the console.
#[derive(Clone)]
pub struct AdminApi(pub ApiEndpoint);

/// The CSRF token of a session: a digest of the session token, so it needs no storage and dies
/// with the session.
pub fn csrf_for(session: &str) -> String {
    tokens::hash(&format!("youde-admin-csrf:{session}"))
}

/// Whether two tokens are equal, compared in constant time.
fn same(a: &str, b: &str) -> bool {
    crate::service::auth::constant_time_eq(a.as_bytes(), b.as_bytes())
}

/// A console request from a signed-in member of staff; for `POST`, with its form read and its
/// CSRF token checked.
pub struct Console {
    pub staff: Staff,
    pub csrf: String,
    pub state: AppState,
    pub api: Api,
    pub form: FormData,
}

impl<'a> FromRequest<'a> for Console {
    async fn from_request(req: &'a Request, body: &mut RequestBody) -> poem::Result<Self> {
        let state = req
            .data::<AppState>()
            .expect("AppState is attached to every route")
            .clone();
        let endpoint = req
            .data::<AdminApi>()
            .expect("the console routes carry the API")
            .0
            .clone();
        let post = req.method() == Method::POST;
        let form = if post {
            FormData::read(req, body).await
        } else {
            FormData::default()
        };
        let session = session_token(req);
        let staff = match (req.extensions().get::<Viewer>(), &session) {
            (Some(Viewer::Staff(staff)), Some(_)) => staff.clone(),
            _ => {
                // A form is kept for after sign-in only when this browser's own session, now
                // expired, made it: its CSRF token derives from that session's token, which a
                // cross-site page cannot know. Anything else just goes to the sign-in page.
                let genuine = post
                    && session
                        .as_deref()
                        .is_some_and(|old| same(form.get("csrf"), &csrf_for(old)));
                let resume: Vec<(String, String)> = if genuine {
                    form.pairs
                        .iter()
                        .filter(|(k, _)| k != "csrf" && !k.contains("password"))
                        .cloned()
                        .collect()
                } else {
                    Vec::new()
                };
                // The console is nested at /admin; the request's URI here is below it.
                let next = if resume.is_empty() && post {
                    "/admin".to_string()
                } else if post {
                    format!("/admin{}", req.uri().path())
                } else {
                    format!(
                        "/admin{}",
                        req.uri().path_and_query().map_or("", |p| p.as_str())
                    )
                };
                return Err(ConsoleError::SignIn {
                    next,
                    post: post && !resume.is_empty(),
                    files_dropped: genuine && !form.files.is_empty(),
                    resume,
                    expired: session.is_some(),
                }
                .into());
            }
        };
        let csrf = csrf_for(session.as_deref().unwrap_or_default());
        if post && !same(form.get("csrf"), &csrf) {
            return Err(ConsoleError::Csrf.into());
        }
        let viewer = Viewer::Staff(staff.clone());
        Ok(Console {
            api: Api {
                endpoint,
                state: state.clone(),
                viewer,
            },
            staff,
            csrf,
            state,
            form,
        })
    }
}

impl Console {
    /// 403 unless the user's roles allow `action` (the API's policy table).
    pub fn require(&self, action: Action) -> Result<(), ConsoleError> {
        if self.staff.may(action) {
            Ok(())
        } else {
            Err(ConsoleError::Forbidden)
        }
    }

    pub fn may(&self, action: Action) -> bool {
        self.staff.may(action)
    }

    /// A page with this user's navigation.
    pub fn page(&self, title: impl Into<String>, blocks: Vec<Block>) -> Page {
        Page {
            title: title.into(),
            nav: nav(&self.staff),
            user: self.staff.name.clone(),
            logout_csrf: self.csrf.clone(),
            crumbs: Vec::new(),
            blocks,
        }
    }

    pub fn render(
        &self,
        title: impl Into<String>,
        blocks: Vec<Block>,
    ) -> Result<Response, ConsoleError> {
        html(self.page(title, blocks))
    }

    /// A page answering a refused form (422, 409, ...), the form filled again.
    pub fn render_status(
        &self,
        title: impl Into<String>,
        blocks: Vec<Block>,
        status: StatusCode,
    ) -> Result<Response, ConsoleError> {
        let mut resp = self.render(title, blocks)?;
        resp.set_status(status);
        Ok(resp)
    }
}

fn nav(staff: &Staff) -> Vec<Link> {
    let mut links = vec![Link::new("/admin", "工作台")];
    if staff.may(Action::ReadPrivate) {
        links.push(Link::new("/admin/residents", "居民"));
        links.push(Link::new("/admin/photos", "照片"));
    }
    if staff.may(Action::EditRegistry) {
        links.push(Link::new("/admin/imports/new", "导入名册"));
    }
    if staff.may(Action::Nominate) || staff.may(Action::Review) {
        links.push(Link::new("/admin/nominations", "提名与评审"));
    }
    if staff.may(Action::Review) {
        links.push(Link::new("/admin/certificates", "证书"));
    }
    if staff.may(Action::EditStories) {
        links.push(Link::new("/admin/stories", "编辑部"));
    }
    if staff.may(Action::ManageUsers) {
        links.push(Link::new("/admin/users", "用户"));
    }
    if staff.may(Action::ManageCategories) {
        links.push(Link::new("/admin/categories", "表彰类别"));
    }
    if staff.may(Action::ReadAudit) {
        links.push(Link::new("/admin/audit", "审计日志"));
    }
    links.push(Link::new("/admin/tokens", "我的令牌"));
    links.push(Link::new("/", "公开网站"));
    links
}

/// A time as Shanghai reads it: `2019-09-01 14:00`.
pub fn shanghai(at: chrono::DateTime<chrono::Utc>) -> String {
    (at + chrono::Duration::hours(8))
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// A rendered page, never cached (it holds private data and a CSRF token).
pub fn html(page: impl askama::Template) -> Result<Response, ConsoleError> {
    let body = page
        .render()
        .map_err(|e| ConsoleError::Problem(Problem::internal(&format!("页面渲染失败：{e}"))))?;
    Ok(Response::builder()
        .content_type("text/html; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-store")
        .body(body))
}

/// After a successful `POST`: see the result (303, so a reload does not post again).
pub fn redirect(to: &str) -> Result<Response, ConsoleError> {
    Ok(Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, to)
        .header(header::CACHE_CONTROL, "no-store")
        .finish())
}

/// Why a console request ends without its page.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// Not signed in (or the session ended). `resume` holds a posted form's fields.
    #[error("sign in")]
    SignIn {
        next: String,
        resume: Vec<(String, String)>,
        expired: bool,
        /// A form to offer again after sign-in (`resume` is not empty).
        post: bool,
        /// The form carried a file, which cannot be kept.
        files_dropped: bool,
    },
    #[error("csrf")]
    Csrf,
    #[error("forbidden")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("{}", .0.message)]
    Problem(Problem),
}

impl From<Problem> for ConsoleError {
    fn from(p: Problem) -> Self {
        match p.status {
            StatusCode::FORBIDDEN => ConsoleError::Forbidden,
            StatusCode::NOT_FOUND => ConsoleError::NotFound,
            _ => ConsoleError::Problem(p),
        }
    }
}

fn error_page(status: StatusCode, heading: &str, message: &str) -> Response {
    let page = Page {
        title: heading.into(),
        nav: Vec::new(),
        user: String::new(),
        logout_csrf: String::new(),
        crumbs: Vec::new(),
        blocks: vec![
            Block::Notice("error", message.into()),
            Block::Links(vec![Link::new("/admin", "返回工作台")]),
        ],
    };
    let mut resp = html(page).unwrap_or_default();
    resp.set_status(status);
    resp
}

impl poem::error::ResponseError for ConsoleError {
    fn status(&self) -> StatusCode {
        match self {
            ConsoleError::SignIn { post: false, .. } => StatusCode::SEE_OTHER,
            ConsoleError::SignIn { .. } => StatusCode::UNAUTHORIZED,
            ConsoleError::Csrf | ConsoleError::Forbidden => StatusCode::FORBIDDEN,
            ConsoleError::NotFound => StatusCode::NOT_FOUND,
            ConsoleError::Problem(p) => p.status,
        }
    }

    fn as_response(&self) -> Response {
        match self {
            ConsoleError::SignIn {
                next,
                resume,
                expired,
                post,
                files_dropped,
            } => {
                if *post {
                    session::sign_in_again(next, resume, *files_dropped)
                } else {
                    let query = serde_urlencoded::to_string([
                        ("next", next.as_str()),
                        ("expired", if *expired { "1" } else { "" }),
                    ])
                    .unwrap_or_default();
                    Response::builder()
                        .status(StatusCode::SEE_OTHER)
                        .header(header::LOCATION, format!("/admin/login?{query}"))
                        .header(header::CACHE_CONTROL, "no-store")
                        .finish()
                }
            }
            ConsoleError::Csrf => error_page(
                StatusCode::FORBIDDEN,
                "表单已失效",
                "表单校验码缺失或不正确（可能页面打开太久或在别处退出了登录）。请返回上一页刷新后再提交。",
            ),
            ConsoleError::Forbidden => error_page(
                StatusCode::FORBIDDEN,
                "无权访问",
                "当前账号的角色不能查看这个页面或进行这项操作。如需权限，请联系管理员。",
            ),
            ConsoleError::NotFound => {
                error_page(StatusCode::NOT_FOUND, "找不到", "要找的内容不存在或已被删除。")
            }
            ConsoleError::Problem(p) => {
                let status = if p.status.is_success() {
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    p.status
                };
                error_page(status, "操作未能完成", &p.message)
            }
        }
    }
}

include!(concat!(env!("OUT_DIR"), "/console_pages.rs"));

pub type Result<T, E = ConsoleError> = std::result::Result<T, E>;

/// Every console route. `api` is the `/api/v1` service the console calls.
/// Over https (`https`) the pages also get `Strict-Transport-Security`.
pub fn routes(
    api: ApiEndpoint,
    limits: crate::middleware::BodyLimit,
    https: bool,
) -> impl Endpoint {
    let route = Route::new()
        .at("/", get(dashboard::dashboard))
        .at("/login", get(session::login_page).post(session::login))
        .at("/logout", post(session::logout));
    pages(route)
        .data(AdminApi(api))
        .with(limits)
        // A body over the limit (a very large photo) gets a page, not the API's JSON.
        .around(|ep, req| async move {
            match ep.call(req).await {
                Err(err) if err.status() == StatusCode::PAYLOAD_TOO_LARGE => Ok(too_large_page()),
                other => other,
            }
        })
        .with(crate::middleware::SecurityHeaders::console(
            https,
            plain_error_page,
        ))
}

/// The router's own 404 and 405 as console pages.
fn plain_error_page(status: StatusCode) -> Response {
    if status == StatusCode::METHOD_NOT_ALLOWED {
        error_page(status, "无法完成操作", "这个地址不支持该请求方式。")
    } else {
        error_page(status, "页面不存在", "您要找的页面不存在。")
    }
}

fn too_large_page() -> Response {
    error_page(
        StatusCode::PAYLOAD_TOO_LARGE,
        "文件太大",
        "提交的内容超过了上传大小的上限（照片请先缩小到 20 MB 以内，或请管理员调整 YOUDE_MAX_UPLOAD_BYTES）。请返回上一页重新选择。",
    )
}
