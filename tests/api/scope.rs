//! Staff scoped to a community subtree (issue #17): a user whose grant is for one 街道 finds
//! nothing of another through any route. The operations come from the served OpenAPI document
//! and their bodies from the role matrix's reading of it (`roles::rules`), so a new route is asked the day
//! it is added; the few routes about no community at all are named below with the reason.

use std::collections::HashMap;

use serde_json::{json, Value};

use crate::contract::{fill_path, operations, served_spec};
use crate::helpers::{TestApp, ADMIN_TOKEN};
use crate::roles::{demo_ids, request, rules, Rule};

/// Routes that concern no community, answered to a scoped user as to anyone of their roles: their
/// own account and tokens, the seal's status, and the empty roster templates.
const NOT_OF_A_COMMUNITY: &[&str] = &[
    "GET /sessions/current",
    "DELETE /sessions/current",
    "POST /sessions",
    "GET /tokens",
    "POST /tokens",
    "GET /certificates/seal",
    "GET /imports/templates/residents",
    "GET /imports/templates/service-records",
    "GET /imports/templates/participation",
];

async fn scoped_token(app: &TestApp, username: &str, roles: &[&str], community: i64) -> String {
    app.scoped_token(username, roles, Some(community)).await
}

/// The demo's district, and a second 街道 under it with one 居民区 and nobody in it yet.
async fn second_subdistrict(app: &TestApp) -> (i64, i64) {
    let all = app.staff_get("/api/v1/communities?limit=200").await;
    let district = all.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "district")
        .expect("the demo has a district")["id"]
        .as_i64()
        .unwrap();
    let yichuan = app
        .post(
            "/api/v1/communities",
            &json!({ "name": "宜川路街道", "kind": "subdistrict", "parent_id": district }),
        )
        .await;
    yichuan.assert_status(201);
    (district, yichuan.body["id"].as_i64().unwrap())
}

