//! Every route that reads a body has a limit, answered 413 before the body is read: a huge
//! declared `Content-Length` is refused at once, and an endless body without one is refused after
//! the limit (the server stops reading, so the test ends). One route of each class: API JSON, the
//! multipart upload, a console form, the public objection form.

use bytes::Bytes;
use poem::Body;

use crate::helpers::{TestApp, ADMIN_TOKEN};

/// A route of each class, and whether its 413 is a page (HTML) rather than the API's JSON.
const ROUTES: [(&str, &str, bool); 5] = [
    ("/api/v1/residents", "application/json", false),
    ("/api/v1/notices/1/objections", "application/json", false),
    ("/api/v1/photos", "multipart/form-data; boundary=x", false),
    ("/admin/login", "application/x-www-form-urlencoded", true),
    ("/notices/1", "application/x-www-form-urlencoded", true),
];

/// A body that never ends: 64 KiB chunks for ever.
fn endless() -> Body {
    let chunk = Bytes::from(vec![b'a'; 64 * 1024]);
    Body::from_bytes_stream(futures_util::stream::repeat_with(move || {
        Ok::<_, std::io::Error>(chunk.clone())
    }))
}

/// A staff POST of `body` to `path` as `content_type`, with extra headers.
async fn post(
    app: &TestApp,
    path: &str,
    content_type: &str,
    declared_length: Option<&str>,
    body: Body,
) -> crate::helpers::Reply {
    let mut req = app
        .client
        .post(path)
        .header("Authorization", format!("Bearer {ADMIN_TOKEN}"))
        .content_type(content_type);
    if let Some(length) = declared_length {
        req = req.header("content-length", length);
    }
    app.send(req.body(body)).await
}

#[track_caller]
fn assert_refused(reply: &crate::helpers::Reply, page: bool, what: &str) {
    assert_eq!(reply.status.as_u16(), 413, "{what}: {}", reply.text);
    if page {
        assert!(
            reply.text.contains("太"),
            "{what}: a Chinese page: {}",
            reply.text
        );
    } else {
        assert_eq!(reply.error_code(), "payload_too_large", "{what}");
    }
}

#[tokio::test]
async fn a_huge_declared_body_is_refused_before_it_is_read() {
    let app = TestApp::spawn().await;
    for (path, content_type, page) in ROUTES {
        // 10 GB declared, a few bytes sent: only an up-front check can answer.
        let reply = post(
            &app,
            path,
            content_type,
            Some("10000000000"),
            Body::from("name=x"),
        )
        .await;
        assert_refused(&reply, page, path);
    }
}

#[tokio::test]
async fn an_endless_body_is_refused_at_the_limit() {
    let app = TestApp::spawn().await;
    for (path, content_type, page) in ROUTES {
        let reply = post(&app, path, content_type, None, endless()).await;
        assert_refused(&reply, page, path);
    }
}

#[tokio::test]
async fn the_public_form_limit_is_below_the_api_one() {
    let app = TestApp::spawn().await;
    // 100 KB is fine for JSON (1 MB) but far more than an objection needs.
    let body = format!("content={}", "a".repeat(100 * 1024));
    let form = "application/x-www-form-urlencoded";
    let reply = post(&app, "/notices/1", form, None, Body::from(body)).await;
    assert_refused(&reply, true, "public form");
}

#[tokio::test]
async fn the_console_upload_keeps_the_upload_limit_and_other_forms_the_smaller_one() {
    let app = TestApp::spawn_with_body_limit(64 * 1024).await;
    let community_id = app.compound_id().await;
    let resident = app
        .create_resident(&serde_json::json!({ "name": "王芳", "community_id": community_id }))
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let mut console = crate::console::Browser::signed_in(&app, "wang-li", &["nominator"]).await;
    let photo = crate::photos::noisy_jpeg(400, 400, 7);
    assert!(photo.len() > 64 * 1024);
    let uploaded = console
        .upload(
            &format!("/admin/photos/new?resident={resident}"),
            &[],
            (photo, "big.jpg", "image/jpeg"),
        )
        .await;
    assert_eq!(uploaded.status.as_u16(), 303, "{}", uploaded.text);
    // A urlencoded console form over 64 KiB is refused with the console's page.
    let long = "字".repeat(30 * 1024);
    let refused = console
        .submit(
            &format!("/admin/residents/{resident}/edit"),
            &format!("/admin/residents/{resident}/edit"),
            &[("name", "王芳"), ("citation", &long)],
        )
        .await;
    assert_eq!(refused.status.as_u16(), 413, "{}", refused.text);
}
