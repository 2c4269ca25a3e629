//! The API contract checks itself: the whole OpenAPI document is kept in
//! `tests/api/snapshots/openapi.json`, so any change to a path, a parameter, a schema or a
//! description shows up as a reviewed diff of that file. After a deliberate change, write the new
//! document with `YOUDE_UPDATE_SNAPSHOTS=1 cargo test --test api contract::` and commit it.

use std::path::PathBuf;

use serde_json::Value;

use crate::helpers::TestApp;

fn snapshot_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/api/snapshots/openapi.json")
}

/// The document the running service serves, as stable pretty JSON.
pub async fn served_spec(app: &TestApp) -> Value {
    let reply = app.get("/api/openapi.json").await;
    reply.assert_status(200);
    reply.body
}

#[tokio::test]
async fn the_openapi_document_matches_its_reviewed_snapshot() {
    let app = TestApp::spawn().await;
    let served = served_spec(&app).await;
    let text = serde_json::to_string_pretty(&served).unwrap() + "\n";
    let path = snapshot_path();
    if std::env::var_os("YOUDE_UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &text).expect("write the snapshot");
        return;
    }
    let kept = std::fs::read_to_string(&path).unwrap_or_default();
    if kept != text {
        let first = kept
            .lines()
            .zip(text.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| kept.lines().count().min(text.lines().count()));
        let around = |s: &str| -> String {
            s.lines()
                .skip(first.saturating_sub(3))
                .take(8)
                .collect::<Vec<_>>()
                .join("\n")
        };
        panic!(
            "the served OpenAPI document differs from tests/api/snapshots/openapi.json from line {}.\n\
             kept:\n{}\n\nserved:\n{}\n\nIf the change is meant, run \
             `YOUDE_UPDATE_SNAPSHOTS=1 cargo test --test api contract::` and commit the diff.",
            first + 1,
            around(&kept),
            around(&text)
        );
    }
}

/// Every operation of the document as `METHOD /template` (templates as the spec writes them,
/// relative to `/api/v1`).
pub fn operations(spec: &Value) -> Vec<String> {
    let mut ops = Vec::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                ops.push(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    ops.sort();
    ops
}

/// The first id (as staff see them) of each top-level resource that has a list, for
/// [`fill_path`], added to `ids`.
pub async fn first_ids(app: &TestApp, ids: &mut std::collections::HashMap<&str, String>) {
    for resource in [
        "activities",
        "recognitions",
        "communities",
        "stories",
        "issues",
        "nominations",
        "photos",
        "users",
        "tokens",
    ] {
        let first =
            app.staff_get(&format!("/api/v1/{resource}")).await.body["items"][0]["id"].clone();
        if let Some(id) = first.as_i64() {
            ids.insert(resource, id.to_string());
        }
    }
}

/// `/api/v1` + `template` with each `{param}` replaced by `ids[resource named before it]`
/// (999999 where none is known), unless `choose(resource, is_last_param)` picks another value.
pub fn fill_path(
    template: &str,
    ids: &std::collections::HashMap<&str, String>,
    choose: impl Fn(&str, bool) -> Option<String>,
) -> String {
    let segments: Vec<&str> = template.split('/').collect();
    let last_param = segments.iter().rposition(|s| s.starts_with('{'));
    let mut path = String::from("/api/v1");
    for (i, segment) in segments.iter().enumerate().skip(1) {
        path.push('/');
        if !segment.starts_with('{') {
            path.push_str(segment);
            continue;
        }
        let resource = segments[i - 1];
        let value = choose(resource, Some(i) == last_param)
            .or_else(|| ids.get(resource).cloned())
            .unwrap_or_else(|| "999999".to_string());
        path.push_str(&value);
    }
    path
}

#[tokio::test]
async fn every_operation_has_a_description_and_a_tag() {
    let app = TestApp::spawn().await;
    let spec = served_spec(&app).await;
    let mut bare = Vec::new();
    for op in operations(&spec) {
        let (method, path) = op.split_once(' ').unwrap();
        let item = &spec["paths"][path][method.to_lowercase()];
        let described = item["summary"]
            .as_str()
            .is_some_and(|s| !s.trim().is_empty())
            || item["description"]
                .as_str()
                .is_some_and(|s| !s.trim().is_empty());
        let tagged = item["tags"].as_array().is_some_and(|t| !t.is_empty());
        if !described || !tagged {
            bare.push(op);
        }
    }
    assert!(
        bare.is_empty(),
        "operations without a summary or a tag: {bare:?}"
    );
}
