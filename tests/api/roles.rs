//! The role matrix: every operation of the served OpenAPI document against every role and
//! anonymous. Each answer must match the policy table in `youde::domain::policy`: 401 for
//! anonymous on staff routes, 403 for a role the table does not allow, and neither for a role it
//! allows. The operations come from the document itself; `RULES` says which policy each follows,
//! and an operation without a rule (a new route) fails the test until it is given one.

use std::collections::{BTreeSet, HashMap};

use poem::test::{TestForm, TestFormField};
use serde_json::{json, Value};
use youde::domain::policy::{allows, Action, Role};

use crate::contract::{fill_path, operations, served_spec};
use crate::helpers::{TestApp, PASSWORD};

#[derive(Clone, Copy, Debug)]
pub(crate) enum Rule {
    /// Anyone, signed in or not.
    Public,
    /// Any signed-in member of staff (their own things).
    AnyStaff,
    /// Staff whose role the table allows this action.
    Needs(Action),
    /// Staff whose role allows either action.
    Either(Action, Action),
}

/// What a request carries.
#[derive(Clone)]
pub(crate) enum Body {
    None,
    Json(Value),
    /// A small JPEG for the demo resident, as the multipart photo upload.
    Photo,
    /// A one-row residents roster (CSV), as the multipart import upload.
    Roster,
    /// A transparent PNG, as the seal upload's body.
    Seal,
}

const MISSING: i64 = 999_999;

