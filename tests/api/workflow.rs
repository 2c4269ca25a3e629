//! The recognition workflow end to end: nominate → submit → review → 公示 with an objection →
//! approve → recognise.

use chrono::Duration;
use serde_json::{json, Value};

use crate::helpers::{Reply, TestApp};

pub struct Cast {
    pub nominator: String,
    pub reviewer: String,
    pub resident: i64,
    pub category: i64,
}

pub async fn cast(app: &TestApp) -> Cast {
    let resident = app.resident("孙建伟").await;
    app.consent(resident, "profile").await.assert_status(201);
    let categories = app.get("/api/v1/categories").await;
    let category = categories
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "敬业奉献")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    Cast {
        nominator: app.user_token("wang-li", &["nominator"]).await,
        reviewer: app.user_token("zhao-min", &["reviewer"]).await,
        resident,
        category,
    }
}

pub fn nomination(cast: &Cast) -> Value {
    json!({
        "resident_id": cast.resident,
        "category_id": cast.category,
        "honour_title": "2019年度长寿路街道有德之士",
        "year": 2019,
        "citation": "12 年无偿服务业委会，节约工程金额 30 万元。",
        "statements": [{ "author": "李阿姨", "relation": "小区业主", "body": "他一个门栋一个门栋地量。" }],
    })
}

pub async fn nominate(app: &TestApp, cast: &Cast) -> i64 {
    let created = app
        .send_as(
            &cast.nominator,
            "POST",
            "/api/v1/nominations",
            Some(&nomination(cast)),
        )
        .await;
    created.assert_status(201);
    assert_eq!(created.body["state"], "draft");
    created.body["id"].as_i64().unwrap()
}

pub async fn move_to(app: &TestApp, token: &str, id: i64, to: &str) -> Reply {
    app.send_as(
        token,
        "POST",
        &format!("/api/v1/nominations/{id}/transitions"),
        Some(&json!({ "to": to })),
    )
    .await
}

/// The objections to a notice, as `token` (a reviewer) sees them.
pub async fn list_objections(app: &TestApp, token: &str, notice: i64) -> Reply {
    let path = format!("/api/v1/notices/{notice}/objections");
    app.send_as(token, "GET", &path, None).await
}

/// A nomination taken into an open 公示; returns (nomination id, notice id).
pub async fn in_notice(app: &TestApp, cast: &Cast) -> (i64, i64) {
    let id = nominate(app, cast).await;
    move_to(app, &cast.nominator, id, "submitted")
        .await
        .assert_status(200);
    move_to(app, &cast.reviewer, id, "in_review")
        .await
        .assert_status(200);
    let noticed = move_to(app, &cast.reviewer, id, "public_notice").await;
    noticed.assert_status(200);
    (id, noticed.body["notice"]["id"].as_i64().unwrap())
}

fn objection() -> Value {
    json!({ "name": "张三", "contact": "13800001111", "content": "他并非无偿服务，请核实。" })
}

