//! Service records and activity participation (签到表) from sheets made here (.xlsx with
//! rust_xlsxwriter, CSV in UTF-8, UTF-8 with BOM and GBK), checked and committed through
//! `/api/v1/imports` with `kind`, as a registry editor would.

use poem::test::{TestForm, TestFormField};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use serde_json::{json, Value};

use crate::helpers::{Reply, TestApp};
use crate::imports::counts;

pub async fn check_kind(app: &TestApp, kind: &str, bytes: Vec<u8>, file_name: &str) -> Reply {
    let form = TestForm::new().text("kind", kind).field(
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

pub async fn commit(app: &TestApp, report: &Reply) -> Reply {
    app.post(
        &format!("/api/v1/imports/{}/commit", report.body["id"]),
        &json!({}),
    )
    .await
}

/// 张丽 (with an ID number) and 王芳 of 音乐广场; returns their ids.
async fn two_residents(app: &TestApp) -> (i64, i64) {
    let community = app.compound().await;
    let zhang = app
        .create_resident(&json!({ "name": "张丽", "community_id": community,
                                  "id_number": "310107195601010024" }))
        .await;
    zhang.assert_status(201);
    let wang = app
        .create_resident(&json!({ "name": "王芳", "community_id": community }))
        .await;
    (
        zhang.body["id"].as_i64().unwrap(),
        wang.body["id"].as_i64().unwrap(),
    )
}

fn records_csv() -> String {
    // Headers in their variants and another order; dates and numbers as people type them.
    "姓名,所属小区,类型,事项,开始时间,结束时间,数量,计量单位,限定词,是否无偿,依据\n\
     张丽 ,音乐广场,担任职务,音乐广场业委会委员,2007,2019.8,,,,是,\n\
     王芳,音乐广场,调研排摸,小区加装电梯排摸,2019/08/28,2019年9月,60几个,个小区,,是,排摸表\n\
     王芳,音乐广场,项目,大堂装潢,２０１８年５月,2018.12,100多万,元,,否,\n\
     张丽,音乐广场,接待参访,接待参访团,2019-1,2019-12,约50,批次,,是,\n\
     张丽,音乐广场,项目,智慧社区改造,2019.3,2019.10,30万元；200人左右,,,是,\n"
        .to_string()
}

fn measures(record: &Value) -> Vec<(f64, String, String)> {
    record["measures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["value"].as_f64().unwrap(),
                m["unit"].as_str().unwrap().to_string(),
                m["qualifier"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn find<'a>(records: &'a [Value], title: &str) -> &'a Value {
    records
        .iter()
        .find(|r| r["title"] == title)
        .unwrap_or_else(|| panic!("no record {title}"))
}

#[tokio::test]
async fn a_service_records_sheet_commits_once_and_the_same_file_again_changes_nothing() {
    let app = TestApp::spawn().await;
    let (zhang, wang) = two_residents(&app).await;
    let events = app.count("audit_events").await;
    let checked = check_kind(&app, "service_records", records_csv().into_bytes(), "r.csv").await;
    checked.assert_status(201);
    assert_eq!(checked.body["problems"], json!([]), "{}", checked.text);
    assert_eq!(checked.body["kind"], "service_records");
    assert_eq!(counts(&checked.body), (5, 0, 0));
    assert_eq!(checked.body["items"][0]["resident_id"], zhang);
    assert!(checked.body["items"][0]["subject"]
        .as_str()
        .unwrap()
        .contains("音乐广场业委会委员"));
    assert!(checked.body["key"].as_str().unwrap().contains("开始时间"));
    assert_eq!(
        app.count("service_records").await,
        0,
        "the check writes nothing"
    );

    let done = commit(&app, &checked).await;
    done.assert_status(200);
    assert!(done.body["items"][0]["record_id"].is_i64(), "{}", done.text);
    let zr = app.records(zhang).await;
    let wr = app.records(wang).await;
    assert_eq!((zr.len(), wr.len()), (3, 2));
    let role = find(&zr, "音乐广场业委会委员");
    assert_eq!(
        (role["start"].as_str(), role["end"].as_str()),
        (Some("2007"), Some("2019-08"))
    );
    assert_eq!(role["unpaid"], true);
    assert_eq!(
        role["recorded_by"], "管理员",
        "the importer records, by default"
    );
    let survey = find(&wr, "小区加装电梯排摸");
    assert_eq!(survey["start"], "2019-08-28");
    assert_eq!(survey["evidence"], "排摸表");
    assert_eq!(
        measures(survey),
        [(60.0, "compounds".into(), "at_least".into())]
    );
    let project = find(&wr, "大堂装潢");
    assert_eq!(project["start"], "2018-05");
    assert_eq!(project["unpaid"], false);
    assert_eq!(
        measures(project),
        [(1_000_000.0, "yuan".into(), "at_least".into())]
    );
    assert_eq!(
        measures(find(&zr, "接待参访团")),
        [(50.0, "visit_batches".into(), "about".into())]
    );
    assert_eq!(
        measures(find(&zr, "智慧社区改造")),
        [
            (300_000.0, "yuan".into(), "exact".into()),
            (200.0, "people".into(), "about".into())
        ]
    );
    // One import event and one per record, in one go; the index follows through the outbox.
    assert_eq!(app.count("audit_events").await, events + 6);
    let log = app.staff_get("/api/v1/audit?limit=200").await;
    assert!(log.text.contains("service_record.create"), "{}", log.text);
    assert!(app.count("search_outbox").await >= 5);

    let again = check_kind(&app, "service_records", records_csv().into_bytes(), "r.csv").await;
    assert_eq!(counts(&again.body), (0, 0, 5), "{}", again.text);
    commit(&app, &again).await.assert_status(200);
    assert_eq!(
        app.records(zhang).await,
        zr,
        "nothing changed the second time"
    );
    assert_eq!(app.records(wang).await, wr);

    // A row with a new amount updates its record and keeps what its empty cells leave alone.
    let change = "姓名,小区,类型,事项,开始时间,数量,计量单位\n王芳,音乐广场,项目,大堂装潢,2018年5月,120万,元\n";
    let checked = check_kind(&app, "service_records", change.into(), "u.csv").await;
    assert_eq!(counts(&checked.body), (0, 1, 0), "{}", checked.text);
    commit(&app, &checked).await.assert_status(200);
    let project = find(&app.records(wang).await, "大堂装潢").clone();
    assert_eq!(
        measures(&project),
        [(1_200_000.0, "yuan".into(), "exact".into())]
    );
    assert_eq!(project["end"], "2018-12");
    let log = app.staff_get("/api/v1/audit?limit=200").await;
    assert!(log.text.contains("service_record.update"), "{}", log.text);
}

#[tokio::test]
async fn every_bad_record_row_is_reported_in_chinese_and_nothing_is_committed() {
    let app = TestApp::spawn().await;
    let (_, wang) = two_residents(&app).await;
    let community = app.compound_id().await;
    for _ in 0..2 {
        app.create_resident(&json!({ "name": "李梅", "community_id": community }))
            .await
            .assert_status(201);
    }
    let sheet = "姓名,小区,类型,事项,开始时间,结束时间,数量,计量单位,核实人\n\
                 王芳,音乐广场,打扫,楼道保洁,2019,,,,\n\
                 王芳,音乐广场,参加活动,敬老院助老,2019,,,,\n\
                 王芳,音乐广场,项目,,2019,,,,\n\
                 王芳,音乐广场,项目,楼道改造,去年,,,,\n\
                 王芳,音乐广场,项目,外墙改造,2019.8,2019.3,,,\n\
                 王芳,音乐广场,项目,绿化,2019,,很多,,\n\
                 王芳,音乐广场,项目,健身点,2019,,60,,\n\
                 陈静,音乐广场,项目,车棚,2019,,,,\n\
                 李梅,音乐广场,项目,车棚,2019,,,,\n\
                 王芳,音乐广场,项目,门禁,2019,,,,居委会李主任\n\
                 王芳,音乐广场,项目,楼道灯,2019,,,,\n\
                 王芳,音乐广场,项目,楼道灯,2019,,,,\n\
                 王芳,音乐广场,项目,电梯,2019,,5,斤,\n";
    let checked = check_kind(&app, "service_records", sheet.into(), "bad.csv").await;
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
        (2, "类型"),
        (3, "类型"),
        (4, "事项"),
        (5, "开始时间"),
        (6, "结束时间"),
        (7, "数量"),
        (8, "数量"),
        (9, "姓名"),
        (10, "姓名"),
        (11, "核实人"),
        (13, "事项"),
        (14, "计量单位"),
    ]
    .iter()
    .map(|(r, c)| (*r, c.to_string()))
    .collect();
    assert_eq!(problems, expected, "{}", checked.text);
    let messages = checked.body["problems"].to_string();
    for text in [
        "无法识别的类型“打扫”",
        "活动签到表",
        "缺少事项",
        "无法识别的日期“去年”",
        "早于开始时间",
        "无法识别的数量“很多”",
        "计量单位",
        "系统中没有这位居民",
        "匹配到多位居民",
        "核实",
        "与第 12 行",
        "无法识别的计量单位“斤”",
    ] {
        assert!(messages.contains(text), "no “{text}” in {messages}");
    }
    let refused = commit(&app, &checked).await;
    refused.assert_status(422);
    assert_eq!(refused.error_code(), "import_invalid");
    assert_eq!(app.count("service_records").await, 0);
    assert!(app.records(wang).await.is_empty());

    // A sheet without the columns its kind needs names them.
    let missing = check_kind(
        &app,
        "service_records",
        "姓名,小区\n王芳,音乐广场\n".into(),
        "m.csv",
    )
    .await;
    missing.assert_status(422);
    assert_eq!(
        missing.body["error"]["details"]["missing"],
        json!(["类型", "事项", "开始时间"])
    );
    let unknown = check_kind(&app, "volunteers", "姓名,小区\n".into(), "k.csv").await;
    unknown.assert_status(422);
    assert!(unknown.text.contains("participation"), "{}", unknown.text);
}

/// A sign-in sheet as an .xlsx: a date cell, a serial number whose date format was lost, hours
/// typed with full-width digits, an ID number Excel kept as a number.
fn sign_in_xlsx(rows: &[[&str; 10]], serial_date_row: Option<usize>) -> Vec<u8> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    let header = [
        "活动",
        "日期",
        "地点",
        "组织者",
        "默认时长（小时）",
        "姓名",
        "小区",
        "身份证号码",
        "时长（小时）",
        "记录人",
    ];
    for (c, h) in header.iter().enumerate() {
        sheet.write(0, c as u16, *h).unwrap();
    }
    let date_format = Format::new().set_num_format("yyyy-mm-dd");
    for (r, row) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        for (c, cell) in row.iter().enumerate() {
            if cell.is_empty() {
                continue;
            }
            if c == 1 && Some(r as usize) == serial_date_row {
                let date = ExcelDateTime::parse_from_str(cell).unwrap();
                sheet
                    .write_datetime_with_format(r, 1, &date, &date_format)
                    .unwrap();
            } else if c == 1 && cell.chars().all(|ch| ch.is_ascii_digit()) {
                sheet
                    .write_number(r, 1, cell.parse::<f64>().unwrap())
                    .unwrap();
            } else {
                sheet.write(r, c as u16, *cell).unwrap();
            }
        }
    }
    book.save_to_buffer().unwrap()
}

