use serde_json::json;

use crate::helpers::TestApp;

fn activity(participants: &[i64]) -> serde_json::Value {
    json!({
        "title": "居民区书记 2019 年半年度工作交流活动",
        "date": "2019-08-30",
        "place": "长寿路街道",
        "organiser": "长寿路街道",
        "participant_ids": participants,
    })
}

#[tokio::test]
async fn recording_an_activity_writes_a_record_for_each_participant() {
    let app = TestApp::spawn().await;
    let a = app.resident("张丽").await;
    let b = app.resident("王芳").await;
    let created = app.post("/api/v1/activities", &activity(&[a, b, a])).await;
    created.assert_status(201);
    assert_eq!(created.body["participant_ids"], json!([a, b]), "each participant once");
    for resident in [a, b] {
        let records = app.records(resident).await;
        assert_eq!(records.len(), 1);
        assert_eq!(records[0]["kind"], "activity");
        assert_eq!(records[0]["start"], "2019-08-30");
        assert_eq!(records[0]["activity_id"], created.body["id"]);
    }
}

#[tokio::test]
async fn an_unknown_participant_refuses_the_whole_activity() {
    let app = TestApp::spawn().await;
    let a = app.resident("张丽").await;
    let reply = app.post("/api/v1/activities", &activity(&[a, 777])).await;
    reply.assert_status(422);
    assert_eq!(reply.invalid_fields(), ["participant_ids"]);
    assert_eq!(app.count("activities").await, 0);
    assert_eq!(app.count("service_records").await, 0);

    let bad_date = app.post("/api/v1/activities", &json!({ "title": "培训", "date": "8月29日" })).await;
    assert_eq!(bad_date.invalid_fields(), ["date"]);
}

#[tokio::test]
async fn updating_an_activity_keeps_the_participants_records_in_step() {
    let app = TestApp::spawn().await;
    let a = app.resident("张丽").await;
    let b = app.resident("王芳").await;
    let c = app.resident("陈静").await;
    let created = app.post("/api/v1/activities", &activity(&[a, b])).await;
    let path = format!("/api/v1/activities/{}", created.body["id"]);

    let mut changed = activity(&[b, c]);
    changed["date"] = json!("2019-08-31");
    app.put(&path, None, &changed).await.assert_status(428);
    let updated = app.put(&path, Some(&created.etag()), &changed).await;
    updated.assert_status(200);
    assert_eq!(updated.body["participant_ids"], json!([b, c]));
    assert!(app.records(a).await.is_empty(), "removed participant loses the record");
    assert_eq!(app.records(b).await[0]["start"], "2019-08-31", "kept participant's record follows");
    assert_eq!(app.records(c).await.len(), 1, "new participant gets one");

    app.delete(&path).await.assert_status(204);
    assert_eq!(app.count("service_records").await, 0);
}

#[tokio::test]
async fn the_public_sees_only_consented_participants() {
    let app = TestApp::spawn().await;
    let public = app.resident("张丽").await;
    let private = app.resident("王芳").await;
    app.consent(public, "profile").await.assert_status(201);
    let created = app.post("/api/v1/activities", &activity(&[public, private])).await;
    let seen = app.get(&format!("/api/v1/activities/{}", created.body["id"])).await;
    seen.assert_status(200);
    assert_eq!(seen.body["participant_ids"], json!([public]));
}
