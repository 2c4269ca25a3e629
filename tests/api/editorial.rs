//! The editors' desk: stories, the featured-story API with its filters, feeds, issue pages and the
//! export pack.

use std::io::Read;

use serde_json::{json, Value};

use crate::helpers::TestApp;

fn titles(reply: &Value) -> Vec<String> {
    reply["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["title"].as_str().unwrap().to_string())
        .collect()
}

const SMART: &str = "“智慧社区”建成的背后 有着这位专业“老法师”的强势助攻";
const SECRETARIES: &str = "开学季 居民区书记忙着增强基层治理“经验值”";

#[tokio::test]
async fn an_editor_writes_features_and_publishes_a_story() {
    let app = TestApp::spawn().await;
    let editor = app.user_token("zhou-jing", &["editor"]).await;
    let resident = app.resident("王芳").await;
    let body = json!({
        "title": "楼道里的热心人", "section": "长寿先锋", "themes": ["有德之士"], "byline": "记者 周晶",
        "body": "她每天**清扫**楼道。<script>alert(1)</script>", "featured": true, "resident_ids": [resident],
    });
    // Editors see residents only as the public does: one who never consented cannot be named,
    // and is refused in the very words used for an id that names nobody.
    let hidden = app
        .send_as(&editor, "POST", "/api/v1/stories", Some(&body))
        .await;
    assert_eq!(hidden.invalid_fields(), ["resident_ids"]);
    let mut nobody = body.clone();
    nobody["resident_ids"] = json!([resident + 1000]);
    let nobody = app
        .send_as(&editor, "POST", "/api/v1/stories", Some(&nobody))
        .await;
    let message =
        |r: &crate::helpers::Reply| r.body["error"]["details"]["fields"][0]["message"].clone();
    assert_eq!(message(&hidden), format!("居民 {resident} 不存在"));
    assert_eq!(message(&nobody), format!("居民 {} 不存在", resident + 1000));
    assert!(!hidden.text.contains("王芳"));
    app.consent(resident, "story").await.assert_status(201);
    let created = app
        .send_as(&editor, "POST", "/api/v1/stories", Some(&body))
        .await;
    created.assert_status(201);
    assert_eq!(created.body["state"], "draft");
    assert!(created.body["body_html"]
        .as_str()
        .unwrap()
        .contains("<strong>清扫</strong>"));
    assert!(!created.body["body_html"]
        .as_str()
        .unwrap()
        .contains("<script"));
    let id = created.body["id"].as_i64().unwrap();
    let slug = created.body["slug"].as_str().unwrap().to_string();
    // A nominator may not write stories; drafts are nowhere public.
    let nominator = app.user_token("wang-li", &["nominator"]).await;
    app.send_as(&nominator, "POST", "/api/v1/stories", Some(&body))
        .await
        .assert_status(403);
    app.get(&format!("/api/v1/stories/{id}"))
        .await
        .assert_status(404);
    app.get(&format!("/stories/{slug}"))
        .await
        .assert_status(404);
    assert!(titles(&app.get("/api/v1/stories").await.body).is_empty());

    // Publishing needs the resident's story consent (given above; the withdrawal below).
    let path = format!("/api/v1/stories/{id}/publication");
    let published = app
        .send_as(&editor, "PUT", &path, Some(&json!({ "published": true })))
        .await;
    published.assert_status(200);
    assert!(published.body["published_at"].is_string());

    assert_eq!(
        titles(&app.get("/api/v1/stories?featured=true").await.body),
        ["楼道里的热心人"]
    );
    let page = app.get(&format!("/stories/{slug}")).await;
    page.assert_status(200);
    assert!(page.text.contains("<strong>清扫</strong>") && !page.text.contains("alert(1)"));
    assert!(
        page.text.contains("王芳"),
        "named, though her profile is not public"
    );
    assert!(
        !page.text.contains("href=\"/people/"),
        "no link to a profile that is not public"
    );

    // Withdrawing the story consent unpublishes at once.
    let consents = app
        .staff_get(&format!("/api/v1/residents/{resident}/consents"))
        .await;
    let consent = consents
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["scope"] == "story")
        .unwrap()["id"]
        .clone();
    app.post(
        &format!("/api/v1/residents/{resident}/consents/{consent}/withdraw"),
        &json!({}),
    )
    .await
    .assert_status(200);
    app.get(&format!("/stories/{slug}"))
        .await
        .assert_status(404);
    assert!(titles(&app.get("/api/v1/stories").await.body).is_empty());
    assert!(!app
        .get("/feeds/stories.atom")
        .await
        .text
        .contains("楼道里的热心人"));
}

