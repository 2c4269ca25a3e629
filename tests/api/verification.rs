//! Verification as an act: only a verify action by someone other than the recorder sets
//! `verified_by`, with its own audit event; changed facts clear it; public pages tell verified
//! facts from unverified ones.

use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn a_record_is_verified_by_someone_else_and_changed_facts_clear_it() {
    let app = TestApp::spawn().await;
    let recorder = app.user_token("wang-li", &["nominator"]).await;
    let checker = app.user_token("zhao-min", &["reviewer"]).await;
    let resident = app.resident("孙建伟").await;
    app.consent(resident, "profile").await.assert_status(201);
    let records = format!("/api/v1/residents/{resident}/service-records");

    // Verification cannot be written as a field.
    let body =
        json!({ "kind": "role", "title": "业委会委员", "start": "2007", "verified_by": "我自己" });
    let refused = app.send_as(&recorder, "POST", &records, Some(&body)).await;
    refused.assert_status(422);
    assert_eq!(refused.invalid_fields(), ["verified_by"]);

    let body = json!({ "kind": "role", "title": "业委会委员", "start": "2007", "unpaid": true });
    let created = app.send_as(&recorder, "POST", &records, Some(&body)).await;
    created.assert_status(201);
    let record = created.body["id"].as_i64().unwrap();
    let other = json!({ "kind": "other", "title": "楼道清扫", "start": "2015" });
    app.send_as(&recorder, "POST", &records, Some(&other))
        .await
        .assert_status(201);
    let verify = format!("{records}/{record}/verification");

    let own = app.send_as(&recorder, "POST", &verify, None).await;
    own.assert_status(403);
    assert_eq!(own.error_code(), "self_verification");
    let editor = app.user_token("zhou-jing", &["editor"]).await;
    app.send_as(&editor, "POST", &verify, None)
        .await
        .assert_status(403);

    let verified = app.send_as(&checker, "POST", &verify, None).await;
    verified.assert_status(200);
    assert_eq!(verified.body["verified_by"], "zhao-min 测试");
    assert!(verified.body["verified_by_user_id"].is_i64());
    assert!(verified.body["verified_on"].is_string());
    let audit = app
        .staff_get(&format!(
            "/api/v1/audit?entity_kind=service_record&entity_id={record}&action=service_record.verify"
        ))
        .await;
    assert_eq!(
        audit.body["items"].as_array().unwrap().len(),
        1,
        "{}",
        audit.text
    );

    let page = app.get("/people/sun-jianwei").await;
    page.assert_status(200);
    assert_eq!(page.text.matches("已核实").count(), 1, "{}", page.text);
    assert_eq!(page.text.matches("未核实").count(), 1);

    // The same facts again keep the verification; other facts clear it.
    let path = format!("{records}/{record}");
    let same = app.send_as(&recorder, "GET", &path, None).await.etag();
    let kept = app
        .put(
            &path,
            Some(&same),
            &json!({ "kind": "role", "title": "业委会委员", "start": "2007", "unpaid": true }),
        )
        .await;
    kept.assert_status(200);
    assert_eq!(kept.body["verified_by"], "zhao-min 测试");
    let changed = app
        .put(
            &path,
            Some(&kept.etag()),
            &json!({ "kind": "role", "title": "业委会主任", "start": "2007", "unpaid": true }),
        )
        .await;
    changed.assert_status(200);
    assert!(changed.body["verified_by"].is_null() && changed.body["verified_on"].is_null());
    assert!(!app.get("/people/sun-jianwei").await.text.contains("已核实"));
}
