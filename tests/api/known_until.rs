//! Known-until for ongoing facts: an ongoing record carries its last confirmation, and summaries
//! and pages count to it and say so, never to today.

use serde_json::json;

use crate::erasure::public_resident_id;
use crate::helpers::TestApp;

#[tokio::test]
async fn the_demo_counts_ongoing_roles_to_the_articles_month() {
    let app = TestApp::with_demo().await;
    let sun = public_resident_id(&app, "sun-jianwei").await;
    let summary = app.get(&format!("/api/v1/residents/{sun}/summary")).await;
    summary.assert_status(200);
    assert_eq!(summary.body["service_years"], 12, "{}", summary.text);
    assert_eq!(summary.body["known_until"], "2019-09");
    assert_eq!(summary.body["known_until_text"], "至 2019年9月，最后核实");
    let page = app.get("/people/sun-jianwei").await;
    assert!(
        page.text.contains("至 2019年9月，最后核实"),
        "{}",
        page.text
    );
    assert!(page.text.contains("2019年9月（最后核实）"));
    // (His citation quotes the article's "无偿服务至今"; the records and timeline do not say it.)
    assert!(!page.text.contains("年 至今") && !page.text.contains("—至今"));
}

#[tokio::test]
async fn an_ongoing_record_is_known_until_its_confirmation() {
    let app = TestApp::spawn().await;
    let id = app.resident("孙建伟").await;
    let confirmed = app
        .add_record(
            id,
            &json!({ "kind": "role", "title": "业委会委员", "start": "2007", "unpaid": true,
                     "confirmed_on": "2019-09" }),
        )
        .await;
    confirmed.assert_status(201);
    assert_eq!(confirmed.body["confirmed_on"], "2019-09");
    let summary = app
        .staff_get(&format!("/api/v1/residents/{id}/summary"))
        .await;
    assert_eq!(summary.body["unpaid_years"], 12);

    // Recording one without a confirmation confirms it as of that day.
    let today = app
        .add_record(
            id,
            &json!({ "kind": "role", "title": "楼组长", "start": "2015" }),
        )
        .await;
    today.assert_status(201);
    assert_eq!(
        today.body["confirmed_on"],
        app.clock.today().format("%Y-%m-%d").to_string()
    );

    for (body, why) in [
        (
            json!({ "kind": "role", "title": "x", "start": "2007", "end": "2010", "confirmed_on": "2010" }),
            "ended",
        ),
        (
            json!({ "kind": "role", "title": "x", "start": "2007", "confirmed_on": "2006" }),
            "before start",
        ),
    ] {
        let refused = app.add_record(id, &body).await;
        refused.assert_status(422);
        assert_eq!(refused.invalid_fields(), ["confirmed_on"], "{why}");
    }
}
