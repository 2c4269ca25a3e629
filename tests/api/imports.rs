//! Rosters in (名册导入): real .xlsx and CSV files (UTF-8, UTF-8 with BOM, GBK) made here, checked
//! and committed through `/api/v1/imports` as a registry editor would.

use poem::test::{TestForm, TestFormField};
use rust_xlsxwriter::{Formula, Workbook};
use serde_json::{json, Value};

use crate::helpers::{Reply, TestApp};

/// A valid 18-digit ID number from 17 digits (ISO 7064 MOD 11-2 check character).
fn id_number(first17: &str) -> String {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = first17
        .bytes()
        .zip(WEIGHTS)
        .map(|(b, w)| (b - b'0') as u32 * w)
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    format!("{first17}{check}")
}

pub async fn check(app: &TestApp, bytes: Vec<u8>, file_name: &str) -> Reply {
    let form = TestForm::new().field(
        TestFormField::bytes(bytes)
            .name("file")
            .filename(file_name)
            .content_type("application/octet-stream"),
    );
    app.send(
        app.staff(app.client.post("/api/v1/imports"))
            .multipart(form),
    )
    .await
}

async fn commit(app: &TestApp, report: &Reply) -> Reply {
    app.post(
        &format!("/api/v1/imports/{}/commit", report.body["id"]),
        &json!({}),
    )
    .await
}

pub fn counts(report: &Value) -> (u64, u64, u64) {
    (
        report["create"].as_u64().unwrap(),
        report["update"].as_u64().unwrap(),
        report["unchanged"].as_u64().unwrap(),
    )
}

async fn residents(app: &TestApp) -> Vec<Value> {
    let list = app.staff_get("/api/v1/residents?limit=200").await;
    list.body["items"].as_array().unwrap().clone()
}

fn roster_csv() -> String {
    // Headers in another order and in their variants; full-width digits, stray spaces.
    format!(
        "手机号码,名字 ,所属小区,身份证号码,出生年份\n\
         １３８１２３４５６７８, 张丽 ,音乐广场,{},1956年\n\
         ,王芳,音乐广场 ,,\n",
        id_number("31010719560101002")
    )
}

#[tokio::test]
async fn a_checked_roster_commits_once_and_the_same_file_again_changes_nothing() {
    let app = TestApp::spawn().await;
    app.compound().await;
    let checked = check(&app, roster_csv().into_bytes(), "roster.csv").await;
    checked.assert_status(201);
    assert_eq!(counts(&checked.body), (2, 0, 0), "{}", checked.text);
    assert_eq!(checked.body["problems"], json!([]));
    assert_eq!(checked.body["items"][0]["name"], "张丽");
    assert_eq!(checked.body["items"][0]["row"], 2);
    assert!(checked.body["key"].as_str().unwrap().contains("身份证号码"));
    assert_eq!(app.count("residents").await, 0, "the check writes nothing");
    assert_eq!(
        app.count("audit_events").await,
        3,
        "only the compound's three"
    );

    let done = commit(&app, &checked).await;
    done.assert_status(200);
    assert_eq!(done.body["committed"], true);
    let people = residents(&app).await;
    assert_eq!(people.len(), 2);
    let zhang = people.iter().find(|r| r["name"] == "张丽").unwrap();
    assert_eq!(zhang["phone"], "13812345678");
    assert_eq!(zhang["birth_year"], 1956);
    assert_eq!(done.body["items"][0]["resident_id"], zhang["id"]);
    // One import event and one per resident, in one go; the index follows through the outbox.
    assert_eq!(app.count("audit_events").await, 3 + 3);
    assert!(app.count("search_outbox").await >= 2);
    let log = app.staff_get("/api/v1/audit?limit=200").await;
    assert!(log.text.contains("import.commit"), "{}", log.text);

    commit(&app, &checked).await.assert_status(409);
    let again = check(&app, roster_csv().into_bytes(), "roster.csv").await;
    assert_eq!(counts(&again.body), (0, 0, 2));
    commit(&app, &again).await.assert_status(200);
    assert_eq!(
        residents(&app).await,
        people,
        "nothing changed the second time"
    );
}