async fn activity(app: &TestApp, title: &str) -> Value {
    let list = app.staff_get("/api/v1/activities?limit=200").await;
    list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["title"] == title)
        .unwrap_or_else(|| panic!("no activity {title}: {}", list.text))
        .clone()
}

#[tokio::test]
async fn a_sign_in_sheet_creates_its_activities_with_hours_and_again_changes_nothing() {
    let app = TestApp::spawn().await;
    let (zhang, wang) = two_residents(&app).await;
    let rows = [
        [
            "敬老院助老服务",
            "2019-08-28",
            "敬老院",
            "音乐广场居委会",
            "2",
            "张丽",
            "音乐广场",
            "",
            "",
            "音乐广场居委会",
        ],
        [
            "敬老院助老服务",
            "2019-08-28",
            "",
            "",
            "",
            "王芳",
            "音乐广场",
            "",
            "３.５",
            "",
        ],
        [
            "垃圾分类宣传",
            "43739",
            "",
            "",
            "",
            "张丽",
            "音乐广场",
            "310107195601010024",
            "1.5小时",
            "",
        ],
    ];
    let bytes = sign_in_xlsx(&rows, Some(1));
    let events = app.count("audit_events").await;
    let checked = check_kind(&app, "participation", bytes.clone(), "sign-in.xlsx").await;
    checked.assert_status(201);
    assert_eq!(checked.body["problems"], json!([]), "{}", checked.text);
    assert_eq!(counts(&checked.body), (3, 0, 0));
    assert!(checked.body["items"][1]["subject"]
        .as_str()
        .unwrap()
        .contains("3.5 小时"));
    assert_eq!(app.count("activities").await, 0, "the check writes nothing");

    commit(&app, &checked).await.assert_status(200);
    let help = activity(&app, "敬老院助老服务").await;
    assert_eq!(help["date"], "2019-08-28");
    assert_eq!(help["place"], "敬老院");
    assert_eq!(help["hours"], 2.0);
    assert_eq!(help["recorded_by"], "音乐广场居委会", "谁组织谁记录");
    assert_eq!(
        help["participants"],
        json!([{ "resident_id": zhang, "hours": 2.0 }, { "resident_id": wang, "hours": 3.5 }])
    );
    let sorting = activity(&app, "垃圾分类宣传").await;
    assert_eq!(sorting["date"], "2019-10-01", "an Excel serial day");
    assert_eq!(
        sorting["recorded_by"], "管理员",
        "the importer, when no 记录人 is named"
    );
    let summary = app
        .staff_get(&format!("/api/v1/residents/{zhang}/summary"))
        .await;
    assert_eq!(summary.body["volunteer_hours"], 3.5, "{}", summary.text);
    // Two activities and three records, each audited, with the import's own event.
    assert_eq!(app.count("audit_events").await, events + 6);
    let log = app.staff_get("/api/v1/audit?limit=200").await;
    assert!(log.text.contains("activity.create"), "{}", log.text);

    let again = check_kind(&app, "participation", bytes, "sign-in.xlsx").await;
    assert_eq!(counts(&again.body), (0, 0, 3), "{}", again.text);
    commit(&app, &again).await.assert_status(200);
    assert_eq!(app.count("activities").await, 2);
    assert_eq!(app.count("service_records").await, 3);
    assert_eq!(activity(&app, "敬老院助老服务").await, help);

    // A later sheet adds a participant and changes hours; the activity's own details are not the
    // sheet's to change.
    let community = app.compound_id().await;
    app.create_resident(&json!({ "name": "李梅", "community_id": community }))
        .await
        .assert_status(201);
    let later = "活动,日期,姓名,小区,时长（小时）,地点\n\
                 敬老院助老服务,2019年8月28日,王芳,音乐广场,4,\n\
                 敬老院助老服务,2019/8/28,李梅,音乐广场,,\n\
                 敬老院助老服务,2019.8.28,张丽,音乐广场,,\n";
    let checked = check_kind(&app, "participation", later.into(), "later.csv").await;
    assert_eq!(counts(&checked.body), (1, 1, 1), "{}", checked.text);
    commit(&app, &checked).await.assert_status(200);
    let help = activity(&app, "敬老院助老服务").await;
    let hours: Vec<f64> = help["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["hours"].as_f64().unwrap())
        .collect();
    assert_eq!(hours, [2.0, 4.0, 2.0], "李梅 gets the activity's default");
    let moved = "活动,日期,姓名,小区,地点\n敬老院助老服务,2019-08-28,王芳,音乐广场,社区中心\n";
    let checked = check_kind(&app, "participation", moved.into(), "moved.csv").await;
    assert_eq!(
        checked.body["problems"][0]["column"], "地点",
        "{}",
        checked.text
    );
    assert!(checked.text.contains("活动页面修改"));
}

#[tokio::test]
async fn sign_in_sheets_in_gbk_and_with_bom_read_without_mojibake() {
    let app = TestApp::spawn().await;
    two_residents(&app).await;
    let text = "活动,日期,默认时长,姓名,小区,时长\n\
                敬老院助老服务,2019.8.28,2,张丽,音乐广场,\n\
                敬老院助老服务,2019.8.28,,王芳,音乐广场,3\n";
    let (gbk, _, _) = encoding_rs::GBK.encode(text);
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(text.as_bytes());
    for (bytes, name) in [
        (gbk.into_owned(), "gbk.csv"),
        (bom, "bom.csv"),
        (text.into(), "utf8.csv"),
    ] {
        let checked = check_kind(&app, "participation", bytes, name).await;
        checked.assert_status(201);
        assert_eq!(
            checked.body["problems"],
            json!([]),
            "{name}: {}",
            checked.text
        );
        let subjects: Vec<&str> = checked.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["subject"].as_str().unwrap())
            .collect();
        assert_eq!(
            subjects,
            [
                "敬老院助老服务（2019-08-28） · 新活动 · 2 小时",
                "敬老院助老服务（2019-08-28） · 新活动 · 3 小时"
            ],
            "{name}"
        );
    }
}

