//! Volunteer hours (志愿服务时长): recorded per participant of an activity, totalled per year and
//! overall, and the star level (星级志愿者) they earn on the summary, the profile page, the console
//! and the search facet.

use serde_json::json;

use crate::console::Browser;
use crate::helpers::TestApp;

#[tokio::test]
async fn activity_hours_default_per_participant_and_change_per_person() {
    let app = TestApp::spawn().await;
    let a = app.resident("张丽").await;
    let b = app.resident("王芳").await;
    let created = app
        .post(
            "/api/v1/activities",
            &json!({
                "title": "敬老院助老服务",
                "date": "2019-08-28",
                "organiser": "音乐广场居委会",
                "participant_ids": [a, b],
                "hours": 2,
                "participant_hours": [{ "resident_id": b, "hours": 3.5 }],
            }),
        )
        .await;
    created.assert_status(201);
    assert_eq!(created.body["hours"], 2.0);
    assert_eq!(
        created.body["participants"],
        json!([{ "resident_id": a, "hours": 2.0 }, { "resident_id": b, "hours": 3.5 }])
    );
    // The hours sit on each participant's record, recorded by the organiser like any record.
    let record = &app.records(b).await[0];
    assert_eq!(record["measures"][0]["unit"], "hours");
    assert_eq!(record["measures"][0]["value"], 3.5);
    let summary = app
        .staff_get(&format!("/api/v1/residents/{b}/summary"))
        .await;
    assert_eq!(summary.body["volunteer_hours"], 3.5);
    assert!(summary.body["star_level"].is_null());

    // Per-person hours for someone who did not take part, or negative hours, are refused whole.
    let refused = app
        .post(
            "/api/v1/activities",
            &json!({
                "title": "培训",
                "date": "2019-08-29",
                "participant_ids": [a],
                "hours": -1,
                "participant_hours": [{ "resident_id": b, "hours": 1 }],
            }),
        )
        .await;
    refused.assert_status(422);
    assert_eq!(refused.invalid_fields(), ["hours", "participant_hours"]);
    assert_eq!(app.count("activities").await, 1);
}

#[tokio::test]
async fn a_hundred_hours_make_a_one_star_volunteer_on_every_front() {
    let app = TestApp::spawn().await;
    let a = app.resident("张丽").await;
    app.consent(a, "profile").await.assert_status(201);
    app.add_record(
        a,
        &json!({
            "kind": "volunteer_hours", "title": "社区志愿服务", "start": "2018",
            "measures": [{ "value": 97.5, "unit": "hours", "qualifier": "exact" }],
        }),
    )
    .await
    .assert_status(201);
    let path = format!("/api/v1/residents/{a}/summary");
    assert!(
        app.get(&path).await.body["star_level"].is_null(),
        "97.5 hours earn no star"
    );
    app.post(
        "/api/v1/activities",
        &json!({ "title": "敬老院助老服务", "date": "2019-08-28", "participant_ids": [a], "hours": 2.5 }),
    )
    .await
    .assert_status(201);

    let summary = app.get(&path).await;
    assert_eq!(summary.body["volunteer_hours"], 100.0);
    assert_eq!(
        summary.body["hours_by_year"],
        json!([{ "year": 2018, "hours": 97.5 }, { "year": 2019, "hours": 2.5 }])
    );
    assert_eq!(summary.body["star_level"], 1);
    assert_eq!(summary.body["star_level_label"], "一星志愿者");

    let slug = app.get(&format!("/api/v1/residents/{a}")).await.body["slug"]
        .as_str()
        .unwrap()
        .to_string();
    let page = app.get(&format!("/people/{slug}")).await;
    page.assert_status(200);
    for text in [
        "志愿服务时长",
        "共 100 小时",
        "2018年 97.5 小时",
        "一星志愿者",
    ] {
        assert!(page.text.contains(text), "profile page lacks {text}");
    }

    app.drain().await;
    let found = app
        .get("/api/v1/search?q=%E5%BC%A0%E4%B8%BD&category=%E4%B8%80%E6%98%9F%E5%BF%97%E6%84%BF%E8%80%85")
        .await;
    assert_eq!(found.body["total"], 1, "{}", found.text);
    assert!(found.body["facets"]["category"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["value"] == "一星志愿者"));
}

#[tokio::test]
async fn the_console_shows_the_hours_and_the_star_level() {
    let app = TestApp::spawn().await;
    let a = app.resident("张丽").await;
    app.add_record(
        a,
        &json!({
            "kind": "volunteer_hours", "title": "社区志愿服务", "start": "2019",
            "measures": [{ "value": 320, "unit": "hours", "qualifier": "exact" }],
        }),
    )
    .await
    .assert_status(201);
    let mut browser = Browser::signed_in(&app, "wang-li", &["nominator"]).await;
    let page = browser.get(&format!("/admin/residents/{a}")).await;
    assert!(
        page.text.contains("共 320 小时（2019年 320 小时）"),
        "{}",
        page.text
    );
    assert!(page.text.contains("二星志愿者"));
}
