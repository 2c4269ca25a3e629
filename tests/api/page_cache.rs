//! The page cache as a reader sees it: a write changes the pages that show what it changed at
//! once and leaves every other page as it was (served from the cache: `X-Cache: hit`, same
//! `ETag`); a consent withdrawal removes the resident everywhere at once, never served stale;
//! concurrent first requests for a page share one render.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use poem::test::TestClient;
use poem::EndpointExt;
use serde_json::json;
use youde::router::routes;
use youde::state::AppState;

use crate::helpers::{Reply, TestApp};

fn served(reply: &Reply) -> &str {
    reply.headers["x-cache"].to_str().unwrap()
}

/// A resident with a public profile in the first compound; returns (id, slug).
async fn public_resident(app: &TestApp, name: &str, citation: &str) -> (i64, String) {
    let community_id = app.compound_id().await;
    let reply = app
        .create_resident(
            &json!({ "name": name, "community_id": community_id, "citation": citation }),
        )
        .await;
    reply.assert_status(201);
    let id = reply.body["id"].as_i64().unwrap();
    app.consent(id, "profile").await.assert_status(201);
    (id, reply.body["slug"].as_str().unwrap().to_string())
}

/// Replace a resident's citation through the API, as staff do.
async fn edit_citation(app: &TestApp, id: i64, citation: &str) {
    let current = app.staff_get(&format!("/api/v1/residents/{id}")).await;
    let body = json!({ "name": current.body["name"], "community_id": current.body["community_id"],
                       "citation": citation });
    app.put(
        &format!("/api/v1/residents/{id}"),
        Some(&current.etag()),
        &body,
    )
    .await
    .assert_status(200);
}