#[tokio::test]
async fn a_recognition_story_needs_an_honour_behind_it() {
    let app = TestApp::spawn().await;
    let editor = app.user_token("zhou-jing", &["editor"]).await;
    let resident = app.resident("王芳").await;
    app.consent(resident, "story").await;
    let body = json!({ "title": "表彰报道", "body": "正文", "recognition_story": true, "resident_ids": [resident] });
    let id = app
        .send_as(&editor, "POST", "/api/v1/stories", Some(&body))
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let refused = app
        .send_as(
            &editor,
            "PUT",
            &format!("/api/v1/stories/{id}/publication"),
            Some(&json!({ "published": true })),
        )
        .await;
    assert_eq!(refused.error_code(), "publication_refused");
    assert!(refused.text.contains("还没有表彰"));
}

#[tokio::test]
async fn the_featured_api_filters_exactly() {
    let app = TestApp::with_demo().await;
    let all = app.get("/api/v1/stories").await;
    all.assert_status(200);
    assert_eq!(titles(&all.body), [SECRETARIES, SMART]);
    assert_eq!(
        titles(&app.get("/api/v1/stories?featured=true").await.body),
        [SMART]
    );
    assert_eq!(
        titles(&app.get("/api/v1/stories?featured=false").await.body),
        [SECRETARIES]
    );
    assert_eq!(
        titles(&app.get("/api/v1/stories?theme=有德之士").await.body).len(),
        2
    );
    assert!(
        titles(&app.get("/api/v1/stories?theme=有德").await.body).is_empty(),
        "whole themes only"
    );
    assert_eq!(
        titles(&app.get("/api/v1/stories?section=长寿先锋").await.body),
        [SECRETARIES]
    );
    let sun = app.get("/api/v1/residents").await.body["items"][0]["id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        titles(
            &app.get(&format!("/api/v1/stories?resident={sun}"))
                .await
                .body
        ),
        [SMART]
    );
    let compound = app.get("/api/v1/communities").await.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "音乐广场")
        .unwrap()["id"]
        .clone();
    assert_eq!(
        titles(
            &app.get(&format!("/api/v1/stories?community={compound}"))
                .await
                .body
        ),
        [SMART]
    );
    assert_eq!(
        titles(
            &app.get("/api/v1/stories?since=2019-09-01&until=2019-09-03")
                .await
                .body
        )
        .len(),
        2
    );
    assert!(titles(&app.get("/api/v1/stories?since=2019-09-03").await.body).is_empty());
    let issue = app.get("/api/v1/issues").await.body["items"][0]["id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        titles(
            &app.get(&format!("/api/v1/stories?issue={issue}"))
                .await
                .body
        )
        .len(),
        2
    );
    assert!(titles(&app.get("/api/v1/stories?issue=999").await.body).is_empty());

    let cut = app
        .get("/api/v1/stories?featured=true&fields=title,url&include=residents")
        .await;
    let item = cut.body["items"][0].as_object().unwrap();
    assert_eq!(item.keys().collect::<Vec<_>>(), ["title", "url"]);
    let with_people = app
        .get("/api/v1/stories?featured=true&include=residents")
        .await;
    assert_eq!(
        with_people.body["items"][0]["residents"][0]["name"],
        "孙建伟"
    );
    assert!(
        app.get("/api/v1/stories?featured=true").await.body["items"][0]
            .get("residents")
            .is_none()
    );
    assert_eq!(
        app.get("/api/v1/stories?fields=secret")
            .await
            .invalid_fields(),
        ["fields"]
    );
    assert_eq!(
        app.get("/api/v1/stories?since=yesterday")
            .await
            .invalid_fields(),
        ["since"]
    );

    let newest = app.get("/api/v1/stories?sort=newest&limit=1").await;
    assert_eq!(newest.body["items"].as_array().unwrap().len(), 1);
    let next = newest.body["next_cursor"].as_str().unwrap();
    let second = app
        .get(&format!(
            "/api/v1/stories?sort=newest&limit=1&cursor={next}"
        ))
        .await;
    assert_eq!(second.body["items"].as_array().unwrap().len(), 1);
    assert_ne!(second.body["items"][0]["id"], newest.body["items"][0]["id"]);

    // Cheap polling: the same answer gives a 304.
    let tag = all.headers["etag"].to_str().unwrap().to_string();
    let polled = app
        .send(
            app.client
                .get("/api/v1/stories")
                .header("If-None-Match", &tag),
        )
        .await;
    assert_eq!(polled.status.as_u16(), 304);
}

