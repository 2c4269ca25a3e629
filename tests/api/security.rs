//! Security hardening (issue #20): throttles that hold when attempts arrive together, tokens that
//! end with the password, a refused weak admin token, literal `LIKE` filters, hashed addresses,
//! pruning, and `Secure` cookies over https. The races are real: many requests in flight at once
//! against the in-process app, all from one client address.

use chrono::Duration;
use futures_util::future::join_all;
use serde_json::json;

use crate::accounts::{cookie_of, login};
use crate::helpers::{Reply, TestApp, PASSWORD};
use crate::workflow::{cast, in_notice};
use youde::listener::{ConnectionLimits, GuardedAcceptor};

/// How many replies had each status.
fn tally(replies: &[Reply], status: u16) -> usize {
    replies
        .iter()
        .filter(|r| r.status.as_u16() == status)
        .count()
}

#[tokio::test]
async fn thirty_guesses_at_once_check_exactly_five_passwords_of_one_account() {
    let app = TestApp::spawn().await;
    app.user_token("wang-li", &["nominator"]).await;
    let app = &app;
    let guesses =
        (0..30).map(|i| async move { login(app, "wang-li", &format!("wrong-{i}")).await });
    let replies = join_all(guesses).await;
    assert_eq!(tally(&replies, 401), 5, "five failures are allowed");
    assert_eq!(tally(&replies, 429), 25, "the rest are refused unchecked");
    // The right password is refused too until the window has passed.
    login(app, "wang-li", PASSWORD).await.assert_status(429);
    app.clock.advance(Duration::minutes(16));
    login(app, "wang-li", PASSWORD).await.assert_status(201);
}

#[tokio::test]
async fn forty_guesses_at_once_from_one_address_check_exactly_twenty() {
    let app = TestApp::spawn().await;
    // A different account each time: only the per-address limit applies.
    let app = &app;
    let guesses = (0..40).map(|i| async move { login(app, &format!("user-{i}"), "wrong").await });
    let replies = join_all(guesses).await;
    assert_eq!(tally(&replies, 401), 20);
    assert_eq!(tally(&replies, 429), 20);
}

#[tokio::test]
async fn thirty_console_sign_ins_at_once_check_exactly_five_passwords() {
    let app = TestApp::spawn().await;
    app.user_token("wang-li", &["nominator"]).await;
    let page = app.get("/admin/login").await;
    let token = cookie_of(&page);
    let csrf = token.split_once('=').unwrap().1.to_string();
    let (app, token, csrf) = (&app, &token, &csrf);
    let form = |password: String| async move {
        let body = serde_urlencoded::to_string([
            ("csrf", csrf.as_str()),
            ("username", "wang-li"),
            ("password", password.as_str()),
            ("next", "/admin"),
        ])
        .unwrap();
        app.send(
            app.client
                .post("/admin/login")
                .header("Cookie", token)
                .content_type("application/x-www-form-urlencoded")
                .body(body),
        )
        .await
    };
    let replies = join_all((0..30).map(|i| form(format!("wrong-{i}")))).await;
    assert_eq!(tally(&replies, 401), 5);
    assert_eq!(tally(&replies, 429), 25);
    assert!(replies
        .iter()
        .filter(|r| r.status.as_u16() == 429)
        .all(|r| r.text.contains("15 分钟")));
    // The right password is not even checked now, on the console or the API.
    let right = form(PASSWORD.to_string()).await;
    right.assert_status(429);
    login(app, "wang-li", PASSWORD).await.assert_status(429);
    assert_eq!(app.count("sessions").await, 0);
}

#[tokio::test]
async fn forty_objections_at_once_from_one_address_file_exactly_five() {
    let app = TestApp::spawn().await;
    let cast = cast(&app).await;
    let (_, notice) = in_notice(&app, &cast).await;
    let path = format!("/api/v1/notices/{notice}/objections");
    let body = json!({ "name": "张三", "contact": "13800001111", "content": "请核实。" });
    let objections = (0..40).map(|_| app.send(app.client.post(&path).body_json(&body)));
    let replies = join_all(objections).await;
    assert_eq!(tally(&replies, 201), 5);
    assert_eq!(tally(&replies, 429), 35);
    assert_eq!(app.count("objections").await, 5);
}

