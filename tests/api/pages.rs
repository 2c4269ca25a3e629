//! The public pages, as a browser gets them: content, status codes and headers.

use serde_json::json;

use crate::helpers::{Reply, TestApp};
use crate::workflow::{cast, in_notice};

fn assert_page(reply: &Reply, status: u16) {
    reply.assert_status(status);
    let ct = reply.headers["content-type"].to_str().unwrap();
    assert!(ct.starts_with("text/html"), "{ct}");
    let csp = reply.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("frame-ancestors 'none'")
            && !csp.contains("unsafe-inline")
            && csp.contains("default-src 'none'"),
        "{csp}"
    );
    assert_eq!(reply.headers["x-content-type-options"], "nosniff");
    assert_eq!(
        reply.headers["referrer-policy"],
        "strict-origin-when-cross-origin"
    );
    assert!(
        reply.headers.contains_key("strict-transport-security"),
        "served over https: HSTS"
    );
    assert!(!reply.text.contains("<script"), "no script on any page");
}

#[tokio::test]
async fn the_honour_roll_shows_recognitions_and_the_open_notice() {
    let app = TestApp::with_demo().await;
    let home = app.get("/").await;
    assert_page(&home, 200);
    assert!(home.text.contains("<html lang=\"zh-CN\">"));
    assert!(home.text.contains("2019年度 · 敬业奉献"));
    assert!(home.text.contains("href=\"/people/sun-jianwei\""));
    assert!(home.text.contains("2019年度长寿路街道有德之士"));
    assert!(home.text.contains("正在公示"));
    assert!(home.text.contains("长寿路街道智慧社区建设带头人"));
    assert!(home.text.contains("还剩 7 天"));
}

