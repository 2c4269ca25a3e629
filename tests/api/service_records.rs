use serde_json::json;

use crate::helpers::TestApp;

fn record() -> serde_json::Value {
    json!({
        "kind": "survey",
        "title": "排摸调查街道所属商品房小区现状",
        "start": "2019-03",
        "end": "2019-06",
        "measures": [{ "value": 60, "unit": "compounds", "qualifier": "at_least" }],
        "evidence": "《长寿社区晨报》2019年9月",
    })
}

#[tokio::test]
async fn a_record_keeps_partial_dates_measures_and_who_recorded_it() {
    let app = TestApp::spawn().await;
    let id = app.resident("孙建伟").await;
    let created = app.add_record(id, &record()).await;
    created.assert_status(201);
    assert_eq!(created.body["start"], "2019-03");
    assert_eq!(created.body["end"], "2019-06");
    assert_eq!(created.body["measures"][0]["qualifier"], "at_least");
    assert_eq!(created.body["measures"][0]["text"], "60余个小区");
    assert_eq!(
        created.body["recorded_by"], "管理员",
        "defaults to the signed-in user's name"
    );
    assert!(
        created.body["verified_by"].is_null(),
        "verified only by the verify action"
    );

    let ongoing = app
        .add_record(
            id,
            &json!({ "kind": "role", "title": "业委会委员", "start": "2007", "unpaid": true }),
        )
        .await;
    ongoing.assert_status(201);
    assert!(ongoing.body["end"].is_null(), "no end means ongoing");
}

#[tokio::test]
async fn bad_records_are_refused_field_by_field_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let id = app.resident("孙建伟").await;
    let cases = [
        (json!({ "end": "2018" }), "end"),        // end before start
        (json!({ "start": "2019-13" }), "start"), // malformed partial date
        (json!({ "start": "19年3月" }), "start"),
        (json!({ "kind": "heroics" }), "kind"),
        (
            json!({ "measures": [{ "value": -5, "unit": "compounds" }] }),
            "measures[0]",
        ),
        (
            json!({ "measures": [{ "value": 5, "unit": "furlongs" }] }),
            "measures[0]",
        ),
        (json!({ "verified_on": "2019-02-30" }), "verified_on"),
    ];
    for (change, field) in cases {
        let mut body = record();
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let reply = app.add_record(id, &body).await;
        reply.assert_status(422);
        assert_eq!(reply.invalid_fields(), [field], "for {change}");
    }
    assert_eq!(app.count("service_records").await, 0);
    // A record for a resident that does not exist.
    app.add_record(9999, &record()).await.assert_status(404);
}

#[tokio::test]
async fn records_are_updated_with_if_match_and_deleted() {
    let app = TestApp::spawn().await;
    let id = app.resident("孙建伟").await;
    let created = app.add_record(id, &record()).await;
    let path = format!(
        "/api/v1/residents/{id}/service-records/{}",
        created.body["id"]
    );
    let mut changed = record();
    changed["measures"] = json!([{ "value": 62, "unit": "compounds", "qualifier": "exact" }]);
    app.put(&path, None, &changed).await.assert_status(428);
    app.put(&path, Some("\"1-99\""), &changed)
        .await
        .assert_status(412);
    let updated = app.put(&path, Some(&created.etag()), &changed).await;
    updated.assert_status(200);
    assert_eq!(updated.body["measures"][0]["text"], "62个小区");

    // Another resident's path does not reach this record.
    let other = app.resident("李明").await;
    app.staff_get(&format!(
        "/api/v1/residents/{other}/service-records/{}",
        created.body["id"]
    ))
    .await
    .assert_status(404);

    app.delete(&path).await.assert_status(204);
    assert!(app.records(id).await.is_empty());
}

#[tokio::test]
async fn the_summary_is_derived_from_the_records() {
    let app = TestApp::spawn().await;
    let id = app.resident("孙建伟").await;
    let role = |start: &str, end: &str, unpaid: bool| json!({ "kind": "role", "title": format!("职务 {start}"), "start": start, "end": end, "unpaid": unpaid });
    app.add_record(id, &role("2007", "2019", true))
        .await
        .assert_status(201);
    app.add_record(id, &role("2010", "2015", true))
        .await
        .assert_status(201); // overlaps: counted once
    for n in [38, 4, 10] {
        app.add_record(
            id,
            &json!({ "kind": "hosting", "title": format!("接待 {n}"), "start": "2019",
                     "measures": [{ "value": n, "unit": "visit_batches" }] }),
        )
        .await
        .assert_status(201);
    }
    let summary = app
        .staff_get(&format!("/api/v1/residents/{id}/summary"))
        .await;
    summary.assert_status(200);
    assert_eq!(summary.body["unpaid_years"], 12);
    assert_eq!(summary.body["visits_hosted"]["value"], 52.0);
    let headlines: Vec<&str> = summary.body["headlines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap())
        .collect();
    assert_eq!(headlines, ["无偿服务 12 年", "接待参访 52 批次"]);

    // Deleting a record changes the summary: nothing is stored by hand.
    let records = app.records(id).await;
    let ten = records.iter().find(|r| r["title"] == "接待 10").unwrap();
    app.delete(&format!(
        "/api/v1/residents/{id}/service-records/{}",
        ten["id"]
    ))
    .await
    .assert_status(204);
    let summary = app
        .staff_get(&format!("/api/v1/residents/{id}/summary"))
        .await;
    assert_eq!(summary.body["visits_hosted"]["value"], 42.0);
}