#[tokio::test]
async fn thirty_bad_bearer_tokens_at_once_are_throttled_per_address() {
    let app = TestApp::spawn().await;
    let guesses = (0..30).map(|i| {
        app.send(
            app.client
                .get("/api/v1/sessions/current")
                .header("Authorization", format!("Bearer guess-{i:04}")),
        )
    });
    let replies = join_all(guesses).await;
    assert_eq!(tally(&replies, 401), 20);
    assert_eq!(tally(&replies, 429), 10);
    // Sign-in failures and token failures share the address's budget.
    login(&app, "admin", PASSWORD).await.assert_status(429);
    app.clock.advance(Duration::minutes(16));
    app.staff_get("/api/v1/sessions/current")
        .await
        .assert_status(200);
}

#[tokio::test]
async fn a_password_reset_or_change_revokes_the_users_api_tokens() {
    let app = TestApp::spawn().await;
    let token = app.user_token("wang-li", &["nominator"]).await;
    let me = app
        .send_as(&token, "GET", "/api/v1/sessions/current", None)
        .await;
    let id = me.body["id"].as_i64().unwrap();
    app.post(
        &format!("/api/v1/users/{id}/password"),
        &json!({ "password": "a brand new passphrase" }),
    )
    .await
    .assert_status(204);
    app.send_as(&token, "GET", "/api/v1/sessions/current", None)
        .await
        .assert_status(401);

    // Changing one's own password with a token ends that token too.
    let other = app.user_token("zhao-min", &["reviewer"]).await;
    let me = app
        .send_as(&other, "GET", "/api/v1/sessions/current", None)
        .await;
    let path = format!("/api/v1/users/{}/password", me.body["id"]);
    let changed = json!({ "password": "another new passphrase", "current_password": PASSWORD });
    app.send_as(&other, "POST", &path, Some(&changed))
        .await
        .assert_status(204);
    app.send_as(&other, "GET", "/api/v1/sessions/current", None)
        .await
        .assert_status(401);
}

#[tokio::test]
async fn wrong_current_passwords_count_as_failed_sign_ins() {
    let app = TestApp::spawn().await;
    let token = app.user_token("wang-li", &["nominator"]).await;
    let me = app
        .send_as(&token, "GET", "/api/v1/sessions/current", None)
        .await;
    let path = format!("/api/v1/users/{}/password", me.body["id"]);
    let (app, path, token) = (&app, &path, &token);
    let guesses = (0..12).map(|i| async move {
        let body = json!({ "password": "a brand new passphrase", "current_password": format!("guess-{i}") });
        app.send_as(token, "POST", path, Some(&body)).await
    });
    let replies = join_all(guesses).await;
    assert_eq!(tally(&replies, 422), 5);
    assert_eq!(tally(&replies, 429), 7);
    // …and the account's sign-in is throttled by them as well.
    login(app, "wang-li", PASSWORD).await.assert_status(429);
}

#[tokio::test]
async fn serve_refuses_a_weak_admin_token_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_youde"))
        .args(["serve", "--bind", "127.0.0.1:0", "--no-demo", "--data-dir"])
        .arg(dir.path())
        .env("YOUDE_ADMIN_TOKEN", "1234")
        .env("RUST_LOG", "warn")
        .output()
        .expect("run youde serve");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("YOUDE_ADMIN_TOKEN is too short"),
        "{stderr}"
    );
    assert!(
        !dir.path().join("youde.db").exists(),
        "refused before touching the database"
    );
}