#[tokio::test]
async fn bad_sign_in_rows_are_reported_and_a_commit_against_changed_data_stores_nothing() {
    let app = TestApp::spawn().await;
    two_residents(&app).await;
    let bad = "活动,日期,地点,默认时长,姓名,小区,时长,核实人\n\
               敬老院助老服务,2019.8.28,敬老院,2,张丽,音乐广场,,\n\
               敬老院助老服务,2019.8.28,社区中心,,王芳,音乐广场,,\n\
               ,2019.8.28,,,王芳,音乐广场,,\n\
               垃圾分类,8月,,,王芳,音乐广场,,\n\
               垃圾分类,2019.9,,,王芳,音乐广场,约2,\n\
               垃圾分类,2019.9,,,王芳,音乐广场,2000,\n\
               垃圾分类,2019.9,,,陈静,音乐广场,,\n\
               读书会,2019.9,,,张丽,音乐广场,1,\n\
               读书会,2019.9,,,张丽,音乐广场,1,\n\
               读书会,2019.9,,,王芳,音乐广场,1,李主任\n";
    let checked = check_kind(&app, "participation", bad.into(), "bad.csv").await;
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
        (3, "地点"),
        (4, "活动"),
        (5, "日期"),
        (6, "时长"),
        (7, "时长"),
        (8, "姓名"),
        (10, "姓名"),
        (11, "核实人"),
    ]
    .iter()
    .map(|(r, c)| (*r, c.to_string()))
    .collect();
    assert_eq!(problems, expected, "{}", checked.text);
    let messages = checked.body["problems"].to_string();
    for text in [
        "前后不一致：第 2 行为“敬老院”",
        "缺少活动名称",
        "无法识别的日期“8月”",
        "确切的小时数",
        "0 到 1000",
        "与第 9 行",
    ] {
        assert!(messages.contains(text), "no “{text}” in {messages}");
    }
    commit(&app, &checked).await.assert_status(422);

    // A clean sheet whose activity gains a twin before the commit: the commit finds the
    // ambiguity and stores nothing of the sheet.
    let good = "活动,日期,姓名,小区,时长\n读书会,2019-09-01,张丽,音乐广场,1\n读书会,2019-09-01,王芳,音乐广场,1\n";
    let checked = check_kind(&app, "participation", good.into(), "good.csv").await;
    assert_eq!(counts(&checked.body), (2, 0, 0), "{}", checked.text);
    for _ in 0..2 {
        app.post(
            "/api/v1/activities",
            &json!({ "title": "读书会", "date": "2019-09-01" }),
        )
        .await
        .assert_status(201);
    }
    let (activities, records, events) = (
        app.count("activities").await,
        app.count("service_records").await,
        app.count("audit_events").await,
    );
    let refused = commit(&app, &checked).await;
    refused.assert_status(422);
    assert!(refused.text.contains("同名同日的活动"), "{}", refused.text);
    assert_eq!(app.count("activities").await, activities);
    assert_eq!(app.count("service_records").await, records);
    assert_eq!(app.count("audit_events").await, events);
}

