//! Housekeeping: objectors' contact details are forgotten a set time after their objection was
//! decided, in the objection and in its audit history; undecided objections keep theirs; the
//! decision and content stay.

use chrono::Duration;
use serde_json::json;

use crate::helpers::TestApp;
use crate::workflow::{cast, in_notice};

#[tokio::test]
async fn objector_contacts_are_forgotten_after_the_decision_and_nothing_else_is() {
    let app = TestApp::spawn().await;
    let cast = cast(&app).await;
    let (_, notice) = in_notice(&app, &cast).await;
    for (name, contact) in [("张三", "zhang@example.cn"), ("李四", "13900001111")] {
        app.send(
            app.client
                .post(format!("/api/v1/notices/{notice}/objections"))
                .body_json(&json!({ "name": name, "contact": contact, "content": format!("{name}的异议") })),
        )
        .await
        .assert_status(201);
    }
    let path = format!("/api/v1/notices/{notice}/objections");
    let objections = app.send_as(&cast.reviewer, "GET", &path, None).await.body;
    let zhang = objections
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["objector_name"] == "张三")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let decide = format!("/api/v1/objections/{zhang}/transitions");
    for body in [
        json!({ "to": "investigating" }),
        json!({ "to": "dismissed", "note": "已核实" }),
    ] {
        app.send_as(&cast.reviewer, "POST", &decide, Some(&body))
            .await
            .assert_status(200);
    }
    let settings = youde::housekeeping::Settings {
        objector_contact_days: 90,
        temp_dirs: vec![],
    };
    let soon = youde::housekeeping::run(&app.db, &settings, app.clock.now() + Duration::days(89))
        .await
        .unwrap();
    assert_eq!(
        soon.objector_contacts, 0,
        "kept for 90 days after the decision"
    );
    let later = youde::housekeeping::run(&app.db, &settings, app.clock.now() + Duration::days(91))
        .await
        .unwrap();
    assert_eq!(later.objector_contacts, 1);
    let again = youde::housekeeping::run(&app.db, &settings, app.clock.now() + Duration::days(92))
        .await
        .unwrap();
    assert_eq!(
        again.objector_contacts, 0,
        "a second run finds nothing more"
    );

    let objections = app.send_as(&cast.reviewer, "GET", &path, None).await.body;
    for o in objections.as_array().unwrap() {
        match o["objector_name"].as_str().unwrap() {
            "张三" => {
                assert_eq!(o["objector_contact"], "", "decided 91 days ago: forgotten");
                assert_eq!(o["content"], "张三的异议");
                assert_eq!(o["state"], "dismissed");
            }
            _ => assert_eq!(o["objector_contact"], "13900001111", "still open: kept"),
        }
    }
    // The decision's audit event held the contact in its snapshots; it is gone there too.
    let history = app
        .staff_get(&format!(
            "/api/v1/audit?entity_kind=objection&entity_id={zhang}"
        ))
        .await;
    history.assert_status(200);
    assert!(
        history.body["items"].as_array().unwrap().len() >= 2,
        "the decision's events stay: {}",
        history.text
    );
    assert!(
        !history.text.contains("zhang@example.cn"),
        "{}",
        history.text
    );
    assert!(
        history.text.contains("已核实"),
        "the decision stays: {}",
        history.text
    );
}
