//! Deletion never widens what is public, and erasure (PIPL Art. 47) makes every public surface
//! forget a resident while the audit log keeps the events without the private values.

use serde_json::{json, Value};

use crate::console::Browser;
use crate::helpers::TestApp;

/// A published story naming a new resident with story consent; returns (resident, story, slug).
async fn published_story(app: &TestApp, editor: &str) -> (i64, i64, String) {
    let resident = app.resident("王芳").await;
    app.consent(resident, "story").await.assert_status(201);
    let body = json!({ "title": "楼道里的热心人", "body": "她每天清扫楼道。", "resident_ids": [resident] });
    let created = app
        .send_as(editor, "POST", "/api/v1/stories", Some(&body))
        .await;
    created.assert_status(201);
    let id = created.body["id"].as_i64().unwrap();
    app.send_as(
        editor,
        "PUT",
        &format!("/api/v1/stories/{id}/publication"),
        Some(&json!({ "published": true })),
    )
    .await
    .assert_status(200);
    let slug = created.body["slug"].as_str().unwrap().to_string();
    (resident, id, slug)
}

#[tokio::test]
async fn deleting_a_resident_does_not_republish_what_their_withdrawal_hid() {
    let app = TestApp::spawn().await;
    let editor = app.user_token("zhou-jing", &["editor"]).await;
    let (resident, story, slug) = published_story(&app, &editor).await;
    app.get(&format!("/stories/{slug}"))
        .await
        .assert_status(200);
    app.withdraw_consent(resident, "story").await;
    app.get(&format!("/stories/{slug}"))
        .await
        .assert_status(404);

    app.delete(&format!("/api/v1/residents/{resident}"))
        .await
        .assert_status(204);
    app.get(&format!("/stories/{slug}"))
        .await
        .assert_status(404);
    app.get(&format!("/api/v1/stories/{story}"))
        .await
        .assert_status(404);
    assert!(!app
        .get("/feeds/stories.json")
        .await
        .text
        .contains("楼道里的热心人"));
    assert!(!app
        .get("/feeds/stories.atom")
        .await
        .text
        .contains("楼道里的热心人"));
    // The editors see why it went back to draft.
    let seen = app
        .send_as(&editor, "GET", &format!("/api/v1/stories/{story}"), None)
        .await;
    assert_eq!(seen.body["state"], "draft");
    assert!(seen.body["attention"]
        .as_str()
        .unwrap()
        .contains("居民已被删除"));
}

#[tokio::test]
async fn deleting_a_resident_named_by_a_public_story_takes_the_story_down() {
    let app = TestApp::spawn().await;
    let editor = app.user_token("zhou-jing", &["editor"]).await;
    let (resident, story, slug) = published_story(&app, &editor).await;
    app.delete(&format!("/api/v1/residents/{resident}"))
        .await
        .assert_status(204);
    app.get(&format!("/stories/{slug}"))
        .await
        .assert_status(404);
    let seen = app
        .send_as(&editor, "GET", &format!("/api/v1/stories/{story}"), None)
        .await;
    assert_eq!(seen.body["state"], "draft");
    // Publishing again is the editor's decision, and clears the note.
    let again = app
        .send_as(
            &editor,
            "PUT",
            &format!("/api/v1/stories/{story}/publication"),
            Some(&json!({ "published": true })),
        )
        .await;
    again.assert_status(200);
    assert!(again.body["attention"].is_null());
    let audit = app
        .staff_get(&format!(
            "/api/v1/audit?entity_kind=story&entity_id={story}"
        ))
        .await;
    assert!(audit.text.contains("story.unpublish"), "{}", audit.text);
}

