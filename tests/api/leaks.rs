//! Private values never leave through a public answer: plant unique ones and look for them in
//! every answer of every GET operation of the served OpenAPI document (anonymous and as an
//! editor), in errors, and on every page reached by following links from the home page, the
//! sitemap and the feeds. No list of paths is kept by hand: a new operation or a newly linked page
//! is scanned the day it is added. (The issue pack is a zip: its compressed bytes are not read.)

use chrono::Duration;
use serde_json::json;
use youde::domain::resident::valid_id_number;

use std::collections::{BTreeSet, HashMap};

use crate::contract::{fill_path, first_ids, operations, served_spec};
use crate::helpers::TestApp;
use crate::workflow::{cast, in_notice};

/// The same-site pages reachable from `start` by following `href`/`src` links, at most `max`.
pub async fn crawl(app: &TestApp, start: &[&str], max: usize) -> Vec<String> {
    let mut seen: BTreeSet<String> = start.iter().map(|s| s.to_string()).collect();
    let mut queue: Vec<String> = start.iter().map(|s| s.to_string()).collect();
    let mut visited = Vec::new();
    while let Some(path) = queue.pop() {
        if visited.len() >= max {
            break;
        }
        let reply = app.get(&path).await;
        visited.push(path);
        for attr in ["href=\"", "src=\"", "<loc>", "<id>", "\"url\":\""] {
            for piece in reply.text.split(attr).skip(1) {
                let end = piece.find(['"', '<', '#']).unwrap_or(piece.len());
                let link = piece[..end].replace("&amp;", "&");
                let link = link
                    .strip_prefix("https://youde.example.org")
                    .unwrap_or(&link)
                    .to_string();
                let public = link.starts_with('/')
                    && !link.starts_with("//")
                    && !link.starts_with("/admin")
                    && !link.starts_with("/api/docs");
                if public && seen.insert(link.clone()) {
                    queue.push(link);
                }
            }
        }
    }
    visited
}

/// A valid resident ID number with a random serial, so it cannot appear by chance.
pub fn unique_id_number() -> String {
    let serial = rand::random::<u32>() % 1000;
    let base = format!("31010719620304{serial:03}");
    "0123456789X"
        .chars()
        .map(|c| format!("{base}{c}"))
        .find(|id| valid_id_number(id))
        .unwrap()
}

#[tokio::test]
async fn no_public_answer_carries_a_private_value() {
    let app = TestApp::with_demo().await;
    let cast = cast(&app).await;
    let tag = rand::random::<u32>();
    let phone = format!("139{:08}", tag % 100_000_000);
    let id_number = unique_id_number();
    let address = format!("长寿路 {tag} 弄私密地址");
    let objector_contact = format!("objector-{tag}@example.cn");
    let objector_name = format!("异议人{tag}");

    // The workflow resident gets private fields, an open notice and an objection.
    let current = app
        .staff_get(&format!("/api/v1/residents/{}", cast.resident))
        .await;
    let community_id = current.body["community_id"].clone();
    app.put(
        &format!("/api/v1/residents/{}", cast.resident),
        Some(&current.etag()),
        &json!({ "name": "孙建伟", "community_id": community_id, "citation": "推荐理由",
                  "phone": phone, "id_number": id_number, "birth_year": 1962, "address": address }),
    )
    .await
    .assert_status(200);
    app.add_record(
        cast.resident,
        &json!({ "kind": "role", "title": "楼组长", "start": "2015", "unpaid": true }),
    )
    .await;
    let (_, notice) = in_notice(&app, &cast).await;
    let filed = app
        .send(
            app.client
                .post(format!("/api/v1/notices/{notice}/objections"))
                .body_json(&json!({
            "name": objector_name, "contact": objector_contact, "content": "请核实" })),
        )
        .await;
    filed.assert_status(201);
    let receipt = filed.body["receipt_code"].as_str().unwrap().to_string();
    let r = cast.resident;

    let editor = app.user_token("leak-editor", &["editor"]).await;
    let secrets = [
        phone.as_str(),
        id_number.as_str(),
        address.as_str(),
        objector_contact.as_str(),
        objector_name.as_str(),
    ];
    // Every GET operation of the API's own document, with the ids of this resident, notice and
    // objection, read anonymously and as an editor (who sees only the public view of residents).
    let spec = served_spec(&app).await;
    let mut ids: HashMap<&str, String> = HashMap::new();
    ids.insert("residents", r.to_string());
    ids.insert("notices", notice.to_string());
    ids.insert("objections", receipt.clone());
    let record = app.records(r).await[0]["id"].as_i64().unwrap();
    ids.insert("service-records", record.to_string());
    first_ids(&app, &mut ids).await;
    let mut paths: Vec<String> = operations(&spec)
        .iter()
        .filter_map(|op| op.strip_prefix("GET "))
        .map(|template| fill_path(template, &ids, |_, _| None))
        .collect();
    paths.extend([
        "/api/v1/residents?limit=200".to_string(),
        "/api/v1/search?q=sunjianwei".to_string(),
        format!("/api/v1/search?q={phone}"),
        "/api/openapi.json".to_string(),
        "/api/v1/residents/not-a-number".to_string(),
        format!("/api/v1/residents/{r}/service-records/999999"),
    ]);
    // And every page a visitor can reach by following links from the home page, the sitemap and
    // the feeds (the console and the API docs are not public pages).
    app.drain().await;
    paths.extend(
        crawl(
            &app,
            &[
                "/",
                "/sitemap.xml",
                "/feeds/stories.atom",
                "/feeds/stories.json",
                "/notices",
            ],
            400,
        )
        .await,
    );
    assert!(
        paths.iter().any(|p| p.starts_with("/notices/"))
            && paths.iter().any(|p| p.starts_with("/people/")),
        "the crawl reached no notice or profile page: {paths:?}"
    );
    let mut bodies: Vec<(String, String)> = Vec::new();
    for path in &paths {
        bodies.push((format!("anonymous GET {path}"), app.get(path).await.text));
        bodies.push((
            format!("editor GET {path}"),
            app.send_as(&editor, "GET", path, None).await.text,
        ));
    }
    // Error answers to bad writes must not echo private values either.
    let bad = app
        .send(
            app.client
                .post(format!("/api/v1/notices/{notice}/objections"))
                .body_json(&json!({
            "name": objector_name, "contact": objector_contact, "content": "" })),
        )
        .await;
    bodies.push(("objection refused for empty content".into(), bad.text));
    app.clock.advance(Duration::days(8));
    bodies.push((
        "notices after closing".into(),
        app.get("/api/v1/notices").await.text,
    ));

    for (what, body) in &bodies {
        for secret in secrets {
            assert!(!body.contains(secret), "{what} leaks {secret}: {body}");
        }
        // The OpenAPI document names the field in its schema; answers must not carry it.
        if !what.contains("openapi.json") {
            assert!(
                !body.contains("\"birth_year\""),
                "{what} carries birth_year"
            );
        }
    }
    // The values are really there for those allowed to see them.
    assert!(app
        .staff_get(&format!("/api/v1/residents/{r}"))
        .await
        .text
        .contains(&phone));
    let reviewer_view = app
        .send_as(
            &cast.reviewer,
            "GET",
            &format!("/api/v1/notices/{notice}/objections"),
            None,
        )
        .await;
    assert!(reviewer_view.text.contains(&objector_contact));
}
