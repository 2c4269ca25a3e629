//! The guarantees suite, derived from the contract rather than a hand-kept list of routes: every
//! GET operation of the OpenAPI document (each path parameter filled with every id the test
//! made) and every page, feed, sitemap entry and media file a visitor can reach by following links
//! from the public entry points, and every console page an editor can reach, are scanned for
//! planted private values (phone, ID number, address, birth year, objector's name and contact) in
//! each state a resident can be in: never consented, consented, withdrawn, deleted, erased.

use std::collections::{BTreeSet, VecDeque};

use chrono::Duration;
use serde_json::json;

use crate::console::Browser;
use crate::helpers::TestApp;
use crate::leaks::unique_id_number;
use crate::workflow::{cast, move_to, nomination};

const PUBLIC_URL: &str = "https://youde.example.org";
/// More pages than the site has, so a crawl that loops still ends.
const MAX_PAGES: usize = 400;

/// What must never leave through an answer the asker may not see private fields in.
struct Secrets(Vec<String>);

impl Secrets {
    #[track_caller]
    fn assert_absent(&self, state: &str, what: &str, body: &str) {
        for secret in &self.0 {
            assert!(
                !body.contains(secret.as_str()),
                "[{state}] {what} leaks {secret}"
            );
        }
        if what.contains("/api/v1/") {
            assert!(
                !body.contains("\"birth_year\""),
                "[{state}] {what} carries birth_year"
            );
        }
    }
}

/// A resident with unique private values; returns (id, secrets).
async fn planted(app: &TestApp, name: &str, birth_year: i32) -> (i64, Vec<String>) {
    let tag = rand::random::<u32>();
    let phone = format!("137{:08}", tag % 100_000_000);
    let id_number = unique_id_number();
    let address = format!("长寿路 {tag} 弄 {name} 家私密地址");
    let community_id = app.compound_id().await;
    let created = app
        .create_resident(&json!({ "name": name, "community_id": community_id,
            "citation": format!("{name}热心服务邻里。"), "phone": phone, "id_number": id_number,
            "birth_year": birth_year, "address": address }))
        .await;
    created.assert_status(201);
    let id = created.body["id"].as_i64().unwrap();
    app.add_record(
        id,
        &json!({ "kind": "role", "title": "楼组长", "start": "2012", "unpaid": true }),
    )
    .await
    .assert_status(201);
    (id, vec![phone, id_number, address])
}

/// Every id the test could have made (1 up to the row count of each table), and `extra`.
async fn all_ids(app: &TestApp, extra: Vec<String>) -> Vec<String> {
    let mut ids: BTreeSet<String> = extra.into_iter().collect();
    for table in [
        "residents",
        "service_records",
        "nominations",
        "public_notices",
        "objections",
        "stories",
        "newsletter_issues",
        "photos",
        "communities",
        "consents",
        "recognitions",
        "categories",
        "users",
        "activities",
    ] {
        let max = app.count(table).await;
        ids.extend((1..=max.max(1)).map(|i| i.to_string()));
    }
    ids.into_iter().collect()
}

