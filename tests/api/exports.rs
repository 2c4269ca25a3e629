//! Rosters out (名册导出): residents as .xlsx and CSV for staff, private columns only for roles that
//! read them, formulas neutralised, and files that re-import without changes.

use serde_json::json;

use crate::helpers::TestApp;
use crate::imports::{check, counts};

async fn two_residents(app: &TestApp) {
    let community = app.compound().await;
    let zhang = app
        .create_resident(&json!({
            "name": "张丽", "community_id": community, "phone": "+86 138 1234 5678",
            "birth_year": 1956, "address": "长寿路1号",
            "citation": "=HYPERLINK(\"http://x\")，热心公益。\n\n第二段：组织助老服务。",
        }))
        .await;
    zhang.assert_status(201);
    app.consent(zhang.body["id"].as_i64().unwrap(), "profile")
        .await
        .assert_status(201);
    app.create_resident(&json!({ "name": "王芳", "community_id": community }))
        .await
        .assert_status(201);
}

#[tokio::test]
async fn exported_files_re_import_without_changes() {
    let app = TestApp::spawn().await;
    two_residents(&app).await;
    let (status, headers, csv) = app
        .fetch("/api/v1/exports/residents?format=csv", true)
        .await;
    assert_eq!(status, 200);
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    assert!(csv.starts_with(b"\xEF\xBB\xBF"), "UTF-8 with BOM");
    let text = String::from_utf8(csv.clone()).unwrap();
    assert!(text.starts_with("\u{FEFF}姓名,小区,手机号码,身份证号码,出生年份,住址,事迹简介\r\n"));
    assert!(text.contains("'+86 138 1234 5678"), "neutralised: {text}");
    assert!(
        text.contains("\"'=HYPERLINK(\"\"http://x\"\")"),
        "neutralised: {text}"
    );

    let (status, _, xlsx) = app.fetch("/api/v1/exports/residents", true).await;
    assert_eq!(status, 200);
    assert!(xlsx.starts_with(b"PK"));
    for (bytes, name) in [(csv, "residents.csv"), (xlsx, "residents.xlsx")] {
        let report = check(&app, bytes, name).await;
        report.assert_status(201);
        assert_eq!(
            report.body["problems"],
            json!([]),
            "{name}: {}",
            report.text
        );
        assert_eq!(counts(&report.body), (0, 0, 2), "{name}: {}", report.text);
    }
}

#[tokio::test]
async fn private_columns_go_only_to_roles_that_read_them() {
    let app = TestApp::spawn().await;
    two_residents(&app).await;
    let editor = app.user_token("bian-ji", &["editor"]).await;
    let reply = app
        .send_as(&editor, "GET", "/api/v1/exports/residents?format=csv", None)
        .await;
    reply.assert_status(200);
    assert!(reply.text.contains("姓名,小区,事迹简介"), "{}", reply.text);
    for private in ["手机号码", "138", "长寿路1号", "1956"] {
        assert!(!reply.text.contains(private), "an editor got {private}");
    }
    assert!(reply.text.contains("张丽"));
    assert!(
        !reply.text.contains("王芳"),
        "an editor sees only public residents"
    );
    assert_eq!(
        app.get("/api/v1/exports/residents").await.status.as_u16(),
        401
    );
    let bad = app.staff_get("/api/v1/exports/residents?format=pdf").await;
    assert_eq!(bad.invalid_fields(), ["format"]);
}

#[tokio::test]
async fn the_template_imports_as_an_empty_roster_and_explains_its_columns() {
    let app = TestApp::spawn().await;
    app.compound().await;
    let (status, _, xlsx) = app.fetch("/api/v1/imports/templates/residents", true).await;
    assert_eq!(status, 200);
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(xlsx.clone())).unwrap();
    use calamine::Reader;
    assert_eq!(book.sheet_names(), ["居民", "填写说明", "小区列表"]);
    let guide = book.worksheet_range("填写说明").unwrap();
    assert!(guide.rows().any(|r| r[0] == "身份证号码"));
    let header = book.worksheet_range("居民").unwrap();
    assert_eq!(header.rows().next().unwrap()[0].to_string(), "姓名");
    // Empty, it reads as a roster of no rows; filled in, it imports.
    let report = check(&app, xlsx, "template.xlsx").await;
    report.assert_status(201);
    assert_eq!(report.body["rows"], 0);
    let (_, _, csv) = app
        .fetch("/api/v1/imports/templates/residents?format=csv", true)
        .await;
    let mut filled = csv.clone();
    filled.extend_from_slice("张丽,音乐广场,,,1956,,\r\n".as_bytes());
    let report = check(&app, filled, "template.csv").await;
    assert_eq!(counts(&report.body), (1, 0, 0), "{}", report.text);
}