#[tokio::test]
async fn the_recognition_page_of_sun_jianwei() {
    let app = TestApp::with_demo().await;
    let page = app.get("/people/sun-jianwei").await;
    assert_page(&page, 200);
    let t = &page.text;
    assert!(t.contains("<h1>孙建伟</h1>"));
    assert!(t.contains("普陀区 › 长寿路街道 › 音乐广场"));
    assert!(t.contains("无偿服务 12 年 · 接待参访 52 批次 · 节约资金 30 万元 · 调研小区 60余个"));
    assert!(t.contains("2019年度长寿路街道有德之士"));
    assert!(
        t.contains("<strong>音乐广场业委会委员</strong>"),
        "markdown citation rendered"
    );
    assert!(
        t.contains("<svg viewBox=\"0 0 720"),
        "timeline drawn as inline SVG"
    );
    assert!(
        t.contains("音乐广场业主委员会委员（开发商代表）：2007年—2019年"),
        "timeline has a text alternative"
    );
    assert!(
        t.contains("60余个小区") && t.contains("100余万元、89.2%"),
        "measures as the newsletter says them"
    );
    assert!(
        t.contains("来源：《长寿社区晨报》2019年9月"),
        "evidence cited"
    );
    assert!(
        t.contains(r#"<link rel="canonical" href="https://youde.example.org/people/sun-jianwei">"#)
    );
    assert!(t.contains(r#"<meta property="og:title" content="孙建伟 · 有德之士 · 长寿路街道">"#));
    assert!(t.contains(
        "<meta name=\"description\" content=\"2007 年起作为开发商代表担任音乐广场业委会委员"
    ));
}

#[tokio::test]
async fn the_print_view_carries_a_qr_code_of_the_public_address() {
    let app = TestApp::with_demo().await;
    let page = app.get("/people/sun-jianwei/print").await;
    assert_page(&page, 200);
    assert!(page
        .text
        .contains("https://youde.example.org/people/sun-jianwei"));
    assert!(
        page.text.matches("<svg").count() >= 2,
        "timeline and QR code"
    );
    assert!(!page.text.contains("<?xml"), "the QR SVG is inline HTML");
    let css = app.get("/static/site.css").await;
    assert!(css.text.contains("@page { size: A4"));
}

#[tokio::test]
async fn pages_of_people_without_consent_are_not_found_and_withdrawn_ones_are_gone() {
    let app = TestApp::with_demo().await;
    let private = app.resident("李明").await;
    let slug = app
        .staff_get(&format!("/api/v1/residents/{private}"))
        .await
        .body["slug"]
        .as_str()
        .unwrap()
        .to_string();
    let missing = app.get(&format!("/people/{slug}")).await;
    assert_page(&missing, 404);
    assert!(missing.text.contains("页面不存在"));

    let sun = app.get("/api/v1/residents").await.body["items"][0]["id"]
        .as_i64()
        .unwrap();
    let consent = app
        .staff_get(&format!("/api/v1/residents/{sun}/consents"))
        .await
        .body[0]["id"]
        .as_i64()
        .unwrap();
    app.post(
        &format!("/api/v1/residents/{sun}/consents/{consent}/withdraw"),
        &json!({}),
    )
    .await
    .assert_status(200);
    let gone = app.get("/people/sun-jianwei").await;
    assert_page(&gone, 410);
    assert!(gone.text.contains("应本人要求"));
    assert!(!gone.text.contains("孙建伟"));
    assert!(
        !app.get("/").await.text.contains("孙建伟"),
        "off the honour roll too"
    );
    app.get("/people/sun-jianwei/print")
        .await
        .assert_status(410);
    assert!(!app.sitemap().await.contains("sun-jianwei"));
}

#[tokio::test]
async fn a_citation_with_script_runs_nothing() {
    let app = TestApp::spawn().await;
    let community_id = app.compound_id().await;
    let id = app
        .create_resident(&json!({ "name": "王芳", "community_id": community_id,
            "citation": "好人<script>alert('x')</script> [点我](javascript:alert(1)) <img src=x onerror=alert(2)> **热心**" }))
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    app.consent(id, "profile").await;
    let page = app.get("/people/wang-fang").await;
    assert_page(&page, 200);
    assert!(
        !page.text.contains("javascript:")
            && !page.text.contains("onerror")
            && !page.text.contains("alert('x')")
    );
    assert!(page.text.contains("<strong>热心</strong>"));
}

#[tokio::test]
async fn pages_revalidate_with_etags_and_change_when_the_data_does() {
    let app = TestApp::with_demo().await;
    let first = app.get("/people/sun-jianwei").await;
    let etag = first.headers["etag"].to_str().unwrap().to_string();
    let again = app
        .send(
            app.client
                .get("/people/sun-jianwei")
                .header("If-None-Match", &etag),
        )
        .await;
    assert_eq!(again.status.as_u16(), 304);
    assert!(again.text.is_empty());

    // A new record through the API shows at once.
    let sun = app.get("/api/v1/residents").await.body["items"][0]["id"]
        .as_i64()
        .unwrap();
    app.add_record(
        sun,
        &json!({ "kind": "volunteer_hours", "title": "社区志愿服务", "start": "2020",
                                 "measures": [{ "value": 120, "unit": "hours" }] }),
    )
    .await
    .assert_status(201);
    let changed = app
        .send(
            app.client
                .get("/people/sun-jianwei")
                .header("If-None-Match", &etag),
        )
        .await;
    changed.assert_status(200);
    assert!(changed.text.contains("志愿服务 120 小时"));
    assert_ne!(changed.headers["etag"].to_str().unwrap(), etag);
}

#[tokio::test]
async fn an_objection_filed_through_the_form_arrives_with_a_receipt() {
    let app = TestApp::spawn().await;
    let cast = cast(&app).await;
    let (_, notice) = in_notice(&app, &cast).await;
    let board = app.get("/notices").await;
    assert_page(&board, 200);
    assert!(board.text.contains("还剩 7 天"));

    let form = app.get(&format!("/notices/{notice}")).await;
    assert_page(&form, 200);
    assert!(
        form.text.contains("12 年无偿服务业委会"),
        "the citation is on the notice"
    );
    let cookie = form.headers["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let token = cookie.split_once('=').unwrap().1.to_string();
    assert!(form
        .text
        .contains(&format!("name=\"csrf\" value=\"{token}\"")));

    let post = |csrf: &str, cookie: Option<&str>, content: &str| {
        let mut req = app
            .client
            .post(format!("/notices/{notice}"))
            .content_type("application/x-www-form-urlencoded")
            .body(format!(
                "name=%E5%BC%A0%E4%B8%89&contact=13800001111&content={content}&csrf={csrf}"
            ));
        if let Some(c) = cookie {
            req = req.header("Cookie", c);
        }
        req
    };
    let forged = app.send(post(&token, None, "x")).await;
    assert_page(&forged, 403);
    let wrong = app
        .send(post(
            "not-the-token-but-long-enough-to-look-real",
            Some(&cookie),
            "x",
        ))
        .await;
    wrong.assert_status(403);
    assert_eq!(app.count("objections").await, 0);

    let empty = app.send(post(&token, Some(&cookie), "")).await;
    empty.assert_status(422);
    assert!(empty.text.contains("请填写异议内容"));
    assert!(
        empty.text.contains("value=\"张三\""),
        "the form comes back filled"
    );

    let filed = app
        .send(post(&token, Some(&cookie), "%E8%AF%B7%E6%A0%B8%E5%AE%9E"))
        .await;
    assert_page(&filed, 200);
    assert!(filed.text.contains("回执编号"));
    assert_eq!(app.count("objections").await, 1);
    let objections = app
        .send_as(
            &cast.reviewer,
            "GET",
            &format!("/api/v1/notices/{notice}/objections"),
            None,
        )
        .await;
    assert_eq!(objections.body[0]["content"], "请核实");
    assert_eq!(objections.body[0]["objector_name"], "张三");
    let receipt = objections.body[0]["receipt_code"].as_str().unwrap();
    assert!(filed.text.contains(receipt));
}

#[tokio::test]
async fn communities_sitemap_robots_and_chinese_error_pages() {
    let app = TestApp::with_demo().await;
    let community = app.get("/communities/yinyueguangchang").await;
    assert_page(&community, 200);
    assert!(community.text.contains("<h1>音乐广场</h1>") && community.text.contains("孙建伟"));
    let district = app.get("/communities/putuoqu").await;
    assert!(district
        .text
        .contains("href=\"/communities/changshoulujiedao\""));
    let sitemap = app.sitemap().await;
    assert!(sitemap.contains("<loc>https://youde.example.org/people/sun-jianwei</loc>"));
    assert!(sitemap.contains("<loc>https://youde.example.org/communities/yinyueguangchang</loc>"));
    // Past the last block of profile ids, and anything that is not a part: not found.
    app.get("/sitemaps/people-1.xml").await.assert_status(404);
    app.get("/sitemaps/people-x.xml").await.assert_status(404);
    app.get("/sitemaps/site").await.assert_status(404);
    let robots = app.get("/robots.txt").await;
    assert!(robots
        .text
        .contains("Sitemap: https://youde.example.org/sitemap.xml"));
    let nowhere = app.get("/no/such/page").await;
    assert_page(&nowhere, 404);
    assert!(nowhere.text.contains("页面不存在"));
}

#[tokio::test]
async fn the_search_page_finds_people_by_pinyin_and_offers_facets() {
    let app = TestApp::with_demo().await;
    app.drain().await;
    let empty = app.get("/search").await;
    assert_page(&empty, 200);
    assert!(empty.text.contains("name=\"q\""));
    let found = app.get("/search?q=sjw").await;
    assert_page(&found, 200);
    assert!(
        found.text.contains("href=\"/people/sun-jianwei\""),
        "{}",
        found.text
    );
    assert!(found.text.contains("sun jianwei"), "pinyin shown as a hint");
    assert!(
        found.text.contains("/search?q=sjw&#38;category="),
        "facet links keep the query: {}",
        found.text
    );
    let traditional = app.get("/search?q=%E5%AD%AB%E5%BB%BA%E5%81%89").await; // 孫建偉
    assert!(traditional.text.contains("孙建伟"));
    let deeds = app
        .get("/search?q=%E6%99%BA%E6%85%A7%E7%A4%BE%E5%8C%BA")
        .await; // 智慧社区
    assert!(deeds.text.contains("<mark>智慧社区</mark>"));
    let none = app.get("/search?q=zzzzqqq").await;
    assert!(none.text.contains("没有找到"));
    let script = app
        .get("/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E")
        .await;
    assert_page(&script, 200);
    assert!(!script.text.contains("<script>alert"));
}

/// The honour of a resident made straight in the store (the workflow is tested elsewhere); its
/// recognition's id.
async fn honour(app: &TestApp, resident_id: i64) -> i64 {
    use youde::store::{nominations, recognitions};
    let statement = youde::domain::nomination::StatementInput {
        author: "居委会".into(),
        relation: "居委会".into(),
        body: "热心公益".into(),
    };
    let categories = app.get("/api/v1/categories").await;
    let category = categories.body[0]["id"].as_i64().unwrap();
    let draft = youde::domain::nomination::NominationDraft::parse(
        resident_id,
        category,
        "2026年度有德之士",
        2026,
        "热心公益。",
        vec![statement],
    )
    .unwrap();
    let m = nominations::insert(&app.db, &draft, 1, app.clock.now())
        .await
        .unwrap();
    let today = (app.clock.now() + chrono::Duration::hours(8)).date_naive();
    recognitions::insert(&app.db, &m, today, 1, app.clock.now())
        .await
        .unwrap()
        .id
}

/// The demo's district and 街道, and a second 街道 宜川路 beside it with a 居民区 and one public,
/// honoured resident, 王秀英 (her id and her recognition's).
struct TwoSubdistricts {
    district: serde_json::Value,
    changshou: serde_json::Value,
    yichuan: serde_json::Value,
    area: serde_json::Value,
    wang: i64,
    wang_honour: i64,
}

async fn second_subdistrict(app: &TestApp) -> TwoSubdistricts {
    let all = app.staff_get("/api/v1/communities?limit=200").await.body["items"].clone();
    let find = |kind: &str| {
        all.as_array()
            .unwrap()
            .iter()
            .find(|c| c["kind"] == kind)
            .unwrap()
            .clone()
    };
    let (district, changshou) = (find("district"), find("subdistrict"));
    let yichuan = app
        .post(
            "/api/v1/communities",
            &json!({ "name": "宜川路街道", "kind": "subdistrict", "parent_id": district["id"] }),
        )
        .await
        .body;
    let area = app
        .post(
            "/api/v1/communities",
            &json!({ "name": "宜川一村", "kind": "residential_area", "parent_id": yichuan["id"] }),
        )
        .await
        .body;
    let wang = app
        .create_resident(&json!({ "name": "王秀英", "community_id": area["id"] }))
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    app.consent(wang, "profile").await.assert_status(201);
    let wang_honour = honour(app, wang).await;
    TwoSubdistricts {
        district,
        changshou,
        yichuan,
        area,
        wang,
        wang_honour,
    }
}

#[tokio::test]
async fn two_subdistricts_each_have_a_site_of_their_own_people() {
    let app = TestApp::with_demo().await;
    // One 街道: the deployment's site is named after it, at `/` as before.
    let home = app.get("/").await;
    assert_page(&home, 200);
    assert!(home.text.contains("<small>长寿路街道</small>"));
    assert!(home.text.contains("长寿路街道办事处 · 有德之士登记"));

    // A second 街道 with an honoured resident of its own.
    let TwoSubdistricts {
        district,
        changshou,
        yichuan,
        area,
        ..
    } = second_subdistrict(&app).await;

    let site = |c: &serde_json::Value| format!("/s/{}", c["slug"].as_str().unwrap());
    let changshou_site = app.get(&site(&changshou)).await;
    assert_page(&changshou_site, 200);
    assert!(changshou_site.text.contains("孙建伟"));
    assert!(!changshou_site.text.contains("王秀英"));
    assert!(changshou_site
        .text
        .contains("<title>光荣榜 · 长寿路街道有德之士</title>"));
    let yichuan_site = app.get(&site(&yichuan)).await;
    assert_page(&yichuan_site, 200);
    assert!(yichuan_site.text.contains("王秀英"));
    assert!(!yichuan_site.text.contains("孙建伟"));
    assert!(yichuan_site.text.contains("<small>宜川路街道</small>"));
    assert!(yichuan_site
        .text
        .contains("宜川路街道办事处 · 有德之士登记"));
    // The district's site gathers its 街道.
    let putuo = app.get(&site(&district)).await;
    assert_page(&putuo, 200);
    assert!(putuo.text.contains("王秀英") && putuo.text.contains("孙建伟"));
    // The single-site address still answers, now for the whole deployment (its one district).
    let home = app.get("/").await;
    assert_page(&home, 200);
    assert!(home.text.contains("王秀英") && home.text.contains("孙建伟"));
    assert!(home.text.contains("<small>普陀区</small>"));
    // Each 公示 board holds its own subtree's notices: the demo's open one is 长寿路's.
    let open = app.get("/api/v1/notices").await.body["items"][0]["resident_name"]
        .as_str()
        .expect("the demo has an open notice")
        .to_string();
    let board = |c: &serde_json::Value| format!("{}/notices", site(c));
    let changshou_board = app.get(&board(&changshou)).await;
    assert_page(&changshou_board, 200);
    assert!(changshou_board.text.contains(&open));
    let yichuan_board = app.get(&board(&yichuan)).await;
    assert_page(&yichuan_board, 200);
    assert!(!yichuan_board.text.contains(&open));
    assert!(yichuan_board.text.contains("公示 · 宜川路街道有德之士"));
    // Each site searches its own people.
    app.drain().await;
    let search = |c: &serde_json::Value, q: &str| format!("{}/search?q={q}", site(c));
    let found = app.get(&search(&changshou, "孙建伟")).await;
    assert_page(&found, 200);
    assert!(
        found.text.contains("href=\"/people/sun-jianwei\""),
        "{}",
        found.text
    );
    let elsewhere = app.get(&search(&yichuan, "孙建伟")).await;
    assert_page(&elsewhere, 200);
    assert!(!elsewhere.text.contains("href=\"/people/sun-jianwei\""));
    assert!(elsewhere.text.contains("action=\"/s/"));
    let own = app.get(&search(&yichuan, "王秀英")).await;
    assert!(own.text.contains("王秀英") && own.text.contains("/people/"));
    // Only a 街道 or a district has a site.
    assert_page(&app.get(&site(&area)).await, 404);
    assert_page(&app.get("/s/no-such-place").await, 404);
}

/// A 街道's site at a host name of its own (`YOUDE_SITES`) serves its honour roll, 公示 board,
/// feeds and sitemap at that host's root, with links and canonical addresses of that host; the
/// same site stays at `/s/{slug}` with its prefixed links (the page cache keeps the two apart),
/// and the deployment's `/` is unchanged. Each site's feeds and sitemap hold its own people only,
/// and a certificate names the holder's own 街道 office as its issuing body.
#[tokio::test]
async fn a_site_has_its_own_host_feeds_sitemap_and_issuing_body() {
    const HOST: &str = "yichuan.example.cn";
    let app = TestApp::with_demo_configured(|state| {
        state.sites = std::sync::Arc::new(
            youde::domain::site::HostSites::parse(&format!("{HOST}=yichuanlujiedao")).unwrap(),
        );
    })
    .await;
    let two = second_subdistrict(&app).await;
    assert_eq!(two.yichuan["slug"], "yichuanlujiedao");
    let at_host = |path: &str| app.send(app.client.get(path).header("Host", HOST));

    let home = at_host("/").await;
    assert_page(&home, 200);
    assert!(home.text.contains("王秀英") && !home.text.contains("孙建伟"));
    assert!(home.text.contains("<small>宜川路街道</small>"));
    assert!(home.text.contains(&format!(
        "<link rel=\"canonical\" href=\"https://{HOST}/\">"
    )));
    assert!(
        home.text.contains("<a href=\"/notices\">公示</a>"),
        "{}",
        home.text
    );
    // The same site through the deployment's address keeps its prefix, though cached after.
    let prefixed = app.get("/s/yichuanlujiedao").await;
    assert_page(&prefixed, 200);
    assert!(prefixed
        .text
        .contains("<a href=\"/s/yichuanlujiedao/notices\">公示</a>"));
    assert!(prefixed
        .text
        .contains("href=\"https://youde.example.org/s/yichuanlujiedao\""));
    // The deployment's own `/` on its own host gathers both 街道.
    let deployment = app.get("/").await;
    assert!(deployment.text.contains("王秀英") && deployment.text.contains("孙建伟"));
    // The board is the site's; profiles are the deployment's on every host.
    let board = at_host("/notices").await;
    assert_page(&board, 200);
    assert!(board.text.contains("公示 · 宜川路街道有德之士"));
    assert_page(&at_host("/people/sun-jianwei").await, 200);

    // A published story about 王秀英: in her site's feeds only.
    app.consent(two.wang, "story").await.assert_status(201);
    let story = app
        .post(
            "/api/v1/stories",
            &json!({ "title": "宜川一村的热心人", "body": "她每天清扫楼道。", "resident_ids": [two.wang] }),
        )
        .await;
    story.assert_status(201);
    app.put(
        &format!("/api/v1/stories/{}/publication", story.body["id"]),
        None,
        &json!({ "published": true }),
    )
    .await
    .assert_status(200);
    let changshou = two.changshou["slug"].as_str().unwrap();
    let theirs = app.get(&format!("/s/{changshou}/feeds/stories.atom")).await;
    theirs.assert_status(200);
    assert!(!theirs.text.contains("宜川一村的热心人"));
    assert!(theirs
        .text
        .contains("<title>长寿路街道 · 有德之士 报道</title>"));
    let ours = at_host("/feeds/stories.atom").await;
    ours.assert_status(200);
    assert!(ours.text.contains("宜川一村的热心人"));
    assert!(ours
        .text
        .contains("<title>宜川路街道 · 有德之士 报道</title>"));
    assert!(ours
        .text
        .contains(&format!("href=\"https://{HOST}/feeds/stories.atom\"")));
    let json_feed = app.get("/s/yichuanlujiedao/feeds/stories.json").await;
    json_feed.assert_status(200);
    assert_eq!(json_feed.body["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        json_feed.body["feed_url"],
        "https://youde.example.org/s/yichuanlujiedao/feeds/stories.json"
    );
    let everything = app.get("/feeds/stories.atom").await;
    assert!(everything.text.contains("宜川一村的热心人"));

    // The site's sitemap, read as a crawler of its host reads it.
    let robots = at_host("/robots.txt").await;
    assert!(robots
        .text
        .contains(&format!("Sitemap: https://{HOST}/sitemap.xml")));
    let index = at_host("/sitemap.xml").await;
    index.assert_status(200);
    let mut all = String::new();
    for loc in index.text.split("<loc>").skip(1) {
        let url = loc.split("</loc>").next().unwrap();
        let path = url
            .strip_prefix(&format!("https://{HOST}"))
            .unwrap_or_else(|| panic!("{url} is not at the site's host"));
        let part = at_host(path).await;
        part.assert_status(200);
        all.push_str(&part.text);
    }
    let wang_slug = app
        .get(&format!("/api/v1/residents/{}", two.wang))
        .await
        .body["slug"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(all.contains(&format!("https://{HOST}/</loc>")));
    assert!(all.contains(&format!("/people/{wang_slug}</loc>")));
    assert!(all.contains(&format!(
        "/communities/{}</loc>",
        two.area["slug"].as_str().unwrap()
    )));
    assert!(!all.contains("/people/sun-jianwei<"), "{all}");
    assert!(!all.contains(&format!("/communities/{changshou}<")));
    // Another 街道's part names none of 宜川路's people; the deployment's names both.
    let theirs = app
        .get(&format!("/s/{changshou}/sitemaps/people-0.xml"))
        .await;
    theirs.assert_status(200);
    assert!(theirs.text.contains("/people/sun-jianwei<") && !theirs.text.contains(&wang_slug));
    let deployment = app.sitemap().await;
    assert!(deployment.contains("/people/sun-jianwei<") && deployment.contains(&wang_slug));

    // Her certificate is issued by her own 街道's office, from the default template.
    let cert = app
        .post(
            &format!("/api/v1/recognitions/{}/certificates", two.wang_honour),
            &json!({}),
        )
        .await;
    cert.assert_status(201);
    assert_eq!(
        cert.body["issuing_body"],
        "上海市普陀区人民政府宜川路街道办事处"
    );
    assert_eq!(cert.body["signatory"], "宜川路街道办事处");
}