#[tokio::test]
async fn a_percent_sign_in_the_theme_filter_is_literal() {
    let app = TestApp::spawn().await;
    let story = json!({ "title": "楼道里的光", "body": "正文。", "themes": ["有德之士"] });
    app.post("/api/v1/stories", &story).await.assert_status(201);
    let all = app.staff_get("/api/v1/stories?theme=%25").await;
    all.assert_status(200);
    assert_eq!(
        all.body["items"].as_array().unwrap().len(),
        0,
        "{}",
        all.text
    );
    let under = app
        .staff_get("/api/v1/stories?theme=%E6%9C%89%E5%BE%B7_%E5%A3%AB")
        .await;
    assert_eq!(
        under.body["items"].as_array().unwrap().len(),
        0,
        "{}",
        under.text
    );
    let exact = app
        .staff_get("/api/v1/stories?theme=%E6%9C%89%E5%BE%B7%E4%B9%8B%E5%A3%AB")
        .await;
    assert_eq!(
        exact.body["items"].as_array().unwrap().len(),
        1,
        "{}",
        exact.text
    );
}

#[tokio::test]
async fn throttled_addresses_are_stored_as_a_keyed_hash_and_pruned() {
    let app = TestApp::spawn().await;
    login(&app, "nobody", "wrong").await.assert_status(401);
    use sea_orm::ConnectionTrait;
    let row = app
        .db
        .query_one(sea_orm::Statement::from_string(
            app.db.get_database_backend(),
            "SELECT address_hash FROM login_attempts",
        ))
        .await
        .unwrap()
        .unwrap();
    let stored: String = row.try_get("", "address_hash").unwrap();
    // The plain SHA-256 the address used to be stored as: anyone could match it to an address.
    let unkeyed = youde::store::tokens::hash("youde-address:unknown");
    assert_ne!(stored, unkeyed);
    assert_eq!(stored.len(), 64);

    login(&app, "admin", PASSWORD).await.assert_status(201);
    assert_eq!(app.count("sessions").await, 1);
    app.clock.advance(Duration::hours(13));
    let (attempts, sessions) = youde::store::users::prune(&app.db, app.clock.now())
        .await
        .unwrap();
    assert_eq!((attempts, sessions), (2, 1));
    assert_eq!(app.count("login_attempts").await, 0);
    assert_eq!(app.count("sessions").await, 0);
}

#[tokio::test]
async fn over_https_the_sign_in_and_objection_form_cookies_are_secure() {
    // The test app's public URL is https: `Application::build` turns `Secure` on from it.
    let app = TestApp::spawn().await;
    let cast = cast(&app).await;
    let (_, notice) = in_notice(&app, &cast).await;
    for path in ["/admin/login".to_string(), format!("/notices/{notice}")] {
        let page = app.get(&path).await;
        let cookie = page
            .headers
            .get("set-cookie")
            .unwrap_or_else(|| panic!("{path} sets its form cookie"))
            .to_str()
            .unwrap();
        assert!(cookie.contains("; Secure"), "{path}: {cookie}");
    }
    let session = login(&app, "admin", PASSWORD).await;
    let cookie = session.headers.get("set-cookie").unwrap().to_str().unwrap();
    assert_eq!(cookie.matches("Secure").count(), 1, "{cookie}");
}

#[tokio::test]
async fn editors_see_a_story_resident_who_never_consented_only_as_hidden() {
    let app = TestApp::spawn().await;
    let editor = app.user_token("zhou-jing", &["editor"]).await;
    let resident = app.resident("王芳").await;
    // Staff who may read private data link her to a draft.
    let created = app
        .post(
            "/api/v1/stories",
            &json!({ "title": "楼道里的热心人", "body": "正文。", "resident_ids": [resident] }),
        )
        .await;
    created.assert_status(201);
    assert_eq!(created.body["residents"][0]["name"], "王芳");
    let id = created.body["id"].as_i64().unwrap();
    let seen = app
        .send_as(&editor, "GET", &format!("/api/v1/stories/{id}"), None)
        .await;
    seen.assert_status(200);
    assert!(!seen.text.contains("王芳"), "{}", seen.text);
    assert_eq!(seen.body["residents"][0]["name"], "（未公开的居民）");
    // The editor may still edit the story, keeping the resident already named.
    let edited = app
        .send(
            app.client
                .put(format!("/api/v1/stories/{id}"))
                .header("Authorization", format!("Bearer {editor}"))
                .header("If-Match", seen.etag())
                .body_json(&json!({ "title": "楼道里的热心人（修订）", "body": "正文。", "resident_ids": [resident] })),
        )
        .await;
    edited.assert_status(200);
    assert!(!edited.text.contains("王芳"));
    // Nor does the refusal to publish name her.
    let refused = app
        .send_as(
            &editor,
            "PUT",
            &format!("/api/v1/stories/{id}/publication"),
            Some(&json!({ "published": true })),
        )
        .await;
    refused.assert_status(409);
    assert!(
        refused.text.contains("（未公开的居民）尚未同意"),
        "{}",
        refused.text
    );
    assert!(!refused.text.contains("王芳"));
    // Once she consents to stories, editors see her name.
    app.consent(resident, "story").await.assert_status(201);
    let seen = app
        .send_as(&editor, "GET", &format!("/api/v1/stories/{id}"), None)
        .await;
    assert_eq!(seen.body["residents"][0]["name"], "王芳");
}