async fn community_slug(app: &TestApp) -> String {
    let id = app.compound_id().await;
    app.get(&format!("/api/v1/communities/{id}")).await.body["slug"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_write_to_one_resident_changes_their_page_at_once_and_leaves_the_others_cached() {
    let app = TestApp::spawn().await;
    let (a, a_slug) = public_resident(&app, "王小明", "热心肠").await;
    let (b, b_slug) = public_resident(&app, "李小红", "老党员").await;
    let a_page = format!("/people/{a_slug}");
    let b_page = format!("/people/{b_slug}");
    assert_eq!(served(&app.get(&a_page).await), "miss");
    let b_first = app.get(&b_page).await;
    assert_eq!(served(&b_first), "miss");
    assert_eq!(served(&app.get(&a_page).await), "hit");

    // A new resident nobody may see yet changes no public page.
    let community_id = app.compound_id().await;
    app.create_resident(&json!({ "name": "赵小刚", "community_id": community_id }))
        .await
        .assert_status(201);
    assert_eq!(served(&app.get(&a_page).await), "hit");
    assert_eq!(served(&app.get(&b_page).await), "hit");

    // Editing A shows on A's page on the next request; B's page is the same cached copy.
    edit_citation(&app, a, "二十年如一日照顾邻居").await;
    let a_after = app.get(&a_page).await;
    assert_eq!(served(&a_after), "miss");
    assert!(a_after.text.contains("二十年如一日照顾邻居"));
    assert!(!a_after.text.contains("热心肠"));
    let b_after = app.get(&b_page).await;
    assert_eq!(served(&b_after), "hit");
    assert_eq!(b_after.etag(), b_first.etag());

    // A record of B's changes B's page, and A's stays cached.
    app.add_record(
        b,
        &json!({ "kind": "volunteer_hours", "title": "楼道清扫", "start": "2021",
                 "measures": [{ "value": 40, "unit": "hours" }] }),
    )
    .await
    .assert_status(201);
    let b_recorded = app.get(&b_page).await;
    assert_eq!(served(&b_recorded), "miss");
    assert!(b_recorded.text.contains("楼道清扫"));
    assert_eq!(served(&app.get(&a_page).await), "hit");
}

#[tokio::test]
async fn a_consent_withdrawal_removes_the_resident_from_every_page_at_once() {
    let app = TestApp::spawn().await;
    let (a, a_slug) = public_resident(&app, "王小明", "热心肠").await;
    let (_, b_slug) = public_resident(&app, "李小红", "老党员").await;
    let community = format!("/communities/{}", community_slug(&app).await);
    let pages = [
        format!("/people/{b_slug}"),
        community.clone(),
        "/sitemaps/people-0.xml".to_string(),
        "/".to_string(),
    ];
    for page in &pages {
        app.get(page).await.assert_status(200);
    }
    let listed = app.get(&community).await;
    assert_eq!(served(&listed), "hit");
    assert!(listed.text.contains("王小明"));
    assert!(app
        .get("/sitemaps/people-0.xml")
        .await
        .text
        .contains(&a_slug));
    assert_eq!(served(&app.get(&format!("/people/{a_slug}")).await), "miss");

    app.withdraw_consent(a, "profile").await;

    // Many readers at once, as when a stale copy would be handed out during a render: none of
    // them sees A any more.
    let requests = pages
        .iter()
        .chain(pages.iter())
        .map(|p| app.get(p))
        .collect::<Vec<_>>();
    for reply in join_all(requests).await {
        reply.assert_status(200);
        assert_ne!(served(&reply), "stale");
        assert!(!reply.text.contains("王小明"), "{}", reply.text);
        assert!(!reply.text.contains(&a_slug), "{}", reply.text);
    }
    app.get(&format!("/people/{a_slug}"))
        .await
        .assert_status(410);
}

#[tokio::test]
async fn concurrent_first_requests_for_a_page_share_one_render() {
    let mut state = None;
    let app = TestApp::spawn_configured(|s| state = Some(s.clone())).await;
    let pages = state.unwrap().pages;
    let (_, slug) = public_resident(&app, "王小明", "热心肠").await;
    let page = format!("/people/{slug}");
    let replies = join_all((0..8).map(|_| app.get(&page))).await;
    let renders = replies.iter().filter(|r| served(r) == "miss").count();
    assert_eq!(
        renders,
        1,
        "{:?}",
        replies.iter().map(served).collect::<Vec<_>>()
    );
    for reply in &replies {
        reply.assert_status(200);
        assert!(
            matches!(served(reply), "miss" | "shared"),
            "{}",
            served(reply)
        );
        assert_eq!(reply.etag(), replies[0].etag());
    }
    assert_eq!(served(&app.get(&page).await), "hit");
    // The counters the server logs agree: one render, seven shared, one hit.
    let stats = pages.stats();
    assert_eq!((stats.renders, stats.shared, stats.hits), (1, 7, 1));
    assert!((stats.hit_ratio() - 8.0 / 9.0).abs() < 1e-9);
    assert_eq!(stats.entries, 1);
}

#[tokio::test]
async fn while_a_changed_page_renders_other_readers_get_the_previous_copy() {
    let app = TestApp::spawn().await;
    let (a, slug) = public_resident(&app, "王小明", "热心肠").await;
    let page = format!("/people/{slug}");
    let before = app.get(&page).await;
    edit_citation(&app, a, "二十年如一日照顾邻居").await;
    let replies = join_all((0..4).map(|_| app.get(&page))).await;
    // The first waits for the new render; the others are not held up by it.
    assert_eq!(served(&replies[0]), "miss");
    assert!(replies[0].text.contains("二十年如一日照顾邻居"));
    for reply in &replies[1..] {
        assert_eq!(served(reply), "stale");
        assert_eq!(reply.etag(), before.etag());
    }
    let after = app.get(&page).await;
    assert_eq!(served(&after), "hit");
    assert_eq!(after.etag(), replies[0].etag());
}

#[tokio::test]
async fn another_node_learns_of_a_write_from_the_audit_log_with_the_same_targeting() {
    let mut first_node = None;
    let app = TestApp::spawn_configured(|state| first_node = Some(state.clone())).await;
    // A second node over the same database, with its own page cache and the audit-log watcher.
    let state = AppState {
        pages: Arc::default(),
        ..first_node.unwrap()
    };
    tokio::spawn(youde::cache::watch_changes(
        state.pages.clone(),
        state.db.clone(),
        Duration::from_millis(20),
    ));
    let node = TestClient::new(routes(state).map_to_response().boxed());
    let (a, a_slug) = public_resident(&app, "王小明", "热心肠").await;
    let (_, b_slug) = public_resident(&app, "李小红", "老党员").await;
    let a_page = format!("/people/{a_slug}");
    let b_page = format!("/people/{b_slug}");
    // Until the watcher has seen the consents, a page may still be rendered again.
    let deadline = Instant::now() + Duration::from_secs(10);
    while served(&app.send(node.get(&b_page)).await) != "hit" {
        assert!(
            Instant::now() < deadline,
            "B's page never settled on the second node"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let b_first = app.send(node.get(&b_page)).await;
    app.send(node.get(&a_page)).await.assert_status(200);

    // Written through the first node: a resident without consent, then an edit of A.
    let community_id = app.compound_id().await;
    app.create_resident(&json!({ "name": "赵小刚", "community_id": community_id }))
        .await
        .assert_status(201);
    edit_citation(&app, a, "二十年如一日照顾邻居").await;
    loop {
        let a_now = app.send(node.get(&a_page)).await;
        if a_now.text.contains("二十年如一日照顾邻居") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the edit never reached the second node"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let b_after = app.send(node.get(&b_page)).await;
    assert_eq!(served(&b_after), "hit");
    assert_eq!(b_after.etag(), b_first.etag());
}