/// Every public answer that mentions the resident, by name, slug or id.
async fn public_surfaces(app: &TestApp, id: i64, slug: &str, issue: i64) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for path in [
        "/".to_string(),
        format!("/people/{slug}"),
        format!("/people/{slug}/print"),
        "/notices".to_string(),
        "/sitemap.xml".to_string(),
        "/sitemaps/site.xml".to_string(),
        "/sitemaps/people-0.xml".to_string(),
        "/feeds/stories.atom".to_string(),
        "/feeds/stories.json".to_string(),
        format!("/issues/{issue}"),
        "/search?q=%E5%AD%99%E5%BB%BA%E4%BC%9F".to_string(),
        "/search?q=sjw".to_string(),
        "/api/v1/residents?limit=200".to_string(),
        format!("/api/v1/residents/{id}"),
        format!("/api/v1/residents/{id}/summary"),
        format!("/api/v1/residents/{id}/service-records"),
        "/api/v1/stories?limit=200".to_string(),
        "/api/v1/recognitions".to_string(),
        "/api/v1/notices".to_string(),
        format!("/api/v1/photos?owner_kind=resident&owner_id={id}"),
        "/api/v1/search?q=%E5%AD%99%E5%BB%BA%E4%BC%9F".to_string(),
        "/api/v1/search?q=sunjianwei".to_string(),
    ] {
        let reply = app.get(&path).await;
        out.push((path, format!("{} {}", reply.status.as_u16(), reply.text)));
    }
    let pack = app
        .client
        .get(format!("/api/v1/issues/{issue}/pack"))
        .send()
        .await
        .0;
    let bytes = pack.into_body().into_vec().await.unwrap();
    let mut text = String::new();
    if let Ok(mut zip) = zip::ZipArchive::new(std::io::Cursor::new(bytes)) {
        for i in 0..zip.len() {
            let mut file = zip.by_index(i).unwrap();
            let mut buf = Vec::new();
            std::io::Read::read_to_end(&mut file, &mut buf).unwrap();
            text.push_str(&file.name().unwrap());
            text.push_str(&String::from_utf8_lossy(&buf));
        }
    }
    out.push(("issue pack".into(), text));
    out
}

fn media_paths(photos: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for photo in photos["items"].as_array().unwrap() {
        for key in ["thumbnail", "page", "print"] {
            if let Some(url) = photo["derivatives"][key]["url"].as_str() {
                out.push(url.to_string());
            }
        }
    }
    out
}