/// The policy each operation follows, with a body it accepts (so that a refusal is the role's,
/// not the body's). Writes go to a missing id (404 for the roles allowed) unless the resource is
/// in `WRITES_TO_REAL`.
pub(crate) fn rules(sun: i64, community: i64) -> Vec<(&'static str, Body, Rule)> {
    use Action::*;
    use Body::{Json as J, None as N};
    use Rule::*;
    let resident = json!({ "name": "矩阵测试", "community_id": community });
    let record = json!({ "kind": "other", "title": "矩阵测试", "start": "2020" });
    let activity = json!({ "title": "矩阵测试", "date": "2020-01-01" });
    let nomination = json!({ "resident_id": sun, "category_id": 1, "honour_title": "矩阵测试", "year": 2020,
                             "citation": "测试", "statements": [{ "author": "甲", "relation": "乙", "body": "丙" }] });
    let story = json!({ "title": "矩阵", "body": "正文" });
    let issue = json!({ "name": "矩阵", "date": "2020-01-01" });
    vec![
        ("GET /communities", N, Public),
        ("GET /communities/{id}", N, Public),
        (
            "POST /communities",
            J(json!({ "name": "矩阵区", "kind": "district" })),
            Needs(EditRegistry),
        ),
        (
            "PUT /communities/{id}",
            J(json!({ "name": "x", "kind": "district" })),
            Needs(EditRegistry),
        ),
        ("DELETE /communities/{id}", N, Needs(EditRegistry)),
        ("GET /residents", N, Public),
        ("GET /residents/{id}", N, Public),
        ("GET /residents/{id}/summary", N, Public),
        ("POST /residents", J(resident.clone()), Needs(EditRegistry)),
        ("PUT /residents/{id}", J(resident), Needs(EditRegistry)),
        ("DELETE /residents/{id}", N, Needs(EditRegistry)),
        ("GET /residents/{id}/service-records", N, Public),
        ("GET /residents/{id}/service-records/{record_id}", N, Public),
        (
            "POST /residents/{id}/service-records",
            J(record.clone()),
            Needs(EditRegistry),
        ),
        (
            "PUT /residents/{id}/service-records/{record_id}",
            J(record),
            Needs(EditRegistry),
        ),
        (
            "DELETE /residents/{id}/service-records/{record_id}",
            N,
            Needs(EditRegistry),
        ),
        (
            "POST /residents/{id}/service-records/{record_id}/verification",
            N,
            Either(EditRegistry, Review),
        ),
        ("POST /residents/{id}/erasure", J(json!({})), Needs(Erase)),
        ("GET /residents/{id}/consents", N, Needs(ReadPrivate)),
        (
            "POST /residents/{id}/consents",
            J(json!({ "scope": "story", "text_version": "1", "signed_on": "2020-01-01" })),
            Needs(ManageConsent),
        ),
        (
            "POST /residents/{id}/consents/{consent_id}/withdraw",
            J(json!({})),
            Needs(ManageConsent),
        ),
        ("GET /activities", N, Public),
        ("GET /activities/{id}", N, Public),
        ("POST /activities", J(activity.clone()), Needs(EditRegistry)),
        ("PUT /activities/{id}", J(activity), Needs(EditRegistry)),
        ("DELETE /activities/{id}", N, Needs(EditRegistry)),
        ("GET /categories", N, Public),
        (
            "POST /categories",
            J(json!({ "code": "matrix", "name": "矩阵" })),
            Needs(ManageCategories),
        ),
        (
            "PUT /categories/{id}",
            J(json!({ "name": "x", "active": true })),
            Needs(ManageCategories),
        ),
        ("GET /nominations", N, Either(Nominate, Review)),
        ("POST /nominations", J(nomination.clone()), Needs(Nominate)),
        ("GET /nominations/{id}", N, Either(Nominate, Review)),
        ("PUT /nominations/{id}", J(nomination), Needs(Nominate)),
        (
            "POST /nominations/{id}/transitions",
            J(json!({ "to": "submitted" })),
            Either(Nominate, Review),
        ),
        ("GET /notices", N, Public),
        ("GET /notices/{id}", N, Public),
        (
            "POST /notices/{id}/objections",
            J(json!({ "name": "a", "contact": "b", "content": "c" })),
            Public,
        ),
        ("GET /objections/{receipt_code}", N, Public),
        ("GET /notices/{id}/objections", N, Needs(Review)),
        (
            "POST /objections/{id}/transitions",
            J(json!({ "to": "investigating" })),
            Needs(Review),
        ),
        ("GET /recognitions", N, Public),
        ("GET /recognitions/{id}", N, Public),
        (
            "POST /recognitions/{id}/revoke",
            J(json!({ "reason": "x" })),
            Needs(Decide),
        ),
        ("POST /recognitions/{id}/certificates", N, Needs(Decide)),
        (
            "POST /residents/{id}/hours-certificates",
            J(json!({ "from": "2019-01-01", "to": "2019-12-31" })),
            Needs(Decide),
        ),
        ("GET /residents/{id}/hours-statement", N, Needs(Review)),
        ("PUT /certificates/seal", Body::Seal, Needs(ManageSeal)),
        ("GET /certificates/seal", N, Needs(Review)),
        ("GET /certificates", N, Needs(Review)),
        ("GET /certificates/{id}", N, Needs(Review)),
        ("POST /certificates/{id}/reissue", N, Needs(Decide)),
        (
            "POST /certificates/{id}/revoke",
            J(json!({ "reason": "x" })),
            Needs(Decide),
        ),
        ("GET /certificates/verify/{code}", N, Public),
        ("GET /certificates/verify", N, Public),
        (
            "POST /sessions",
            J(json!({ "username": "matrix-admin", "password": PASSWORD })),
            Public,
        ),
        ("GET /sessions/current", N, AnyStaff),
        ("DELETE /sessions/current", N, Public),
        ("GET /users", N, Needs(ManageUsers)),
        (
            "POST /users",
            J(
                json!({ "username": "matrix", "display_name": "矩阵", "roles": ["editor"], "password": "long enough password" }),
            ),
            Needs(ManageUsers),
        ),
        ("GET /users/{id}", N, AnyStaff),
        (
            "PUT /users/{id}",
            J(json!({ "display_name": "x", "roles": ["editor"] })),
            Needs(ManageUsers),
        ),
        (
            "POST /users/{id}/password",
            J(json!({ "password": "long enough password" })),
            AnyStaff,
        ),
        ("POST /users/{id}/disable", N, Needs(ManageUsers)),
        ("POST /users/{id}/enable", N, Needs(ManageUsers)),
        ("GET /tokens", N, AnyStaff),
        ("POST /tokens", J(json!({ "label": "matrix" })), AnyStaff),
        ("DELETE /tokens/{id}", N, AnyStaff),
        ("GET /audit", N, Needs(ReadAudit)),
        ("GET /stories", N, Public),
        ("GET /stories/{id}", N, Public),
        ("POST /stories", J(story.clone()), Needs(EditStories)),
        ("PUT /stories/{id}", J(story), Needs(EditStories)),
        (
            "PUT /stories/{id}/publication",
            J(json!({ "published": true })),
            Needs(EditStories),
        ),
        ("DELETE /stories/{id}", N, Needs(EditStories)),
        ("GET /issues", N, Public),
        ("GET /issues/{id}", N, Public),
        ("GET /issues/{id}/pack", N, Public),
        ("POST /issues", J(issue.clone()), Needs(EditStories)),
        ("PUT /issues/{id}", J(issue), Needs(EditStories)),
        (
            "PUT /issues/{id}/publication",
            J(json!({ "published": true })),
            Needs(EditStories),
        ),
        ("DELETE /issues/{id}", N, Needs(EditStories)),
        ("GET /photos", N, Public),
        ("GET /photos/{id}", N, Public),
        // The demo resident's photo: which role may change a photo depends on its owner.
        ("POST /photos", Body::Photo, Needs(EditRegistry)),
        (
            "PUT /photos/{id}",
            J(json!({ "caption": "矩阵" })),
            Needs(EditRegistry),
        ),
        ("DELETE /photos/{id}", N, Needs(EditRegistry)),
        ("POST /imports", Body::Roster, Needs(EditRegistry)),
        ("GET /imports/{id}", N, Needs(EditRegistry)),
        ("POST /imports/{id}/commit", N, Needs(EditRegistry)),
        ("GET /exports/residents", N, AnyStaff),
        ("GET /exports/activities", N, AnyStaff),
        ("GET /exports/service-records", N, AnyStaff),
        ("GET /exports/recognitions", N, AnyStaff),
        ("GET /exports/audit", N, Needs(ReadAudit)),
        ("GET /imports/templates/residents", N, Needs(EditRegistry)),
        (
            "GET /imports/templates/service-records",
            N,
            Needs(EditRegistry),
        ),
        (
            "GET /imports/templates/participation",
            N,
            Needs(EditRegistry),
        ),
        ("GET /search", N, Public),
    ]
}