#[tokio::test]
async fn only_registry_editors_import_records_and_sign_in_sheets() {
    let app = TestApp::spawn().await;
    two_residents(&app).await;
    let sheet = "活动,日期,姓名,小区\n读书会,2019-09-01,张丽,音乐广场\n";
    for (role, status) in [("editor", 403), ("reviewer", 403), ("nominator", 201)] {
        let token = app.user_token(&format!("u-{role}"), &[role]).await;
        let form = TestForm::new().text("kind", "participation").field(
            TestFormField::bytes(sheet.as_bytes().to_vec())
                .name("file")
                .filename("s.csv"),
        );
        let reply = app
            .send(
                app.client
                    .post("/api/v1/imports")
                    .header("Authorization", format!("Bearer {token}"))
                    .multipart(form),
            )
            .await;
        reply.assert_status(status);
    }
    assert_eq!(app.count("activities").await, 0);
}

/// The sheet XML of a workbook's first worksheet.
fn first_sheet_xml(xlsx: &[u8]) -> String {
    use std::io::Read;
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(xlsx)).unwrap();
    let mut xml = String::new();
    zip.by_name("xl/worksheets/sheet1.xml")
        .unwrap()
        .read_to_string(&mut xml)
        .unwrap();
    xml
}

#[tokio::test]
async fn templates_have_chinese_headers_dropdowns_and_a_sample_row_and_import_filled_in() {
    use calamine::Reader;
    let app = TestApp::spawn().await;
    two_residents(&app).await;
    for (path, kind, first_sheet, header) in [
        ("service-records", "service_records", "服务记录", "类型"),
        ("participation", "participation", "活动签到", "活动"),
        ("residents", "residents", "居民", "姓名"),
    ] {
        let (status, _, xlsx) = app
            .fetch(&format!("/api/v1/imports/templates/{path}"), true)
            .await;
        assert_eq!(status, 200, "{path}");
        let mut book: calamine::Xlsx<_> =
            calamine::open_workbook_from_rs(std::io::Cursor::new(xlsx.clone())).unwrap();
        assert_eq!(book.sheet_names(), [first_sheet, "填写说明", "小区列表"]);
        let sheet = book.worksheet_range(first_sheet).unwrap();
        let headers: Vec<String> = sheet
            .rows()
            .next()
            .unwrap()
            .iter()
            .map(|c| c.to_string())
            .collect();
        assert!(headers.contains(&header.to_string()), "{path}: {headers:?}");
        let guide = book.worksheet_range("填写说明").unwrap();
        let rows: Vec<Vec<String>> = guide
            .rows()
            .map(|r| r.iter().map(|c| c.to_string()).collect())
            .collect();
        let sample_at = rows
            .iter()
            .position(|r| r[0].starts_with("示例行"))
            .unwrap();
        assert_eq!(
            rows[sample_at + 1][..headers.len()],
            headers[..],
            "{path}: the sample row's header"
        );
        assert_eq!(
            rows[sample_at + 2].iter().filter(|c| *c == "张丽").count(),
            1,
            "{path}"
        );
        let communities = book.worksheet_range("小区列表").unwrap();
        assert!(communities.rows().any(|r| r[0] == "音乐广场"));
        // The dropdowns: a list under 小区 from the hidden sheet, and the fixed lists.
        let xml = first_sheet_xml(&xlsx);
        assert!(
            xml.contains("<dataValidation type=\"list\""),
            "{path}: {xml}"
        );
        assert!(xml.contains("小区列表!$A$1:$A$"), "{path}");
        if kind == "service_records" {
            for list in [
                "个小区",
                "节约资金（元）",
                "准确,以上,约",
                "担任职务",
                "是,否",
            ] {
                assert!(xml.contains(list), "{path}: no {list} in the dropdowns");
            }
            assert!(
                !xml.contains("参加活动"),
                "activity records come from sign-in sheets"
            );
        }
        // Empty, it reads as a roster of no rows.
        let report = check_kind(&app, kind, xlsx, "template.xlsx").await;
        report.assert_status(201);
        assert_eq!(report.body["rows"], 0, "{path}: {}", report.text);
    }
    // The CSV template is the header row; filled in as the sample row, it imports.
    let (_, _, csv) = app
        .fetch("/api/v1/imports/templates/service-records?format=csv", true)
        .await;
    let mut filled = csv.clone();
    filled.extend_from_slice(
        "张丽,音乐广场,,调研排摸,小区加装电梯意愿排摸,,2019年8月,2019年9月,60几个,个小区,以上,是,居委会排摸记录表,,\r\n"
            .as_bytes(),
    );
    let report = check_kind(&app, "service_records", filled, "template.csv").await;
    assert_eq!(report.body["problems"], json!([]), "{}", report.text);
    assert_eq!(counts(&report.body), (1, 0, 0), "{}", report.text);
}

