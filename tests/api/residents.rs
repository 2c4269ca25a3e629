use serde_json::json;

use crate::helpers::{TestApp, ADMIN_TOKEN};

const PHONE: &str = "13912345678";
const ID_NUMBER: &str = "11010519491231002X";
const ADDRESS: &str = "普陀区长寿路某弄 7 号 1201 室";

fn with_private(community_id: i64) -> serde_json::Value {
    json!({
        "name": "孙建伟",
        "community_id": community_id,
        "citation": "12 年**无偿**服务业委会",
        "phone": PHONE,
        "id_number": ID_NUMBER,
        "birth_year": 1958,
        "address": ADDRESS,
    })
}

fn assert_no_private(text: &str) {
    for secret in [PHONE, ID_NUMBER, ADDRESS, "1958"] {
        assert!(
            !text.contains(secret),
            "private value {secret} leaked: {text}"
        );
    }
}

#[tokio::test]
async fn a_new_resident_gets_pinyin_a_slug_an_etag_and_a_location() {
    let app = TestApp::spawn().await;
    let community_id = app.compound_id().await;
    let created = app.create_resident(&with_private(community_id)).await;
    created.assert_status(201);
    assert_eq!(created.body["pinyin"], "sun jianwei");
    assert_eq!(created.body["slug"], "sun-jianwei");
    assert_eq!(created.body["phone"], PHONE, "staff see private fields");
    let id = created.body["id"].as_i64().unwrap();
    assert_eq!(
        created.headers["location"],
        format!("/api/v1/residents/{id}").as_str()
    );
    assert!(created.headers.contains_key("etag"));

    let namesake = app
        .create_resident(&json!({ "name": "孙建伟", "community_id": community_id }))
        .await;
    assert_eq!(
        namesake.body["slug"], "sun-jianwei-2",
        "slug collision gets a number"
    );
}

#[tokio::test]
async fn without_profile_consent_a_resident_does_not_exist_publicly() {
    let app = TestApp::spawn().await;
    let community_id = app.compound_id().await;
    let id = app.create_resident(&with_private(community_id)).await.body["id"]
        .as_i64()
        .unwrap();

    app.get(&format!("/api/v1/residents/{id}"))
        .await
        .assert_status(404);
    app.get(&format!("/api/v1/residents/{id}/summary"))
        .await
        .assert_status(404);
    app.get(&format!("/api/v1/residents/{id}/service-records"))
        .await
        .assert_status(404);
    let list = app.get("/api/v1/residents").await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 0);
    // Staff see them.
    app.staff_get(&format!("/api/v1/residents/{id}"))
        .await
        .assert_status(200);
    assert_eq!(
        app.staff_get("/api/v1/residents").await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // A photo or story consent alone does not publish the profile.
    app.consent(id, "photo").await.assert_status(201);
    app.get(&format!("/api/v1/residents/{id}"))
        .await
        .assert_status(404);
}

#[tokio::test]
async fn with_profile_consent_the_public_sees_public_fields_only() {
    let app = TestApp::spawn().await;
    let community_id = app.compound_id().await;
    let id = app.create_resident(&with_private(community_id)).await.body["id"]
        .as_i64()
        .unwrap();
    app.consent(id, "profile").await.assert_status(201);

    let public = app.get(&format!("/api/v1/residents/{id}")).await;
    public.assert_status(200);
    assert_eq!(public.body["name"], "孙建伟");
    assert_eq!(public.body["citation"], "12 年**无偿**服务业委会");
    for key in ["phone", "id_number", "birth_year", "address"] {
        assert!(
            public.body.get(key).is_none(),
            "public answer carries {key}"
        );
    }
    assert_no_private(&public.text);
    assert_no_private(&app.get("/api/v1/residents").await.text);
    assert_no_private(
        &app.get(&format!("/api/v1/residents/{id}/summary"))
            .await
            .text,
    );
}