/// Resources whose writes in the matrix go to a real object (their rule depends on it); the
/// roles the rule refuses are tried before those it allows, so a real delete happens last.
const WRITES_TO_REAL: &[&str] = &["photos"];

/// The concrete path of an operation: each `{param}` becomes the id of a real object of the
/// resource named before it, except the last one of a write, which becomes [`MISSING`].
fn fill(op: &str, ids: &HashMap<&str, String>) -> (String, String) {
    let (method, template) = op.split_once(' ').unwrap();
    let path = fill_path(template, ids, |resource, last| {
        (method != "GET" && last && !WRITES_TO_REAL.contains(&resource))
            .then(|| MISSING.to_string())
    });
    (method.to_string(), path)
}

/// The id of a real demo object for each resource a path names (the first of each list; Sun
/// Jianwei's record and photo), for [`fill_path`].
pub(crate) async fn demo_ids(app: &TestApp) -> HashMap<&'static str, String> {
    let sun = first_id(app, "/api/v1/residents").await;
    let mut ids: HashMap<&str, String> = HashMap::new();
    ids.insert("residents", sun.clone());
    ids.insert(
        "service-records",
        first_id(app, &format!("/api/v1/residents/{sun}/service-records")).await,
    );
    for resource in [
        "activities",
        "notices",
        "recognitions",
        "communities",
        "stories",
        "issues",
    ] {
        ids.insert(
            resource,
            first_id(app, &format!("/api/v1/{resource}")).await,
        );
    }
    ids.insert(
        "photos",
        first_id(
            app,
            &format!("/api/v1/photos?owner_kind=resident&owner_id={sun}"),
        )
        .await,
    );
    ids.insert("objections", "YD-NONE-NONE".into());
    ids
}