#[tokio::test]
async fn the_whole_path_from_nomination_to_the_honour_roll() {
    let app = TestApp::spawn().await;
    let cast = cast(&app).await;
    let (id, notice) = in_notice(&app, &cast).await;

    // The notice is public, with the resident's public profile and the citation.
    let board = app.get("/api/v1/notices").await;
    board.assert_status(200);
    let listed = &board.body["items"][0];
    assert_eq!(listed["resident_name"], "孙建伟");
    assert_eq!(listed["honour_title"], "2019年度长寿路街道有德之士");
    assert_eq!(listed["days_left"], 7);
    assert_eq!(listed["open"], true);

    // Anyone may object; a receipt code follows it up.
    let filed = app
        .send(
            app.client
                .post(format!("/api/v1/notices/{notice}/objections"))
                .body_json(&objection()),
        )
        .await;
    filed.assert_status(201);
    let receipt = filed.body["receipt_code"].as_str().unwrap().to_string();
    assert_eq!(filed.body["state"], "open");
    assert!(filed.body.get("objector_contact").is_none());

    // Approval waits for the window to close…
    let early = move_to(&app, &cast.reviewer, id, "approved").await;
    early.assert_status(409);
    assert_eq!(early.error_code(), "notice_open");

    // …and for the objection to be decided.
    app.clock.advance(Duration::days(8));
    let blocked = move_to(&app, &cast.reviewer, id, "approved").await;
    blocked.assert_status(409);
    assert_eq!(blocked.error_code(), "objections_pending");
    assert_eq!(
        app.get("/api/v1/notices").await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        0,
        "closed notices leave the board"
    );

    let objections = app
        .send_as(
            &cast.reviewer,
            "GET",
            &format!("/api/v1/notices/{notice}/objections"),
            None,
        )
        .await;
    objections.assert_status(200);
    assert_eq!(
        objections.body[0]["objector_name"], "张三",
        "reviewers see who objected"
    );
    let objection_id = objections.body[0]["id"].as_i64().unwrap();
    let path = format!("/api/v1/objections/{objection_id}/transitions");
    app.send_as(
        &cast.reviewer,
        "POST",
        &path,
        Some(&json!({ "to": "investigating" })),
    )
    .await
    .assert_status(200);
    let no_note = app
        .send_as(
            &cast.reviewer,
            "POST",
            &path,
            Some(&json!({ "to": "dismissed" })),
        )
        .await;
    assert_eq!(no_note.invalid_fields(), ["note"]);
    let dismissed = app
        .send_as(
            &cast.reviewer,
            "POST",
            &path,
            Some(&json!({ "to": "dismissed", "note": "经核实，业委会委员一职确为无偿。" })),
        )
        .await;
    dismissed.assert_status(200);

    // The objector follows up by receipt code and sees the finding, not anyone's contact.
    let followed = app.get(&format!("/api/v1/objections/{receipt}")).await;
    followed.assert_status(200);
    assert_eq!(followed.body["state"], "dismissed");
    assert_eq!(
        followed.body["resolution_note"],
        "经核实，业委会委员一职确为无偿。"
    );
    assert!(!followed.text.contains("13800001111"));

    let approved = move_to(&app, &cast.reviewer, id, "approved").await;
    approved.assert_status(200);
    let recognised = move_to(&app, &cast.reviewer, id, "recognised").await;
    recognised.assert_status(200);
    assert_eq!(recognised.body["state"], "recognised");
    assert!(
        recognised.body["allowed_transitions"]
            .as_array()
            .unwrap()
            .is_empty(),
        "final"
    );

    let roll = app.get("/api/v1/recognitions").await;
    roll.assert_status(200);
    let honour = &roll.body["items"][0];
    assert_eq!(honour["resident_name"], "孙建伟");
    assert_eq!(honour["title"], "2019年度长寿路街道有德之士");
    assert_eq!(honour["category_name"], "敬业奉献");
    assert_eq!(honour["year"], 2019);

    // Every step is in the audit log.
    let audit = app
        .staff_get(&format!(
            "/api/v1/audit?entity_kind=nomination&entity_id={id}"
        ))
        .await;
    let actions: Vec<&str> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "nomination.create",
            "nomination.submitted",
            "nomination.in_review",
            "nomination.public_notice",
            "nomination.approved",
            "nomination.recognised"
        ]
    );
}

#[tokio::test]
async fn an_upheld_objection_blocks_approval_for_good() {
    let app = TestApp::spawn().await;
    let cast = cast(&app).await;
    let (id, notice) = in_notice(&app, &cast).await;
    app.send(
        app.client
            .post(format!("/api/v1/notices/{notice}/objections"))
            .body_json(&objection()),
    )
    .await;
    let list = app
        .send_as(
            &cast.reviewer,
            "GET",
            &format!("/api/v1/notices/{notice}/objections"),
            None,
        )
        .await;
    let path = format!("/api/v1/objections/{}/transitions", list.body[0]["id"]);
    app.send_as(
        &cast.reviewer,
        "POST",
        &path,
        Some(&json!({ "to": "upheld", "note": "情况属实" })),
    )
    .await
    .assert_status(200);
    app.clock.advance(Duration::days(8));
    let refused = move_to(&app, &cast.reviewer, id, "approved").await;
    assert_eq!(refused.error_code(), "objections_pending");
    // The decided objection cannot be reopened; the reviewer rejects the nomination instead.
    let reopen = app
        .send_as(
            &cast.reviewer,
            "POST",
            &path,
            Some(&json!({ "to": "dismissed", "note": "x" })),
        )
        .await;
    reopen.assert_status(409);
    move_to(&app, &cast.reviewer, id, "rejected")
        .await
        .assert_status(200);
}