#[tokio::test]
async fn withdrawing_consent_unpublishes_at_once() {
    let app = TestApp::spawn().await;
    let id = app.resident("孙建伟").await;
    let consent = app.consent(id, "profile").await;
    app.get(&format!("/api/v1/residents/{id}"))
        .await
        .assert_status(200);

    let again = app.consent(id, "profile").await;
    again.assert_status(409);

    let consent_id = consent.body["id"].as_i64().unwrap();
    let withdrawn = app
        .post(
            &format!("/api/v1/residents/{id}/consents/{consent_id}/withdraw"),
            &json!({ "withdrawn_on": "2026-02-01" }),
        )
        .await;
    withdrawn.assert_status(200);
    assert_eq!(withdrawn.body["withdrawn_on"], "2026-02-01");
    app.get(&format!("/api/v1/residents/{id}"))
        .await
        .assert_status(404);
    assert_eq!(
        app.get("/api/v1/residents").await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    // The record of what was agreed stays, for staff.
    let consents = app
        .staff_get(&format!("/api/v1/residents/{id}/consents"))
        .await;
    assert_eq!(consents.body.as_array().unwrap().len(), 1);
    // Consent records are personal data: not for the public.
    app.get(&format!("/api/v1/residents/{id}/consents"))
        .await
        .assert_status(401);
}

#[tokio::test]
async fn an_unknown_community_is_refused_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let reply = app
        .create_resident(&json!({ "name": "孙建伟", "community_id": 4242 }))
        .await;
    reply.assert_status(422);
    assert_eq!(reply.invalid_fields(), ["community_id"]);
    assert_eq!(app.count("residents").await, 0);
}

#[tokio::test]
async fn bad_private_fields_are_named() {
    let app = TestApp::spawn().await;
    let community_id = app.compound_id().await;
    let reply = app
        .create_resident(&json!({
            "name": "",
            "community_id": community_id,
            "phone": "call me maybe",
            "id_number": "110105194912310021",
            "birth_year": 1850,
        }))
        .await;
    reply.assert_status(422);
    assert_eq!(
        reply.invalid_fields(),
        ["name", "phone", "id_number", "birth_year"]
    );
    assert_eq!(app.count("residents").await, 0);
}

#[tokio::test]
async fn a_body_that_is_not_the_expected_json_is_422_and_not_json_at_all_is_refused() {
    let app = TestApp::spawn().await;
    let wrong_type = app
        .create_resident(&json!({ "name": 12, "community_id": "one" }))
        .await;
    wrong_type.assert_status(422);
    assert_eq!(wrong_type.error_code(), "invalid_body");
    let garbage = app
        .send(
            app.client
                .post("/api/v1/residents")
                .header("Authorization", format!("Bearer {ADMIN_TOKEN}"))
                .content_type("application/json")
                .body("{not json"),
        )
        .await;
    assert!(garbage.status.is_client_error(), "{}", garbage.text);
    assert!(
        garbage.body["error"]["code"].is_string(),
        "JSON error shape: {}",
        garbage.text
    );
    assert_eq!(app.count("residents").await, 0);
}

#[tokio::test]
async fn a_five_megabyte_body_is_refused_with_413_and_nothing_stored() {
    let app = TestApp::spawn().await;
    let community_id = app.compound_id().await;
    let huge = "长".repeat(5 * 1024 * 1024 / 3);
    let reply = app
        .create_resident(
            &json!({ "name": "孙建伟", "community_id": community_id, "citation": huge }),
        )
        .await;
    reply.assert_status(413);
    assert_eq!(reply.error_code(), "payload_too_large");
    assert_eq!(app.count("residents").await, 0);
    // The server is still there.
    app.get("/healthz").await.assert_status(200);
}

#[tokio::test]
async fn updates_need_the_current_etag() {
    let app = TestApp::spawn().await;
    let community_id = app.compound_id().await;
    let created = app.create_resident(&with_private(community_id)).await;
    let id = created.body["id"].as_i64().unwrap();
    let path = format!("/api/v1/residents/{id}");
    let mut changed = with_private(community_id);
    changed["citation"] = json!("更新后的推荐理由");

    let missing = app.put(&path, None, &changed).await;
    missing.assert_status(428);
    assert_eq!(missing.error_code(), "if_match_required");

    let wrong = app.put(&path, Some("\"999-9\""), &changed).await;
    wrong.assert_status(412);
    assert_eq!(wrong.error_code(), "version_mismatch");
    assert_eq!(
        wrong.body["error"]["details"]["current_etag"],
        created.etag().as_str()
    );

    let ok = app.put(&path, Some(&created.etag()), &changed).await;
    ok.assert_status(200);
    assert_eq!(ok.body["citation"], "更新后的推荐理由");
    assert_ne!(ok.etag(), created.etag());

    // The old ETag is now stale: a second writer holding it is refused.
    let stale = app
        .put(&path, Some(&created.etag()), &with_private(community_id))
        .await;
    stale.assert_status(412);
    assert_eq!(
        app.staff_get(&path).await.body["citation"],
        "更新后的推荐理由"
    );
}