#[tokio::test]
async fn activities_export_with_each_participants_hours_and_recorder() {
    let app = TestApp::spawn().await;
    let zhang = app.resident("张丽").await;
    let wang = app.resident("王芳").await;
    app.consent(zhang, "profile").await.assert_status(201);
    app.post(
        "/api/v1/activities",
        &json!({
            "title": "=敬老院助老服务", "date": "2019-08-28", "place": "长寿路街道",
            "organiser": "音乐广场居委会", "recorded_by": "居委会 王老师",
            "participant_ids": [zhang, wang], "hours": 2,
            "participant_hours": [{ "resident_id": wang, "hours": 3.5 }],
        }),
    )
    .await
    .assert_status(201);
    app.post(
        "/api/v1/activities",
        &json!({ "title": "筹备会", "date": "2019-08" }),
    )
    .await
    .assert_status(201);

    let (status, _, csv) = app
        .fetch("/api/v1/exports/activities?format=csv", true)
        .await;
    assert_eq!(status, 200);
    let text = String::from_utf8(csv).unwrap();
    let lines: Vec<&str> = text.trim_start_matches('\u{FEFF}').lines().collect();
    assert_eq!(
        lines,
        [
            "活动,日期,地点,组织者,默认时长（小时）,姓名,小区,时长（小时）,记录人,核实人",
            "'=敬老院助老服务,2019-08-28,长寿路街道,音乐广场居委会,2,张丽,音乐广场,2,居委会 王老师,",
            "'=敬老院助老服务,2019-08-28,长寿路街道,音乐广场居委会,2,王芳,音乐广场,3.5,居委会 王老师,",
            "筹备会,2019-08,,,,,,,,",
        ]
    );
    let editor = app.user_token("bian-ji", &["editor"]).await;
    let public = app
        .send_as(
            &editor,
            "GET",
            "/api/v1/exports/activities?format=csv",
            None,
        )
        .await;
    assert!(public.text.contains("张丽"));
    assert!(
        !public.text.contains("王芳"),
        "an editor sees public participants only"
    );
    let (status, _, xlsx) = app.fetch("/api/v1/exports/activities", true).await;
    assert_eq!(status, 200);
    assert!(xlsx.starts_with(b"PK"));
}

#[tokio::test]
async fn the_audit_log_exports_for_a_period_to_its_readers_only() {
    let app = TestApp::spawn().await;
    app.resident("张丽").await;
    let today = (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive();
    let path = format!("/api/v1/exports/audit?from={today}&to={today}&format=csv");
    let (status, _, csv) = app.fetch(&path, true).await;
    assert_eq!(status, 200);
    let text = String::from_utf8(csv).unwrap();
    assert!(text.contains("时间（北京时间）,操作人,操作,对象类型,对象编号,变更前,变更后"));
    assert!(
        text.contains("resident.create") && text.contains("张丽"),
        "{text}"
    );
    let earlier = today - chrono::Days::new(10);
    let (_, _, old) = app
        .fetch(
            &format!("/api/v1/exports/audit?from={earlier}&to={earlier}&format=csv"),
            true,
        )
        .await;
    assert_eq!(
        String::from_utf8(old).unwrap().lines().count(),
        1,
        "a quiet day: the header only"
    );
    let backwards = app
        .staff_get(&format!("/api/v1/exports/audit?from={today}&to={earlier}"))
        .await;
    assert_eq!(backwards.invalid_fields(), ["to"]);
    let nominator = app.user_token("zhang-gong", &["nominator"]).await;
    let refused = app.send_as(&nominator, "GET", &path, None).await;
    refused.assert_status(403);
}

#[tokio::test]
async fn recognitions_export_as_the_honour_roll_shows_them() {
    let app = TestApp::with_demo().await;
    let (status, _, csv) = app
        .fetch("/api/v1/exports/recognitions?format=csv", true)
        .await;
    assert_eq!(status, 200);
    let text = String::from_utf8(csv).unwrap();
    let lines: Vec<&str> = text.trim_start_matches('\u{FEFF}').lines().collect();
    assert_eq!(
        lines[0],
        "姓名,小区,荣誉称号,年度,类别,推荐理由,表彰日期,状态"
    );
    assert!(
        lines[1].starts_with("孙建伟,音乐广场,") && lines[1].ends_with(",有效"),
        "{text}"
    );
    assert_eq!(lines.len(), 2, "{text}");
}
