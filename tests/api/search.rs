//! `/api/v1/search`, the outbox and `/readyz` as a user and an operator see them.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::TestApp;

fn names(reply: &crate::helpers::Reply) -> Vec<String> {
    reply.body["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_search_answers_ranked_hits_with_snippets_facets_and_total() {
    let app = TestApp::with_demo().await;
    app.drain().await;
    let reply = app
        .get("/api/v1/search?q=%E6%99%BA%E6%85%A7%E7%A4%BE%E5%8C%BA")
        .await; // 智慧社区
    reply.assert_status(200);
    assert_eq!(
        reply.body["total"], 2,
        "孙建伟 and the demo story on him: {}",
        reply.text
    );
    let hits = reply.body["hits"].as_array().unwrap();
    let of_kind = |kind: &str| {
        hits.iter()
            .find(|h| h["kind"] == kind)
            .unwrap_or_else(|| panic!("no {kind} hit: {}", reply.text))
    };
    let story = of_kind("story");
    assert_eq!(
        story["name"],
        "“智慧社区”建成的背后 有着这位专业“老法师”的强势助攻"
    );
    let slug = story["slug"].as_str().unwrap();
    assert_eq!(story["url"], format!("/stories/{slug}"));
    assert_eq!(story["headlines"], json!(["小城大事", "记者 周晶"]));
    assert_eq!(story["categories"], json!(["有德之士"]));
    let hit = of_kind("resident");
    assert_eq!(hit["name"], "孙建伟");
    assert_eq!(hit["slug"], "sun-jianwei");
    assert_eq!(hit["url"], "/people/sun-jianwei");
    assert_eq!(hit["pinyin"], "sun jianwei");
    assert_eq!(hit["community_path"], "普陀区 › 长寿路街道 › 音乐广场");
    assert!(
        hit["snippet"]
            .as_str()
            .unwrap()
            .contains("<mark>智慧社区</mark>"),
        "{}",
        hit["snippet"]
    );
    assert!(
        hit["headlines"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l == "接待参访 52 批次"),
        "{}",
        hit["headlines"]
    );
    assert!(
        hit.get("public").is_none(),
        "public answers do not carry the staff flag"
    );
    let facets = &reply.body["facets"];
    assert_eq!(
        facets["kind"],
        json!([{ "value": "resident", "count": 1 }, { "value": "story", "count": 1 }])
    );
    assert_eq!(facets["community"][0]["label"], "音乐广场");
    assert!(facets["category"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["value"] == "接待参访"));
    assert!(facets["year"]
        .as_array()
        .unwrap()
        .iter()
        .any(|y| y["value"] == "2007" && y["count"] == 1));
    assert!(reply.body["next_cursor"].is_null());

    // Filters come back through the facets' values.
    let community = facets["community"][0]["value"].as_str().unwrap();
    let filtered = app
        .get(&format!(
            "/api/v1/search?q=sjw&community={community}&year=2019&kind=resident"
        ))
        .await;
    assert_eq!(names(&filtered), vec!["孙建伟"]);
    let by_slug = app
        .get("/api/v1/search?q=sjw&community=yinyueguangchang")
        .await;
    assert_eq!(names(&by_slug), vec!["孙建伟"]);
    let elsewhere = app.get("/api/v1/search?q=sjw&year=2001").await;
    assert_eq!(elsewhere.body["total"], 0);
}

#[tokio::test]
async fn empty_overlong_and_malformed_queries_get_clear_errors() {
    let app = TestApp::with_demo().await;
    for q in ["", "?q=", "?q=%20%20", "?q=%EF%BC%8C%E3%80%82"] {
        let path = format!("/api/v1/search{q}");
        let reply = app.get(&path).await;
        reply.assert_status(422);
        assert_eq!(reply.invalid_fields(), vec!["q"], "{path}");
    }
    let long = "孙".repeat(101);
    let reply = app.get(&format!("/api/v1/search?q={long}")).await;
    reply.assert_status(422);
    assert!(reply.text.contains("100"), "{}", reply.text);
    app.get(&format!("/api/v1/search?q={}", "孙".repeat(100)))
        .await
        .assert_status(200);

    app.get("/api/v1/search?q=sjw&limit=0")
        .await
        .assert_status(422);
    app.get("/api/v1/search?q=sjw&limit=51")
        .await
        .assert_status(422);
    app.get("/api/v1/search?q=sjw&kind=planet")
        .await
        .assert_status(422);
    app.get("/api/v1/search?q=sjw&community=no-such-place")
        .await
        .assert_status(422);
    app.get("/api/v1/search?q=sjw&year=20190")
        .await
        .assert_status(422);
    app.get("/api/v1/search?q=sjw&scope=everyone")
        .await
        .assert_status(422);
    let cursor = app.get("/api/v1/search?q=sjw&cursor=bm9wZQ").await;
    cursor.assert_status(400);
    assert_eq!(cursor.error_code(), "invalid_cursor");
    let staff_only = app.get("/api/v1/search?q=sjw&scope=staff").await;
    staff_only.assert_status(401);
}

#[tokio::test]
async fn staff_find_residents_without_consent_and_the_public_never_does() {
    let app = TestApp::with_demo().await;
    let private = app
        .create_resident(&json!({
            "name": "孙建伟", "community_id": app.compound_id().await,
            "phone": "13912345678", "address": "胶州路 1234 弄", "id_number": "11010519491231002X", "birth_year": 1931,
        }))
        .await;
    private.assert_status(201);
    app.drain().await;

    let public = app.get("/api/v1/search?q=sunjianwei").await;
    assert_eq!(
        public.body["total"], 1,
        "only the consented namesake: {}",
        public.text
    );
    let staff = app
        .staff_get("/api/v1/search?q=sunjianwei&scope=staff")
        .await;
    staff.assert_status(200);
    assert_eq!(staff.body["total"], 2);
    let flags: Vec<bool> = staff.body["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["public"].as_bool().unwrap())
        .collect();
    assert!(flags.contains(&true) && flags.contains(&false), "{flags:?}");
    // A staff token without scope=staff searches like the public.
    assert_eq!(
        app.staff_get("/api/v1/search?q=sunjianwei").await.body["total"],
        1
    );
    for reply in [public, staff] {
        for secret in ["13912345678", "胶州路", "11010519491231002X", "1931"] {
            assert!(!reply.text.contains(secret), "{secret} in a search answer");
        }
    }
}

#[tokio::test]
async fn pages_follow_next_cursor_to_the_end() {
    let app = TestApp::spawn().await;
    let community_id = app.compound_id().await;
    for given in ["一", "二", "三", "四", "五", "六", "七"] {
        let id = app
            .create_resident(&json!({ "name": format!("韩{given}"), "community_id": community_id }))
            .await
            .body["id"]
            .as_i64()
            .unwrap();
        app.consent(id, "profile").await.assert_status(201);
    }
    app.drain().await;
    let mut path = "/api/v1/search?q=han&limit=3".to_string();
    let mut seen = Vec::new();
    loop {
        let page = app.get(&path).await;
        page.assert_status(200);
        assert_eq!(page.body["total"], 7);
        seen.extend(names(&page));
        match page.body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/search?q=han&limit=3&cursor={cursor}"),
            None => break,
        }
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 7);
}

#[tokio::test]
async fn every_change_writes_one_outbox_row_and_a_refused_one_writes_none() {
    let app = TestApp::spawn().await;
    let community_id = app.compound_id().await;
    assert_eq!(
        app.count("search_outbox").await,
        0,
        "communities alone affect no document"
    );
    let id = app.resident("秦岭").await;
    assert_eq!(app.count("search_outbox").await, 1);
    app.consent(id, "profile").await.assert_status(201);
    app.add_record(
        id,
        &json!({ "kind": "other", "title": "义务理发", "start": "2015" }),
    )
    .await
    .assert_status(201);
    assert_eq!(app.count("search_outbox").await, 3);

    // Refused writes leave nothing behind: no resident, no consent, no outbox row.
    app.create_resident(&json!({ "name": "秦岭", "community_id": 99_999 }))
        .await
        .assert_status(422);
    app.consent(id, "profile").await.assert_status(409);
    let current = app.staff_get(&format!("/api/v1/residents/{id}")).await;
    let stale = "\"0-0\"";
    app.put(
        &format!("/api/v1/residents/{id}"),
        Some(stale),
        &json!({ "name": "秦岭岭", "community_id": community_id }),
    )
    .await
    .assert_status(412);
    assert_eq!(app.count("search_outbox").await, 3);

    app.put(
        &format!("/api/v1/residents/{id}"),
        Some(&current.etag()),
        &json!({ "name": "秦岭", "community_id": community_id }),
    )
    .await
    .assert_status(200);
    assert_eq!(app.count("search_outbox").await, 4);
    assert_eq!(app.drain().await, 4);
    assert_eq!(
        youde::store::outbox::backlog(&app.db)
            .await
            .unwrap()
            .pending,
        0
    );
}

#[tokio::test]
async fn activities_update_their_participants_documents() {
    let app = TestApp::spawn().await;
    let a = app.resident("柳青").await;
    let b = app.resident("柳絮").await;
    for id in [a, b] {
        app.consent(id, "profile").await.assert_status(201);
    }
    let created = app
        .post(
            "/api/v1/activities",
            &json!({ "title": "重阳节敬老慰问", "date": "2021-10-14", "participant_ids": [a, b] }),
        )
        .await;
    created.assert_status(201);
    app.drain().await;
    assert_eq!(
        app.get("/api/v1/search?q=%E6%95%AC%E8%80%81%E6%85%B0%E9%97%AE")
            .await
            .body["total"],
        2
    ); // 敬老慰问
    let activity = created.body["id"].as_i64().unwrap();
    app.delete(&format!("/api/v1/activities/{activity}"))
        .await
        .assert_status(204);
    app.drain().await;
    assert_eq!(
        app.get("/api/v1/search?q=%E6%95%AC%E8%80%81%E6%85%B0%E9%97%AE")
            .await
            .body["total"],
        0
    );
}

#[tokio::test]
async fn a_withdrawal_reaches_search_within_seconds_through_the_background_relay() {
    let app = TestApp::with_demo().await;
    let relay = app.search.relay.spawn();
    let started = Instant::now();
    while app.get("/api/v1/search?q=sjw").await.body["total"] != 1 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the demo never reached the index"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let id = app.get("/api/v1/search?q=sjw").await.body["hits"][0]["id"]
        .as_i64()
        .unwrap();
    let consent = app
        .staff_get(&format!("/api/v1/residents/{id}/consents"))
        .await
        .body[0]["id"]
        .as_i64()
        .unwrap();
    app.post(
        &format!("/api/v1/residents/{id}/consents/{consent}/withdraw"),
        &json!({}),
    )
    .await
    .assert_status(200);
    let withdrawn = Instant::now();
    while app.get("/api/v1/search?q=sjw").await.body["total"] != 0 {
        assert!(
            withdrawn.elapsed() < Duration::from_secs(5),
            "withdrawal still searchable after 5 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    relay.abort();
}

#[tokio::test]
async fn readiness_reports_search() {
    let app = TestApp::with_demo().await;
    let ready = app.get("/readyz").await;
    ready.assert_status(200);
    assert_eq!(ready.body["search"]["status"], "ok", "{}", ready.text);
    assert_eq!(ready.body["search"]["engine"], "embedded");
    assert!(
        ready.body["search"]["backlog"].as_u64().unwrap() > 0,
        "the demo data waits for delivery"
    );
    app.drain().await;
    assert_eq!(app.get("/readyz").await.body["search"]["backlog"], 0);
}

#[tokio::test]
async fn youde_reindex_rebuilds_the_index_from_the_database() {
    let app = TestApp::with_demo().await;
    // The command line's own process, on this test's database and data folder.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_youde"))
        .args(["reindex", "--database-url", &app.db_url, "--index-dir"])
        .arg(app.dir.path().join("index"))
        .env("RUST_LOG", "warn")
        .output()
        .expect("run youde reindex");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("3 documents"),
        "孙建伟 and the two demo stories: {stdout}"
    );
    // The app's index switched to the rebuilt generation without being told.
    let started = Instant::now();
    while app.get("/api/v1/search?q=sjw").await.body["total"] != 1 {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the rebuilt index was not picked up"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn the_openapi_document_describes_search() {
    let app = TestApp::spawn().await;
    let spec = app.get("/api/openapi.json").await;
    let op = &spec.body["paths"]["/search"]["get"];
    assert!(op.is_object(), "spec lacks GET /search");
    let params: Vec<&str> = op["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for name in [
        "q",
        "community",
        "category",
        "year",
        "kind",
        "scope",
        "limit",
        "cursor",
    ] {
        assert!(
            params.contains(&name),
            "GET /search lacks parameter {name}: {params:?}"
        );
    }
    for status in ["200", "422", "503"] {
        assert!(
            op["responses"][status].is_object(),
            "GET /search lacks {status}"
        );
    }
}

/// The demo's featured story: it names 孙建伟, who consented to stories.
const SMART: &str = "“智慧社区”建成的背后 有着这位专业“老法师”的强势助攻";

#[tokio::test]
async fn published_stories_are_found_and_drafts_and_withdrawn_ones_are_not() {
    let app = TestApp::with_demo().await;
    let editor = app.user_token("zhou-jing", &["editor"]).await;
    let body = json!({
        "title": "弄堂里的修伞人", "section": "长寿先锋", "themes": ["有德之士"],
        "body": "退休后他在弄堂口义务修伞，十年修好了三千多把**油纸伞**。",
    });
    let before = app.count("search_outbox").await;
    let created = app
        .send_as(&editor, "POST", "/api/v1/stories", Some(&body))
        .await;
    created.assert_status(201);
    assert_eq!(
        app.count("search_outbox").await,
        before + 1,
        "the story's outbox row commits with it"
    );
    let id = created.body["id"].as_i64().unwrap();
    let slug = created.body["slug"].as_str().unwrap().to_string();
    app.drain().await;
    let search = "/api/v1/search?q=%E6%B2%B9%E7%BA%B8%E4%BC%9E"; // 油纸伞
    assert_eq!(
        app.get(search).await.body["total"],
        0,
        "a draft is not found"
    );
    assert_eq!(
        app.staff_get(&format!("{search}&scope=staff")).await.body["total"],
        0,
        "not even by staff"
    );

    app.send_as(
        &editor,
        "PUT",
        &format!("/api/v1/stories/{id}/publication"),
        Some(&json!({ "published": true })),
    )
    .await
    .assert_status(200);
    app.drain().await;
    let found = app.get(search).await;
    assert_eq!(found.body["total"], 1, "{}", found.text);
    let hit = &found.body["hits"][0];
    assert_eq!(hit["kind"], "story");
    assert_eq!(hit["name"], "弄堂里的修伞人");
    assert_eq!(hit["url"], format!("/stories/{slug}"));
    assert!(hit["snippet"]
        .as_str()
        .unwrap()
        .contains("<mark>油纸伞</mark>"));
    assert_eq!(
        app.get(&format!("{search}&kind=story")).await.body["total"],
        1
    );
    assert_eq!(
        app.get(&format!("{search}&kind=resident")).await.body["total"],
        0
    );
    // The search page links the hit to the story's page.
    let page = app.get("/search?q=%E6%B2%B9%E7%BA%B8%E4%BC%9E").await;
    page.assert_status(200);
    assert!(
        page.text.contains(&format!("href=\"/stories/{slug}\"")),
        "{}",
        page.text
    );
    assert!(!page.text.contains("/people/\""));
    assert!(
        page.text.contains("报道（1）"),
        "the kind facet: {}",
        page.text
    );
    let filtered = app
        .get("/search?q=%E6%B2%B9%E7%BA%B8%E4%BC%9E&kind=resident")
        .await;
    filtered.assert_status(200);
    assert!(!filtered.text.contains(&format!("/stories/{slug}")));

    // Taken back to draft: gone again.
    app.send_as(
        &editor,
        "PUT",
        &format!("/api/v1/stories/{id}/publication"),
        Some(&json!({ "published": false })),
    )
    .await
    .assert_status(200);
    app.drain().await;
    assert_eq!(app.get(search).await.body["total"], 0, "unpublished");
}

#[tokio::test]
async fn withdrawing_story_consent_takes_the_story_out_of_search() {
    let app = TestApp::with_demo().await;
    app.drain().await;
    let q = "/api/v1/search?q=%E8%80%81%E6%B3%95%E5%B8%88&kind=story"; // 老法师
    assert_eq!(names(&app.get(q).await), vec![SMART]);
    let sun = app.get("/api/v1/search?q=sjw").await.body["hits"][0]["id"]
        .as_i64()
        .unwrap();
    let before = app.count("search_outbox").await;
    app.withdraw_consent(sun, "story").await;
    assert_eq!(
        app.count("search_outbox").await,
        before + 2,
        "his own row and one for the story naming him, in the same transaction"
    );
    // Until the relay delivers, the index still has it; then it is gone.
    assert_eq!(names(&app.get(q).await), vec![SMART]);
    app.drain().await;
    assert!(names(&app.get(q).await).is_empty(), "withdrawn: not found");
    // His profile consent stands: he himself is still found.
    assert_eq!(
        names(&app.get("/api/v1/search?q=sjw").await),
        vec!["孙建伟"]
    );
    // The other demo story names nobody and stays.
    assert_eq!(
        app.get("/api/v1/search?q=%E7%BB%8F%E9%AA%8C%E5%80%BC&kind=story") // 经验值
            .await
            .body["total"],
        1
    );
}

#[tokio::test]
async fn stories_published_before_the_upgrade_are_queued_for_the_index() {
    use migration::MigratorTrait;
    use sea_orm::{EntityTrait, Set};
    use youde::store::entities::story;

    let dir = tempfile::tempdir().unwrap();
    let url = crate::helpers::fresh_database(dir.path()).await;
    let db = youde::store::connect(&url).await.unwrap();
    // The schema as it was before the backfill …
    let backfill = migration::Migrator::migrations()
        .iter()
        .position(|m| m.name() == "m20261125_000060_index_published_stories")
        .expect("the backfill migration");
    migration::Migrator::up(&db, Some(backfill as u32))
        .await
        .unwrap();
    // … holding a published story and a draft that an older version wrote without outbox rows.
    let now = youde::store::now();
    let mut ids = Vec::new();
    for (slug, state) in [("jiu-bao-dao", "published"), ("jiu-cao-gao", "draft")] {
        // Inserted without reading the row back: later migrations add columns this one lacks.
        let m = story::ActiveModel {
            slug: Set(slug.into()),
            title: Set(format!("旧{state}")),
            themes: Set(String::new()),
            body: Set("升级前写好的报道，讲的是楼道里的向日葵。".into()),
            recognition_story: Set(false),
            state: Set(state.into()),
            featured: Set(false),
            published_at: Set((state == "published").then_some(now)),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        };
        let id = story::Entity::insert(m)
            .exec(&db)
            .await
            .unwrap()
            .last_insert_id;
        ids.push(id);
    }
    let pending = || async { youde::store::outbox::backlog(&db).await.unwrap().pending };
    assert_eq!(pending().await, 0);

    migration::Migrator::up(&db, None).await.unwrap();
    assert_eq!(pending().await, 1, "the published story is queued");
    let rows = youde::store::outbox::written_since(&db, now - chrono::Duration::minutes(1), 0, 10)
        .await
        .unwrap();
    assert_eq!(
        rows.len(),
        1,
        "its timestamp reads back and falls in the replay window"
    );
    assert_eq!(
        (rows[0].kind.as_str(), rows[0].entity_id),
        ("story", ids[0])
    );

    let (index, _) =
        youde::search::embedded::EmbeddedIndex::open(&dir.path().join("index")).unwrap();
    let search = youde::search::Search::new(db.clone(), std::sync::Arc::new(index));
    assert_eq!(search.relay.drain().await.unwrap(), 1);
    let found = search
        .index
        .search(&youde::search::SearchQuery::new("向日葵"))
        .await
        .unwrap();
    let hits: Vec<(&str, i64)> = found
        .hits
        .iter()
        .map(|d| (d.kind.as_str(), d.entity_id))
        .collect();
    assert_eq!(hits, vec![("story", ids[0])], "the draft stays out");
}

/// Several app nodes on one PostgreSQL database: while one node's relay has the turn, another
/// delivers nothing (so it cannot overwrite a newer document with an older one), and delivers
/// once the turn is free.
#[tokio::test]
async fn one_relay_at_a_time_delivers_across_nodes_sharing_postgresql() {
    use sea_orm::{ConnectionTrait, DatabaseBackend, Statement, TransactionTrait};
    let app = TestApp::spawn().await;
    if app.db.get_database_backend() != DatabaseBackend::Postgres {
        println!(
            "notice: the relay's cross-node turn exists on PostgreSQL only; skipped on SQLite"
        );
        return;
    }
    let id = app.resident("孙建伟").await;
    app.consent(id, "profile").await.assert_status(201);
    // Another node holds the turn.
    let other = app.db.begin().await.unwrap();
    other
        .execute(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1)",
            [youde::search::relay::RELAY_LOCK.into()],
        ))
        .await
        .unwrap();
    assert_eq!(app.drain().await, 0, "waits for the other node");
    let found = app.get("/api/v1/search?q=孙建伟").await;
    assert_eq!(found.body["total"], 0);
    // Its batch ends: this node delivers.
    other.rollback().await.unwrap();
    assert!(app.drain().await > 0);
    let found = app.get("/api/v1/search?q=孙建伟").await;
    assert_eq!(found.body["hits"][0]["name"], "孙建伟");
}