#[tokio::test]
async fn a_corrected_name_keeps_the_published_slug() {
    let app = TestApp::spawn().await;
    let community_id = app.compound_id().await;
    let created = app
        .create_resident(&json!({ "name": "孙建炜", "community_id": community_id }))
        .await;
    let id = created.body["id"].as_i64().unwrap();
    let fixed = app
        .put(
            &format!("/api/v1/residents/{id}"),
            Some(&created.etag()),
            &json!({ "name": "孙建伟", "community_id": community_id }),
        )
        .await;
    fixed.assert_status(200);
    assert_eq!(fixed.body["name"], "孙建伟");
    assert_eq!(fixed.body["slug"], created.body["slug"]);
}

#[tokio::test]
async fn writes_need_a_valid_token() {
    let app = TestApp::spawn().await;
    let community_id = app.compound_id().await;
    let body = json!({ "name": "孙建伟", "community_id": community_id });
    let anonymous = app
        .send(app.client.post("/api/v1/residents").body_json(&body))
        .await;
    anonymous.assert_status(401);
    assert_eq!(anonymous.error_code(), "unauthorized");
    let wrong = app
        .send(
            app.client
                .post("/api/v1/residents")
                .header("Authorization", "Bearer guessed")
                .body_json(&body),
        )
        .await;
    wrong.assert_status(401);
    assert_eq!(wrong.error_code(), "invalid_token");
    let id = app.resident("孙建伟").await;
    let delete = app
        .send(app.client.delete(format!("/api/v1/residents/{id}")))
        .await;
    delete.assert_status(401);
    assert_eq!(app.count("residents").await, 1);
}

/// Many saves at once, while the search relay marks its deliveries: every one succeeds. (A guard
/// against SQLite answering SQLITE_BUSY to a transaction that read before writing while another
/// connection committed in between; not seen so far, here or in use.)
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_saves_all_succeed_while_the_relay_delivers() {
    let app = TestApp::spawn().await;
    let mut ids = Vec::new();
    for i in 0..12 {
        ids.push(app.resident(&format!("居民{i}")).await);
    }
    let compound = app.compound().await;
    for round in 0..3 {
        let saves = ids.iter().map(|id| {
            let app = &app;
            async move {
                let current = app.staff_get(&format!("/api/v1/residents/{id}")).await;
                app.put(
                    &format!("/api/v1/residents/{id}"),
                    Some(&current.etag()),
                    &json!({ "name": format!("居民{id}-{round}"), "community_id": compound }),
                )
                .await
                .status
            }
        });
        let relay = async {
            for _ in 0..6 {
                app.drain().await;
            }
        };
        let (statuses, ()) = tokio::join!(futures_util::future::join_all(saves), relay);
        assert!(
            statuses.iter().all(|s| *s == 200),
            "round {round}: {statuses:?}"
        );
    }
}

/// Namesakes registered at the same moment each get their own slug, none an error.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn namesakes_created_at_once_each_get_a_slug() {
    let app = TestApp::spawn().await;
    let compound = app.compound().await;
    let creates = (0..8).map(|_| {
        let app = &app;
        async move {
            app.create_resident(&json!({ "name": "王芳", "community_id": compound }))
                .await
        }
    });
    let replies = futures_util::future::join_all(creates).await;
    let statuses: Vec<u16> = replies.iter().map(|r| r.status.as_u16()).collect();
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
    let mut slugs: Vec<String> = replies
        .iter()
        .map(|r| r.body["slug"].as_str().unwrap().to_string())
        .collect();
    slugs.sort();
    slugs.dedup();
    assert_eq!(slugs.len(), 8, "{slugs:?}");
}