#[tokio::test]
async fn control_characters_are_refused_on_every_text_field_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let story = json!({ "title": "标题\u{1}\u{b}", "subtitle": "副标题\u{0}", "body": "正文", "themes": ["有德\u{7}之士"] });
    let refused = app.post("/api/v1/stories", &story).await;
    refused.assert_status(422);
    assert_eq!(
        refused.invalid_fields(),
        ["subtitle", "themes[0]", "title"],
        "{}",
        refused.text
    );
    assert_eq!(app.count("stories").await, 0);
    let resident = app.resident("孙建伟").await;
    let record = json!({ "kind": "role", "title": "业委会\u{0}主任", "start": "2007", "recorded_by": "王老师" });
    let refused = app.add_record(resident, &record).await;
    assert_eq!(refused.invalid_fields(), ["title"]);
    assert_eq!(app.count("service_records").await, 0);
    // Tabs and line breaks (a textarea's CRLF too) are text.
    let fine = json!({ "title": "楼道\t里的光", "body": "第一段\r\n\r\n第二段\n" });
    app.post("/api/v1/stories", &fine).await.assert_status(201);
}

#[tokio::test]
async fn the_feeds_stay_well_formed_with_hostile_text() {
    let app = TestApp::spawn().await;
    let hostile = "<b>&amp;</b> ]]> \"引号\" 'x' \t 🌟 \u{2028}";
    // An attempt with control characters first (refused, so never published), then text that is
    // hostile to XML but legal.
    let broken = "标题\u{1}\u{b}";
    for (title, subtitle) in [(broken, "副标题\u{0}"), (hostile, hostile)] {
        let created = app
            .post(
                "/api/v1/stories",
                &json!({
                    "title": title, "subtitle": subtitle, "byline": hostile, "section": "长寿先锋",
                    "themes": ["有德之士"], "body": format!("{hostile}\n\n<script>alert(1)</script>"),
                }),
            )
            .await;
        if created.status.as_u16() == 201 {
            let id = created.body["id"].as_i64().unwrap();
            app.put(
                &format!("/api/v1/stories/{id}/publication"),
                None,
                &json!({ "published": true }),
            )
            .await
            .assert_status(200);
        }
    }
    let atom = app.get("/feeds/stories.atom").await;
    atom.assert_status(200);
    // XML 1.0 allows no C0 control characters but tab and line breaks (quick-xml, under the
    // Atom parser, does not check this itself).
    assert!(
        !atom
            .text
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')),
        "a control character makes the feed ill-formed"
    );
    let feed: atom_syndication::Feed = atom.text.parse().expect("well-formed Atom");
    assert_eq!(feed.entries()[0].title().as_str(), hostile.trim());
    assert!(!atom.text.contains("<script"));
    let json = app.get("/feeds/stories.json").await;
    json.assert_status(200);
    assert_eq!(json.body["items"][0]["title"], hostile.trim());
}

