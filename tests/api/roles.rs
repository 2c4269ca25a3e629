//! The role matrix: every API route against every role and anonymous. Each answer must match the
//! policy table in `youde::domain::policy`: 401 for anonymous on staff routes, 403 for a role the
//! table does not allow, and neither for a role it allows.

use serde_json::{json, Value};
use youde::domain::policy::{allows, Action, Role};

use crate::helpers::TestApp;

#[derive(Clone, Copy, Debug)]
enum Rule {
    /// Anyone, signed in or not.
    Public,
    /// Any signed-in member of staff (their own things).
    AnyStaff,
    /// Staff whose role the table allows this action.
    Needs(Action),
    /// Staff whose role allows either action.
    Either(Action, Action),
    /// Staff only; which action it needs depends on the resource (a photo's owner, in the stored
    /// photo or the uploaded form), so the resource is read first: a missing one is 404, a
    /// malformed upload 415, for every role.
    ByResource,
}

const MISSING: i64 = 999_999;

/// The (method, path) of every route the matrix walks, for checking it against the spec.
pub fn matrix_routes() -> Vec<(&'static str, String)> {
    routes(1, 2, 3, 4, 5, 6, 7, 8)
        .into_iter()
        .map(|(method, path, _, _)| (method, path))
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn routes(
    sun: i64,
    record: i64,
    activity: i64,
    notice: i64,
    recognition: i64,
    community: i64,
    story: i64,
    issue: i64,
) -> Vec<(&'static str, String, Option<Value>, Rule)> {
    use Action::*;
    use Rule::*;
    let resident_body = json!({ "name": "矩阵测试", "community_id": community });
    let record_body = json!({ "kind": "other", "title": "矩阵测试", "start": "2020" });
    let activity_body = json!({ "title": "矩阵测试", "date": "2020-01-01" });
    let nomination_body = json!({ "resident_id": sun, "category_id": 1, "honour_title": "矩阵测试", "year": 2020,
                                  "citation": "测试", "statements": [{ "author": "甲", "relation": "乙", "body": "丙" }] });
    vec![
        ("GET", "/api/v1/communities".into(), None, Public),
        (
            "GET",
            format!("/api/v1/communities/{community}"),
            None,
            Public,
        ),
        (
            "POST",
            "/api/v1/communities".into(),
            Some(json!({ "name": "矩阵区", "kind": "district" })),
            Needs(EditRegistry),
        ),
        (
            "PUT",
            format!("/api/v1/communities/{MISSING}"),
            Some(json!({ "name": "x", "kind": "district" })),
            Needs(EditRegistry),
        ),
        (
            "DELETE",
            format!("/api/v1/communities/{MISSING}"),
            None,
            Needs(EditRegistry),
        ),
        ("GET", "/api/v1/residents".into(), None, Public),
        ("GET", format!("/api/v1/residents/{sun}"), None, Public),
        (
            "GET",
            format!("/api/v1/residents/{sun}/summary"),
            None,
            Public,
        ),
        (
            "POST",
            "/api/v1/residents".into(),
            Some(resident_body.clone()),
            Needs(EditRegistry),
        ),
        (
            "PUT",
            format!("/api/v1/residents/{MISSING}"),
            Some(resident_body),
            Needs(EditRegistry),
        ),
        (
            "DELETE",
            format!("/api/v1/residents/{MISSING}"),
            None,
            Needs(EditRegistry),
        ),
        (
            "POST",
            format!("/api/v1/residents/{sun}/service-records/{MISSING}/verification"),
            None,
            Either(EditRegistry, Review),
        ),
        (
            "POST",
            format!("/api/v1/residents/{MISSING}/erasure"),
            Some(json!({})),
            Needs(Erase),
        ),
        (
            "GET",
            format!("/api/v1/residents/{sun}/service-records"),
            None,
            Public,
        ),
        (
            "GET",
            format!("/api/v1/residents/{sun}/service-records/{record}"),
            None,
            Public,
        ),
        (
            "POST",
            format!("/api/v1/residents/{sun}/service-records"),
            Some(record_body.clone()),
            Needs(EditRegistry),
        ),
        (
            "PUT",
            format!("/api/v1/residents/{sun}/service-records/{MISSING}"),
            Some(record_body),
            Needs(EditRegistry),
        ),
        (
            "DELETE",
            format!("/api/v1/residents/{sun}/service-records/{MISSING}"),
            None,
            Needs(EditRegistry),
        ),
        (
            "GET",
            format!("/api/v1/residents/{sun}/consents"),
            None,
            Needs(ReadPrivate),
        ),
        (
            "POST",
            format!("/api/v1/residents/{MISSING}/consents"),
            Some(json!({ "scope": "story", "text_version": "1", "signed_on": "2020-01-01" })),
            Needs(ManageConsent),
        ),
        (
            "POST",
            format!("/api/v1/residents/{MISSING}/consents/1/withdraw"),
            Some(json!({})),
            Needs(ManageConsent),
        ),
        ("GET", "/api/v1/activities".into(), None, Public),
        (
            "GET",
            format!("/api/v1/activities/{activity}"),
            None,
            Public,
        ),
        (
            "POST",
            "/api/v1/activities".into(),
            Some(activity_body.clone()),
            Needs(EditRegistry),
        ),
        (
            "PUT",
            format!("/api/v1/activities/{MISSING}"),
            Some(activity_body),
            Needs(EditRegistry),
        ),
        (
            "DELETE",
            format!("/api/v1/activities/{MISSING}"),
            None,
            Needs(EditRegistry),
        ),
        ("GET", "/api/v1/categories".into(), None, Public),
        (
            "POST",
            "/api/v1/categories".into(),
            Some(json!({ "code": "matrix", "name": "矩阵" })),
            Needs(ManageCategories),
        ),
        (
            "PUT",
            format!("/api/v1/categories/{MISSING}"),
            Some(json!({ "name": "x", "active": true })),
            Needs(ManageCategories),
        ),
        (
            "GET",
            "/api/v1/nominations".into(),
            None,
            Either(Nominate, Review),
        ),
        (
            "POST",
            "/api/v1/nominations".into(),
            Some(nomination_body.clone()),
            Needs(Nominate),
        ),
        (
            "GET",
            format!("/api/v1/nominations/{MISSING}"),
            None,
            Either(Nominate, Review),
        ),
        (
            "PUT",
            format!("/api/v1/nominations/{MISSING}"),
            Some(nomination_body),
            Needs(Nominate),
        ),
        (
            "POST",
            format!("/api/v1/nominations/{MISSING}/transitions"),
            Some(json!({ "to": "submitted" })),
            Either(Nominate, Review),
        ),
        ("GET", "/api/v1/notices".into(), None, Public),
        ("GET", format!("/api/v1/notices/{notice}"), None, Public),
        (
            "POST",
            format!("/api/v1/notices/{MISSING}/objections"),
            Some(json!({ "name": "a", "contact": "b", "content": "c" })),
            Public,
        ),
        (
            "GET",
            "/api/v1/objections/YD-NONE-NONE".into(),
            None,
            Public,
        ),
        (
            "GET",
            format!("/api/v1/notices/{notice}/objections"),
            None,
            Needs(Review),
        ),
        (
            "POST",
            format!("/api/v1/objections/{MISSING}/transitions"),
            Some(json!({ "to": "investigating" })),
            Needs(Review),
        ),
        ("GET", "/api/v1/recognitions".into(), None, Public),
        (
            "GET",
            format!("/api/v1/recognitions/{recognition}"),
            None,
            Public,
        ),
        (
            "POST",
            format!("/api/v1/recognitions/{MISSING}/revoke"),
            Some(json!({ "reason": "x" })),
            Needs(Decide),
        ),
        ("GET", "/api/v1/sessions/current".into(), None, AnyStaff),
        ("GET", "/api/v1/users".into(), None, Needs(ManageUsers)),
        (
            "POST",
            "/api/v1/users".into(),
            Some(
                json!({ "username": "matrix", "display_name": "矩阵", "roles": ["editor"], "password": "long enough password" }),
            ),
            Needs(ManageUsers),
        ),
        ("GET", format!("/api/v1/users/{MISSING}"), None, AnyStaff),
        (
            "PUT",
            format!("/api/v1/users/{MISSING}"),
            Some(json!({ "display_name": "x", "roles": ["editor"] })),
            Needs(ManageUsers),
        ),
        (
            "POST",
            format!("/api/v1/users/{MISSING}/password"),
            Some(json!({ "password": "long enough password" })),
            AnyStaff,
        ),
        (
            "POST",
            format!("/api/v1/users/{MISSING}/disable"),
            None,
            Needs(ManageUsers),
        ),
        (
            "POST",
            format!("/api/v1/users/{MISSING}/enable"),
            None,
            Needs(ManageUsers),
        ),
        ("GET", "/api/v1/tokens".into(), None, AnyStaff),
        (
            "POST",
            "/api/v1/tokens".into(),
            Some(json!({ "label": "matrix" })),
            AnyStaff,
        ),
        (
            "DELETE",
            format!("/api/v1/tokens/{MISSING}"),
            None,
            AnyStaff,
        ),
        ("GET", "/api/v1/audit".into(), None, Needs(ReadAudit)),
        ("GET", "/api/v1/stories".into(), None, Public),
        ("GET", format!("/api/v1/stories/{story}"), None, Public),
        (
            "POST",
            "/api/v1/stories".into(),
            Some(json!({ "title": "矩阵", "body": "正文" })),
            Needs(EditStories),
        ),
        (
            "PUT",
            format!("/api/v1/stories/{MISSING}"),
            Some(json!({ "title": "矩阵", "body": "正文" })),
            Needs(EditStories),
        ),
        (
            "PUT",
            format!("/api/v1/stories/{MISSING}/publication"),
            Some(json!({ "published": true })),
            Needs(EditStories),
        ),
        (
            "DELETE",
            format!("/api/v1/stories/{MISSING}"),
            None,
            Needs(EditStories),
        ),
        ("GET", "/api/v1/issues".into(), None, Public),
        ("GET", format!("/api/v1/issues/{issue}"), None, Public),
        ("GET", format!("/api/v1/issues/{issue}/pack"), None, Public),
        (
            "POST",
            "/api/v1/issues".into(),
            Some(json!({ "name": "矩阵", "date": "2020-01-01" })),
            Needs(EditStories),
        ),
        (
            "PUT",
            format!("/api/v1/issues/{MISSING}"),
            Some(json!({ "name": "矩阵", "date": "2020-01-01" })),
            Needs(EditStories),
        ),
        (
            "PUT",
            format!("/api/v1/issues/{MISSING}/publication"),
            Some(json!({ "published": true })),
            Needs(EditStories),
        ),
        (
            "DELETE",
            format!("/api/v1/issues/{MISSING}"),
            None,
            Needs(EditStories),
        ),
        ("GET", "/api/v1/photos".into(), None, Public),
        ("GET", format!("/api/v1/photos/{MISSING}"), None, Public),
        // The owner named in the multipart body decides the action.
        ("POST", "/api/v1/photos".into(), None, ByResource),
        (
            "PUT",
            format!("/api/v1/photos/{MISSING}"),
            Some(json!({ "caption": "矩阵" })),
            ByResource,
        ),
        (
            "DELETE",
            format!("/api/v1/photos/{MISSING}"),
            None,
            ByResource,
        ),
        ("GET", "/api/v1/search?q=sjw".into(), None, Public),
        (
            "POST",
            "/api/v1/sessions".into(),
            Some(json!({ "username": "admin", "password": crate::helpers::PASSWORD })),
            Public,
        ),
        // Signing out is idempotent: without a session it is a 204 too.
        ("DELETE", "/api/v1/sessions/current".into(), None, Public),
    ]
}

fn allowed(rule: Rule, role: Option<Role>) -> Option<bool> {
    match (rule, role) {
        (Rule::Public, _) => Some(true),
        (_, None) => None, // anonymous on a staff route: 401
        (Rule::AnyStaff | Rule::ByResource, Some(_)) => Some(true),
        (Rule::Needs(action), Some(role)) => Some(allows(role, action)),
        (Rule::Either(a, b), Some(role)) => Some(allows(role, a) || allows(role, b)),
    }
}

#[tokio::test]
async fn every_route_answers_every_role_as_the_policy_table_says() {
    let app = TestApp::with_demo().await;
    let sun = app.get("/api/v1/residents").await.body["items"][0]["id"]
        .as_i64()
        .unwrap();
    let record = app
        .get(&format!("/api/v1/residents/{sun}/service-records"))
        .await
        .body["items"][0]["id"]
        .as_i64()
        .unwrap();
    let activity = app.get("/api/v1/activities").await.body["items"][0]["id"]
        .as_i64()
        .unwrap();
    let notice = app.get("/api/v1/notices").await.body["items"][0]["id"]
        .as_i64()
        .unwrap();
    let recognition = app.get("/api/v1/recognitions").await.body["items"][0]["id"]
        .as_i64()
        .unwrap();
    let community = app.get("/api/v1/communities").await.body["items"][0]["id"]
        .as_i64()
        .unwrap();

    let mut callers: Vec<(Option<Role>, Option<String>)> = vec![(None, None)];
    for role in Role::ALL {
        let token = app
            .user_token(&format!("matrix-{}", role.code()), &[role.code()])
            .await;
        callers.push((Some(role), Some(token)));
    }

    let story = app.get("/api/v1/stories").await.body["items"][0]["id"]
        .as_i64()
        .unwrap();
    let issue = app.get("/api/v1/issues").await.body["items"][0]["id"]
        .as_i64()
        .unwrap();
    let table = routes(
        sun,
        record,
        activity,
        notice,
        recognition,
        community,
        story,
        issue,
    );
    let mut failures = Vec::new();
    for (method, path, body, rule) in &table {
        for (role, token) in &callers {
            let reply = match token {
                Some(token) => app.send_as(token, method, path, body.as_ref()).await,
                None => {
                    let req = match *method {
                        "GET" => app.client.get(path),
                        "POST" => app.client.post(path),
                        "PUT" => app.client.put(path),
                        _ => app.client.delete(path),
                    };
                    let req = match body {
                        Some(b) => req.body_json(b),
                        None => req,
                    };
                    app.send(req).await
                }
            };
            let status = reply.status.as_u16();
            let ok = match allowed(*rule, *role) {
                None => status == 401,
                Some(true) => status != 401 && status != 403 && status < 500,
                Some(false) => status == 403,
            };
            if !ok {
                failures.push(format!(
                    "{method} {path} as {role:?}: {status} {}",
                    reply.text
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} answers disagree with the policy table:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
