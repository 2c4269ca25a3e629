//! The role matrix: every operation of the served OpenAPI document against every role and
//! anonymous. Each answer must match the policy table in `youde::domain::policy`: 401 for
//! anonymous on staff routes, 403 for a role the table does not allow, and neither for a role it
//! allows. Nothing here is kept by hand per operation: the operations, the permission each needs
//! (its description's "Permission: `…`." sentence, checked against the `security` it asks for)
//! and the body it is asked with (its schema's example) are all read from the document, so a new
//! route is asked the day it is added, and an operation that states no permission fails.

use std::collections::{BTreeSet, HashMap};

use poem::test::{TestForm, TestFormField};
use serde_json::{json, Value};
use youde::domain::policy::{allows, Action, Role};

use crate::contract::{fill_path, operations, served_spec};
use crate::helpers::{TestApp, PASSWORD};

#[derive(Clone, Copy, Debug, PartialEq)]
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
#[derive(Clone, Debug)]
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

/// The operation `op` (`METHOD /template`) of `spec`.
fn operation<'a>(spec: &'a Value, op: &str) -> &'a Value {
    let (method, path) = op.split_once(' ').unwrap();
    &spec["paths"][path][method.to_lowercase()]
}

/// The rule an operation states: public when it asks for no credentials; otherwise the
/// "Permission: …" sentence of its description (`any signed-in staff`, `` `a` `` or
/// `` `a` or `b` ``, up to the first `.` or `;`).
pub(crate) fn rule_of(operation: &Value) -> Result<Rule, String> {
    let text = format!(
        "{}\n{}",
        operation["summary"].as_str().unwrap_or_default(),
        operation["description"].as_str().unwrap_or_default()
    );
    let stated = text
        .split("Permission: ")
        .nth(1)
        .map(|rest| rest.split(['.', ';']).next().unwrap_or_default().trim());
    let secured = operation["security"]
        .as_array()
        .is_some_and(|s| !s.is_empty());
    let clause = match (secured, stated) {
        (false, None) => return Ok(Rule::Public),
        (false, Some(clause)) => {
            return Err(format!(
                "states \"Permission: {clause}\" but asks for no credentials"
            ))
        }
        (true, None) => return Err("asks for credentials but states no permission".into()),
        (true, Some(clause)) => clause,
    };
    if clause == "any signed-in staff" {
        return Ok(Rule::AnyStaff);
    }
    let named: Vec<&str> = clause.split('`').skip(1).step_by(2).collect();
    let actions: Vec<Action> = named
        .iter()
        .map(|code| {
            code.parse()
                .map_err(|()| format!("names `{code}`, which is no permission of the policy table"))
        })
        .collect::<Result<_, _>>()?;
    match actions[..] {
        [a] => Ok(Rule::Needs(a)),
        [a, b] if clause.contains(" or ") => Ok(Rule::Either(a, b)),
        _ => Err(format!(
            "\"Permission: {clause}\" is not `a`, `a` or `b`, or any signed-in staff"
        )),
    }
}

/// The body an operation is asked with: the example of its JSON body's schema, with the ids of
/// real objects (`resident_id` the demo resident, `community_id`/`parent_id` a community); for an
/// upload, the file it takes (a photo form names its owner; a roster form does not).
pub(crate) fn body_of(
    spec: &Value,
    operation: &Value,
    sun: i64,
    community: i64,
) -> Result<Body, String> {
    let Some(content) = operation["requestBody"]["content"].as_object() else {
        return Ok(Body::None);
    };
    if content.contains_key("image/png") {
        return Ok(Body::Seal);
    }
    if let Some(form) = content.get("multipart/form-data") {
        let photo = form["schema"]["properties"].get("owner_kind").is_some();
        return Ok(if photo { Body::Photo } else { Body::Roster });
    }
    let (_, json) = content
        .iter()
        .find(|(kind, _)| kind.starts_with("application/json"))
        .ok_or_else(|| format!("takes {:?}, which the matrix cannot send", content.keys()))?;
    let name = json["schema"]["$ref"]
        .as_str()
        .and_then(|r| r.rsplit('/').next())
        .ok_or("its JSON body has no named schema")?;
    let mut example = spec["components"]["schemas"][name]["example"].clone();
    let fields = example
        .as_object_mut()
        .ok_or_else(|| format!("its body {name} has no example (`#[oai(example)]`)"))?;
    for (field, value) in fields.iter_mut() {
        match field.as_str() {
            "resident_id" => *value = json!(sun),
            "community_id" | "parent_id" => *value = json!(community),
            _ => {}
        }
    }
    Ok(Body::Json(example))
}