/// The id of the public resident with this slug.
pub async fn public_resident_id(app: &TestApp, slug: &str) -> i64 {
    let residents = app.get("/api/v1/residents?limit=200").await;
    residents.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["slug"] == slug)
        .unwrap_or_else(|| panic!("{slug} is public: {}", residents.text))["id"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn erasure_makes_every_public_surface_forget_a_resident() {
    let app = TestApp::with_demo().await;
    app.drain().await;
    let sun = app.get("/people/sun-jianwei").await;
    sun.assert_status(200);
    let id = public_resident_id(&app, "sun-jianwei").await;
    let issue = app.get("/api/v1/issues").await.body["items"][0]["id"]
        .as_i64()
        .unwrap();
    // Private values in his record and so in the audit log.
    let current = app.staff_get(&format!("/api/v1/residents/{id}")).await;
    let phone = "13912345678";
    let address = "长寿路 999 弄 9 号私密";
    app.put(
        &format!("/api/v1/residents/{id}"),
        Some(&current.etag()),
        &json!({ "name": "孙建伟", "community_id": current.body["community_id"],
                 "citation": "推荐理由", "phone": phone, "birth_year": 1955, "address": address }),
    )
    .await
    .assert_status(200);
    let photos = app
        .get(&format!("/api/v1/photos?owner_kind=resident&owner_id={id}"))
        .await;
    let media = media_paths(&photos.body);
    assert!(!media.is_empty(), "the demo has his portrait");
    for path in &media {
        let path = path.trim_start_matches("https://youde.example.org");
        assert_eq!(app.fetch(path, false).await.0.as_u16(), 200, "{path}");
    }
    app.drain().await;
    let before = public_surfaces(&app, id, "sun-jianwei", issue).await;
    assert!(
        before
            .iter()
            .filter(|(_, t)| t.contains("sun-jianwei"))
            .count()
            >= 8,
        "he is public before: {:?}",
        before.iter().map(|(p, _)| p).collect::<Vec<_>>()
    );
    let media_before = app.media_files().await.len();

    // Only an admin may erase.
    let reviewer = app
        .user_token("reviewer-x", &["reviewer", "nominator"])
        .await;
    app.send_as(
        &reviewer,
        "POST",
        &format!("/api/v1/residents/{id}/erasure"),
        None,
    )
    .await
    .assert_status(403);
    let erased = app
        .post(&format!("/api/v1/residents/{id}/erasure"), &json!({}))
        .await;
    erased.assert_status(200);
    assert!(!erased.body["photos_deleted"].as_array().unwrap().is_empty());
    assert!(!erased.body["stories_unpublished"]
        .as_array()
        .unwrap()
        .is_empty());
    app.drain().await;

    app.get("/people/sun-jianwei").await.assert_status(410);
    app.get("/people/sun-jianwei/print")
        .await
        .assert_status(410);
    for (path, text) in public_surfaces(&app, id, "sun-jianwei", issue).await {
        for gone in ["sun-jianwei", "孙建伟", phone, address] {
            // A search page repeats the question and its placeholder is his name; hits carry
            // the slug.
            if gone == "孙建伟" && path.contains("search?q=") {
                continue;
            }
            assert!(
                !text.contains(gone),
                "{path} still shows {gone}: {}",
                &text[text.find(gone).unwrap().saturating_sub(600)..]
            );
        }
    }
    for path in &media {
        let path = path.trim_start_matches("https://youde.example.org");
        assert_eq!(app.fetch(path, false).await.0.as_u16(), 404, "{path}");
    }
    assert!(
        app.media_files().await.len() < media_before,
        "his files are gone"
    );

    // The audit log keeps the events, without the values.
    let audit = app
        .staff_get(&format!(
            "/api/v1/audit?entity_kind=resident&entity_id={id}&limit=200"
        ))
        .await;
    audit.assert_status(200);
    assert!(audit.text.contains("resident.update") && audit.text.contains("resident.erase"));
    assert!(!audit.text.contains(phone) && !audit.text.contains(address));
    // The tombstone stays for staff, and nothing can be put back.
    let staff = app.staff_get(&format!("/api/v1/residents/{id}")).await;
    assert!(staff.body["erased_at"].is_string() && staff.body["phone"].is_null());
    let refused = app.consent(id, "profile").await;
    refused.assert_status(409);
    let refused = app
        .put(
            &format!("/api/v1/residents/{id}"),
            Some(&staff.etag()),
            &json!({ "name": "孙建伟", "community_id": staff.body["community_id"], "phone": phone }),
        )
        .await;
    refused.assert_status(409);
}

#[tokio::test]
async fn an_admin_erases_from_the_console_and_nobody_else_is_offered_it() {
    let app = TestApp::spawn().await;
    let community_id = app.compound_id().await;
    let created = app
        .create_resident(
            &json!({ "name": "王芳", "community_id": community_id, "phone": "13912340000" }),
        )
        .await;
    let id = created.body["id"].as_i64().unwrap();
    let page = format!("/admin/residents/{id}");
    let action = format!("/admin/residents/{id}/erasure");

    let mut nominator = Browser::signed_in(&app, "wang-li", &["nominator"]).await;
    assert!(!nominator.get(&page).await.text.contains(&action));
    let mut admin = Browser::signed_in(&app, "guan-li", &["admin"]).await;
    assert!(admin.get(&page).await.text.contains(&action));
    let done = admin.submit(&page, &action, &[]).await;
    assert_eq!(done.status.as_u16(), 303, "{}", done.text);
    let after = admin.get(&page).await;
    assert!(
        after.text.contains("按本人要求删除个人信息"),
        "{}",
        after.text
    );
    assert!(!after.text.contains("13912340000"));
    assert!(!after.text.contains(&action));
}
