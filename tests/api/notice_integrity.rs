//! 公示 integrity: a notice counts only for the days it was actually public, and whoever has an
//! interest in a nomination (nominated it, wrote a supporting statement) takes no reviewer's step.

use chrono::Duration;
use serde_json::json;

use crate::helpers::TestApp;
use crate::workflow::{cast, in_notice, list_objections, move_to, nomination};

#[tokio::test]
async fn a_withdrawal_during_the_window_stops_the_notice_until_a_new_full_window() {
    let app = TestApp::spawn().await;
    let cast = cast(&app).await;
    let (id, _) = in_notice(&app, &cast).await;
    app.clock.advance(Duration::days(2));
    app.withdraw_consent(cast.resident, "profile").await;
    app.clock.advance(Duration::days(1));
    app.consent(cast.resident, "profile")
        .await
        .assert_status(201);
    // The window has run its seven days, but not in public.
    app.clock.advance(Duration::days(5));
    let refused = move_to(&app, &cast.reviewer, id, "approved").await;
    refused.assert_status(409);
    assert_eq!(refused.error_code(), "notice_interrupted");

    // A new full window after consent is given again.
    let restarted = move_to(&app, &cast.reviewer, id, "public_notice").await;
    restarted.assert_status(200);
    assert_eq!(restarted.body["state"], "public_notice");
    let early = move_to(&app, &cast.reviewer, id, "approved").await;
    assert_eq!(early.error_code(), "notice_open");
    app.clock.advance(Duration::days(8));
    move_to(&app, &cast.reviewer, id, "approved")
        .await
        .assert_status(200);
}

#[tokio::test]
async fn a_notice_still_withdrawn_at_approval_is_refused() {
    let app = TestApp::spawn().await;
    let cast = cast(&app).await;
    let (id, _) = in_notice(&app, &cast).await;
    app.clock.advance(Duration::days(8));
    app.withdraw_consent(cast.resident, "profile").await;
    let refused = move_to(&app, &cast.reviewer, id, "approved").await;
    refused.assert_status(409);
    assert_eq!(refused.error_code(), "notice_interrupted");
    // Restarting needs the consent back.
    let restart = move_to(&app, &cast.reviewer, id, "public_notice").await;
    assert_eq!(restart.error_code(), "consent_required");
}

#[tokio::test]
async fn a_statement_author_holding_both_roles_takes_no_reviewers_step() {
    let app = TestApp::spawn().await;
    let cast = cast(&app).await;
    // "both 测试" is the display name the helper gives the user `both`.
    let both = app.user_token("both", &["nominator", "reviewer"]).await;
    let mut body = nomination(&cast);
    body["statements"] = json!([{ "author": "both 测试", "relation": "同事", "body": "推荐。" }]);
    let id = app
        .send_as(&cast.nominator, "POST", "/api/v1/nominations", Some(&body))
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    move_to(&app, &cast.nominator, id, "submitted")
        .await
        .assert_status(200);
    for step in ["in_review", "public_notice"] {
        let refused = move_to(&app, &both, id, step).await;
        refused.assert_status(403);
        assert_eq!(refused.error_code(), "conflict_of_interest");
        move_to(&app, &cast.reviewer, id, step)
            .await
            .assert_status(200);
    }
    let seen = app
        .send_as(&both, "GET", &format!("/api/v1/nominations/{id}"), None)
        .await;
    assert_eq!(seen.body["allowed_transitions"], json!(["rejected"]));

    // Objections on it are not theirs to decide.
    let notice = seen.body["notice"]["id"].as_i64().unwrap();
    app.send(
        app.client
            .post(format!("/api/v1/notices/{notice}/objections"))
            .body_json(&json!({ "name": "张三", "contact": "13800001111", "content": "请核实。" })),
    )
    .await
    .assert_status(201);
    let objections = list_objections(&app, &cast.reviewer, notice).await;
    let path = format!(
        "/api/v1/objections/{}/transitions",
        objections.body[0]["id"]
    );
    let decision = json!({ "to": "dismissed", "note": "已核实，不成立" });
    let refused = app.send_as(&both, "POST", &path, Some(&decision)).await;
    refused.assert_status(403);
    assert_eq!(refused.error_code(), "conflict_of_interest");
    app.send_as(&cast.reviewer, "POST", &path, Some(&decision))
        .await
        .assert_status(200);

    app.clock.advance(Duration::days(8));
    for step in ["approved", "recognised"] {
        let refused = move_to(&app, &both, id, step).await;
        refused.assert_status(403);
        move_to(&app, &cast.reviewer, id, step)
            .await
            .assert_status(200);
    }
}
