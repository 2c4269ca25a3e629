use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn the_tree_is_built_level_by_level_with_slugs() {
    let app = TestApp::spawn().await;
    let compound_id = app.compound().await;
    let compound = app.get(&format!("/api/v1/communities/{compound_id}")).await;
    compound.assert_status(200);
    assert_eq!(compound.body["name"], "音乐广场");
    assert_eq!(compound.body["kind"], "compound");
    assert_eq!(compound.body["slug"], "yinyueguangchang");
    assert!(compound.headers.contains_key("etag"));
}

#[tokio::test]
async fn a_level_must_hang_under_a_higher_one() {
    let app = TestApp::spawn().await;
    let no_parent = app
        .post(
            "/api/v1/communities",
            &json!({ "name": "长寿路街道", "kind": "subdistrict" }),
        )
        .await;
    no_parent.assert_status(422);
    assert_eq!(no_parent.invalid_fields(), ["parent_id"]);

    let unknown_parent = app
        .post(
            "/api/v1/communities",
            &json!({ "name": "长寿路街道", "kind": "subdistrict", "parent_id": 999 }),
        )
        .await;
    unknown_parent.assert_status(422);
    assert_eq!(unknown_parent.invalid_fields(), ["parent_id"]);

    let compound_id = app.compound().await;
    let under_compound = app
        .post(
            "/api/v1/communities",
            &json!({ "name": "某居民区", "kind": "residential_area", "parent_id": compound_id }),
        )
        .await;
    under_compound.assert_status(422);

    let bad_kind = app
        .post(
            "/api/v1/communities",
            &json!({ "name": "某地", "kind": "village" }),
        )
        .await;
    assert_eq!(bad_kind.invalid_fields(), ["kind"]);
    assert_eq!(
        app.count("communities").await,
        3,
        "nothing stored by the refused requests"
    );
}

#[tokio::test]
async fn a_community_in_use_cannot_be_deleted() {
    let app = TestApp::spawn().await;
    let resident = app.resident("孙建伟").await;
    let compound_id = app.compound_id().await;
    let refused = app
        .delete(&format!("/api/v1/communities/{compound_id}"))
        .await;
    refused.assert_status(409);
    assert_eq!(refused.error_code(), "conflict");

    app.delete(&format!("/api/v1/residents/{resident}"))
        .await
        .assert_status(204);
    app.delete(&format!("/api/v1/communities/{compound_id}"))
        .await
        .assert_status(204);
    app.get(&format!("/api/v1/communities/{compound_id}"))
        .await
        .assert_status(404);
}

#[tokio::test]
async fn lists_page_with_an_opaque_cursor() {
    let app = TestApp::spawn().await;
    app.compound().await; // three communities
    let first = app.get("/api/v1/communities?limit=2").await;
    first.assert_status(200);
    assert_eq!(first.body["items"].as_array().unwrap().len(), 2);
    let cursor = first.body["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_string();
    let second = app
        .get(&format!("/api/v1/communities?limit=2&cursor={cursor}"))
        .await;
    let names: Vec<&str> = second.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["音乐广场"]);
    assert!(
        second.body["next_cursor"].is_null(),
        "last page has no cursor"
    );

    app.get("/api/v1/communities?cursor=not-a-cursor")
        .await
        .assert_status(400);
    let zero = app.get("/api/v1/communities?limit=0").await;
    zero.assert_status(422);
    assert_eq!(zero.invalid_fields(), ["limit"]);
}

#[tokio::test]
async fn communities_list_one_level_by_kind() {
    let app = TestApp::with_demo().await;
    let kinds = |reply: &crate::helpers::Reply| -> Vec<String> {
        reply.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["kind"].as_str().unwrap().to_string())
            .collect()
    };
    let all = app.get("/api/v1/communities?limit=200").await;
    let subdistricts = app
        .get("/api/v1/communities?kind=subdistrict&limit=200")
        .await;
    subdistricts.assert_status(200);
    assert_eq!(kinds(&subdistricts), ["subdistrict"]);
    assert_eq!(subdistricts.body["items"][0]["name"], "长寿路街道");
    let compounds = app.get("/api/v1/communities?kind=compound&limit=200").await;
    let expected = kinds(&all).iter().filter(|k| *k == "compound").count();
    assert!(expected >= 1);
    assert_eq!(kinds(&compounds).len(), expected);
    assert!(kinds(&compounds).iter().all(|k| k == "compound"));

    let unknown = app.get("/api/v1/communities?kind=village").await;
    unknown.assert_status(422);
    assert_eq!(unknown.invalid_fields(), ["kind"]);
}
