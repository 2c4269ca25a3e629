//! A registry of tens of thousands: 40,000 residents (35,000 of them public) bulk-inserted over
//! the demo data, then every public page a visitor reaches from the home page, the sitemap and
//! the feeds and the 街道's own site, and every GET operation of the served OpenAPI document,
//! answer without a server error and within [`MAX_QUERIES`] statements, rendered afresh. Before, listing public honours bound every public resident's id in one `IN (…)`, and
//! the home page, every profile and `GET /api/v1/recognitions` answered 500 past SQLite's limit
//! of bind variables (PostgreSQL's is 65,535). Timing is not asserted here (see `bench/`).

use std::collections::HashMap;

use chrono::{NaiveDate, Utc};
use sea_orm::{ConnectionTrait, EntityTrait, Set, Statement, TransactionTrait};
use youde::store::entities::{consent, nomination, recognition, resident, service_record};

use crate::contract::{fill_path, first_ids, operations, served_spec};
use crate::helpers::{volunteer, TestApp};
use crate::leaks::crawl;
use crate::workflow::{cast, in_notice};

const RESIDENTS: usize = 40_000;
/// Every eighth resident never consented: 35,000 public profiles.
const PRIVATE_EVERY: usize = 8;
/// Residents with an honour, and with a service record.
const HONOURED: usize = 2_000;
const WITH_RECORDS: usize = 10_000;
/// The first honoured resident: every 20th from here on (some of them not public).
const HONOURED_FROM: usize = 7;
/// Rows per INSERT: well under both databases' bind limits (13 columns × 1,000).
const CHUNK: usize = 1_000;
/// The most statements one page render or one API answer may run over this registry: a list of
/// 100 items that looked up each item's community or photos would take hundreds.
const MAX_QUERIES: usize = 40;

async fn scalar(app: &TestApp, sql: &str) -> i64 {
    let row = app
        .db
        .query_one(Statement::from_string(
            app.db.get_database_backend(),
            sql.to_string(),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

/// Multi-row INSERTs of `rows`, `CHUNK` at a time.
async fn insert_all<A, C>(db: &C, rows: Vec<A>)
where
    A: sea_orm::ActiveModelTrait + Send,
    <A::Entity as EntityTrait>::Model: sea_orm::IntoActiveModel<A>,
    C: ConnectionTrait,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(CHUNK).collect();
        <A::Entity as EntityTrait>::insert_many(chunk)
            .exec_without_returning(db)
            .await
            .expect("bulk insert");
    }
}

/// The registry, inserted in one transaction with multi-row INSERTs.
async fn bulk_registry(app: &TestApp, community_id: i64, category_id: i64, user_id: i64) {
    let now = Utc::now();
    let signed = NaiveDate::from_ymd_opt(2019, 9, 1).unwrap();
    let first = scalar(app, "SELECT COALESCE(MAX(id), 0) AS n FROM residents").await + 1;
    let ids: Vec<i64> = (0..RESIDENTS as i64).map(|i| first + i).collect();
    let first_nomination =
        scalar(app, "SELECT COALESCE(MAX(id), 0) AS n FROM nominations").await + 1;
    let tx = app.db.begin().await.unwrap();
    insert_all(
        &tx,
        ids.iter()
            .enumerate()
            .map(|(i, id)| resident::ActiveModel {
                id: Set(*id),
                name: Set(volunteer(i)),
                pinyin: Set(format!("zhiyuanzhe {i}")),
                slug: Set(format!("zhi-yuan-zhe-{i}")),
                community_id: Set(community_id),
                citation: Set(Some("热心社区服务。".into())),
                phone: Set(Some(format!("139{i:08}"))),
                id_number: Set(None),
                birth_year: Set(Some(1950 + (i % 50) as i32)),
                address: Set(None),
                erased_at: Set(None),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
            })
            .collect(),
    )
    .await;
    insert_all(
        &tx,
        ids.iter()
            .enumerate()
            .filter(|(i, _)| i % PRIVATE_EVERY != PRIVATE_EVERY - 1)
            .map(|(_, id)| consent::ActiveModel {
                resident_id: Set(*id),
                scope: Set("profile".into()),
                text_version: Set("v1".into()),
                signed_on: Set(signed),
                recorded_by: Set("scale".into()),
                evidence: Set(None),
                withdrawn_on: Set(None),
                created_at: Set(now),
                ..Default::default()
            })
            .collect(),
    )
    .await;
    insert_all(
        &tx,
        ids.iter()
            .take(WITH_RECORDS)
            .map(|id| service_record::ActiveModel {
                resident_id: Set(*id),
                activity_id: Set(None),
                kind: Set("role".into()),
                title: Set("楼组长".into()),
                organisation: Set(Some("音乐广场居民区".into())),
                start_date: Set(format!("{}", 2000 + id % 19)),
                end_date: Set(None),
                unpaid: Set(true),
                measures: Set("[]".into()),
                evidence: Set(None),
                recorded_by: Set("scale".into()),
                verified_by: Set(None),
                verified_on: Set(None),
                recorded_by_user_id: Set(None),
                verified_by_user_id: Set(None),
                confirmed_on: Set(None),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            })
            .collect(),
    )
    .await;
    // Honours spread over the registry (some of them for residents who are not public).
    let honoured: Vec<i64> = ids
        .iter()
        .skip(HONOURED_FROM)
        .step_by(RESIDENTS / HONOURED)
        .copied()
        .collect();
    insert_all(
        &tx,
        honoured
            .iter()
            .enumerate()
            .map(|(i, id)| nomination::ActiveModel {
                id: Set(first_nomination + i as i64),
                resident_id: Set(*id),
                category_id: Set(category_id),
                honour_title: Set("2019年度长寿路街道有德之士".into()),
                year: Set(2010 + (i % 10) as i32),
                citation: Set("推荐理由".into()),
                nominator_id: Set(user_id),
                state: Set("recognised".into()),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
            })
            .collect(),
    )
    .await;
    insert_all(
        &tx,
        honoured
            .iter()
            .enumerate()
            .map(|(i, id)| recognition::ActiveModel {
                nomination_id: Set(first_nomination + i as i64),
                resident_id: Set(*id),
                category_id: Set(category_id),
                title: Set("2019年度长寿路街道有德之士".into()),
                year: Set(2010 + (i % 10) as i32),
                citation: Set("推荐理由".into()),
                recognised_on: Set(signed),
                recognised_by: Set(user_id),
                revoked_at: Set(None),
                revoke_reason: Set(None),
                version: Set(1),
                created_at: Set(now),
                ..Default::default()
            })
            .collect(),
    )
    .await;
    tx.commit().await.unwrap();
    if app.db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        // Explicit ids leave the sequences behind; later inserts through the app need them ahead.
        for table in ["residents", "nominations"] {
            app.db
                .execute_unprepared(&format!(
                    "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
                ))
                .await
                .unwrap();
        }
    }
}

