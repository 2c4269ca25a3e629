//! The staff console (`/admin`) as a browser uses it: sign-in with cookies, forms with CSRF
//! tokens, redirects after each change. Each test reads what the page says, not internals.

use chrono::Duration;
use poem::http::StatusCode;
use serde_json::json;

use crate::helpers::{Reply, TestApp, PASSWORD};

/// A browser's session in the console: its cookies and the last page's CSRF token.
pub struct Browser<'a> {
    app: &'a TestApp,
    cookies: Vec<(String, String)>,
}

/// The value of `name="NAME" value="..."` in a page (askama escapes attribute values).
pub fn hidden(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(unescape(&html[start..end]))
}

/// Every hidden input of the last form on a page, in order.
pub fn hidden_fields(html: &str) -> Vec<(String, String)> {
    let form = html.rsplit("<form").next().unwrap_or_default();
    form.split("<input type=\"hidden\" name=\"")
        .skip(1)
        .map(|chunk| {
            let (name, rest) = chunk.split_once('"').unwrap();
            let value = rest
                .split_once("value=\"")
                .and_then(|(_, v)| v.split_once('"'))
                .map_or("", |(v, _)| v);
            (name.to_string(), unescape(value))
        })
        .collect()
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Browser {
            app,
            cookies: Vec::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep_cookies(&mut self, reply: &Reply) {
        for value in reply.headers.get_all("set-cookie") {
            let text = value.to_str().unwrap();
            let pair = text.split(';').next().unwrap();
            let (k, v) = pair.split_once('=').unwrap();
            self.cookies.retain(|(name, _)| name != k);
            if !v.is_empty() {
                self.cookies.push((k.to_string(), v.to_string()));
            }
        }
    }

    pub async fn get(&mut self, path: &str) -> Reply {
        let reply = self
            .app
            .send(
                self.app
                    .client
                    .get(path)
                    .header("Cookie", self.cookie_header()),
            )
            .await;
        self.keep_cookies(&reply);
        reply
    }

    /// Post a urlencoded form as it is (no CSRF token added).
    pub async fn post_raw(&mut self, path: &str, fields: &[(&str, &str)]) -> Reply {
        let body = serde_urlencoded::to_string(fields).unwrap();
        let reply = self
            .app
            .send(
                self.app
                    .client
                    .post(path)
                    .header("Cookie", self.cookie_header())
                    .content_type("application/x-www-form-urlencoded")
                    .body(body),
            )
            .await;
        self.keep_cookies(&reply);
        reply
    }

    /// Open `page`, then post `fields` to `action` with that page's CSRF token.
    pub async fn submit(&mut self, page: &str, action: &str, fields: &[(&str, &str)]) -> Reply {
        let form_page = self.get(page).await;
        assert_eq!(
            form_page.status,
            StatusCode::OK,
            "{page}: {}",
            form_page.text
        );
        let csrf = hidden(&form_page.text, "csrf").expect("the page has a form with a CSRF token");
        let mut all: Vec<(&str, &str)> = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(action, &all).await
    }

    /// A new user with these roles, signed in.
    pub async fn signed_in(app: &'a TestApp, username: &str, roles: &[&str]) -> Browser<'a> {
        app.user_token(username, roles).await;
        let mut browser = Browser::new(app);
        browser.sign_in(username).await;
        browser
    }

    /// Open the upload form `page` and post it as `multipart/form-data`: its hidden fields (CSRF
    /// token, owner), the text `fields`, and `file` as (bytes, file name, content type).
    pub async fn upload(
        &mut self,
        page: &str,
        fields: &[(&str, &str)],
        file: (Vec<u8>, &str, &str),
    ) -> Reply {
        self.upload_to(page, "/admin/photos", fields, file).await
    }

    /// [`Browser::upload`] to the form's `action`.
    pub async fn upload_to(
        &mut self,
        page: &str,
        action: &str,
        fields: &[(&str, &str)],
        file: (Vec<u8>, &str, &str),
    ) -> Reply {
        let form_page = self.get(page).await;
        assert_eq!(
            form_page.status,
            StatusCode::OK,
            "{page}: {}",
            form_page.text
        );
        let mut form = poem::test::TestForm::new();
        for (name, value) in hidden_fields(&form_page.text) {
            form = form.text(name, value);
        }
        for (name, value) in fields {
            form = form.text(name.to_string(), value.to_string());
        }
        let (bytes, file_name, content_type) = file;
        form = form.field(
            poem::test::TestFormField::bytes(bytes)
                .name("file")
                .filename(file_name)
                .content_type(content_type),
        );
        self.app
            .send(
                self.app
                    .client
                    .post(action)
                    .header("Cookie", self.cookie_header())
                    .multipart(form),
            )
            .await
    }

    pub async fn sign_in(&mut self, username: &str) -> Reply {
        let page = self.get("/admin/login").await;
        let csrf = hidden(&page.text, "csrf").unwrap();
        let reply = self
            .post_raw(
                "/admin/login",
                &[
                    ("csrf", &csrf),
                    ("next", "/admin"),
                    ("resume", ""),
                    ("username", username),
                    ("password", PASSWORD),
                ],
            )
            .await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text);
        reply
    }
}

pub fn location(reply: &Reply) -> String {
    reply.headers["location"].to_str().unwrap().to_string()
}

/// The id at the end of a redirect to `/admin/<kind>/<id>`.
fn id_of(reply: &Reply) -> i64 {
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text);
    location(reply)
        .rsplit('/')
        .next()
        .unwrap()
        .split('#')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn signing_in_shows_the_dashboard_and_signing_out_ends_the_session() {
    let app = TestApp::spawn().await;
    app.user_token("wang-li", &["nominator"]).await;
    let mut b = Browser::new(&app);
    // Not signed in: sent to the sign-in page, remembering where to go.
    let first = b.get("/admin/residents").await;
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    assert!(
        location(&first).starts_with("/admin/login?next=%2Fadmin%2Fresidents"),
        "{}",
        location(&first)
    );
    // A wrong password: the form again, in Chinese, with the username kept.
    let page = b.get("/admin/login").await;
    let csrf = hidden(&page.text, "csrf").unwrap();
    let wrong = b
        .post_raw(
            "/admin/login",
            &[
                ("csrf", &csrf),
                ("username", "wang-li"),
                ("password", "nope"),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.text.contains("用户名或密码不正确"));
    assert!(wrong.text.contains("value=\"wang-li\""));
    b.sign_in("wang-li").await;
    let home = b.get("/admin").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.text.contains("工作台"));
    assert!(home.text.contains("等待评审的提名"));
    assert!(home.text.contains("搜索同步积压"));
    assert_eq!(home.headers["cache-control"], "no-store");
    // The console may run its own script file (the photo preview), nothing inline; the public
    // site runs none at all.
    let csp = home.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    let public = app.get("/").await;
    assert!(!public.headers["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("script-src"));
    let logout = b.submit("/admin", "/admin/logout", &[]).await;
    assert_eq!(location(&logout), "/admin/login");
    assert_eq!(b.get("/admin").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_nominator_cannot_reach_reviewer_or_admin_pages_or_actions() {
    let app = TestApp::spawn().await;
    let cast = crate::workflow::cast(&app).await;
    let id = crate::workflow::nominate(&app, &cast).await;
    crate::workflow::move_to(&app, &cast.nominator, id, "submitted")
        .await
        .assert_status(200);
    let mut b = Browser::new(&app);
    b.sign_in("wang-li").await;
    for page in [
        "/admin/users",
        "/admin/audit",
        "/admin/categories",
        "/admin/stories",
        "/admin/issues/new",
    ] {
        let reply = b.get(page).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{page}");
        assert!(reply.text.contains("无权访问"), "{page}");
    }
    // The reviewer's buttons are not offered to the nominator...
    let nomination = b.get(&format!("/admin/nominations/{id}")).await;
    assert!(!nomination.text.contains("开始评审"));
    assert!(nomination.text.contains("撤回提名"));
    // ...and posting them anyway is refused by the server, nothing changed.
    let events = app.count("audit_events").await;
    let forced = b
        .submit(
            &format!("/admin/nominations/{id}"),
            &format!("/admin/nominations/{id}/transitions"),
            &[("to", "in_review")],
        )
        .await;
    assert_eq!(forced.status, StatusCode::FORBIDDEN);
    let user = b
        .submit(
            "/admin",
            "/admin/users",
            &[
                ("username", "sneaky"),
                ("display_name", "偷偷"),
                ("roles", "admin"),
                ("password", "0123456789ab"),
            ],
        )
        .await;
    assert_eq!(user.status, StatusCode::FORBIDDEN);
    let category = b
        .submit(
            "/admin",
            "/admin/categories",
            &[("code", "sneaky"), ("name", "偷偷")],
        )
        .await;
    assert_eq!(category.status, StatusCode::FORBIDDEN);
    assert_eq!(app.count("audit_events").await, events);
    let state = app.staff_get(&format!("/api/v1/nominations/{id}")).await;
    assert_eq!(state.body["state"], "submitted");
}

/// Every console form that changes something, read from the console's router: the resident's
/// and the nomination's ids where the path names one, 1 for any other id (a CSRF refusal comes
/// before the look-up).
fn post_routes(resident: i64, nomination: i64) -> Vec<String> {
    console_patterns("post(")
        .iter()
        .map(|pattern| {
            let segments: Vec<&str> = pattern.split('/').collect();
            let filled: Vec<String> = segments
                .iter()
                .enumerate()
                .map(|(i, segment)| {
                    match (segment.starts_with(':'), segments[i.saturating_sub(1)]) {
                        (false, _) => segment.to_string(),
                        (true, "residents") => resident.to_string(),
                        (true, "nominations") => nomination.to_string(),
                        (true, _) => "1".into(),
                    }
                })
                .collect();
            filled.join("/")
        })
        .collect()
}

/// Every console route that takes `method` (`get(` or `post(`), read from the console's router
/// (`src/admin/*.rs`, each `.at("path", …post…)`), except the sign-in form, which has its own
/// token.
pub(crate) fn console_patterns(method: &str) -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/admin");
    let mut patterns = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let source = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for call in source.split(".at(").skip(1) {
            let Some(path) = call.split('"').nth(1) else {
                continue;
            };
            // The call's own arguments: up to the `)` that closes `.at(`.
            let mut depth = 1;
            let end = call
                .char_indices()
                .find(|(_, c)| {
                    depth += match c {
                        '(' => 1,
                        ')' => -1,
                        _ => 0,
                    };
                    depth == 0
                })
                .map_or(call.len(), |(i, _)| i);
            if call[..end].contains(method) && path != "/login" {
                patterns.push(format!("/admin{path}"));
            }
        }
    }
    patterns
}

#[test]
fn the_router_reader_finds_the_console_forms() {
    let routes = post_routes(7, 8);
    assert!(routes.len() >= 30, "the router reader found {routes:?}");
    for known in [
        "/admin/logout",
        "/admin/residents/7/edit",
        "/admin/residents/7/records/1/verify",
        "/admin/nominations/8/transitions",
        "/admin/certificates/seal",
    ] {
        assert!(
            routes.iter().any(|r| r == known),
            "{known} not among {routes:?}"
        );
    }
}

#[tokio::test]
async fn every_form_refuses_a_missing_or_wrong_csrf_token_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let cast = crate::workflow::cast(&app).await;
    let nomination = crate::workflow::nominate(&app, &cast).await;
    let mut b = Browser::signed_in(&app, "boss", &["admin"]).await;
    let events = app.count("audit_events").await;
    let residents = app.count("residents").await;
    for path in post_routes(cast.resident, nomination) {
        let fields = [("name", "不该保存"), ("to", "submitted"), ("label", "x")];
        let missing = b.post_raw(&path, &fields).await;
        assert_eq!(
            missing.status,
            StatusCode::FORBIDDEN,
            "{path} without a token"
        );
        assert!(missing.text.contains("表单已失效"), "{path}");
        let mut wrong = vec![(
            "csrf",
            "0000000000000000000000000000000000000000000000000000000000000000",
        )];
        wrong.extend_from_slice(&fields);
        let reply = b.post_raw(&path, &wrong).await;
        assert_eq!(
            reply.status,
            StatusCode::FORBIDDEN,
            "{path} with a wrong token"
        );
    }
    // A multipart upload without a token is refused the same way.
    let upload = app
        .send(
            app.client
                .post("/admin/photos")
                .header("Cookie", b.cookie_header())
                .multipart(poem::test::TestForm::new().text("owner_kind", "resident")),
        )
        .await;
    assert_eq!(upload.status, StatusCode::FORBIDDEN);
    assert_eq!(app.count("audit_events").await, events);
    assert_eq!(app.count("residents").await, residents);
    // Still signed in: the refused logout did not end the session.
    assert_eq!(b.get("/admin").await.status, StatusCode::OK);
    // The sign-in form has its own token: without it, no session.
    let mut fresh = Browser::new(&app);
    let reply = fresh
        .post_raw(
            "/admin/login",
            &[("username", "boss"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(reply
        .headers
        .get_all("set-cookie")
        .iter()
        .all(|c| !c.to_str().unwrap().starts_with("youde_session=")));
}

#[tokio::test]
async fn every_post_form_on_the_main_pages_carries_the_csrf_token() {
    let app = TestApp::with_demo().await;
    let mut b = Browser::signed_in(&app, "boss", &["admin"]).await;
    let resident = app.staff_get("/api/v1/residents?limit=1").await.body["items"][0]["id"]
        .as_i64()
        .unwrap();
    // A nomination in its 公示 with an objection (several forms on one page) and two local
    // categories (a form each).
    let nomination = app
        .staff_get("/api/v1/nominations?state=public_notice")
        .await
        .body["items"][0]["id"]
        .as_i64()
        .unwrap();
    let notice = app
        .staff_get(&format!("/api/v1/nominations/{nomination}"))
        .await
        .body["notice"]["id"]
        .as_i64()
        .unwrap();
    app.post(
        &format!("/api/v1/notices/{notice}/objections"),
        &json!({ "name": "甲", "contact": "13600000000", "content": "请核实。" }),
    )
    .await
    .assert_status(201);
    for (code, name) in [("neighbourly", "邻里互助"), ("greening", "绿化护绿")] {
        app.post("/api/v1/categories", &json!({ "code": code, "name": name }))
            .await
            .assert_status(201);
    }
    let pages = [
        "/admin".to_string(),
        "/admin/residents".into(),
        "/admin/residents/new".into(),
        format!("/admin/residents/{resident}"),
        format!("/admin/residents/{resident}/edit"),
        format!("/admin/residents/{resident}/records/new"),
        format!("/admin/photos/new?resident={resident}"),
        "/admin/activities/new".into(),
        "/admin/photos".into(),
        "/admin/nominations".into(),
        "/admin/nominations/new".into(),
        "/admin/stories".into(),
        "/admin/stories/new".into(),
        "/admin/issues/new".into(),
        "/admin/users".into(),
        "/admin/tokens".into(),
        "/admin/categories".into(),
        "/admin/audit".into(),
        format!("/admin/nominations/{nomination}"),
    ];
    for page in pages {
        let reply = b.get(&page).await;
        assert_eq!(reply.status, StatusCode::OK, "{page}: {}", reply.text);
        let posts = reply.text.matches("method=\"post\"").count();
        let tokens = reply.text.matches("name=\"csrf\"").count();
        assert!(
            posts > 0
                || page.ends_with("residents")
                || page.ends_with("audit")
                || page.ends_with("nominations"),
            "{page} has a form"
        );
        assert_eq!(posts, tokens, "{page}: every post form has a token");
        // Every input, select and textarea has a label pointing at it, and ids are unique.
        let mut ids = Vec::new();
        for opening in [
            "<input id=\"",
            "<select id=\"",
            "<textarea id=\"",
            "<input type=\"file\" id=\"",
        ] {
            for chunk in reply.text.split(opening).skip(1) {
                ids.push(chunk.split('"').next().unwrap().to_string());
            }
        }
        for chunk in reply.text.split("<input type=\"checkbox\" id=\"").skip(1) {
            ids.push(chunk.split('"').next().unwrap().to_string());
        }
        for id in &ids {
            assert!(
                reply.text.contains(&format!("for=\"{id}\"")),
                "{page}: {id} has a label"
            );
            assert_eq!(
                reply.text.matches(&format!("id=\"{id}\"")).count(),
                1,
                "{page}: id {id} is unique"
            );
        }
    }
    // A filter the API cannot read is explained on the page, not a crash.
    let bad = b.get("/admin/audit?entity_id=abc").await;
    assert_eq!(bad.status, StatusCode::OK);
    assert!(bad.text.contains("notice error"), "{}", bad.text);
}

#[tokio::test]
async fn an_expired_session_returns_to_sign_in_without_losing_the_typed_form() {
    let app = TestApp::spawn().await;
    let compound = app.compound().await;
    let mut b = Browser::signed_in(&app, "wang-li", &["nominator"]).await;
    let form = b.get("/admin/residents/new").await;
    let csrf = hidden(&form.text, "csrf").unwrap();
    // Three hours at the desk: the session (2 h idle) has expired.
    app.clock.advance(Duration::hours(3));
    let compound = compound.to_string();
    let typed = [
        ("csrf", csrf.as_str()),
        ("name", "钱秀英"),
        ("community_id", compound.as_str()),
        ("citation", "二十年楼组长，**风雨无阻**。"),
        ("phone", "13800138000"),
    ];
    let expired = b.post_raw("/admin/residents", &typed).await;
    assert_eq!(expired.status, StatusCode::UNAUTHORIZED);
    assert!(expired.text.contains("请重新登录"));
    assert!(
        expired.text.contains("钱秀英"),
        "what was typed rides along"
    );
    assert_eq!(app.count("residents").await, 0, "nothing stored");
    // A page elsewhere posting to the console (the browser sends no session cookie cross-site,
    // or an expired one with no valid token) gets no "resubmit" offer: just the sign-in page.
    let mut stranger = Browser::new(&app);
    let forged = stranger
        .post_raw(
            "/admin/users/1/password",
            &[("password", "attacker-chosen-1")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::SEE_OTHER);
    assert!(location(&forged).starts_with("/admin/login"));
    let mut stale = Browser::new(&app);
    stale.cookies = b.cookies.clone();
    let forged = stale
        .post_raw(
            "/admin/users/1/password",
            &[("csrf", "made-up"), ("password", "attacker-chosen-1")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::SEE_OTHER);
    assert!(!forged.text.contains("attacker-chosen-1"));
    // Sign in again on that page: the form comes back, filled, with a fresh token.
    let csrf = hidden(&expired.text, "csrf").unwrap();
    let resume = hidden(&expired.text, "resume").unwrap();
    let again = b
        .post_raw(
            "/admin/login",
            &[
                ("csrf", &csrf),
                ("next", "/admin/residents"),
                ("resume", &resume),
                ("username", "wang-li"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    assert!(again.text.contains("重新提交"));
    assert!(again.text.contains("二十年楼组长，**风雨无阻**。"));
    assert!(again.text.contains("action=\"/admin/residents\""));
    // Send exactly what the page's form holds.
    let fields = hidden_fields(&again.text);
    let resend: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert!(resend.iter().any(|(k, _)| *k == "csrf"));
    let saved = b.post_raw("/admin/residents", &resend).await;
    let id = id_of(&saved);
    let resident = app.staff_get(&format!("/api/v1/residents/{id}")).await;
    assert_eq!(resident.body["name"], "钱秀英");
    assert_eq!(resident.body["phone"], "13800138000");
}

#[tokio::test]
async fn a_refused_form_comes_back_filled_with_chinese_messages_next_to_the_fields() {
    let app = TestApp::spawn().await;
    let compound = app.compound().await.to_string();
    let mut b = Browser::signed_in(&app, "wang-li", &["nominator"]).await;
    let reply = b
        .submit(
            "/admin/residents/new",
            "/admin/residents",
            &[
                ("name", "孙建伟"),
                ("community_id", &compound),
                ("id_number", "123"),
                ("address", "长寿路 1 号"),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.text.contains("身份证号码应为 18 位且校验位正确"));
    assert!(reply.text.contains("id=\"f-id_number-error\""));
    assert!(reply.text.contains("value=\"孙建伟\""));
    assert!(reply.text.contains("value=\"长寿路 1 号\""));
    assert_eq!(app.count("residents").await, 0);
    // A partial date with a day but no month is caught next to the month.
    let id = app.resident("孙建伟").await;
    let record = b
        .submit(
            &format!("/admin/residents/{id}/records/new"),
            &format!("/admin/residents/{id}/records/new"),
            &[
                ("kind", "role"),
                ("title", "业委会主任"),
                ("start_year", "2007"),
                ("start_day", "5"),
            ],
        )
        .await;
    assert_eq!(record.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(record.text.contains("填写了日，也请填写月份"));
    assert!(record.text.contains("value=\"业委会主任\""));
    assert!(app.records(id).await.is_empty());
}

#[tokio::test]
async fn an_edit_conflict_shows_both_versions_and_keeps_what_was_typed() {
    let app = TestApp::spawn().await;
    let id = app.resident("孙建伟").await;
    let mut b = Browser::signed_in(&app, "wang-li", &["nominator"]).await;
    let form = b.get(&format!("/admin/residents/{id}/edit")).await;
    let csrf = hidden(&form.text, "csrf").unwrap();
    let etag = hidden(&form.text, "etag").unwrap();
    let community =
        app.staff_get(&format!("/api/v1/residents/{id}")).await.body["community_id"].to_string();
    // Someone else saves first.
    let current = app.staff_get(&format!("/api/v1/residents/{id}")).await;
    app.put(
        &format!("/api/v1/residents/{id}"),
        Some(&current.etag()),
        &json!({ "name": "孙建伟", "community_id": current.body["community_id"], "phone": "021-62220000" }),
    )
    .await
    .assert_status(200);
    let reply = b
        .post_raw(
            &format!("/admin/residents/{id}/edit"),
            &[
                ("csrf", &csrf),
                ("etag", &etag),
                ("name", "孙建伟"),
                ("community_id", &community),
                ("phone", "13900000000"),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert!(reply.text.contains("别人已经改动并保存"));
    assert!(reply.text.contains("021-62220000"), "their version");
    assert!(reply.text.contains("13900000000"), "my version");
    // Saving again from that page overwrites knowingly.
    let csrf = hidden(&reply.text, "csrf").unwrap();
    let etag = hidden(&reply.text, "etag").unwrap();
    let saved = b
        .post_raw(
            &format!("/admin/residents/{id}/edit"),
            &[
                ("csrf", &csrf),
                ("etag", &etag),
                ("name", "孙建伟"),
                ("community_id", &community),
                ("phone", "13900000000"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text);
    let now = app.staff_get(&format!("/api/v1/residents/{id}")).await;
    assert_eq!(now.body["phone"], "13900000000");
}

/// The whole path through the console's forms: a new resident, a service record, consent, a
/// photo, a nomination, review, a 公示 with an objection dismissed, approval and recognition —
/// then the public honour roll shows the person.
#[tokio::test]
async fn a_new_resident_goes_from_the_console_to_the_honour_roll() {
    let app = TestApp::spawn().await;
    let compound = app.compound().await.to_string();
    app.user_token("wang-li", &["nominator"]).await;
    app.user_token("zhao-min", &["reviewer"]).await;
    let mut nominator = Browser::new(&app);
    nominator.sign_in("wang-li").await;
    let created = nominator
        .submit(
            "/admin/residents/new",
            "/admin/residents",
            &[
                ("name", "周美华"),
                ("community_id", &compound),
                ("citation", "楼道长，十年如一日。"),
                ("phone", "13700000001"),
            ],
        )
        .await;
    let id = id_of(&created);
    let rec = nominator
        .submit(
            &format!("/admin/residents/{id}/records/new"),
            &format!("/admin/residents/{id}/records/new"),
            &[
                ("kind", "role"),
                ("title", "楼道长"),
                ("start_year", "2014"),
                ("start_month", "3"),
                ("unpaid", "on"),
                ("m0_value", "60"),
                ("m0_unit", "households"),
                ("m0_qualifier", "at_least"),
                ("evidence", "居委会台账"),
            ],
        )
        .await;
    assert_eq!(rec.status, StatusCode::SEE_OTHER, "{}", rec.text);
    let page = nominator.get(&format!("/admin/residents/{id}")).await;
    // Recorded today without a confirmation date: known to hold until today.
    let known = format!(
        "2014-03 至 {}（最后核实）",
        app.clock.today().format("%Y-%m-%d")
    );
    assert!(page.text.contains(&known), "{}", page.text);
    assert!(page.text.contains("60余户"), "{}", page.text);
    assert!(
        page.text.contains("13700000001"),
        "private fields are shown to staff here"
    );
    for scope in ["profile", "photo", "story"] {
        let r = nominator
            .submit(
                &format!("/admin/residents/{id}"),
                &format!("/admin/residents/{id}/consents"),
                &[
                    ("scope", scope),
                    ("text_version", "2019-1"),
                    ("signed_on", "2019-09-01"),
                    ("evidence", "纸质同意书存档于居委会"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    }
    // A photo, through the multipart form.
    let upload = nominator
        .upload(
            &format!("/admin/photos/new?resident={id}"),
            &[
                ("caption", "周美华在楼道里"),
                ("credit", "记者 周晶"),
                ("residents", &id.to_string()),
            ],
            (crate::photos::jpeg(64, 48), "a.jpg", "image/jpeg"),
        )
        .await;
    let photo = id_of(&upload);
    let photo_page = nominator.get(&format!("/admin/photos/{photo}")).await;
    assert!(
        photo_page.text.contains("这张照片现在公开可见"),
        "{}",
        photo_page.text
    );
    // The nomination.
    let category = app.get("/api/v1/categories").await.body[0]["id"].to_string();
    let nominated = nominator
        .submit(
            &format!("/admin/nominations/new?resident={id}"),
            "/admin/nominations",
            &[
                ("resident_id", &id.to_string()),
                ("category_id", &category),
                ("honour_title", "2026年度长寿路街道有德之士"),
                ("year", "2026"),
                ("citation", "十余年楼道长，服务 60 余户。"),
                ("s0_author", "李阿姨"),
                ("s0_relation", "邻居"),
                ("s0_body", "每天都来看看独居老人。"),
            ],
        )
        .await;
    let nomination = id_of(&nominated);
    // The draft is edited once before it is submitted.
    let edit = nominator
        .get(&format!("/admin/nominations/{nomination}/edit"))
        .await;
    assert!(
        edit.text.contains("每天都来看看独居老人。"),
        "the form is filled"
    );
    let (csrf, etag) = (
        hidden(&edit.text, "csrf").unwrap(),
        hidden(&edit.text, "etag").unwrap(),
    );
    let edited = nominator
        .post_raw(
            &format!("/admin/nominations/{nomination}/edit"),
            &[
                ("csrf", &csrf),
                ("etag", &etag),
                ("resident_id", &id.to_string()),
                ("category_id", &category),
                ("honour_title", "2026年度长寿路街道有德之士"),
                ("year", "2026"),
                ("citation", "十余年楼道长，服务 60 余户，风雨无阻。"),
                ("s0_author", "李阿姨"),
                ("s0_relation", "邻居"),
                ("s0_body", "每天都来看看独居老人。"),
            ],
        )
        .await;
    assert_eq!(edited.status, StatusCode::SEE_OTHER, "{}", edited.text);
    let stored = app
        .staff_get(&format!("/api/v1/nominations/{nomination}"))
        .await;
    assert_eq!(
        stored.body["citation"],
        "十余年楼道长，服务 60 余户，风雨无阻。"
    );
    let here = format!("/admin/nominations/{nomination}");
    let transitions = format!("/admin/nominations/{nomination}/transitions");
    let r = nominator
        .submit(&here, &transitions, &[("to", "submitted")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    // The reviewer's queue holds it.
    let mut reviewer = Browser::new(&app);
    reviewer.sign_in("zhao-min").await;
    let queue = reviewer.get("/admin/nominations?state=review").await;
    assert!(queue.text.contains("评审队列"));
    assert!(queue.text.contains("周美华"));
    for (to, extra) in [
        ("in_review", None),
        ("public_notice", Some(("window_days", "7"))),
    ] {
        let mut fields = vec![("to", to)];
        fields.extend(extra);
        let r = reviewer.submit(&here, &transitions, &fields).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{to}: {}", r.text);
    }
    // A resident objects on the public notice page's API.
    let notice = app
        .staff_get(&format!("/api/v1/nominations/{nomination}"))
        .await
        .body["notice"]["id"]
        .as_i64()
        .unwrap();
    app.post(
        &format!("/api/v1/notices/{notice}/objections"),
        &json!({ "name": "匿名邻居", "contact": "13600000000", "content": "她并不是楼道长。" }),
    )
    .await
    .assert_status(201);
    let dash = reviewer.get("/admin").await;
    assert!(dash.text.contains("待处理的异议"));
    let detail = reviewer.get(&here).await;
    assert!(detail.text.contains("她并不是楼道长。"));
    let objection = app
        .staff_get(&format!("/api/v1/notices/{notice}/objections"))
        .await
        .body[0]["id"]
        .as_i64()
        .unwrap();
    // A finding is needed to decide: refused, with the chosen conclusion still chosen.
    let refused = reviewer
        .submit(
            &here,
            &format!("/admin/objections/{objection}/transitions"),
            &[
                ("nomination_id", &nomination.to_string()),
                ("to", "upheld"),
                ("note", ""),
            ],
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    assert!(
        refused.text.contains("<option value=\"upheld\" selected>"),
        "{}",
        refused.text
    );
    let dismissed = reviewer
        .submit(
            &here,
            &format!("/admin/objections/{objection}/transitions"),
            &[
                ("nomination_id", &nomination.to_string()),
                ("to", "dismissed"),
                ("note", "经核实，她自 2014 年起担任楼道长。"),
            ],
        )
        .await;
    assert_eq!(
        dismissed.status,
        StatusCode::SEE_OTHER,
        "{}",
        dismissed.text
    );
    app.clock.advance(Duration::days(8));
    // After eight days both need to sign in again: sessions end after 12 hours.
    reviewer.sign_in("zhao-min").await;
    for to in ["approved", "recognised"] {
        let r = reviewer.submit(&here, &transitions, &[("to", to)]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{to}: {}", r.text);
    }
    let detail = reviewer.get(&here).await;
    assert!(detail.text.contains("已表彰"), "{}", detail.text);
    let home = app.get("/").await;
    assert!(home.text.contains("周美华"), "on the public honour roll");
    assert!(!home.text.contains("13700000001"));
}

#[tokio::test]
async fn a_photo_without_everyones_consent_says_why_it_is_not_public() {
    let app = TestApp::spawn().await;
    let id = app.resident("孙建伟").await;
    app.consent(id, "profile").await.assert_status(201);
    let mut b = Browser::signed_in(&app, "wang-li", &["nominator"]).await;
    let upload = b
        .upload(
            &format!("/admin/photos/new?resident={id}"),
            &[
                ("caption", "孙建伟在音乐广场"),
                ("residents", &id.to_string()),
            ],
            (crate::photos::jpeg(64, 48), "a.jpg", "image/jpeg"),
        )
        .await;
    let photo = id_of(&upload);
    let shown = b.get(&format!("/admin/photos/{photo}")).await;
    assert!(
        shown
            .text
            .contains("这张照片暂不公开：孙建伟 还没有照片同意"),
        "{}",
        shown.text
    );
    let dashboard = b.get("/admin").await;
    assert!(dashboard.text.contains(&format!("/admin/photos/{photo}")));
    // Not a picture: refused, with the message next to the file input and the caption kept.
    let refused = b
        .upload(
            &format!("/admin/photos/new?resident={id}"),
            &[("caption", "不是照片")],
            (
                b"%PDF-1.4 not a picture".to_vec(),
                "a.pdf",
                "application/pdf",
            ),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(refused.text.contains("f-file-error"), "{}", refused.text);
    assert!(refused.text.contains("value=\"不是照片\""));
    assert_eq!(app.count("photos").await, 1);
}

#[tokio::test]
async fn an_editor_previews_writes_publishes_and_packs_from_the_desk() {
    let app = TestApp::spawn().await;
    let id = app.resident("孙建伟").await;
    app.consent(id, "profile").await.assert_status(201);
    let mut b = Browser::signed_in(&app, "zhou-jing", &["editor"]).await;
    let resident = id.to_string();
    let story = [
        ("title", "“智慧社区”建成的背后"),
        ("section", "长寿先锋"),
        ("themes", "有德之士，智慧社区"),
        ("byline", "记者 周晶"),
        (
            "body",
            "他**一个门栋一个门栋**地量。\n\n<script>alert(1)</script>",
        ),
        ("featured", "on"),
        ("resident_ids", resident.as_str()),
    ];
    // The preview renders the Markdown (sanitised) and saves nothing.
    let preview = b
        .submit("/admin/stories/new", "/admin/stories/preview", &story)
        .await;
    assert_eq!(preview.status, StatusCode::OK);
    assert!(preview.text.contains("<strong>一个门栋一个门栋</strong>"));
    assert!(!preview.text.contains("<script>alert(1)</script>"));
    assert!(
        preview.text.contains("value=\"记者 周晶\""),
        "the form stays filled"
    );
    assert_eq!(app.count("stories").await, 0);
    let created = b
        .submit("/admin/stories/new", "/admin/stories", &story)
        .await;
    let story_id = id_of(&created);
    let here = format!("/admin/stories/{story_id}");
    // The editor illustrates the draft with a photo of its own.
    let upload = b
        .upload(
            &format!("/admin/photos/new?story={story_id}"),
            &[
                ("caption", "孙建伟在智慧社区平台前"),
                ("credit", "记者 周晶"),
            ],
            (crate::photos::jpeg(64, 48), "a.jpg", "image/jpeg"),
        )
        .await;
    let photo = id_of(&upload);
    let photo_page = b.get(&format!("/admin/photos/{photo}")).await;
    assert_eq!(photo_page.status, StatusCode::OK, "{}", photo_page.text);
    assert!(
        photo_page.text.contains("报道尚未发布"),
        "{}",
        photo_page.text
    );
    let story_page = b.get(&here).await;
    assert!(story_page.text.contains("孙建伟在智慧社区平台前"));
    assert!(story_page.text.contains("报道自己的照片"));
    // Publishing is refused while 孙建伟 has not consented to stories; the page says why.
    let refused = b
        .submit(
            &here,
            &format!("{here}/publication"),
            &[("published", "true")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(refused.text.contains("孙建伟"), "{}", refused.text);
    assert!(app.get("/api/v1/stories").await.body["items"]
        .as_array()
        .unwrap()
        .is_empty());
    app.consent(id, "story").await.assert_status(201);
    let published = b
        .submit(
            &here,
            &format!("{here}/publication"),
            &[("published", "true")],
        )
        .await;
    assert_eq!(
        published.status,
        StatusCode::SEE_OTHER,
        "{}",
        published.text
    );
    let public = app.get("/api/v1/stories?featured=true").await;
    assert_eq!(public.body["items"][0]["title"], "“智慧社区”建成的背后");
    // Published: the story's own photo (nobody tagged in it) is public now, and leads the story.
    let shown = app.get(&format!("/api/v1/photos/{photo}")).await;
    assert_eq!(shown.status, StatusCode::OK);
    let story = app.get(&format!("/api/v1/stories/{story_id}")).await;
    assert_eq!(story.body["photos"][0]["id"], photo);
    // An issue holding it, published, and its pack downloaded with the session.
    let issue = b
        .submit(
            "/admin/issues/new",
            "/admin/issues",
            &[
                ("name", "长寿社区晨报 · 小城大事 2019年9月"),
                ("date", "2019-09-01"),
                ("editors_note", "编者按：**有德之士**就在身边。"),
                (&format!("order_{story_id}"), "1"),
            ],
        )
        .await;
    let issue_id = id_of(&issue);
    let page = b.get(&format!("/admin/issues/{issue_id}")).await;
    assert!(page.text.contains("<strong>有德之士</strong>"));
    assert!(page.text.contains(&format!(
        "name=\"order_{story_id}\" type=\"number\" value=\"1\""
    )));
    let pack = b.get(&format!("/api/v1/issues/{issue_id}/pack")).await;
    assert_eq!(pack.status, StatusCode::OK);
    assert_eq!(pack.headers["content-type"], "application/zip");
    // Editors do not reach the registry's private pages.
    assert_eq!(
        b.get(&format!("/admin/residents/{id}")).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn editing_a_record_offers_every_measure_it_holds_and_one_more() {
    let app = TestApp::spawn().await;
    let id = app.resident("孙建伟").await;
    let units = [
        "visit_batches",
        "yuan_saved",
        "compounds",
        "households",
        "people",
    ];
    let measures: Vec<_> = units
        .iter()
        .enumerate()
        .map(|(i, u)| json!({ "value": (i + 1) * 10, "unit": u }))
        .collect();
    let rec = app
        .add_record(
            id,
            &json!({ "kind": "project", "title": "智慧社区", "start": "2018", "measures": measures }),
        )
        .await;
    rec.assert_status(201);
    let mut b = Browser::signed_in(&app, "wang-li", &["nominator"]).await;
    let page = b
        .get(&format!(
            "/admin/residents/{id}/records/{}/edit",
            rec.body["id"]
        ))
        .await;
    assert!(
        page.text
            .contains("name=\"m4_value\" type=\"number\" value=\"50\""),
        "the fifth measure is in the form"
    );
    assert!(
        page.text
            .contains("name=\"m5_value\" type=\"number\" value=\"\""),
        "and a row for a new one"
    );
    assert!(!page.text.contains("name=\"m6_value\""));
}

#[tokio::test]
async fn an_upload_over_the_limit_gets_a_page_saying_so() {
    let app = TestApp::spawn_configured(|state| state.media.max_upload_bytes = 50_000).await;
    let id = app.resident("孙建伟").await;
    let mut b = Browser::signed_in(&app, "wang-li", &["nominator"]).await;
    let reply = b
        .upload(
            &format!("/admin/photos/new?resident={id}"),
            &[],
            (vec![0u8; 80_000], "big.jpg", "image/jpeg"),
        )
        .await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(reply.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(reply.text.contains("文件太大"), "{}", reply.text);
    assert_eq!(app.count("photos").await, 0);
}

#[tokio::test]
async fn an_activity_is_recorded_once_for_every_participant() {
    let app = TestApp::spawn().await;
    let a = app.resident("孙建伟").await;
    let b_id = app.resident("王芳").await;
    let mut b = Browser::signed_in(&app, "wang-li", &["nominator"]).await;
    let (a_str, b_str) = (a.to_string(), b_id.to_string());
    let reply = b
        .submit(
            "/admin/activities/new",
            "/admin/activities/new",
            &[
                ("title", "居民区书记培训"),
                ("date_year", "2019"),
                ("date_month", "8"),
                ("date_day", "30"),
                ("place", "长寿路街道社区党群服务中心"),
                ("unpaid", "on"),
                ("participant_ids", &a_str),
                ("participant_ids", &b_str),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text);
    for id in [a, b_id] {
        let records = app.records(id).await;
        assert_eq!(records.len(), 1, "one record each");
        assert_eq!(records[0]["title"], "居民区书记培训");
        assert_eq!(records[0]["start"], "2019-08-30");
        assert_eq!(records[0]["unpaid"], true);
    }
}