#[tokio::test]
async fn the_feeds_parse_and_carry_the_featured_story() {
    let app = TestApp::with_demo().await;
    let atom = app.get("/feeds/stories.atom?featured=true").await;
    atom.assert_status(200);
    assert!(atom.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/atom+xml"));
    let feed: atom_syndication::Feed = atom.text.parse().expect("a valid Atom feed");
    assert_eq!(feed.entries().len(), 1);
    let entry = &feed.entries()[0];
    assert_eq!(entry.title().as_str(), SMART);
    assert!(entry.id().starts_with("https://youde.example.org/stories/"));
    assert!(entry.published().is_some());
    assert!(entry.content().unwrap().value().unwrap().contains("89.2%"));
    let enclosure = entry
        .links()
        .iter()
        .find(|l| l.rel() == "enclosure")
        .expect("the lead photo as an enclosure");
    assert!(enclosure
        .href()
        .starts_with("https://youde.example.org/media/"));
    assert_eq!(enclosure.mime_type(), Some("image/jpeg"));

    let json = app.get("/feeds/stories.json").await;
    json.assert_status(200);
    assert_eq!(json.body["version"], "https://jsonfeed.org/version/1.1");
    let items = json.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(items
        .iter()
        .any(|i| i["title"] == SMART && i["authors"][0]["name"] == "记者 周晶"));
    assert!(items.iter().all(
        |i| i["content_html"].as_str().unwrap().len() > 100 && i["date_published"].is_string()
    ));
    assert_eq!(
        app.get("/feeds/stories.json?section=长寿先锋").await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn the_issue_page_and_its_export_pack() {
    let app = TestApp::with_demo().await;
    let issues = app.get("/api/v1/issues").await;
    let issue = &issues.body["items"][0];
    assert_eq!(issue["name"], "长寿社区晨报 · 小城大事 2019年9月");
    assert!(issue["editors_note"]
        .as_str()
        .unwrap()
        .starts_with("时代进步离不开道德的引领"));
    let id = issue["id"].as_i64().unwrap();
    let page = app.get(&format!("/issues/{id}")).await;
    page.assert_status(200);
    assert!(page.text.contains("编者按") && page.text.contains("悉心观察周遭世事"));
    let first = page
        .text
        .find(SECRETARIES.split(' ').next().unwrap())
        .unwrap();
    assert!(
        first < page.text.find("老法师").unwrap(),
        "stories in order"
    );
    let home = app.get("/").await;
    assert!(home.text.contains("最新报道") && home.text.contains("老法师"));
    assert!(app
        .get("/people/sun-jianwei")
        .await
        .text
        .contains("相关报道"));

    let pack = app
        .send(app.client.get(format!("/api/v1/issues/{id}/pack")))
        .await;
    pack.assert_status(200);
    assert_eq!(pack.headers["content-type"], "application/zip");
    let resp = app
        .client
        .get(format!("/api/v1/issues/{id}/pack"))
        .send()
        .await
        .0;
    let bytes = resp.into_body().into_vec().await.unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip");
    let mut names: Vec<String> = (0..zip.len())
        .map(|i| zip.by_index(i).unwrap().name().unwrap().to_string())
        .collect();
    names.sort();
    let slug_a = app.get("/api/v1/stories").await.body["items"][0]["slug"]
        .as_str()
        .unwrap()
        .to_string();
    let expected_first = format!("stories/01-{slug_a}.md");
    assert!(names.contains(&expected_first), "{names:?}");
    for name in ["issue.md", "issue.html", "captions.csv", "manifest.json"] {
        assert!(
            names.contains(&name.to_string()),
            "{name} missing: {names:?}"
        );
    }
    assert_eq!(
        names.iter().filter(|n| n.starts_with("stories/")).count(),
        4
    );
    let mut manifest = String::new();
    zip.by_name("manifest.json")
        .unwrap()
        .read_to_string(&mut manifest)
        .unwrap();
    let manifest: Value = serde_json::from_str(&manifest).unwrap();
    assert_eq!(manifest["stories"][1]["title"], SMART);
    assert_eq!(manifest["stories"][1]["residents"][0], "孙建伟");
    let mut md = String::new();
    zip.by_name("issue.md")
        .unwrap()
        .read_to_string(&mut md)
        .unwrap();
    assert!(md.contains("## 编者按") && md.contains("2. “智慧社区”建成的背后"));
}

#[tokio::test]
async fn issues_are_edited_by_editors_and_drafts_stay_private() {
    let app = TestApp::with_demo().await;
    let editor = app.user_token("zhou-jing", &["editor"]).await;
    let created = app
        .send_as(
            &editor,
            "POST",
            "/api/v1/issues",
            Some(&json!({ "name": "2019年10月", "date": "2019-10-01", "story_ids": [] })),
        )
        .await;
    created.assert_status(201);
    let id = created.body["id"].as_i64().unwrap();
    app.get(&format!("/api/v1/issues/{id}"))
        .await
        .assert_status(404);
    app.get(&format!("/issues/{id}")).await.assert_status(404);
    app.get(&format!("/api/v1/issues/{id}/pack"))
        .await
        .assert_status(404);
    let bad = app
        .send_as(
            &editor,
            "POST",
            "/api/v1/issues",
            Some(&json!({ "name": "", "date": "10月", "story_ids": [999] })),
        )
        .await;
    assert_eq!(bad.invalid_fields(), ["name", "date"]);
    let missing_story = app
        .send_as(
            &editor,
            "POST",
            "/api/v1/issues",
            Some(&json!({ "name": "x", "date": "2019-10-01", "story_ids": [999] })),
        )
        .await;
    assert_eq!(missing_story.invalid_fields(), ["story_ids"]);
    app.send_as(
        &editor,
        "PUT",
        &format!("/api/v1/issues/{id}/publication"),
        Some(&json!({ "published": true })),
    )
    .await
    .assert_status(200);
    app.get(&format!("/issues/{id}")).await.assert_status(200);
}

/// A list of stories, the feeds and an issue's pack describe their stories (residents, places,
/// photos) in a fixed number of queries, not several per story.
#[tokio::test]
async fn story_lists_take_as_many_queries_for_twelve_stories_as_for_two() {
    let app = TestApp::with_demo().await;
    let editor = app.user_token("zhou-jing", &["editor"]).await;
    let paths = [
        "/api/v1/stories?include=residents,photos&limit=50",
        "/feeds/stories.json",
        "/feeds/stories.atom",
    ];
    let cost = |path: &'static str| {
        let app = &app;
        async move {
            let before = app.queries();
            let reply = app.get(path).await;
            reply.assert_status(200);
            (app.queries() - before, reply)
        }
    };
    let mut two = Vec::new();
    for path in paths {
        let (queries, reply) = cost(path).await;
        if path.starts_with("/api") {
            assert_eq!(reply.body["items"].as_array().unwrap().len(), 2);
        }
        two.push(queries);
    }
    // Ten more public stories naming the people of the demo's public stories (who consented).
    let listed = app.get(paths[0]).await;
    let mut named: Vec<i64> = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["resident_ids"].as_array().unwrap().clone())
        .map(|id| id.as_i64().unwrap())
        .collect();
    named.sort_unstable();
    named.dedup();
    assert!(!named.is_empty(), "the demo's stories name people");
    for n in 0..10 {
        let ids = [named[n % named.len()], named[(n + 1) % named.len()]];
        let story = json!({ "title": format!("第{n}篇"), "body": "正文", "resident_ids": ids });
        let created = app
            .send_as(&editor, "POST", "/api/v1/stories", Some(&story))
            .await;
        created.assert_status(201);
        let path = format!(
            "/api/v1/stories/{}/publication",
            created.body["id"].as_i64().unwrap()
        );
        app.send_as(&editor, "PUT", &path, Some(&json!({ "published": true })))
            .await
            .assert_status(200);
    }
    for (path, queries_for_two) in paths.into_iter().zip(two) {
        let (queries, reply) = cost(path).await;
        if path.starts_with("/api") {
            assert_eq!(reply.body["items"].as_array().unwrap().len(), 12);
        }
        assert_eq!(
            queries, queries_for_two,
            "{path}: {queries} queries for 12 stories, {queries_for_two} for 2"
        );
    }
}