#[tokio::test]
async fn a_roster_row_updates_the_resident_it_matches_and_keeps_what_it_leaves_empty() {
    let app = TestApp::spawn().await;
    let community = app.compound().await;
    let created = app
        .create_resident(
            &json!({ "name": "张丽", "community_id": community, "address": "长寿路1号" }),
        )
        .await;
    let roster = "姓名,小区,手机\n张丽,音乐广场,13900001111\n".to_string();
    let checked = check(&app, roster.into_bytes(), "update.csv").await;
    assert_eq!(counts(&checked.body), (0, 1, 0), "{}", checked.text);
    assert_eq!(checked.body["items"][0]["resident_id"], created.body["id"]);
    commit(&app, &checked).await.assert_status(200);
    let people = residents(&app).await;
    assert_eq!(people.len(), 1);
    assert_eq!(people[0]["phone"], "13900001111");
    assert_eq!(people[0]["address"], "长寿路1号");
}

#[tokio::test]
async fn gbk_and_bom_csv_read_without_mojibake() {
    let app = TestApp::spawn().await;
    app.compound().await;
    let text = roster_csv();
    let (gbk, _, _) = encoding_rs::GBK.encode(&text);
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(text.as_bytes());
    for (bytes, name) in [(gbk.into_owned(), "gbk.csv"), (bom, "bom.csv")] {
        let checked = check(&app, bytes, name).await;
        checked.assert_status(201);
        assert_eq!(
            checked.body["problems"],
            json!([]),
            "{name}: {}",
            checked.text
        );
        let names: Vec<&str> = checked.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["张丽", "王芳"], "{name}");
    }
}

#[tokio::test]
async fn an_xlsx_is_read_from_its_visible_sheet_with_cached_formula_values() {
    let app = TestApp::spawn().await;
    app.compound().await;
    let mut book = Workbook::new();
    let hidden = book.add_worksheet();
    hidden.set_name("旧名单").unwrap();
    hidden.write(0, 0, "姓名").unwrap();
    hidden.write(0, 1, "小区").unwrap();
    hidden.write(1, 0, "不该导入").unwrap();
    hidden.write(1, 1, "音乐广场").unwrap();
    hidden.set_hidden(true);
    let sheet = book.add_worksheet();
    sheet.set_name("志愿者").unwrap();
    sheet.set_active(true);
    for (col, header) in ["小区", "姓名", "手机", "出生年份"].iter().enumerate() {
        sheet.write(0, col as u16, *header).unwrap();
    }
    sheet.write(1, 0, "音乐广场").unwrap();
    sheet
        .write_formula(1, 1, Formula::new("=\"张\"&\"丽\"").set_result("张丽"))
        .unwrap();
    // Excel keeps a phone number typed into a number cell as a number.
    sheet.write(1, 2, 13812345678_f64).unwrap();
    sheet.write(1, 3, 1956).unwrap();
    let bytes = book.save_to_buffer().unwrap();

    let checked = check(&app, bytes, "roster.xlsx").await;
    checked.assert_status(201);
    assert_eq!(checked.body["problems"], json!([]), "{}", checked.text);
    assert_eq!(checked.body["rows"], 1, "the hidden sheet is ignored");
    commit(&app, &checked).await.assert_status(200);
    let people = residents(&app).await;
    assert_eq!(people[0]["name"], "张丽");
    assert_eq!(people[0]["phone"], "13812345678");
    assert_eq!(people[0]["birth_year"], 1956);
}