/// Every operation with the body it is asked with and the rule it states; an operation whose
/// rule or body cannot be read is reported by `every_operation_states_its_permission_and_body`.
/// A sign-in is the one body no document can give: it is asked with a real account's password.
pub(crate) fn rules(spec: &Value, sun: i64, community: i64) -> Vec<(String, Body, Rule)> {
    let mut table = Vec::new();
    for op in operations(spec) {
        let operation = operation(spec, &op);
        let (Ok(rule), Ok(body)) = (rule_of(operation), body_of(spec, operation, sun, community))
        else {
            continue;
        };
        let body = if op == "POST /sessions" {
            Body::Json(json!({ "username": "matrix-admin", "password": PASSWORD }))
        } else {
            body
        };
        table.push((op, body, rule));
    }
    table
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
async fn every_operation_states_its_permission_and_body() {
    let app = TestApp::spawn().await;
    let spec = served_spec(&app).await;
    let mut unreadable = Vec::new();
    for op in operations(&spec) {
        let operation = operation(&spec, &op);
        if let Err(why) = rule_of(operation) {
            unreadable.push(format!("{op}: {why}"));
        }
        if let Err(why) = body_of(&spec, operation, 1, 1) {
            unreadable.push(format!("{op}: {why}"));
        }
    }
    assert!(
        unreadable.is_empty(),
        "operations the role matrix cannot ask (write \"Permission: `…`.\" in the operation's \
         doc comment; give a JSON body `#[oai(example)]`):\n{}",
        unreadable.join("\n")
    );
    // Every permission of the policy table is one an operation needs, and the document's
    // description lists the roles that have each.
    let rules = rules(&spec, 1, 1);
    let needed: BTreeSet<&str> = rules
        .iter()
        .flat_map(|(_, _, rule)| match *rule {
            Rule::Needs(a) => vec![a.code()],
            Rule::Either(a, b) => vec![a.code(), b.code()],
            _ => vec![],
        })
        .collect();
    let description = spec["info"]["description"].as_str().unwrap();
    for action in Action::ALL {
        assert!(
            needed.contains(action.code()),
            "no operation needs `{}`",
            action.code()
        );
        let roles: Vec<&str> = Role::ALL
            .into_iter()
            .filter(|r| allows(*r, action))
            .map(Role::code)
            .collect();
        // Its own line: "- `code`: what it covers (role, role)".
        let line = description
            .lines()
            .find(|l| l.starts_with(&format!("- `{}`: ", action.code())));
        assert!(
            line.is_some_and(|l| l.ends_with(&format!(" ({})", roles.join(", ")))),
            "the description does not list `{}` with {roles:?}:\n{description}",
            action.code()
        );
    }
}

#[test]
fn a_permission_sentence_reads_as_its_rule() {
    let op = |security: bool, text: &str| {
        let mut op = json!({ "summary": "Do it", "description": text });
        if security {
            op["security"] = json!([{ "BearerToken": [] }]);
        }
        rule_of(&op)
    };
    assert_eq!(op(false, "Anyone."), Ok(Rule::Public));
    assert_eq!(
        op(true, "Permission: `edit_registry`."),
        Ok(Rule::Needs(Action::EditRegistry))
    );
    assert_eq!(
        op(true, "Permission: `nominate` or `review`."),
        Ok(Rule::Either(Action::Nominate, Action::Review))
    );
    assert_eq!(
        op(
            true,
            "Permission: `edit_registry`; a story's photo takes `edit_stories` instead."
        ),
        Ok(Rule::Needs(Action::EditRegistry))
    );
    assert_eq!(
        op(true, "Permission: any signed-in staff."),
        Ok(Rule::AnyStaff)
    );
    assert!(op(true, "Staff only.").is_err());
    assert!(op(false, "Permission: `review`.").is_err());
    assert!(op(true, "Permission: `edit`.").is_err());
    assert!(op(true, "Permission: `review` and `decide`.").is_err());
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
    let served = served_spec(&app).await;
    let mut spec = operations(&served);
    spec.sort_by_key(|op| (op.starts_with("DELETE "), op.clone()));
    let table = rules(
        &served,
        sun.parse().unwrap(),
        ids["communities"].parse().unwrap(),
    );
    let mut failures = Vec::new();
    let mut asked = 0;
    for op in &spec {
        let Some((_, body, rule)) = table.iter().find(|(o, _, _)| o == op) else {
            continue; // reported by every_operation_states_its_permission_and_body
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