#[tokio::test]
async fn illegal_moves_list_the_allowed_ones_and_nobody_approves_their_own() {
    let app = TestApp::spawn().await;
    let cast = cast(&app).await;
    let id = nominate(&app, &cast).await;
    let skip = move_to(&app, &cast.nominator, id, "approved").await;
    skip.assert_status(409);
    assert_eq!(skip.error_code(), "illegal_transition");
    assert_eq!(
        skip.body["error"]["details"]["allowed"],
        json!(["submitted", "rejected", "withdrawn"])
    );
    // A reviewer does not submit someone else's draft (and does not even see it).
    move_to(&app, &cast.reviewer, id, "submitted")
        .await
        .assert_status(404);

    // A member of staff who is both nominator and reviewer nominates, then tries to approve.
    let both = app.user_token("both", &["nominator", "reviewer"]).await;
    let own = app
        .send_as(
            &both,
            "POST",
            "/api/v1/nominations",
            Some(&nomination(&cast)),
        )
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    move_to(&app, &both, own, "submitted")
        .await
        .assert_status(200);
    for step in ["in_review", "public_notice"] {
        let own_review = move_to(&app, &both, own, step).await;
        own_review.assert_status(403);
        assert_eq!(own_review.error_code(), "conflict_of_interest");
        move_to(&app, &cast.reviewer, own, step)
            .await
            .assert_status(200);
    }
    app.clock.advance(Duration::days(8));
    let self_approval = move_to(&app, &both, own, "approved").await;
    self_approval.assert_status(403);
    assert!(self_approval.text.contains("不能批准自己提出的提名"));
    move_to(&app, &cast.reviewer, own, "approved")
        .await
        .assert_status(200);
}