/// Every GET path template of the OpenAPI document, under `/api/v1`.
async fn api_get_templates(app: &TestApp) -> Vec<String> {
    let spec = app.get("/api/openapi.json").await;
    spec.body["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .filter(|(_, ops)| ops.get("get").is_some())
        .map(|(path, _)| format!("/api/v1{path}"))
        .collect()
}

/// Each template with its parameters filled by every candidate (a resident's sub-paths take
/// residents' ids only); parameterless ones also with a query naming the residents.
fn fill(templates: &[String], residents: &[i64], ids: &[String], names: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for template in templates {
        let mut paths = vec![template.clone()];
        while let Some(start) = paths[0].find('{') {
            let end = start + paths[0][start..].find('}').unwrap();
            let resident_param =
                paths[0][..start].ends_with("/residents/") && paths[0][end..].len() > 1;
            let values: Vec<String> = if resident_param {
                residents.iter().map(i64::to_string).collect()
            } else {
                ids.to_vec()
            };
            paths = paths
                .iter()
                .flat_map(|p| {
                    values
                        .iter()
                        .map(move |v| format!("{}{v}{}", &p[..start], &p[end + 1..]))
                })
                .collect();
        }
        if !template.contains('{') {
            for name in names {
                paths.push(format!("{template}?q={}&limit=200", urlencode(name)));
            }
        }
        out.extend(paths);
    }
    out
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Same-site links in a body: `href`, `src`, sitemap `<loc>`, feed `url`s.
fn links(body: &str, within: &str) -> Vec<String> {
    let mut out = Vec::new();
    for marker in [
        "href=\"",
        "src=\"",
        "<loc>",
        "\"url\":\"",
        "\"id\":\"",
        "action=\"",
    ] {
        for piece in body.split(marker).skip(1) {
            let end = piece.find(['"', '<', '#']).unwrap_or(piece.len());
            let link = piece[..end].replace("&amp;", "&");
            let link = link.strip_prefix(PUBLIC_URL).unwrap_or(&link).to_string();
            if link.starts_with(within) && !link.starts_with("//") && !link.starts_with("/static/")
            {
                out.push(link);
            }
        }
    }
    out
}

/// Follow links from `seeds`, GET only, staying under `within`; returns (path, body) of each.
async fn crawl(
    app: &TestApp,
    browser: Option<&mut Browser<'_>>,
    seeds: &[String],
    within: &str,
) -> Vec<(String, String)> {
    let mut seen: BTreeSet<String> = seeds.iter().cloned().collect();
    let mut queue: VecDeque<String> = seeds.iter().cloned().collect();
    let mut out = Vec::new();
    let mut browser = browser;
    while let Some(path) = queue.pop_front() {
        assert!(out.len() < MAX_PAGES, "the crawl does not end");
        let text = match browser.as_deref_mut() {
            Some(b) => b.get(&path).await.text,
            None => String::from_utf8_lossy(&app.fetch(&path, false).await.2).to_string(),
        };
        for link in links(&text, within) {
            if link.contains("/logout") || link.contains("/publication") {
                continue;
            }
            if seen.insert(link.clone()) {
                queue.push_back(link);
            }
        }
        out.push((path, text));
    }
    out
}

struct World {
    residents: Vec<i64>,
    slugs: Vec<String>,
    names: Vec<String>,
    ids: Vec<String>,
    secrets: Secrets,
    /// The objector's name and contact: reviewers and admins only.
    objector: Secrets,
}

/// Every page of every 街道's and district's own site: each `/s/:slug…` route of the public
/// router (`src/web/mod.rs`), for each such community, searches with each planted name, and the
/// first part of each site's sitemap.
async fn site_pages(app: &TestApp, names: &[String]) -> Vec<String> {
    let router = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/web/mod.rs"),
    )
    .unwrap();
    let routes: Vec<&str> = router
        .split(".at(")
        .skip(1)
        .filter_map(|call| call.split('"').nth(1))
        .filter(|route| route.starts_with("/s/:slug"))
        .collect();
    assert!(routes.len() >= 5, "the router reader found {routes:?}");
    let communities = app.get("/api/v1/communities?limit=200").await.body["items"].clone();
    let mut pages = Vec::new();
    for c in communities.as_array().unwrap() {
        if c["kind"] != "subdistrict" && c["kind"] != "district" {
            continue;
        }
        let slug = c["slug"].as_str().unwrap();
        for route in &routes {
            let page = route
                .replace(":slug", slug)
                .replace(":file", "people-0.xml");
            if page.ends_with("/search") {
                pages.extend(names.iter().map(|n| format!("{page}?q={}", urlencode(n))));
            } else {
                pages.push(page);
            }
        }
    }
    assert!(
        !pages.is_empty(),
        "no 街道 or district to scan the sites of"
    );
    pages
}

/// Scan every API GET (anonymous and as an editor), every public page reachable from the entry
/// points, and every console page an editor reaches. Returns how many answers were checked.
async fn scan(app: &TestApp, world: &World, editor: &str, state: &str) -> usize {
    app.drain().await;
    let templates = api_get_templates(app).await;
    let mut checked = 0;
    for path in fill(&templates, &world.residents, &world.ids, &world.names) {
        let (status, headers, bytes) = app.fetch(&path, false).await;
        let anonymous = readable(&headers, &bytes);
        assert!(status.as_u16() < 500, "[{state}] {path}: {anonymous}");
        world
            .secrets
            .assert_absent(state, &format!("anonymous GET {path}"), &anonymous);
        let as_editor = app.send_as(editor, "GET", &path, None).await;
        world
            .secrets
            .assert_absent(state, &format!("editor GET {path}"), &as_editor.text);
        checked += 2;
    }
    let mut seeds: Vec<String> = [
        "/",
        "/sitemap.xml",
        "/feeds/stories.atom",
        "/feeds/stories.json",
        "/notices",
    ]
    .map(String::from)
    .to_vec();
    seeds.extend(site_pages(app, &world.names).await);
    for slug in &world.slugs {
        seeds.push(format!("/people/{slug}"));
        seeds.push(format!("/people/{slug}/print"));
    }
    for name in &world.names {
        seeds.push(format!("/search?q={}", urlencode(name)));
    }
    for (path, body) in crawl(app, None, &seeds, "/").await {
        assert!(
            !path.starts_with("/admin"),
            "public pages link into the console: {path}"
        );
        world
            .secrets
            .assert_absent(state, &format!("page {path}"), &body);
        checked += 1;
    }
    // In the console, editors may see no private value; nominators see residents' private
    // fields (their job) but never who objected.
    for (username, secrets) in [
        (editor_name(), &world.secrets),
        (NOMINATOR, &world.objector),
    ] {
        let mut browser = Browser::new(app);
        browser.sign_in(username).await;
        let seeds = ["/admin".to_string()];
        let pages = crawl(app, Some(&mut browser), &seeds, "/admin").await;
        assert!(pages.len() > 5, "{username} reached the console: {pages:?}");
        for (path, body) in pages {
            secrets.assert_absent(state, &format!("{username}'s console {path}"), &body);
            checked += 1;
        }
    }
    checked
}

/// The user name of the `cast`'s nominator (see `workflow::cast`).
const NOMINATOR: &str = "wang-li";

/// A body as text: an issue pack (zip) unpacked, entry names and contents.
fn readable(headers: &poem::http::HeaderMap, bytes: &[u8]) -> String {
    let zip = headers
        .get("content-type")
        .is_some_and(|t| t.as_bytes().starts_with(b"application/zip"));
    if !zip {
        return String::from_utf8_lossy(bytes).to_string();
    }
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip");
    let mut text = String::new();
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).unwrap();
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut file, &mut buf).unwrap();
        text.push_str(&file.name().unwrap());
        text.push_str(&String::from_utf8_lossy(&buf));
    }
    text
}

