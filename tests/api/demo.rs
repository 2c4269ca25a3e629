use crate::helpers::TestApp;

async fn sun_jianwei(app: &TestApp) -> serde_json::Value {
    let list = app.get("/api/v1/residents").await;
    list.body["items"].as_array().unwrap().iter().find(|r| r["name"] == "孙建伟").expect("孙建伟 is public").clone()
}

#[tokio::test]
async fn the_newsletter_summary_of_sun_jianwei() {
    let app = TestApp::with_demo().await;
    let sun = sun_jianwei(&app).await;
    assert_eq!(sun["slug"], "sun-jianwei");
    let summary = app.get(&format!("/api/v1/residents/{}/summary", sun["id"])).await;
    summary.assert_status(200);
    let s = &summary.body;
    assert_eq!(s["unpaid_years"], 12, "owners' committee 2007–2019, unpaid");
    assert_eq!(s["visits_hosted"]["value"], 52.0, "38 + 4 + 10");
    assert_eq!(s["money_saved"]["value"], 300000.0);
    assert_eq!(s["compounds_surveyed"]["value"], 60.0);
    assert_eq!(s["compounds_surveyed"]["qualifier"], "at_least");
    let headlines: Vec<&str> = s["headlines"].as_array().unwrap().iter().map(|h| h.as_str().unwrap()).collect();
    assert_eq!(headlines[..4], ["无偿服务 12 年", "接待参访 52 批次", "节约资金 30 万元", "调研小区 60余个"]);
    let yuan = s["totals"].as_array().unwrap().iter().find(|t| t["unit"] == "yuan").unwrap();
    assert_eq!(yuan["text"], "100余万元");
}

#[tokio::test]
async fn every_demo_record_cites_its_source() {
    let app = TestApp::with_demo().await;
    let sun = sun_jianwei(&app).await;
    let records = app.get(&format!("/api/v1/residents/{}/service-records?limit=200", sun["id"])).await;
    let records = records.body["items"].as_array().unwrap();
    assert!(records.len() >= 10);
    for r in records {
        assert!(r["evidence"].as_str().unwrap().contains("长寿社区晨报"), "{r}");
    }
    let activities = app.get("/api/v1/activities").await;
    let dates: Vec<&str> =
        activities.body["items"].as_array().unwrap().iter().map(|a| a["date"].as_str().unwrap()).collect();
    assert_eq!(dates, ["2019-08-28", "2019-08-29", "2019-08-30"]);
}

#[tokio::test]
async fn loading_the_demo_twice_changes_nothing() {
    let app = TestApp::with_demo().await;
    let tables = ["communities", "residents", "consents", "service_records", "activities"];
    let mut before = Vec::new();
    for t in tables {
        before.push(app.count(t).await);
    }
    let report = youde::demo::load(&app.db).await.unwrap();
    assert_eq!(report.created, 0);
    let mut after = Vec::new();
    for t in tables {
        after.push(app.count(t).await);
    }
    assert_eq!(before, after);
}