#[tokio::test]
async fn a_notice_needs_profile_consent_and_disappears_when_it_is_withdrawn() {
    let app = TestApp::spawn().await;
    let cast = cast(&app).await;
    let unconsented = app.resident("李明").await;
    let mut body = nomination(&cast);
    body["resident_id"] = json!(unconsented);
    let id = app
        .send_as(&cast.nominator, "POST", "/api/v1/nominations", Some(&body))
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    move_to(&app, &cast.nominator, id, "submitted")
        .await
        .assert_status(200);
    move_to(&app, &cast.reviewer, id, "in_review")
        .await
        .assert_status(200);
    let refused = move_to(&app, &cast.reviewer, id, "public_notice").await;
    refused.assert_status(409);
    assert_eq!(refused.error_code(), "consent_required");

    let (_, notice) = in_notice(&app, &cast).await;
    app.get(&format!("/api/v1/notices/{notice}"))
        .await
        .assert_status(200);
    let consents = app
        .staff_get(&format!("/api/v1/residents/{}/consents", cast.resident))
        .await;
    let consent_id = consents.body[0]["id"].as_i64().unwrap();
    app.post(
        &format!(
            "/api/v1/residents/{}/consents/{consent_id}/withdraw",
            cast.resident
        ),
        &json!({}),
    )
    .await
    .assert_status(200);
    app.get(&format!("/api/v1/notices/{notice}"))
        .await
        .assert_status(404);
    assert_eq!(
        app.get("/api/v1/notices").await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    let objection = app
        .send(
            app.client
                .post(format!("/api/v1/notices/{notice}/objections"))
                .body_json(&objection()),
        )
        .await;
    objection.assert_status(404);
}

#[tokio::test]
async fn objections_are_validated_throttled_and_only_taken_while_open() {
    let app = TestApp::spawn().await;
    let cast = cast(&app).await;
    let (_, notice) = in_notice(&app, &cast).await;
    let path = format!("/api/v1/notices/{notice}/objections");
    let empty = app
        .send(
            app.client
                .post(&path)
                .body_json(&json!({ "name": "", "contact": "", "content": "" })),
        )
        .await;
    assert_eq!(empty.invalid_fields(), ["name", "contact", "content"]);
    for _ in 0..5 {
        app.send(app.client.post(&path).body_json(&objection()))
            .await
            .assert_status(201);
    }
    let sixth = app
        .send(app.client.post(&path).body_json(&objection()))
        .await;
    sixth.assert_status(429);
    assert_eq!(sixth.error_code(), "too_many_requests");
    assert_eq!(app.count("objections").await, 5);

    app.clock.advance(Duration::days(8));
    app.send(app.client.post(&path).body_json(&objection()))
        .await
        .assert_status(404);
}

#[tokio::test]
async fn a_recognition_can_be_revoked_with_a_reason() {
    let app = TestApp::with_demo().await;
    let roll = app.get("/api/v1/recognitions").await;
    let honour = &roll.body["items"][0];
    assert_eq!(honour["title"], "2019年度长寿路街道有德之士");
    let id = honour["id"].as_i64().unwrap();
    let no_reason = app
        .post(
            &format!("/api/v1/recognitions/{id}/revoke"),
            &json!({ "reason": " " }),
        )
        .await;
    assert_eq!(no_reason.invalid_fields(), ["reason"]);
    let revoked = app
        .post(
            &format!("/api/v1/recognitions/{id}/revoke"),
            &json!({ "reason": "核实发现材料有误" }),
        )
        .await;
    revoked.assert_status(200);
    assert_eq!(revoked.body["revoke_reason"], "核实发现材料有误");
    assert_eq!(
        app.get("/api/v1/recognitions").await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    app.get(&format!("/api/v1/recognitions/{id}"))
        .await
        .assert_status(404);
}

#[tokio::test]
async fn the_demo_has_a_recognition_and_an_open_notice() {
    let app = TestApp::with_demo().await;
    let notices = app.get("/api/v1/notices").await;
    let items = notices.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["honour_title"], "长寿路街道智慧社区建设带头人");
    assert_eq!(items[0]["community"], "普陀区 › 长寿路街道 › 音乐广场");
    let recognitions = app.get("/api/v1/recognitions").await;
    assert_eq!(recognitions.body["items"][0]["recognised_on"], "2019-09-20");
}

/// The 公示 board and the sitemap describe their notices (resident, community path, category) in a
/// fixed number of queries, not several per notice.
#[tokio::test]
async fn the_notice_board_takes_as_many_queries_for_four_notices_as_for_one() {
    let app = TestApp::spawn().await;
    let first = cast(&app).await;
    in_notice(&app, &first).await;
    let pages = ["/notices", "/sitemaps/site.xml", "/api/v1/notices"];
    let listed = |path: &str, reply: &crate::helpers::Reply| {
        if path.starts_with("/api") {
            reply.body["items"].as_array().unwrap().len()
        } else {
            reply.text.matches("/notices/").count()
        }
    };
    let mut cost = Vec::new();
    for path in pages {
        let before = app.queries();
        let reply = app.get(path).await;
        reply.assert_status(200);
        assert_eq!(listed(path, &reply), 1, "{path}: {}", reply.text);
        cost.push(app.queries() - before);
    }
    for name in ["李小红", "王小明", "赵小刚"] {
        let resident = app.resident(name).await;
        app.consent(resident, "profile").await.assert_status(201);
        let next = Cast {
            nominator: first.nominator.clone(),
            reviewer: first.reviewer.clone(),
            resident,
            category: first.category,
        };
        in_notice(&app, &next).await;
    }
    for (path, for_one) in pages.into_iter().zip(cost) {
        let before = app.queries();
        let reply = app.get(path).await;
        reply.assert_status(200);
        let for_four = app.queries() - before;
        assert_eq!(listed(path, &reply), 4, "{path}: {}", reply.text);
        assert_eq!(
            for_four, for_one,
            "{path}: {for_four} queries for four notices, {for_one} for one"
        );
    }
}
