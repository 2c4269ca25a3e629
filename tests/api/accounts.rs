//! Accounts: sign-in sessions, throttling, API tokens, disabling, and first-start setup.

use chrono::Duration;
use serde_json::json;

use crate::helpers::{Reply, TestApp, PASSWORD};

pub async fn login(app: &TestApp, username: &str, password: &str) -> Reply {
    app.send(
        app.client
            .post("/api/v1/sessions")
            .body_json(&json!({ "username": username, "password": password })),
    )
    .await
}

/// The first cookie the reply sets, as `name=value`.
pub fn cookie_of(reply: &Reply) -> String {
    let header = reply
        .headers
        .get("set-cookie")
        .expect("Set-Cookie")
        .to_str()
        .unwrap();
    header.split(';').next().unwrap().to_string()
}

async fn with_cookie(
    app: &TestApp,
    cookie: &str,
    method: &str,
    path: &str,
    body: Option<serde_json::Value>,
) -> Reply {
    let req = match method {
        "GET" => app.client.get(path),
        "DELETE" => app.client.delete(path),
        _ => app.client.post(path),
    };
    let req = req.header("Cookie", cookie);
    let req = match body {
        Some(b) => req.body_json(&b),
        None => req,
    };
    app.send(req).await
}

#[tokio::test]
async fn signing_in_sets_a_safe_session_cookie_that_works_until_sign_out() {
    let app = TestApp::spawn().await;
    app.user_token("wang-li", &["nominator"]).await;
    let reply = login(&app, "wang-li", PASSWORD).await;
    reply.assert_status(201);
    assert_eq!(reply.body["roles"], json!(["nominator"]));
    assert!(reply.body["permissions"]
        .as_array()
        .unwrap()
        .contains(&json!("nominate")));
    let header = reply.headers["set-cookie"].to_str().unwrap().to_string();
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(
            header.contains(attribute),
            "cookie lacks {attribute}: {header}"
        );
    }
    // The test app's public URL is https, as a deployment's is: the cookie is `Secure`.
    assert!(
        header.contains("Secure"),
        "an https site's cookie lacks Secure: {header}"
    );
    let cookie = cookie_of(&reply);

    let me = with_cookie(&app, &cookie, "GET", "/api/v1/sessions/current", None).await;
    me.assert_status(200);
    assert_eq!(me.body["username"], "wang-li");
    // The session signs writes, as the policy allows.
    let community = with_cookie(
        &app,
        &cookie,
        "POST",
        "/api/v1/communities",
        Some(json!({ "name": "普陀区", "kind": "district" })),
    )
    .await;
    community.assert_status(201);
    let users = with_cookie(&app, &cookie, "GET", "/api/v1/users", None).await;
    users.assert_status(403);

    let out = with_cookie(&app, &cookie, "DELETE", "/api/v1/sessions/current", None).await;
    out.assert_status(204);
    assert!(out.headers["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    with_cookie(&app, &cookie, "GET", "/api/v1/sessions/current", None)
        .await
        .assert_status(401);
}

#[tokio::test]
async fn sessions_expire_when_idle() {
    let app = TestApp::spawn().await;
    app.user_token("wang-li", &["nominator"]).await;
    let cookie = cookie_of(&login(&app, "wang-li", PASSWORD).await);
    app.clock.advance(Duration::minutes(90));
    with_cookie(&app, &cookie, "GET", "/api/v1/sessions/current", None)
        .await
        .assert_status(200);
    app.clock.advance(Duration::minutes(150));
    with_cookie(&app, &cookie, "GET", "/api/v1/sessions/current", None)
        .await
        .assert_status(401);
}

#[tokio::test]
async fn wrong_passwords_are_refused_and_then_throttled() {
    let app = TestApp::spawn().await;
    app.user_token("wang-li", &["nominator"]).await;
    let wrong = login(&app, "wang-li", "not the password").await;
    wrong.assert_status(401);
    assert_eq!(wrong.error_code(), "invalid_credentials");
    let unknown = login(&app, "nobody", "whatever password").await;
    assert_eq!(
        unknown.error_code(),
        "invalid_credentials",
        "unknown users look the same"
    );
    for _ in 0..4 {
        login(&app, "wang-li", "not the password")
            .await
            .assert_status(401);
    }
    let throttled = login(&app, "wang-li", PASSWORD).await;
    throttled.assert_status(429);
    assert_eq!(throttled.error_code(), "too_many_requests");
    app.clock.advance(Duration::minutes(16));
    login(&app, "wang-li", PASSWORD).await.assert_status(201);
}

#[tokio::test]
async fn tokens_are_shown_once_revocable_and_private_to_their_owner() {
    let app = TestApp::spawn().await;
    let first = app.user_token("wang-li", &["nominator"]).await;
    let other = app.user_token("zhao-min", &["reviewer"]).await;
    let issued = app
        .send_as(
            &first,
            "POST",
            "/api/v1/tokens",
            Some(&json!({ "label": "排版工具" })),
        )
        .await;
    issued.assert_status(201);
    let secret = issued.body["token"].as_str().unwrap().to_string();
    let id = issued.body["id"].as_i64().unwrap();
    app.send_as(&secret, "GET", "/api/v1/sessions/current", None)
        .await
        .assert_status(200);
    let listed = app.send_as(&first, "GET", "/api/v1/tokens", None).await;
    assert!(
        !listed.text.contains(&secret),
        "a token is never shown again"
    );
    assert_eq!(listed.body.as_array().unwrap().len(), 2);

    // Another user's token id gives nothing away.
    let theirs = app
        .send_as(&other, "DELETE", &format!("/api/v1/tokens/{id}"), None)
        .await;
    theirs.assert_status(404);
    app.send_as(&first, "DELETE", &format!("/api/v1/tokens/{id}"), None)
        .await
        .assert_status(200);
    let revoked = app
        .send_as(&secret, "GET", "/api/v1/sessions/current", None)
        .await;
    revoked.assert_status(401);
    assert_eq!(revoked.error_code(), "invalid_token");
}

#[tokio::test]
async fn admins_manage_users_and_a_disabled_user_is_locked_out() {
    let app = TestApp::spawn().await;
    let created = app
        .post(
            "/api/v1/users",
            &json!({ "username": "Li.Na", "display_name": "李娜", "roles": ["reviewer", "editor"], "password": PASSWORD }),
        )
        .await;
    created.assert_status(201);
    assert_eq!(created.body["username"], "li.na");
    let id = created.body["id"].as_i64().unwrap();
    let short = app
        .post(
            "/api/v1/users",
            &json!({ "username": "x", "display_name": "", "roles": ["root"], "password": "short" }),
        )
        .await;
    assert_eq!(
        short.invalid_fields(),
        ["username", "display_name", "roles"]
    );
    let weak = app.post("/api/v1/users", &json!({ "username": "zhou", "display_name": "周", "roles": ["editor"], "password": "short" })).await;
    assert_eq!(weak.invalid_fields(), ["password"]);
    app.post("/api/v1/users", &json!({ "username": "li.na", "display_name": "李娜", "roles": ["editor"], "password": PASSWORD }))
        .await
        .assert_status(409);

    let cookie = cookie_of(&login(&app, "li.na", PASSWORD).await);
    let changed = app
        .put(
            &format!("/api/v1/users/{id}"),
            Some(&created.etag()),
            &json!({ "display_name": "李娜", "roles": ["editor"] }),
        )
        .await;
    changed.assert_status(200);
    assert_eq!(changed.body["roles"], json!(["editor"]));

    app.post(&format!("/api/v1/users/{id}/disable"), &json!({}))
        .await
        .assert_status(200);
    with_cookie(&app, &cookie, "GET", "/api/v1/sessions/current", None)
        .await
        .assert_status(401);
    login(&app, "li.na", PASSWORD).await.assert_status(401);
    app.post(&format!("/api/v1/users/{id}/enable"), &json!({}))
        .await
        .assert_status(200);
    login(&app, "li.na", PASSWORD).await.assert_status(201);
    // The last admin keeps the role.
    let admin = app.staff_get("/api/v1/users?limit=10").await.body["items"][0].clone();
    let me = app
        .staff_get(&format!("/api/v1/users/{}", admin["id"]))
        .await;
    let demote = app
        .put(
            &format!("/api/v1/users/{}", admin["id"]),
            Some(&me.etag()),
            &json!({ "display_name": "管理员", "roles": ["editor"] }),
        )
        .await;
    demote.assert_status(409);
    // …and the whole deployment: scoping them to one district would leave nobody to manage
    // categories, the seal or the other districts.
    let district = app
        .post(
            "/api/v1/communities",
            &json!({ "name": "普陀区", "kind": "district" }),
        )
        .await
        .body["id"]
        .clone();
    let scoped = app
        .put(
            &format!("/api/v1/users/{}", admin["id"]),
            Some(&me.etag()),
            &json!({ "display_name": "管理员", "roles": ["admin"], "community_id": district }),
        )
        .await;
    scoped.assert_status(409);
}

#[tokio::test]
async fn changing_ones_password_needs_the_current_one_and_ends_other_sessions() {
    let app = TestApp::spawn().await;
    app.user_token("wang-li", &["nominator"]).await;
    let login_reply = login(&app, "wang-li", PASSWORD).await;
    let cookie = cookie_of(&login_reply);
    let id = login_reply.body["id"].as_i64().unwrap();
    let path = format!("/api/v1/users/{id}/password");
    let wrong = with_cookie(
        &app,
        &cookie,
        "POST",
        &path,
        Some(json!({ "password": "a brand new passphrase", "current_password": "nope" })),
    )
    .await;
    assert_eq!(wrong.invalid_fields(), ["current_password"]);
    with_cookie(
        &app,
        &cookie,
        "POST",
        &path,
        Some(json!({ "password": "a brand new passphrase", "current_password": PASSWORD })),
    )
    .await
    .assert_status(204);
    with_cookie(&app, &cookie, "GET", "/api/v1/sessions/current", None)
        .await
        .assert_status(401);
    login(&app, "wang-li", "a brand new passphrase")
        .await
        .assert_status(201);
}

#[tokio::test]
async fn first_start_creates_the_admin_once_and_adopts_older_tokens() {
    use sea_orm::ConnectionTrait;
    let app = TestApp::spawn().await;
    // The harness made an admin already; setup leaves existing users alone.
    let again = youde::setup::ensure_admin(&app.db, None).await.unwrap();
    assert!(!again.admin_created && again.generated_admin_password.is_none());

    // On an empty user table: an admin with a generated one-time password…
    app.db
        .execute_unprepared("DELETE FROM users")
        .await
        .unwrap();
    let token = youde::store::tokens::generate();
    youde::store::tokens::insert(&app.db, None, "printed before accounts", &token)
        .await
        .unwrap();
    let report = youde::setup::ensure_admin(&app.db, None).await.unwrap();
    assert!(report.admin_created);
    let password = report
        .generated_admin_password
        .expect("a one-time password to print");
    assert!(password.len() >= 16);
    login(&app, "admin", &password).await.assert_status(201);
    // …who owns the token made before accounts existed.
    let me = app
        .send_as(&token, "GET", "/api/v1/sessions/current", None)
        .await;
    me.assert_status(200);
    assert_eq!(me.body["username"], "admin");

    // With YOUDE_ADMIN_PASSWORD, that password (too short ones are refused).
    app.db
        .execute_unprepared("DELETE FROM users")
        .await
        .unwrap();
    assert!(youde::setup::ensure_admin(&app.db, Some("short"))
        .await
        .is_err());
    let report = youde::setup::ensure_admin(&app.db, Some("the configured admin password"))
        .await
        .unwrap();
    assert!(report.admin_created && report.generated_admin_password.is_none());
    login(&app, "admin", "the configured admin password")
        .await
        .assert_status(201);
}