#[tokio::test]
async fn exported_service_records_and_sign_in_sheets_re_import_without_changes() {
    let app = TestApp::spawn().await;
    let (zhang, _) = two_residents(&app).await;
    let checked = check_kind(&app, "service_records", records_csv().into_bytes(), "r.csv").await;
    commit(&app, &checked).await.assert_status(200);
    // An ongoing record, a formula-like title, and several measures of which one is money saved.
    app.add_record(
        zhang,
        &json!({ "kind": "role", "title": "=楼组长", "start": "2015-03",
                 "measures": [{ "value": 300000, "unit": "yuan_saved", "qualifier": "at_least" },
                              { "value": 89.5, "unit": "percent" }] }),
    )
    .await
    .assert_status(201);
    let sheet = "活动,日期,默认时长,姓名,小区,时长,记录人\n\
                 敬老院助老服务,2019.8.28,2,张丽,音乐广场,,居委会\n\
                 敬老院助老服务,2019.8.28,,王芳,音乐广场,3.5,居委会\n";
    let checked = check_kind(&app, "participation", sheet.into(), "a.csv").await;
    commit(&app, &checked).await.assert_status(200);
    app.post(
        "/api/v1/activities",
        &json!({ "title": "空活动", "date": "2019-09" }),
    )
    .await
    .assert_status(201);

    let (status, headers, csv) = app
        .fetch("/api/v1/exports/service-records?format=csv", true)
        .await;
    assert_eq!(status, 200);
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    assert!(csv.starts_with(b"\xEF\xBB\xBF"), "UTF-8 with BOM");
    let text = String::from_utf8(csv.clone()).unwrap();
    assert!(
        text.starts_with("\u{FEFF}姓名,小区,身份证号码,类型,事项,"),
        "{text}"
    );
    assert!(text.contains("310107195601010024"), "staff read ID numbers");
    assert!(text.contains("'=楼组长"), "neutralised: {text}");
    assert!(text.contains("节约30余万元；89.5%"), "{text}");
    assert!(text.contains(",至今,"), "{text}");
    assert!(
        !text.contains("敬老院助老服务"),
        "activities' records are the activities export's"
    );
    let (_, _, xlsx) = app.fetch("/api/v1/exports/service-records", true).await;
    for (bytes, name) in [(csv, "records.csv"), (xlsx, "records.xlsx")] {
        let report = check_kind(&app, "service_records", bytes, name).await;
        report.assert_status(201);
        assert_eq!(
            report.body["problems"],
            json!([]),
            "{name}: {}",
            report.text
        );
        assert_eq!(counts(&report.body), (0, 0, 6), "{name}: {}", report.text);
    }

    for format in ["csv", "xlsx"] {
        let (status, _, bytes) = app
            .fetch(&format!("/api/v1/exports/activities?format={format}"), true)
            .await;
        assert_eq!(status, 200);
        let report = check_kind(&app, "participation", bytes, &format!("a.{format}")).await;
        report.assert_status(201);
        assert_eq!(
            report.body["problems"],
            json!([]),
            "{format}: {}",
            report.text
        );
        assert_eq!(counts(&report.body), (0, 0, 2), "{format}: {}", report.text);
        commit(&app, &report).await.assert_status(200);
    }
    assert_eq!(
        app.count("activities").await,
        2,
        "the empty activity matched, not doubled"
    );
}