/// The app on a real TCP port behind [`GuardedAcceptor`], as `youde serve` runs it.
async fn serve_guarded(limits: ConnectionLimits) -> (TestApp, std::net::SocketAddr) {
    use poem::listener::{Acceptor, Listener, TcpListener};
    let mut state = None;
    let app = TestApp::spawn_configured(|s| state = Some(s.clone())).await;
    let acceptor = TcpListener::bind("127.0.0.1:0")
        .into_acceptor()
        .await
        .unwrap();
    let addr = *acceptor.local_addr()[0].as_socket_addr().unwrap();
    let routes = youde::router::routes(state.unwrap());
    tokio::spawn(async move {
        poem::Server::new_with_acceptor(GuardedAcceptor::new(acceptor, limits))
            .run(routes)
            .await
    });
    (app, addr)
}

/// Read until the server closes the connection (or 20 s pass); what it sent.
async fn read_until_closed(stream: &mut tokio::net::TcpStream) -> Option<String> {
    use tokio::io::AsyncReadExt;
    let mut got = Vec::new();
    let read = tokio::time::timeout(std::time::Duration::from_secs(20), async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    read.ok().map(|_| String::from_utf8_lossy(&got).to_string())
}

#[tokio::test]
async fn slow_headers_are_cut_off_and_one_address_gets_only_so_many_connections() {
    use tokio::io::AsyncWriteExt;
    let limits = ConnectionLimits {
        per_address: 3,
        header_timeout: std::time::Duration::from_secs(1),
        exempt: std::sync::Arc::from(Vec::new()),
    };
    let (_app, addr) = serve_guarded(limits).await;
    // A client that sends half a request and then one byte now and then.
    let mut slow = tokio::net::TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let dribble = async {
        for _ in 0..40 {
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
            if slow.write_all(b"X").await.is_err() {
                break;
            }
        }
    };
    dribble.await;
    let left = read_until_closed(&mut slow).await;
    assert!(left.is_some(), "the slow connection was closed");
    assert!(!left.unwrap().contains("200 OK"), "and never answered");

    // Three idle connections from one address are allowed; a fourth is closed at once.
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(tokio::net::TcpStream::connect(addr).await.unwrap());
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let mut fourth = tokio::net::TcpStream::connect(addr).await.unwrap();
    let _ = fourth
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    let answer = read_until_closed(&mut fourth).await.unwrap_or_default();
    assert!(!answer.contains("200 OK"), "{answer}");
    // A normal request on a held connection is answered, and keep-alive works across requests.
    let conn = &mut held[0];
    for _ in 0..2 {
        conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 1024];
        let n = tokio::io::AsyncReadExt::read(conn, &mut buf).await.unwrap();
        assert!(String::from_utf8_lossy(&buf[..n]).contains("200 OK"));
    }
    drop(held);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let mut again = tokio::net::TcpStream::connect(addr).await.unwrap();
    again
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let answer = read_until_closed(&mut again).await.unwrap();
    assert!(
        answer.contains("200 OK"),
        "closed connections give their place back: {answer}"
    );
}

#[tokio::test]
async fn the_pack_markdown_is_as_clean_as_its_html_and_images_stay_on_the_site() {
    use std::io::Read;
    let app = TestApp::spawn().await;
    let hostile = "好人<script>alert(1)</script> [点我](vbscript:msgbox) \
                   ![外链](https://tracker.example/p.gif) <img src=\"https://tracker.example/q.gif\">";
    let story = app
        .post(
            "/api/v1/stories",
            &json!({ "title": "楼道里的光", "body": hostile }),
        )
        .await;
    story.assert_status(201);
    let story_id = story.body["id"].as_i64().unwrap();
    assert!(!story.body["body_html"]
        .as_str()
        .unwrap()
        .contains("tracker.example"));
    app.put(
        &format!("/api/v1/stories/{story_id}/publication"),
        None,
        &json!({ "published": true }),
    )
    .await
    .assert_status(200);
    let atom = app.get("/feeds/stories.atom").await;
    assert!(!atom.text.contains("tracker.example"), "{}", atom.text);
    let issue = app
        .post(
            "/api/v1/issues",
            &json!({ "name": "2019年10月", "date": "2019-10-01", "editors_note": hostile, "story_ids": [story_id] }),
        )
        .await;
    issue.assert_status(201);
    let (status, _, bytes) = app
        .fetch(&format!("/api/v1/issues/{}/pack", issue.body["id"]), true)
        .await;
    assert_eq!(status.as_u16(), 200);
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    for i in 0..zip.len() {
        let mut file = zip.by_index(i).unwrap();
        let name = file.name().unwrap().to_string();
        if !(name.ends_with(".md") || name.ends_with(".html")) {
            continue;
        }
        let mut text = String::new();
        file.read_to_string(&mut text).unwrap();
        for bad in ["<script", "vbscript:", "tracker.example"] {
            assert!(!text.contains(bad), "{bad} in {name}: {text}");
        }
        assert!(text.contains("好人"), "{name}: {text}");
    }
}