#[tokio::test]
async fn every_bad_row_is_reported_in_chinese_and_nothing_is_committed() {
    let app = TestApp::spawn().await;
    let community = app.compound().await;
    for _ in 0..2 {
        app.create_resident(&json!({ "name": "李梅", "community_id": community }))
            .await
            .assert_status(201);
    }
    let roster = "姓名,小区,手机,身份证号码,出生年份\n\
                  ,音乐广场,,,\n\
                  张丽,长寿新村,,,\n\
                  王芳,音乐广场,12ab,,\n\
                  陈静,音乐广场,,310107195601010021,\n\
                  赵敏,音乐广场,,,五六年\n\
                  周洁,音乐广场,,,\n\
                  周洁,音乐广场,,,\n\
                  李梅,音乐广场,,,\n\
                  孙建伟,音乐广场,,,\n";
    let checked = check(&app, roster.as_bytes().to_vec(), "problems.csv").await;
    checked.assert_status(201);
    let problems: Vec<(u64, String)> = checked.body["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["row"].as_u64().unwrap(),
                p["column"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected: Vec<(u64, String)> = [
        (2, "姓名"),
        (3, "小区"),
        (4, "手机"),
        (5, "身份证号码"),
        (6, "出生年份"),
        (8, "姓名"),
        (9, "姓名"),
    ]
    .iter()
    .map(|(r, c)| (*r, c.to_string()))
    .collect();
    assert_eq!(problems, expected, "{}", checked.text);
    let messages = checked.body["problems"].to_string();
    for text in ["长寿新村", "与第 7 行", "匹配到多位居民", "身份证号码"] {
        assert!(messages.contains(text), "no “{text}” in {messages}");
    }
    assert_eq!(checked.body["problems"][2]["value"], "12ab");
    assert_eq!(
        counts(&checked.body),
        (2, 0, 0),
        "周洁 once and 孙建伟 would be created"
    );

    let refused = commit(&app, &checked).await;
    refused.assert_status(422);
    assert_eq!(refused.error_code(), "import_invalid");
    assert_eq!(
        app.count("residents").await,
        2,
        "nothing of the roster stored"
    );
}

#[tokio::test]
async fn a_commit_against_changed_data_is_refused_whole() {
    let app = TestApp::spawn().await;
    let community = app.compound().await;
    let checked = check(&app, roster_csv().into_bytes(), "roster.csv").await;
    assert_eq!(counts(&checked.body), (2, 0, 0));
    // The compound goes before the commit: its rows no longer fit.
    app.delete(&format!("/api/v1/communities/{community}"))
        .await
        .assert_status(204);
    let events = app.count("audit_events").await;
    let refused = commit(&app, &checked).await;
    refused.assert_status(422);
    assert!(refused.text.contains("音乐广场"), "{}", refused.text);
    assert_eq!(app.count("residents").await, 0);
    assert_eq!(
        app.count("audit_events").await,
        events,
        "no event of the failed commit"
    );
}

#[tokio::test]
async fn files_that_are_not_rosters_are_refused_with_their_reason() {
    let app = TestApp::spawn_configured(|state| state.media.max_upload_bytes = 4096).await;
    app.compound().await;
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    let wrong = check(&app, png, "photo.csv").await;
    wrong.assert_status(415);
    assert_eq!(wrong.error_code(), "unsupported_media_type");

    let missing = check(
        &app,
        "名字,电话\n张丽,13812345678\n".as_bytes().to_vec(),
        "x.csv",
    )
    .await;
    missing.assert_status(422);
    assert_eq!(missing.error_code(), "missing_columns");
    assert_eq!(missing.body["error"]["details"]["missing"], json!(["小区"]));
    assert!(missing.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("小区"));

    let big = format!("姓名,小区\n{}", "张丽,音乐广场\n".repeat(400));
    check(&app, big.into_bytes(), "big.csv")
        .await
        .assert_status(413);
    assert_eq!(app.count("imports").await, 0);
}

fn youde_import(app: &TestApp, file: &std::path::Path, extra: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_youde"))
        .arg("import")
        .arg(file)
        .args(["--database-url", &app.db_url])
        .args(extra)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run youde import")
}

#[tokio::test]
async fn youde_import_checks_then_commits_a_gbk_roster() {
    let app = TestApp::spawn().await;
    app.compound().await;
    app.user_token("zhang-gong", &["nominator"]).await;
    app.user_token("bian-ji", &["editor"]).await;
    let file = app.dir.path().join("roster.csv");
    std::fs::write(&file, encoding_rs::GBK.encode(&roster_csv()).0).unwrap();

    let checked = youde_import(&app, &file, &["--as", "zhang-gong"]);
    let stdout = String::from_utf8_lossy(&checked.stdout);
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    assert!(
        stdout.contains("2 行，新建 2，更新 0，不变 0，问题 0"),
        "{stdout}"
    );
    assert_eq!(app.count("residents").await, 0, "a check writes nothing");

    let refused = youde_import(&app, &file, &["--as", "bian-ji", "--commit"]);
    assert!(!refused.status.success());
    assert_eq!(app.count("residents").await, 0, "an editor does not import");

    let done = youde_import(&app, &file, &["--as", "zhang-gong", "--commit"]);
    let stdout = String::from_utf8_lossy(&done.stdout);
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert!(stdout.contains("已导入：新建 2，更新 0"), "{stdout}");
    let names: Vec<Value> = residents(&app)
        .await
        .iter()
        .map(|r| r["name"].clone())
        .collect();
    assert_eq!(names, [json!("张丽"), json!("王芳")]);
}

#[tokio::test]
async fn a_browser_uploads_a_roster_reads_the_report_confirms_and_finds_the_residents() {
    use crate::console::{location, Browser};
    let app = TestApp::spawn().await;
    app.compound().await;
    let mut b = Browser::signed_in(&app, "zhang-gong", &["nominator"]).await;
    let gbk = encoding_rs::GBK.encode(&roster_csv()).0.into_owned();
    let uploaded = b
        .upload_to(
            "/admin/imports/new",
            "/admin/imports",
            &[],
            (gbk, "roster.csv", "text/csv"),
        )
        .await;
    assert_eq!(uploaded.status.as_u16(), 303, "{}", uploaded.text);
    let report_page = location(&uploaded);
    let report = b.get(&report_page).await;
    for text in ["检查通过", "张丽", "王芳", "新建", "确认导入"] {
        assert!(report.text.contains(text), "the report lacks {text}");
    }
    assert_eq!(
        app.count("residents").await,
        0,
        "nothing before the confirmation"
    );

    let confirmed = b
        .submit(&report_page, &format!("{}/commit", report_page), &[])
        .await;
    assert_eq!(confirmed.status.as_u16(), 303, "{}", confirmed.text);
    let done = b.get(&report_page).await;
    assert!(done.text.contains("已导入：新建 2 位"), "{}", done.text);
    assert!(!done.text.contains("确认导入"));
    let list = b.get("/admin/residents").await;
    assert!(list.text.contains("张丽") && list.text.contains("王芳"));

    // A file with problems shows them and offers no confirmation; a wrong file says why.
    let bad = "姓名,小区\n张丽,长寿新村\n".as_bytes().to_vec();
    let uploaded = b
        .upload_to(
            "/admin/imports/new",
            "/admin/imports",
            &[],
            (bad, "bad.csv", "text/csv"),
        )
        .await;
    let report = b.get(&location(&uploaded)).await;
    assert!(report.text.contains("第 2 行") && report.text.contains("长寿新村"));
    assert!(!report.text.contains("确认导入"));
    let png = b"\x89PNG\r\n\x1a\n\0\0".to_vec();
    let refused = b
        .upload_to(
            "/admin/imports/new",
            "/admin/imports",
            &[],
            (png, "x.png", "image/png"),
        )
        .await;
    assert_eq!(refused.status.as_u16(), 415);
    assert!(refused.text.contains("只接受"), "{}", refused.text);
}

/// An import is recorded at the application's time, like every other change (the 公示 windows and
/// the audit log all read the one clock).
#[tokio::test]
async fn an_import_is_audited_at_the_applications_time() {
    let app = TestApp::spawn().await;
    app.compound().await;
    let checked = check(&app, roster_csv().into_bytes(), "roster.csv").await;
    checked.assert_status(201);
    app.clock.advance(chrono::Duration::days(30));
    commit(&app, &checked).await.assert_status(200);
    let log = app.staff_get("/api/v1/audit?limit=200").await;
    let items = log.body["items"].as_array().unwrap();
    let imported: Vec<&serde_json::Value> = items
        .iter()
        .filter(|e| e["action"] == "import.commit" || e["action"] == "resident.create")
        .collect();
    assert_eq!(imported.len(), 3, "{}", log.text);
    let soonest = chrono::Utc::now() + chrono::Duration::days(29);
    for event in imported {
        let at: chrono::DateTime<chrono::Utc> = event["at"].as_str().unwrap().parse().unwrap();
        assert!(
            at > soonest,
            "{} recorded at {at}, not at the app's time",
            event["action"]
        );
    }
}