#[tokio::test]
async fn the_service_records_export_gives_private_columns_only_to_roles_that_read_them() {
    let app = TestApp::spawn().await;
    let (zhang, _) = two_residents(&app).await;
    let checked = check_kind(&app, "service_records", records_csv().into_bytes(), "r.csv").await;
    commit(&app, &checked).await.assert_status(200);
    app.consent(zhang, "profile").await.assert_status(201);
    let editor = app.user_token("bian-ji", &["editor"]).await;
    let reply = app
        .send_as(
            &editor,
            "GET",
            "/api/v1/exports/service-records?format=csv",
            None,
        )
        .await;
    reply.assert_status(200);
    assert!(reply.text.contains("姓名,小区,类型,事项"), "{}", reply.text);
    assert!(!reply.text.contains("身份证号码") && !reply.text.contains("310107"));
    assert!(reply.text.contains("音乐广场业委会委员"));
    assert!(
        !reply.text.contains("王芳"),
        "an editor sees only public residents"
    );
    let reviewer = app.user_token("ping-shen", &["reviewer"]).await;
    let reply = app
        .send_as(
            &reviewer,
            "GET",
            "/api/v1/exports/service-records?format=csv",
            None,
        )
        .await;
    assert!(reply.text.contains("310107195601010024") && reply.text.contains("王芳"));
    assert_eq!(
        app.get("/api/v1/exports/service-records")
            .await
            .status
            .as_u16(),
        401
    );
}