/// A request of `method` to `path` with `token` (anonymous without) carrying `body`.
pub(crate) fn request<'a>(
    app: &'a TestApp,
    method: &str,
    path: &'a str,
    token: Option<&str>,
    body: &Body,
    sun: &str,
) -> poem::test::TestRequestBuilder<'a, poem::endpoint::BoxEndpoint<'static, poem::Response>> {
    let mut req = match method {
        "GET" => app.client.get(path),
        "POST" => app.client.post(path),
        "PUT" => app.client.put(path),
        _ => app.client.delete(path),
    };
    if let Some(token) = token {
        req = req.header("Authorization", format!("Bearer {token}"));
    }
    req = match body {
        Body::None => req,
        Body::Json(b) => req.body_json(b),
        Body::Photo => req.multipart(
            TestForm::new()
                .field(
                    TestFormField::bytes(crate::photos::jpeg(16, 12))
                        .name("file")
                        .filename("matrix.jpg")
                        .content_type("image/jpeg"),
                )
                .text("owner_kind", "resident")
                .text("owner_id", sun.to_string()),
        ),
        Body::Seal => req
            .header("Content-Type", "image/png")
            .body(crate::certificates::seal_png(300, false)),
        Body::Roster => req.multipart(
            TestForm::new().field(
                TestFormField::bytes("姓名,小区\n矩阵测试,音乐广场\n".as_bytes().to_vec())
                    .name("file")
                    .filename("matrix.csv")
                    .content_type("text/csv"),
            ),
        ),
    };
    req
}

fn allowed(rule: Rule, role: Option<Role>) -> Option<bool> {
    match (rule, role) {
        (Rule::Public, _) => Some(true),
        (_, None) => None, // anonymous on a staff route: 401
        (Rule::AnyStaff, Some(_)) => Some(true),
        (Rule::Needs(action), Some(role)) => Some(allows(role, action)),
        (Rule::Either(a, b), Some(role)) => Some(allows(role, a) || allows(role, b)),
    }
}

pub(crate) async fn first_id(app: &TestApp, path: &str) -> String {
    let reply = app.staff_get(path).await;
    reply.body["items"][0]["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no item at {path}: {}", reply.text))
        .to_string()
}

#[tokio::test]
async fn every_operation_of_the_spec_has_a_rule() {
    let app = TestApp::spawn().await;
    let spec: BTreeSet<String> = operations(&served_spec(&app).await).into_iter().collect();
    let ruled: BTreeSet<String> = rules(1, 1)
        .into_iter()
        .map(|(op, _, _)| op.to_string())
        .collect();
    let unruled: Vec<_> = spec.difference(&ruled).collect();
    let stale: Vec<_> = ruled.difference(&spec).collect();
    assert!(
        unruled.is_empty(),
        "operations with no rule in tests/api/roles.rs: {unruled:?}"
    );
    assert!(
        stale.is_empty(),
        "rules for operations the API no longer has: {stale:?}"
    );
}

#[tokio::test]
async fn every_operation_answers_every_role_as_the_policy_table_says() {
    let app = TestApp::with_demo().await;
    let ids = demo_ids(&app).await;
    let sun = ids["residents"].clone();

    let mut callers: Vec<(Option<Role>, Option<String>)> = vec![(None, None)];
    for role in Role::ALL {
        let token = app
            .user_token(&format!("matrix-{}", role.code()), &[role.code()])
            .await;
        callers.push((Some(role), Some(token)));
    }

    // Deletions last: a real object deleted by an allowed role is gone for later operations.
    let mut spec = operations(&served_spec(&app).await);
    spec.sort_by_key(|op| (op.starts_with("DELETE "), op.clone()));
    let table = rules(sun.parse().unwrap(), ids["communities"].parse().unwrap());
    let mut failures = Vec::new();
    let mut asked = 0;
    for op in &spec {
        let Some((_, body, rule)) = table.iter().find(|(o, _, _)| o == op) else {
            continue; // reported by every_operation_of_the_spec_has_a_rule
        };
        let (method, path) = fill(op, &ids);
        // Anonymous first, then the roles refused, then those allowed (they may change things).
        let mut order: Vec<&(Option<Role>, Option<String>)> = callers.iter().collect();
        order.sort_by_key(|(role, _)| match allowed(*rule, *role) {
            None => 0,
            Some(false) => 1,
            Some(true) => 2,
        });
        for (role, token) in order {
            let req = request(&app, &method, &path, token.as_deref(), body, &sun);
            let reply = app.send(req).await;
            asked += 1;
            let status = reply.status.as_u16();
            let ok = match allowed(*rule, *role) {
                None => status == 401,
                Some(true) => status != 401 && status != 403 && status < 500,
                Some(false) => status == 403,
            };
            if !ok {
                failures.push(format!(
                    "{op} ({method} {path}) as {role:?}: {status} {}",
                    reply.text
                ));
            }
        }
    }
    assert!(
        asked >= spec.len() * callers.len(),
        "asked only {asked} questions"
    );
    assert!(
        failures.is_empty(),
        "{} answers disagree with the policy table:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