/// A list whose every item the public is also shown (none at all, for a list of the registry).
fn within_public(scoped: &crate::helpers::Reply, anonymous: &crate::helpers::Reply) -> bool {
    let public = anonymous.body["items"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    scoped.body["items"]
        .as_array()
        .is_some_and(|items| items.iter().all(|i| public.contains(i)))
}

fn is_empty_list(reply: &crate::helpers::Reply) -> bool {
    reply.body["items"].as_array().is_some_and(|a| a.is_empty())
}

/// A CSV export with its header row and nothing else.
fn is_empty_table(reply: &crate::helpers::Reply) -> bool {
    reply.status == 200 && reply.text.trim().lines().count() <= 1
}

#[tokio::test]
async fn a_user_of_one_subdistrict_finds_nothing_of_another_through_any_route() {
    let app = TestApp::with_demo().await;
    let (_, yichuan) = second_subdistrict(&app).await;
    let token = scoped_token(
        &app,
        "yichuan-all",
        &["admin", "nominator", "reviewer", "editor"],
        yichuan,
    )
    .await;

    let mut ids = demo_ids(&app).await;
    let sun = ids["residents"].clone();
    // Real objects of the demo 街道 for the resources the demo lists have no first of.
    let recognition = ids["recognitions"].clone();
    let cert = app
        .post(
            &format!("/api/v1/recognitions/{recognition}/certificates"),
            &json!({}),
        )
        .await;
    cert.assert_status(201);
    ids.insert(
        "certificates",
        cert.body["id"].as_i64().unwrap().to_string(),
    );
    let first_user = app.staff_get("/api/v1/users").await.body["items"][0]["id"].clone();
    ids.insert("users", first_user.to_string());
    let nomination = app.staff_get("/api/v1/nominations").await.body["items"][0]["id"].clone();
    ids.insert("nominations", nomination.to_string());
    // A token of an account of the whole deployment.
    app.user_token("city-editor", &["editor"]).await;
    let all_tokens = app.staff_get("/api/v1/tokens?all=true").await.body;
    let city_token = all_tokens.as_array().unwrap().last().unwrap()["id"].clone();
    ids.insert("tokens", city_token.to_string());

    let served = served_spec(&app).await;
    let spec = operations(&served);
    let table = rules(
        &served,
        sun.parse().unwrap(),
        ids["communities"].parse().unwrap(),
    );
    // An objection to the demo's open notice, filed by the public.
    let objection = app
        .send(
            app.client
                .post(format!("/api/v1/notices/{}/objections", ids["notices"]))
                .body_json(
                    &json!({ "name": "居民甲", "contact": "13800000000", "content": "请核实" }),
                ),
        )
        .await;
    objection.assert_status(201);
    let receipt = objection.body["receipt_code"].as_str().unwrap().to_string();
    let found = app
        .staff_get(&format!("/api/v1/notices/{}/objections", ids["notices"]))
        .await;
    ids.insert("objections", found.body[0]["id"].to_string());
    // What the admin (who reaches everything) reads of each object before: none may change.
    let mut before: HashMap<String, String> = HashMap::new();
    for op in spec
        .iter()
        .filter(|op| op.starts_with("GET ") && op.contains('{'))
    {
        let path = fill_path(op.trim_start_matches("GET "), &ids, |_, _| None);
        before.insert(path.clone(), app.staff_get(&path).await.text);
    }

    let mut failures = Vec::new();
    let mut ordered = spec.clone();
    ordered.sort_by_key(|op| (op.starts_with("DELETE "), op.clone()));
    for op in &ordered {
        if NOT_OF_A_COMMUNITY.contains(&op.as_str()) {
            continue;
        }
        let Some((_, body, rule)) = table.iter().find(|(o, _, _)| o == op) else {
            failures.push(format!("{op}: no body in roles::rules"));
            continue;
        };
        let (method, template) = op.split_once(' ').unwrap();
        if method != "GET" && matches!(rule, Rule::Public) {
            continue; // open to anyone (an objection): not a matter of scope
        }
        let mut path = fill_path(template, &ids, |_, _| {
            template
                .ends_with("{receipt_code}")
                .then(|| receipt.clone())
        });
        if template == "/exports/audit" {
            path.push_str("?from=2000-01-01&to=2099-12-31"); // the period it needs: all of it
        }
        let scoped = app
            .send(request(&app, method, &path, Some(&token), body, &sun))
            .await;
        let anonymous = app
            .send(request(&app, method, &path, None, body, &sun))
            .await;
        let status = scoped.status.as_u16();
        let top_level_create = method == "POST" && !template.contains('{');
        let ok = status == 404
            || status == 403
            // A new object naming another 街道's resident or community: as if it did not exist.
            || (top_level_create && status == 422)
            // Or something of their own (an activity nobody took part in yet): what it is made
            // of is checked by the other cases, and no demo object may have changed (below).
            || (top_level_create && status == 201)
            // What anyone may read, answered as to anyone.
            || (status == anonymous.status.as_u16() && scoped.text == anonymous.text)
            // Lists: nothing of the other 街道 beyond what anyone may read.
            || (method == "GET" && status == 200 && within_public(&scoped, &anonymous))
            || (template.starts_with("/exports/")
                && is_empty_table(
                    &app.send_as(&token, "GET", &format!("{path}{}format=csv", if path.contains('?') { '&' } else { '?' }), None)
                        .await,
                ))
            // Accounts: only the user's own, granted inside their subtree.
            || (template == "/users"
                && method == "GET"
                && scoped.body["items"]
                    .as_array()
                    .is_some_and(|a| a.iter().all(|u| u["community_id"] == json!(yichuan))));
        if !ok {
            failures.push(format!(
                "{op} ({path}): {status} {}",
                if scoped.body.is_null() {
                    format!("({} bytes, not JSON)", scoped.text.len())
                } else {
                    scoped.text.chars().take(300).collect::<String>()
                }
            ));
        }
    }
    // Everyone's tokens, for a scoped admin: those of their 街道's accounts (their own).
    let mine = app
        .send_as(&token, "GET", "/api/v1/tokens", None)
        .await
        .body;
    let all = app
        .send_as(&token, "GET", "/api/v1/tokens?all=true", None)
        .await
        .body;
    if all != mine {
        failures.push(format!("GET /tokens?all=true shows others' tokens: {all}"));
    }
    let tokens_now = app.staff_get("/api/v1/tokens?all=true").await.body;
    if tokens_now.as_array().unwrap().last().unwrap()["revoked_at"] != Value::Null {
        failures.push("the city account's token was revoked".into());
    }
    for (path, was) in &before {
        let now = app.staff_get(path).await.text;
        if &now != was {
            failures.push(format!("{path} changed: {was}\n  → {now}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} routes let a user of 宜川路街道 reach 长寿路街道:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn staff_scoped_to_a_subdistrict_or_its_district_work_in_it() {
    let app = TestApp::with_demo().await;
    let (district, yichuan) = second_subdistrict(&app).await;
    let sun = crate::roles::first_id(&app, "/api/v1/residents").await;
    let home = app
        .staff_get(&format!("/api/v1/residents/{sun}"))
        .await
        .body["community_id"]
        .as_i64()
        .unwrap();
    let path = app
        .staff_get(&format!("/api/v1/communities/{home}"))
        .await
        .body;
    let changshou = path["parent_id"].as_i64().unwrap();

    for (who, root) in [("changshou", changshou), ("putuo", district)] {
        let token = scoped_token(&app, who, &["nominator", "reviewer"], root).await;
        let one = app
            .send_as(&token, "GET", &format!("/api/v1/residents/{sun}"), None)
            .await;
        one.assert_status(200);
        let as_admin = app.staff_get(&format!("/api/v1/residents/{sun}")).await;
        assert_eq!(
            one.body, as_admin.body,
            "{who} reads the resident as staff do"
        );
        let list = app.send_as(&token, "GET", "/api/v1/residents", None).await;
        assert!(
            list.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["id"].as_i64() == sun.parse().ok()),
            "{who} lists the demo's residents"
        );
        let noms = app
            .send_as(&token, "GET", "/api/v1/nominations", None)
            .await;
        assert!(!is_empty_list(&noms), "{who} sees the demo's nominations");
    }

    // A nominator of 宜川路 files residents there, never in 长寿路.
    let yc_area = app
        .post(
            "/api/v1/communities",
            &json!({ "name": "宜川一村", "kind": "residential_area", "parent_id": yichuan }),
        )
        .await;
    yc_area.assert_status(201);
    let yc_area = yc_area.body["id"].as_i64().unwrap();
    let token = scoped_token(&app, "yichuan", &["nominator", "admin"], yichuan).await;
    let refused = app
        .send_as(
            &token,
            "POST",
            "/api/v1/residents",
            Some(&json!({ "name": "越界", "community_id": home })),
        )
        .await;
    refused.assert_status(422);
    assert_eq!(refused.invalid_fields(), ["community_id"]);
    let made = app
        .send_as(
            &token,
            "POST",
            "/api/v1/residents",
            Some(&json!({ "name": "宜川居民", "community_id": yc_area })),
        )
        .await;
    made.assert_status(201);
    let list = app.send_as(&token, "GET", "/api/v1/residents", None).await;
    let names: Vec<&str> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["宜川居民"]);

    // A photo of theirs names, of the people pictured, only those they reach or anyone may see.
    let made_id = made.body["id"].as_i64().unwrap();
    let hidden = app
        .create_resident(&json!({ "name": "长寿未公开", "community_id": home }))
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let pictured = format!("{made_id},{hidden}");
    let photo = app
        .upload(
            &crate::photos::jpeg(16, 12),
            "group.jpg",
            &[
                ("owner_kind", "resident"),
                ("owner_id", &made_id.to_string()),
                ("residents", &pictured),
            ],
        )
        .await;
    photo.assert_status(201);
    let as_admin = app
        .staff_get(&format!("/api/v1/photos/{}", photo.body["id"]))
        .await;
    assert_eq!(as_admin.body["resident_ids"], json!([made_id, hidden]));
    let theirs = app
        .send_as(
            &token,
            "GET",
            &format!("/api/v1/photos/{}", photo.body["id"]),
            None,
        )
        .await;
    theirs.assert_status(200);
    assert_eq!(
        theirs.body["resident_ids"],
        json!([made_id]),
        "{}",
        theirs.text
    );

    // Their audit log holds what the 街道's staff did, and nothing of anyone else's.
    let log = app
        .send_as(&token, "GET", "/api/v1/audit?limit=200", None)
        .await;
    log.assert_status(200);
    let events = log.body["items"].as_array().unwrap();
    assert!(
        events.iter().any(|e| e["action"] == "resident.create"),
        "{}",
        log.text
    );
    assert!(
        events.iter().all(|e| e["actor_name"] == "yichuan 测试"),
        "{}",
        log.text
    );
    // Their admin grants only inside 宜川路, and never the whole deployment.
    for (community, status) in [
        (json!(home), 422),
        (Value::Null, 422),
        (json!(yc_area), 201),
    ] {
        let reply = app
            .send_as(
                &token,
                "POST",
                "/api/v1/users",
                Some(
                    &json!({ "username": format!("yc-{}", community.as_i64().unwrap_or(0)),
                              "display_name": "新同事", "roles": ["nominator"],
                              "password": "a long enough password", "community_id": community }),
                ),
            )
            .await;
        reply.assert_status(status);
    }
    // The admin of the whole deployment is out of their sight.
    let admin = app
        .send_as(ADMIN_TOKEN, "GET", "/api/v1/users", None)
        .await
        .body["items"][0]["id"]
        .clone();
    app.send_as(&token, "GET", &format!("/api/v1/users/{admin}"), None)
        .await
        .assert_status(404);

    // Staff search stays in the subtree: the demo's people are not found from 宜川路.
    app.drain().await;
    let from_yichuan = app
        .send_as(&token, "GET", "/api/v1/search?q=孙&scope=staff", None)
        .await;
    from_yichuan.assert_status(200);
    assert_eq!(from_yichuan.body["total"], 0, "{}", from_yichuan.text);
    let everyone = app.staff_get("/api/v1/search?q=孙&scope=staff").await;
    assert!(
        everyone.body["total"].as_u64().unwrap() > 0,
        "{}",
        everyone.text
    );
}

#[tokio::test]
async fn the_console_shows_a_user_of_one_subdistrict_nothing_of_another() {
    let app = TestApp::with_demo().await;
    let (_, yichuan) = second_subdistrict(&app).await;
    scoped_token(
        &app,
        "yichuan-desk",
        &["admin", "nominator", "reviewer", "editor"],
        yichuan,
    )
    .await;
    let ids = demo_ids(&app).await;
    let recognition = &ids["recognitions"];
    let cert = app
        .post(
            &format!("/api/v1/recognitions/{recognition}/certificates"),
            &json!({}),
        )
        .await;
    let nomination = app.staff_get("/api/v1/nominations").await.body["items"][0]["id"].clone();
    let admin = app.staff_get("/api/v1/users").await.body["items"][0]["id"].clone();
    let record = ids["service-records"].clone();
    // The demo 街道's objects, by the console's name for them.
    let objects: HashMap<&str, String> = HashMap::from([
        ("residents", ids["residents"].clone()),
        ("photos", ids["photos"].clone()),
        ("nominations", nomination.to_string()),
        ("certificates", cert.body["id"].to_string()),
        ("users", admin.to_string()),
    ]);
    // Resources of no community: the newsletter's (refused to scoped editors), the templates.
    let not_of_a_community = ["stories", "issues", "templates", "imports"];

    let mut b = crate::console::Browser::new(&app);
    b.sign_in("yichuan-desk").await;
    let mut failures = Vec::new();
    let mut asked = 0;
    for pattern in crate::console::console_patterns("get(") {
        let segments: Vec<&str> = pattern.split('/').collect();
        let Some(at) = segments.iter().position(|s| s.starts_with(':')) else {
            continue;
        };
        let resource = segments[at - 1];
        if not_of_a_community.contains(&resource) {
            continue;
        }
        let Some(id) = objects.get(resource) else {
            failures.push(format!("{pattern}: no demo object for “{resource}”"));
            continue;
        };
        let path = segments
            .iter()
            .enumerate()
            .map(|(i, s)| match *s {
                ":record_id" => record.clone(),
                s if s.starts_with(':') && i == at => id.clone(),
                s => s.to_string(),
            })
            .collect::<Vec<_>>()
            .join("/");
        let reply = b.get(&path).await;
        asked += 1;
        if reply.status != 404 {
            failures.push(format!("{path}: {}", reply.status));
        }
    }
    assert!(asked >= 8, "asked only {asked} console pages");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Lists show nobody of the demo's.
    let residents = b.get("/admin/residents").await;
    assert!(!residents.text.contains("孙建伟"), "the residents list");
    let dashboard = b.get("/admin").await;
    dashboard.assert_status(200);
}