#[tokio::test]
async fn the_console_imports_a_sign_in_sheet_and_shows_each_participants_hours() {
    use crate::console::{location, Browser};
    let app = TestApp::spawn().await;
    two_residents(&app).await;
    let mut b = Browser::signed_in(&app, "zhang-gong", &["nominator"]).await;
    let form = b.get("/admin/imports/new").await;
    for text in ["名册类型", "活动签到表", "服务记录", "下载活动签到表模板"] {
        assert!(form.text.contains(text), "the form lacks {text}");
    }
    let template = b.get("/admin/imports/templates/participation").await;
    assert_eq!(template.status.as_u16(), 200);
    assert!(template.headers["content-type"]
        .to_str()
        .unwrap()
        .contains("spreadsheetml"));
    assert!(template.headers["content-disposition"]
        .to_str()
        .unwrap()
        .contains("youde-participation-template.xlsx"));
    assert_eq!(
        b.get("/admin/imports/templates/volunteers")
            .await
            .status
            .as_u16(),
        404
    );
    let sheet = "活动,日期,默认时长,姓名,小区,时长\n\
                 敬老院助老服务,2019.8.28,2,张丽,音乐广场,\n\
                 敬老院助老服务,2019.8.28,,王芳,音乐广场,3.5\n";
    let gbk = encoding_rs::GBK.encode(sheet).0.into_owned();
    let uploaded = b
        .upload_to(
            "/admin/imports/new",
            "/admin/imports",
            &[("kind", "participation")],
            (gbk, "sign-in.csv", "text/csv"),
        )
        .await;
    assert_eq!(uploaded.status.as_u16(), 303, "{}", uploaded.text);
    let report_page = location(&uploaded);
    let report = b.get(&report_page).await;
    for text in [
        "活动签到表",
        "检查通过",
        "敬老院助老服务（2019-08-28）",
        "3.5 小时",
        "确认导入",
    ] {
        assert!(report.text.contains(text), "the report lacks {text}");
    }
    let confirmed = b
        .submit(&report_page, &format!("{report_page}/commit"), &[])
        .await;
    assert_eq!(confirmed.status.as_u16(), 303, "{}", confirmed.text);
    let done = b.get(&report_page).await;
    assert!(done.text.contains("已导入：新建 2 条"), "{}", done.text);
    assert_eq!(app.count("activities").await, 1);
}