#[tokio::test]
async fn every_public_page_and_list_answers_over_a_registry_of_forty_thousand() {
    let app = TestApp::with_demo().await;
    let cast = cast(&app).await;
    let (_, notice) = in_notice(&app, &cast).await;
    let community = app.compound_id().await;
    let user_id = scalar(&app, "SELECT MIN(id) AS n FROM users").await;
    bulk_registry(&app, community, cast.category, user_id).await;
    assert!(scalar(&app, "SELECT COUNT(*) AS n FROM residents").await > RESIDENTS as i64);

    // The public honours, paged through the API: every item a public resident's, no 500.
    let first = app.get("/api/v1/recognitions?limit=100").await;
    first.assert_status(200);
    assert_eq!(first.body["items"].as_array().unwrap().len(), 100);
    let cursor = first.body["next_cursor"].as_str().expect("a next page");
    let second = app
        .get(&format!("/api/v1/recognitions?limit=100&cursor={cursor}"))
        .await;
    second.assert_status(200);
    assert!(second.body["items"][0]["id"].as_i64() > first.body["items"][99]["id"].as_i64());
    let private = app
        .get(&format!(
            "/api/v1/recognitions?resident_id={}",
            first_private_honoured(&app).await
        ))
        .await;
    private.assert_status(200);
    assert_eq!(private.body["items"], serde_json::json!([]));

    // Every GET operation of the API, anonymous and as staff.
    let spec = served_spec(&app).await;
    let mut ids: HashMap<&str, String> = HashMap::new();
    ids.insert("notices", notice.to_string());
    ids.insert("residents", cast.resident.to_string());
    first_ids(&app, &mut ids).await;
    let mut failures = Vec::new();
    for template in operations(&spec)
        .iter()
        .filter_map(|op| op.strip_prefix("GET "))
    {
        let path = fill_path(template, &ids, |_, _| None);
        for who in ["anonymous", "staff"] {
            let before = app.queries();
            let reply = match who {
                "anonymous" => app.get(&path).await,
                _ => app.staff_get(&path).await,
            };
            let queries = app.queries() - before;
            // The exports are whole-registry downloads, read in batches of 500 rows.
            if queries > MAX_QUERIES && !path.starts_with("/api/v1/exports/") {
                failures.push(format!("{who} GET {path}: {queries} queries"));
            }
            // A list (no path parameter) answers 200 to staff, or 422 when it needs a parameter
            // (search's `q`); nothing answers 5xx.
            let list = !template.contains('{');
            let answered = [200, 422].contains(&reply.status.as_u16());
            if reply.status.is_server_error() || (list && who == "staff" && !answered) {
                failures.push(format!("{who} GET {path}: {} {}", reply.status, reply.text));
            }
        }
    }

    let app = &app;
    let slug = |id: i64| async move {
        app.get(&format!("/api/v1/communities/{id}")).await.body["slug"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let community_slug = slug(community).await;
    // The 街道 the registry lies in, whose own site lists them.
    let subdistrict = app
        .get(&format!("/api/v1/communities/{community}"))
        .await
        .body["parent_id"]
        .as_i64()
        .unwrap();
    let mut site = slug(subdistrict).await;
    while !app.get(&format!("/s/{site}")).await.status.is_success() {
        let up = app.get("/api/v1/communities?limit=200").await.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["slug"] == site.as_str())
            .and_then(|c| c["parent_id"].as_i64())
            .expect("a 街道 above the registry");
        site = slug(up).await;
    }
    // Every page a visitor reaches from the home page, the sitemap, the feeds and the 公示 board.
    // (One crawl per start: a crawl of the sitemap alone would spend itself on 35,000 profiles.)
    let mut pages = Vec::new();
    for start in [
        "/".to_string(),
        "/sitemap.xml".to_string(),
        "/feeds/stories.atom".to_string(),
        "/feeds/stories.json".to_string(),
        "/notices".to_string(),
        format!("/communities/{community_slug}"),
        format!("/s/{site}"),
        format!("/s/{site}/sitemap.xml"),
        format!("/s/{site}/feeds/stories.atom"),
    ] {
        pages.extend(crawl(app, &[start.as_str()], 60).await);
    }
    pages.sort();
    pages.dedup();
    for kind in ["/people/", "/communities/", "/stories/", "/notices/"] {
        assert!(
            pages.iter().any(|p| p.starts_with(kind)),
            "the crawl reached no {kind} page"
        );
    }
    for path in &pages {
        // Rendered afresh: an address the page cache has not seen.
        let fresh = match path.contains('?') {
            true => format!("{path}&scale=1"),
            false => format!("{path}?scale=1"),
        };
        let before = app.queries();
        let reply = app.get(&fresh).await;
        let queries = app.queries() - before;
        if reply.status != 200 {
            failures.push(format!("GET {path}: {}", reply.status));
        }
        if queries > MAX_QUERIES {
            failures.push(format!("GET {path}: {queries} queries"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");

    // The sitemap names every public profile, the home page shows the newest honours.
    let sitemap = app.sitemap().await;
    // In parts of at most 10,000 profiles each, named by the index.
    let index = app.get("/sitemap.xml").await.text;
    assert!(index.matches("/sitemaps/people-").count() >= 4, "{index}");
    assert!(sitemap.matches("<urlset").count() >= 5);
    assert!(sitemap.matches("/people/zhi-yuan-zhe-").count() >= 35_000);
    assert!(!sitemap.contains(&format!("/people/zhi-yuan-zhe-{}<", PRIVATE_EVERY - 1)));
    let newest = HONOURED_FROM + (HONOURED - 1) * (RESIDENTS / HONOURED);
    assert_ne!(
        newest % PRIVATE_EVERY,
        PRIVATE_EVERY - 1,
        "the newest honour is public"
    );
    let home = app.get("/").await.text;
    assert!(
        home.contains(&volunteer(newest)),
        "the newest honour is on the home page"
    );
}

/// A resident with an honour but no profile consent.
async fn first_private_honoured(app: &TestApp) -> i64 {
    scalar(
        app,
        "SELECT MIN(resident_id) AS n FROM recognitions WHERE resident_id NOT IN \
         (SELECT resident_id FROM consents WHERE scope = 'profile')",
    )
    .await
}