#[tokio::test]
async fn control_characters_are_refused_on_the_objection_form_and_photo_fields_too() {
    let app = TestApp::spawn().await;
    let cast = cast(&app).await;
    let (_, notice) = in_notice(&app, &cast).await;
    let form = app.get(&format!("/notices/{notice}")).await;
    let cookie = cookie_of(&form);
    let csrf = cookie.split_once('=').unwrap().1.to_string();
    let refused = app
        .send(
            app.client
                .post(format!("/notices/{notice}"))
                .header("Cookie", &cookie)
                .content_type("application/x-www-form-urlencoded")
                .body(format!(
                    "name=%E5%BC%A0%E4%B8%89&contact=138%0000001111&content=%E8%AF%B7%01%E6%A0%B8&csrf={csrf}"
                )),
        )
        .await;
    refused.assert_status(422);
    assert!(
        refused.text.contains("联系方式不能包含控制字符"),
        "{}",
        refused.text
    );
    assert!(refused.text.contains("异议内容不能包含控制字符"));
    assert_eq!(app.count("objections").await, 0);

    let photo = crate::photos::jpeg(64, 48);
    let id = cast.resident.to_string();
    let upload = app
        .upload(
            &photo,
            "photo.jpg",
            &[
                ("owner_kind", "resident"),
                ("owner_id", &id),
                ("caption", "楼道\u{1b}[31m"),
            ],
        )
        .await;
    assert_eq!(upload.invalid_fields(), ["caption"]);
    assert_eq!(app.count("photos").await, 0);
}

#[tokio::test]
async fn an_editor_cannot_probe_resident_ids_through_a_story_photo() {
    let app = TestApp::spawn().await;
    let editor = app.user_token("zhou-jing", &["editor"]).await;
    let hidden = app.resident("王芳").await;
    let story = app
        .send_as(
            &editor,
            "POST",
            "/api/v1/stories",
            Some(&json!({ "title": "楼道花园", "body": "月季长廊。" })),
        )
        .await;
    story.assert_status(201);
    let story_id = story.body["id"].as_i64().unwrap().to_string();
    let photo = crate::photos::jpeg(64, 48);
    let upload = |shown: String| {
        let (app, editor, photo, story_id) = (&app, &editor, &photo, &story_id);
        async move {
            let file = poem::test::TestFormField::bytes(photo.clone())
                .name("file")
                .filename("photo.jpg")
                .content_type("image/jpeg");
            let form = poem::test::TestForm::new()
                .field(file)
                .text("owner_kind", "story")
                .text("owner_id", story_id.as_str())
                .text("residents", shown);
            app.send(
                app.client
                    .post("/api/v1/photos")
                    .header("Authorization", format!("Bearer {editor}"))
                    .multipart(form),
            )
            .await
        }
    };
    let message = |r: &Reply| r.body["error"]["details"]["fields"][0]["message"].clone();
    let refused = upload(hidden.to_string()).await;
    assert_eq!(refused.invalid_fields(), ["residents"]);
    assert_eq!(message(&refused), format!("居民 {hidden} 不存在"));
    let nobody = upload((hidden + 1000).to_string()).await;
    assert_eq!(message(&nobody), format!("居民 {} 不存在", hidden + 1000));
    assert_eq!(app.count("photos").await, 0);
    // With her consent to appear in stories, the editor may say she is in the picture.
    app.consent(hidden, "story").await.assert_status(201);
    upload(hidden.to_string()).await.assert_status(201);
}