#[tokio::test]
async fn youde_import_takes_the_kind_of_sheet() {
    let app = TestApp::spawn().await;
    two_residents(&app).await;
    app.user_token("zhang-gong", &["nominator"]).await;
    let file = app.dir.path().join("sign-in.csv");
    let sheet = "活动,日期,姓名,小区,时长\n读书会,2019.9.1,张丽,音乐广场,1.5\n读书会,2019.9.1,王芳,音乐广场,2\n";
    std::fs::write(&file, encoding_rs::GBK.encode(sheet).0).unwrap();
    let run = |extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_youde"))
            .arg("import")
            .arg(&file)
            .args(["--database-url", &app.db_url, "--as", "zhang-gong"])
            .args(extra)
            .env("RUST_LOG", "warn")
            .output()
            .expect("run youde import")
    };
    let wrong = run(&["--kind", "service_records"]);
    assert!(
        !wrong.status.success(),
        "a sign-in sheet is no service records sheet"
    );
    assert!(
        String::from_utf8_lossy(&wrong.stderr).contains("表格缺少必需的列：类型、事项、开始时间")
    );
    let bad = run(&["--kind", "volunteers"]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--kind must be"));
    let done = run(&["--kind", "participation", "--commit"]);
    let stdout = String::from_utf8_lossy(&done.stdout);
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert!(
        stdout.contains("2 行，新建 2，更新 0，不变 0，问题 0"),
        "{stdout}"
    );
    assert!(stdout.contains("已导入：新建 2，更新 0"), "{stdout}");
    assert_eq!(app.count("service_records").await, 2);
}

/// A commit that fails half-way through its writes (here a trigger refuses the second
/// activity's records, after the first activity and its records were written) leaves nothing:
/// no activity, no record, no outbox row, no audit event, and the import can still be committed
/// once the cause is gone.
#[tokio::test]
async fn a_commit_failing_half_way_through_its_writes_stores_nothing() {
    use sea_orm::ConnectionTrait;
    let app = TestApp::spawn().await;
    two_residents(&app).await;
    let sheet = "活动,日期,姓名,小区,时长\n\
                 读书会,2019-09-01,张丽,音乐广场,1\n\
                 读书会,2019-09-01,王芳,音乐广场,1\n\
                 义务理发,2019-09-02,张丽,音乐广场,2\n";
    let checked = check_kind(&app, "participation", sheet.into(), "s.csv").await;
    assert_eq!(counts(&checked.body), (3, 0, 0), "{}", checked.text);
    let (trigger, drop) = if app.db_url.starts_with("postgres") {
        (
            "CREATE FUNCTION refuse_haircut() RETURNS trigger AS $$ BEGIN \
             IF NEW.title = '义务理发' THEN RAISE EXCEPTION 'refused by the test'; END IF; \
             RETURN NEW; END $$ LANGUAGE plpgsql; \
             CREATE TRIGGER refuse_haircut BEFORE INSERT ON service_records \
             FOR EACH ROW EXECUTE FUNCTION refuse_haircut();",
            "DROP TRIGGER refuse_haircut ON service_records; DROP FUNCTION refuse_haircut();",
        )
    } else {
        (
            "CREATE TRIGGER refuse_haircut BEFORE INSERT ON service_records \
             WHEN NEW.title = '义务理发' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;",
            "DROP TRIGGER refuse_haircut;",
        )
    };
    app.db.execute_unprepared(trigger).await.unwrap();
    let before = (
        app.count("activities").await,
        app.count("service_records").await,
        app.count("search_outbox").await,
        app.count("audit_events").await,
    );
    let failed = commit(&app, &checked).await;
    assert_eq!(failed.status.as_u16(), 500, "{}", failed.text);
    let after = (
        app.count("activities").await,
        app.count("service_records").await,
        app.count("search_outbox").await,
        app.count("audit_events").await,
    );
    assert_eq!(
        after, before,
        "the first activity's writes were rolled back too"
    );
    app.db.execute_unprepared(drop).await.unwrap();
    commit(&app, &checked).await.assert_status(200);
    assert_eq!(app.count("activities").await, 2);
    assert_eq!(app.count("service_records").await, 3);
}