fn editor_name() -> &'static str {
    "guarantee-editor"
}

#[tokio::test]
async fn no_private_value_reaches_anyone_not_allowed_in_any_resident_state() {
    let app = TestApp::spawn().await;
    let cast = cast(&app).await;
    let editor = app.user_token(editor_name(), &["editor"]).await;
    let (a, mut secrets) = planted(&app, "甘守义", 1937).await;
    let (b, more) = planted(&app, "柏文静", 1941).await;
    secrets.extend(more);
    let tag = rand::random::<u32>();
    let objector_name = format!("异议人{tag}");
    let objector_contact = format!("objector-{tag}@example.cn");
    secrets.push(objector_name.clone());
    secrets.push(objector_contact.clone());

    // A nomination of A, taken as far as it goes without consent.
    let mut body = nomination(&cast);
    body["resident_id"] = json!(a);
    let n = app
        .send_as(&cast.nominator, "POST", "/api/v1/nominations", Some(&body))
        .await;
    n.assert_status(201);
    let n = n.body["id"].as_i64().unwrap();
    move_to(&app, &cast.nominator, n, "submitted")
        .await
        .assert_status(200);
    move_to(&app, &cast.reviewer, n, "in_review")
        .await
        .assert_status(200);

    let resident_view = |id: i64| {
        let app = &app;
        async move { app.staff_get(&format!("/api/v1/residents/{id}")).await }
    };
    let slugs = vec![
        resident_view(a).await.body["slug"]
            .as_str()
            .unwrap()
            .to_string(),
        resident_view(b).await.body["slug"]
            .as_str()
            .unwrap()
            .to_string(),
    ];
    let mut world = World {
        residents: vec![a, b],
        slugs,
        names: vec!["甘守义".into(), "柏文静".into(), "gsy".into()],
        ids: vec![],
        secrets: Secrets(secrets),
        objector: Secrets(vec![objector_name.clone(), objector_contact.clone()]),
    };
    let mut counted = Vec::new();
    world.ids = all_ids(&app, vec![]).await;
    counted.push((
        "never consented",
        scan(&app, &world, &editor, "never consented").await,
    ));

    // Consented: profile, portrait and story; a portrait, a published story naming both, the
    // notice open with an objection.
    for r in [a, b] {
        for scope in ["profile", "photo", "story"] {
            app.consent(r, scope).await.assert_status(201);
        }
    }
    app.upload_for_resident(a, &crate::photos::jpeg(64, 48))
        .await
        .assert_status(201);
    let story = app
        .send_as(
            &editor,
            "POST",
            "/api/v1/stories",
            Some(&json!({
            "title": "两位热心人", "body": "楼道里的故事。", "resident_ids": [a, b] })),
        )
        .await;
    story.assert_status(201);
    let story_id = story.body["id"].as_i64().unwrap();
    app.send_as(
        &editor,
        "PUT",
        &format!("/api/v1/stories/{story_id}/publication"),
        Some(&json!({ "published": true })),
    )
    .await
    .assert_status(200);
    let issue = app
        .send_as(
            &editor,
            "POST",
            "/api/v1/issues",
            Some(&json!({
            "name": "2019年9月", "date": "2019-09-01", "story_ids": [story_id] })),
        )
        .await;
    issue.assert_status(201);
    app.send_as(
        &editor,
        "PUT",
        &format!("/api/v1/issues/{}/publication", issue.body["id"]),
        Some(&json!({ "published": true })),
    )
    .await
    .assert_status(200);
    let noticed = move_to(&app, &cast.reviewer, n, "public_notice").await;
    noticed.assert_status(200);
    let notice = noticed.body["notice"]["id"].as_i64().unwrap();
    let filed = app
        .send(app.client.post(format!("/api/v1/notices/{notice}/objections")).body_json(
            &json!({ "name": objector_name, "contact": objector_contact, "content": "请核实" })))
        .await;
    filed.assert_status(201);
    let receipt = filed.body["receipt_code"].as_str().unwrap().to_string();
    world.ids = all_ids(&app, vec![receipt.clone()]).await;
    counted.push(("consented", scan(&app, &world, &editor, "consented").await));
    // The planted values really are there for staff who may see them.
    assert!(resident_view(a).await.text.contains(&world.secrets.0[0]));

    // Withdrawn, during and after the window.
    for r in [a, b] {
        for scope in ["profile", "photo", "story"] {
            app.withdraw_consent(r, scope).await;
        }
    }
    counted.push(("withdrawn", scan(&app, &world, &editor, "withdrawn").await));
    app.clock.advance(Duration::days(8));

    // B deleted, A erased.
    app.delete(&format!("/api/v1/residents/{b}"))
        .await
        .assert_status(204);
    app.post(&format!("/api/v1/residents/{a}/erasure"), &json!({}))
        .await
        .assert_status(200);
    counted.push((
        "deleted and erased",
        scan(&app, &world, &editor, "deleted / erased").await,
    ));

    let total: usize = counted.iter().map(|(_, n)| n).sum();
    eprintln!("guarantees: {counted:?}, {total} answers checked");
    assert!(counted.iter().all(|(_, n)| *n > 100), "{counted:?}");
}
