//! Certificates anyone can verify (issue #15): reviewers and admins issue a numbered certificate
//! for a recognition; anyone checks it by the code of its QR code or by number and name, and
//! sees it valid, superseded or revoked — and nothing private.

use chrono::Datelike;
use sea_orm::ConnectionTrait;
use serde_json::{json, Value};

use crate::helpers::{Reply, TestApp};

const PHONE: &str = "13912345678";
const ID_NUMBER: &str = "310107196803124411";
const ADDRESS: &str = "长寿路999弄9号1201室";

/// The demo (孙建伟's 2019 honour), with private fields on the resident to look for later.
async fn app_with_honour() -> (TestApp, i64) {
    let app = TestApp::spawn().await;
    youde::demo::load(&app.db).await.expect("demo data");
    let honour = app.staff_get("/api/v1/recognitions").await.body["items"][0].clone();
    app.db
        .execute_unprepared(&format!(
            "UPDATE residents SET phone = '{PHONE}', id_number = '{ID_NUMBER}', \
             address = '{ADDRESS}' WHERE id = {}",
            honour["resident_id"]
        ))
        .await
        .unwrap();
    (app, honour["id"].as_i64().unwrap())
}

fn this_year(app: &TestApp) -> i32 {
    (app.clock.now() + chrono::Duration::hours(8)).year()
}

async fn issue(app: &TestApp, recognition_id: i64) -> Reply {
    app.post(
        &format!("/api/v1/recognitions/{recognition_id}/certificates"),
        &json!({}),
    )
    .await
}

async fn verify(app: &TestApp, code: &str) -> Reply {
    app.get(&format!("/api/v1/certificates/verify/{code}"))
        .await
}

fn assert_nothing_private(text: &str) {
    for private in [PHONE, ID_NUMBER, ADDRESS, "1968"] {
        assert!(!text.contains(private), "{private} shown: {text}");
    }
}

#[tokio::test]
async fn an_issued_certificate_is_numbered_and_verifies_as_valid_for_anyone() {
    let (app, honour) = app_with_honour().await;
    let issued = issue(&app, honour).await;
    issued.assert_status(201);
    let year = this_year(&app);
    let cert = &issued.body;
    assert_eq!(cert["number"], format!("长寿〔{year}〕第001号"));
    assert_eq!(cert["holder_name"], "孙建伟");
    assert_eq!(cert["title"], "2019年度长寿路街道有德之士");
    assert_eq!(cert["standing"], "valid");
    let code = cert["verification_code"].as_str().unwrap();
    assert_eq!(code.len(), 26, "128 bits in base32");
    assert_eq!(
        cert["verify_url"],
        format!("https://youde.example.org/verify/{code}")
    );

    let check = verify(&app, code).await;
    check.assert_status(200);
    assert_eq!(check.body["standing"], "valid");
    assert_eq!(check.body["standing_label"], "有效");
    assert_eq!(check.body["number"], cert["number"]);
    assert_eq!(check.body["holder_name"], "孙建伟");
    assert_eq!(
        check.body["issuing_body"],
        "上海市普陀区人民政府长寿路街道办事处"
    );
    assert!(check.body["checked_on"].is_string());
    assert_nothing_private(&check.text);
    // The code works whatever the case it was typed in.
    verify(&app, &code.to_uppercase()).await.assert_status(200);

    // The same page for people: Chinese, valid, nothing private.
    let page = app.get(&format!("/verify/{code}")).await;
    page.assert_status(200);
    assert!(page.text.contains("此证书有效"), "{}", page.text);
    assert!(page.text.contains("孙建伟"));
    assert_nothing_private(&page.text);

    // One standing certificate per honour: a second is refused and takes no number.
    let again = issue(&app, honour).await;
    again.assert_status(409);
    assert_eq!(again.error_code(), "certificate_exists");
    let listed = app
        .staff_get(&format!("/api/v1/certificates?year={year}"))
        .await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(app.count("certificates").await, 1);
}

#[tokio::test]
async fn only_reviewers_and_admins_issue_and_revoke() {
    let (app, honour) = app_with_honour().await;
    let path = format!("/api/v1/recognitions/{honour}/certificates");
    for role in ["nominator", "editor"] {
        let token = app.user_token(&format!("cert-{role}"), &[role]).await;
        let refused = app.send_as(&token, "POST", &path, Some(&json!({}))).await;
        refused.assert_status(403);
    }
    app.send(app.client.post(&path).body_json(&json!({})))
        .await
        .assert_status(401);
    assert_eq!(app.count("certificates").await, 0);
    let reviewer = app.user_token("cert-reviewer", &["reviewer"]).await;
    let issued = app
        .send_as(&reviewer, "POST", &path, Some(&json!({})))
        .await;
    issued.assert_status(201);
    let id = issued.body["id"].as_i64().unwrap();
    let nominator = app.user_token("cert-nominator2", &["nominator"]).await;
    app.send_as(
        &nominator,
        "POST",
        &format!("/api/v1/certificates/{id}/revoke"),
        Some(&json!({ "reason": "试图撤销" })),
    )
    .await
    .assert_status(403);
    // Issuing was audited under the reviewer's name.
    let audit = app
        .staff_get("/api/v1/audit?action=certificate.issue")
        .await;
    assert!(audit.text.contains("certificate.issue"), "{}", audit.text);
}

#[tokio::test]
async fn a_reissue_supersedes_the_old_number_and_a_revocation_shows_as_revoked() {
    let (app, honour) = app_with_honour().await;
    let first = issue(&app, honour).await;
    let (first_id, first_code) = (
        first.body["id"].as_i64().unwrap(),
        first.body["verification_code"]
            .as_str()
            .unwrap()
            .to_string(),
    );
    let second = app
        .post(
            &format!("/api/v1/certificates/{first_id}/reissue"),
            &json!({}),
        )
        .await;
    second.assert_status(201);
    let year = this_year(&app);
    assert_eq!(second.body["number"], format!("长寿〔{year}〕第002号"));
    let second_code = second.body["verification_code"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(second_code, first_code);

    let old = verify(&app, &first_code).await;
    assert_eq!(old.body["standing"], "superseded");
    assert_eq!(old.body["superseded_by_number"], second.body["number"]);
    let page = app.get(&format!("/verify/{first_code}")).await;
    assert!(page.text.contains("已被新证书替代"), "{}", page.text);
    assert!(page.text.contains(&format!("长寿〔{year}〕第002号")));
    // A superseded certificate is not reissued again; the standing one is.
    app.post(
        &format!("/api/v1/certificates/{first_id}/reissue"),
        &json!({}),
    )
    .await
    .assert_status(409);

    let second_id = second.body["id"].as_i64().unwrap();
    let revoke = format!("/api/v1/certificates/{second_id}/revoke");
    let no_reason = app.post(&revoke, &json!({ "reason": "  " })).await;
    assert_eq!(no_reason.invalid_fields(), ["reason"]);
    let revoked = app
        .post(&revoke, &json!({ "reason": "证书信息登记有误" }))
        .await;
    revoked.assert_status(200);
    assert_eq!(revoked.body["standing"], "revoked");
    app.post(&revoke, &json!({ "reason": "再次撤销" }))
        .await
        .assert_status(409);

    let check = verify(&app, &second_code).await;
    check.assert_status(200);
    assert_eq!(check.body["standing"], "revoked");
    assert_eq!(check.body["standing_label"], "已撤销");
    assert!(check.body["revoked_on"].is_string());
    // The reason is for staff, not for the public.
    assert!(!check.text.contains("登记有误"), "{}", check.text);
    let page = app.get(&format!("/verify/{second_code}")).await;
    assert!(page.text.contains("此证书已撤销"), "{}", page.text);
    assert!(!page.text.contains("登记有误"));
    // A revoked certificate no longer prints.
    let print = app.get(&format!("/verify/{second_code}/certificate")).await;
    assert!(!print.text.contains("<svg"), "{}", print.text);
}

#[tokio::test]
async fn revoking_the_recognition_revokes_its_certificates() {
    let (app, honour) = app_with_honour().await;
    let issued = issue(&app, honour).await;
    let code = issued.body["verification_code"].as_str().unwrap();
    app.post(
        &format!("/api/v1/recognitions/{honour}/revoke"),
        &json!({ "reason": "核实发现材料有误" }),
    )
    .await
    .assert_status(200);
    assert_eq!(verify(&app, code).await.body["standing"], "revoked");
    let again = issue(&app, honour).await;
    again.assert_status(409);
    assert_eq!(again.error_code(), "recognition_revoked");
    let audit = app
        .staff_get("/api/v1/audit?action=certificate.revoke")
        .await;
    assert!(audit.text.contains("certificate.revoke"), "{}", audit.text);
}

#[tokio::test]
async fn unknown_codes_and_wrong_names_answer_alike_and_guessing_is_throttled() {
    let (app, honour) = app_with_honour().await;
    let issued = issue(&app, honour).await;
    let number = issued.body["number"].as_str().unwrap().to_string();
    let code = issued.body["verification_code"]
        .as_str()
        .unwrap()
        .to_string();

    let by_number = |number: &str, name: &str| {
        let query = serde_urlencoded::to_string([("number", number), ("name", name)]).unwrap();
        format!("/api/v1/certificates/verify?{query}")
    };
    // A number typed by hand with the brackets at hand, and the holder's name.
    let typed = number.replace('〔', "[").replace('〕', "]");
    let found = app.get(&by_number(&typed, "孙建伟")).await;
    found.assert_status(200);
    assert_eq!(found.body["number"], number.as_str());

    // Both halves are needed, and saying so costs no look-up.
    let half = app
        .get(&format!(
            "/api/v1/certificates/verify?{}",
            serde_urlencoded::to_string([("number", number.as_str())]).unwrap()
        ))
        .await;
    half.assert_status(422);
    assert_eq!(half.invalid_fields(), ["name"]);

    let unknown = verify(&app, "aaaaaaaaaaaaaaaaaaaaaaaaaa").await;
    unknown.assert_status(404);
    assert_eq!(unknown.error_code(), "certificate_not_found");
    assert_eq!(unknown.body["error"]["message"], "未找到该证书");
    let wrong_name = app.get(&by_number(&number, "张三")).await;
    let no_such_number = app.get(&by_number("长寿〔1999〕第999号", "张三")).await;
    assert_eq!(wrong_name.status, no_such_number.status);
    assert_eq!(wrong_name.body, no_such_number.body);
    assert_eq!(wrong_name.body, unknown.body);
    let page = app.get("/verify/not-a-code").await;
    page.assert_status(404);
    assert!(page.text.contains("未找到该证书"));

    // 4 misses so far; the 20th ends this address's look-ups for the hour, hits included.
    for _ in 4..20 {
        verify(&app, "bbbbbbbbbbbbbbbbbbbbbbbbbb")
            .await
            .assert_status(404);
    }
    let throttled = verify(&app, &code).await;
    throttled.assert_status(429);
    assert_eq!(throttled.error_code(), "too_many_requests");
    app.get(&format!("/verify/{code}")).await.assert_status(429);
    app.clock.advance(chrono::Duration::minutes(61));
    verify(&app, &code).await.assert_status(200);
}

/// The SVG the page shows, drawn into a grey buffer (the renderer writes one `M x y h w v h …`
/// rectangle per dark module) and read back as a QR code.
fn decode_qr(svg: &str) -> String {
    let attr = |name: &str| -> usize {
        let start = svg.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
        svg[start..].split('"').next().unwrap().parse().unwrap()
    };
    let (w, h) = (attr("width"), attr("height"));
    let d_start = svg.find(" d=\"").unwrap() + 4;
    let d = svg[d_start..].split('"').next().unwrap();
    let mut dark = vec![false; w * h];
    for rect in d.split('M').filter(|r| !r.is_empty()) {
        // "x y" "hW" "vH" …
        let (xy, rest) = rect.split_once('h').unwrap();
        let (x, y) = xy.split_once(' ').unwrap();
        let (x, y): (usize, usize) = (x.parse().unwrap(), y.parse().unwrap());
        let (rw, rest) = rest.split_once('v').unwrap();
        let rh: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let (rw, rh): (usize, usize) = (rw.parse().unwrap(), rh.parse().unwrap());
        for yy in y..y + rh {
            for xx in x..x + rw {
                dark[yy * w + xx] = true;
            }
        }
    }
    let mut img =
        rqrr::PreparedImage::prepare_from_greyscale(
            w,
            h,
            |x, y| if dark[y * w + x] { 0 } else { 255 },
        );
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code on the page");
    grids[0].decode().expect("the QR code decodes").1
}

#[tokio::test]
async fn the_printed_certificate_carries_a_qr_code_of_its_verify_address() {
    let (app, honour) = app_with_honour().await;
    let issued = issue(&app, honour).await;
    let code = issued.body["verification_code"].as_str().unwrap();
    let page = app.get(&format!("/verify/{code}/certificate")).await;
    page.assert_status(200);
    assert!(page.text.contains("荣誉证书"));
    assert!(page.text.contains("孙建伟"));
    assert!(page.text.contains(issued.body["number"].as_str().unwrap()));
    assert!(page.text.contains("certificate-sheet landscape"));
    assert_nothing_private(&page.text);
    let svg_start = page.text.find("<svg").expect("an inline QR code");
    let svg_end = page.text[svg_start..].find("</svg>").unwrap() + svg_start + 6;
    let decoded = decode_qr(&page.text[svg_start..svg_end]);
    assert_eq!(decoded, format!("https://youde.example.org/verify/{code}"));
    // The address it leads to says valid.
    let path = decoded.strip_prefix("https://youde.example.org").unwrap();
    assert!(app.get(path).await.text.contains("此证书有效"));
}

/// `n` more honours for the demo's resident, each from a nomination of its own (recognised as
/// the demo's was: through the store, the workflow itself is tested elsewhere).
async fn more_honours(app: &TestApp, n: usize) -> Vec<i64> {
    use youde::store::{nominations, recognitions};
    let first: Value = app.staff_get("/api/v1/recognitions").await.body["items"][0].clone();
    let demo = nominations::get(&app.db, first["nomination_id"].as_i64().unwrap())
        .await
        .unwrap();
    let today = (app.clock.now() + chrono::Duration::hours(8)).date_naive();
    let mut ids = Vec::new();
    for i in 0..n {
        let statement = youde::domain::nomination::StatementInput {
            author: "测试".into(),
            relation: "居委会".into(),
            body: "测试用的推荐意见".into(),
        };
        let draft = youde::domain::nomination::NominationDraft::parse(
            demo.resident_id,
            demo.category_id,
            &format!("测试荣誉{i}"),
            demo.year,
            &demo.citation,
            vec![statement],
        )
        .unwrap();
        let m = nominations::insert(&app.db, &draft, 1, app.clock.now())
            .await
            .unwrap();
        let r = recognitions::insert(&app.db, &m, today, 1, app.clock.now())
            .await
            .unwrap();
        ids.push(r.id);
    }
    ids
}

#[tokio::test]
async fn numbers_run_without_gaps_or_duplicates_when_issued_at_once() {
    let (app, honour) = app_with_honour().await;
    let mut honours = more_honours(&app, 11).await;
    honours.push(honour);
    // Each honour twice at once: one of each pair is refused after taking a number, which it
    // must give back.
    let paths: Vec<String> = honours
        .iter()
        .chain(honours.iter())
        .map(|id| format!("/api/v1/recognitions/{id}/certificates"))
        .collect();
    let replies = futures_util::future::join_all(paths.iter().map(|p| issue_path(&app, p))).await;
    let mut statuses: Vec<u16> = replies.iter().map(|r| r.status.as_u16()).collect();
    statuses.sort();
    assert_eq!(
        statuses,
        [vec![201; 12], vec![409; 12]].concat(),
        "{replies:?}"
    );
    let year = this_year(&app);
    let mut numbers: Vec<String> = replies
        .iter()
        .filter(|r| r.status == 201)
        .map(|r| r.body["number"].as_str().unwrap().to_string())
        .collect();
    numbers.sort();
    let expected: Vec<String> = (1..=12)
        .map(|n| format!("长寿〔{year}〕第{n:03}号"))
        .collect();
    assert_eq!(numbers, expected);
    // The next one continues the row.
    let standing = replies.iter().find(|r| r.status == 201).unwrap();
    let reissued = app
        .post(
            &format!("/api/v1/certificates/{}/reissue", standing.body["id"]),
            &json!({}),
        )
        .await;
    assert_eq!(reissued.body["number"], format!("长寿〔{year}〕第013号"));
}

#[tokio::test]
async fn honours_and_record_certificates_share_one_gap_free_sequence_when_issued_at_once() {
    use futures_util::future::BoxFuture;
    let (app, honour) = app_with_honour().await;
    let mut honours = more_honours(&app, 5).await;
    honours.push(honour);
    let a = volunteer_with_hours(&app).await;
    let periods = [
        ("2019-01-01", "2019-12-31"),
        ("2019-01-01", "2019-06-30"),
        ("2019-03-01", "2019-03-31"),
        ("2019-08-01", "2019-08-31"),
        ("2019-01-01", "2020-12-31"),
        ("2019-02-01", "2019-09-30"),
    ];
    // Every honour and every period twice, all at once: one of each pair is refused after
    // taking a number, which it gives back.
    let mut requests: Vec<BoxFuture<'_, Reply>> = Vec::new();
    for _ in 0..2 {
        for id in &honours {
            requests.push(Box::pin(issue(&app, *id)));
        }
        for period in periods {
            requests.push(Box::pin(issue_hours(&app, a, period)));
        }
    }
    let replies = futures_util::future::join_all(requests).await;
    let mut statuses: Vec<u16> = replies.iter().map(|r| r.status.as_u16()).collect();
    statuses.sort();
    assert_eq!(
        statuses,
        [vec![201; 12], vec![409; 12]].concat(),
        "{replies:?}"
    );
    let year = this_year(&app);
    let mut numbers: Vec<String> = replies
        .iter()
        .filter(|r| r.status == 201)
        .map(|r| r.body["number"].as_str().unwrap().to_string())
        .collect();
    numbers.sort();
    let expected: Vec<String> = (1..=12)
        .map(|n| format!("长寿〔{year}〕第{n:03}号"))
        .collect();
    assert_eq!(numbers, expected);
    let kinds: Vec<&str> = replies
        .iter()
        .filter(|r| r.status == 201)
        .map(|r| r.body["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.iter().filter(|k| **k == "hours").count(), 6);
}

async fn issue_path(app: &TestApp, path: &str) -> Reply {
    app.post(path, &json!({})).await
}

#[tokio::test]
async fn a_reviewer_issues_previews_and_revokes_a_certificate_in_the_console() {
    use crate::console::Browser;
    let (app, _) = app_with_honour().await;
    let mut b = Browser::signed_in(&app, "cert-desk", &["reviewer"]).await;
    let list = b.get("/admin/certificates").await;
    list.assert_status(200);
    assert!(list.text.contains("待颁发证书的表彰"), "{}", list.text);
    assert!(list.text.contains("为孙建伟颁发证书"));
    let action = list
        .text
        .split("action=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap())
        .find(|a| a.starts_with("/admin/recognitions/"))
        .expect("an issue button")
        .to_string();
    let issued = b.submit("/admin/certificates", &action, &[]).await;
    issued.assert_status(303);
    let page_path = issued.headers["location"].to_str().unwrap().to_string();
    let page = b.get(&page_path).await;
    let year = this_year(&app);
    assert!(
        page.text.contains(&format!("长寿〔{year}〕第001号")),
        "{}",
        page.text
    );
    assert!(page.text.contains("状态：有效"));
    let preview = page
        .text
        .split("href=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap())
        .find(|h| h.ends_with("/certificate"))
        .expect("a preview link")
        .to_string();
    let printed = app.get(&preview).await;
    let svg_start = printed.text.find("<svg").unwrap();
    let svg_end = printed.text[svg_start..].find("</svg>").unwrap() + svg_start + 6;
    let verify_url = decode_qr(&printed.text[svg_start..svg_end]);
    let verify_path = verify_url
        .strip_prefix("https://youde.example.org")
        .unwrap();
    assert!(app.get(verify_path).await.text.contains("此证书有效"));

    // The year's list shows it; revoking without a reason is refused, with one it is revoked.
    let listed = b.get(&format!("/admin/certificates?year={year}")).await;
    assert!(listed.text.contains("孙建伟"));
    let revoke = format!("{page_path}/revoke");
    let refused = b.submit(&page_path, &revoke, &[("reason", "")]).await;
    assert_eq!(refused.status.as_u16(), 422, "{}", refused.text);
    let done = b
        .submit(&page_path, &revoke, &[("reason", "本人申请更正")])
        .await;
    done.assert_status(303);
    assert!(b.get(&page_path).await.text.contains("状态：已撤销"));
    assert!(app.get(verify_path).await.text.contains("此证书已撤销"));
}

#[tokio::test]
async fn no_certificate_is_issued_for_a_resident_whose_information_was_erased() {
    let (app, honour) = app_with_honour().await;
    let resident = app
        .staff_get(&format!("/api/v1/recognitions/{honour}"))
        .await
        .body["resident_id"]
        .clone();
    app.post(&format!("/api/v1/residents/{resident}/erasure"), &json!({}))
        .await
        .assert_status(200);
    let refused = issue(&app, honour).await;
    refused.assert_status(409);
    assert_eq!(refused.error_code(), "resident_erased");
    assert_eq!(app.count("certificates").await, 0);
}

/// 张丽, with private fields, and hours in and around 2019: 2.5 + 3 hours of activities in 2019
/// (counted), 4 hours on 2020-01-05 (outside), and 7 hours from 2018-12 to 2019-02 (reaching over
/// the year's start: left out).
async fn volunteer_with_hours(app: &TestApp) -> i64 {
    let a = app.resident("张丽").await;
    app.db
        .execute_unprepared(&format!(
            "UPDATE residents SET phone = '{PHONE}', id_number = '{ID_NUMBER}', \
             address = '{ADDRESS}' WHERE id = {a}"
        ))
        .await
        .unwrap();
    for (title, date, hours) in [
        ("敬老院助老服务", "2019-03-01", 2.5),
        ("垃圾分类宣传", "2019-08-28", 3.0),
        ("迎新春义写春联", "2020-01-05", 4.0),
    ] {
        app.post(
            "/api/v1/activities",
            &json!({ "title": title, "date": date, "participant_ids": [a], "hours": hours }),
        )
        .await
        .assert_status(201);
    }
    app.add_record(
        a,
        &json!({
            "kind": "volunteer_hours", "title": "冬季巡逻", "start": "2018-12", "end": "2019-02",
            "measures": [{ "value": 7, "unit": "hours", "qualifier": "exact" }],
        }),
    )
    .await
    .assert_status(201);
    a
}

const YEAR_2019: (&str, &str) = ("2019-01-01", "2019-12-31");

async fn issue_hours(app: &TestApp, resident: i64, (from, to): (&str, &str)) -> Reply {
    app.post(
        &format!("/api/v1/residents/{resident}/hours-certificates"),
        &json!({ "from": from, "to": to }),
    )
    .await
}

/// The QR code of a printed certificate page, decoded.
fn qr_of(page: &str) -> String {
    let svg_start = page.find("<svg").expect("an inline QR code");
    let svg_end = page[svg_start..].find("</svg>").unwrap() + svg_start + 6;
    decode_qr(&page[svg_start..svg_end])
}

#[tokio::test]
async fn a_record_certificate_states_the_hours_of_its_period_and_the_id_number_masked() {
    let (app, honour) = app_with_honour().await;
    let a = volunteer_with_hours(&app).await;

    // The preview counts what lies wholly in 2019 and says what it leaves out.
    let statement = app
        .staff_get(&format!(
            "/api/v1/residents/{a}/hours-statement?from=2019-01-01&to=2019-12-31"
        ))
        .await;
    statement.assert_status(200);
    assert_eq!(statement.body["total_hours"], 5.5);
    assert_eq!(statement.body["masked_id_number"], "3101**********4411");
    let titles = |key: &str| -> Vec<String> {
        statement.body[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["title"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(titles("records"), ["敬老院助老服务", "垃圾分类宣传"]);
    assert_eq!(titles("left_out"), ["冬季巡逻"]);
    assert_nothing_private(&statement.text);

    // An honour first: both kinds share the year's numbers.
    issue(&app, honour).await.assert_status(201);
    let issued = issue_hours(&app, a, YEAR_2019).await;
    issued.assert_status(201);
    let year = this_year(&app);
    let cert = &issued.body;
    assert_eq!(cert["kind"], "hours");
    assert_eq!(cert["kind_label"], "志愿服务记录证明");
    assert_eq!(cert["number"], format!("长寿〔{year}〕第002号"));
    assert_eq!(
        cert["hours"], 5.5,
        "2020's 4 hours and the 7 over the bound are not counted"
    );
    assert_eq!(cert["period_start"], "2019-01-01");
    assert_eq!(cert["period_end"], "2019-12-31");
    assert_eq!(cert["masked_id_number"], "3101**********4411");
    assert_eq!(cert["holder_name"], "张丽");
    assert_eq!(cert["citation"], "敬老院助老服务、垃圾分类宣传");
    assert_nothing_private(&issued.text);
    let code = cert["verification_code"].as_str().unwrap().to_string();

    let check = verify(&app, &code).await;
    check.assert_status(200);
    assert_eq!(check.body["standing"], "valid");
    assert_eq!(check.body["kind_label"], "志愿服务记录证明");
    assert_eq!(check.body["hours"], 5.5);
    assert_eq!(check.body["period_start"], "2019-01-01");
    assert_eq!(check.body["masked_id_number"], "3101**********4411");
    assert_nothing_private(&check.text);

    let page = app.get(&format!("/verify/{code}")).await;
    page.assert_status(200);
    for text in [
        "此证书有效",
        "志愿服务记录证明",
        "张丽",
        "3101**********4411",
        "2019年1月1日至2019年12月31日",
        "5.5 小时",
    ] {
        assert!(
            page.text.contains(text),
            "verify page lacks {text}: {}",
            page.text
        );
    }
    assert_nothing_private(&page.text);

    // The printed certificate: A4 portrait, what the national rules ask for, and the QR code.
    let printed = app.get(&format!("/verify/{code}/certificate")).await;
    printed.assert_status(200);
    assert!(printed.text.contains("certificate-sheet portrait"));
    for text in [
        "志愿服务记录证明",
        "张丽",
        "3101**********4411",
        "2019年1月1日至2019年12月31日",
        "5.5",
        "上海市普陀区人民政府长寿路街道办事处",
        &format!("长寿〔{year}〕第002号"),
    ] {
        assert!(printed.text.contains(text), "certificate lacks {text}");
    }
    assert_nothing_private(&printed.text);
    let decoded = qr_of(&printed.text);
    assert_eq!(decoded, format!("https://youde.example.org/verify/{code}"));
    let path = decoded.strip_prefix("https://youde.example.org").unwrap();
    assert!(app.get(path).await.text.contains("此证书有效"));

    // One standing certificate per period; another period is another certificate.
    let again = issue_hours(&app, a, YEAR_2019).await;
    again.assert_status(409);
    assert_eq!(again.error_code(), "certificate_exists");
    let autumn = issue_hours(&app, a, ("2019-08-01", "2020-01-31")).await;
    autumn.assert_status(201);
    assert_eq!(autumn.body["hours"], 7.0);
    assert_eq!(autumn.body["citation"], "垃圾分类宣传、迎新春义写春联");
}

#[tokio::test]
async fn a_record_certificate_is_refused_without_an_id_number_hours_or_a_sound_period() {
    let app = TestApp::spawn().await;
    let a = volunteer_with_hours(&app).await;

    let backwards = issue_hours(&app, a, ("2019-12-31", "2019-01-01")).await;
    backwards.assert_status(422);
    assert_eq!(backwards.invalid_fields(), ["to"]);
    let future = issue_hours(&app, a, ("2019-01-01", "2999-12-31")).await;
    assert_eq!(future.invalid_fields(), ["to"]);
    let typed = issue_hours(&app, a, ("2019年", "")).await;
    assert_eq!(typed.invalid_fields(), ["from", "to"]);

    let empty = issue_hours(&app, a, ("2021-01-01", "2021-12-31")).await;
    empty.assert_status(409);
    assert_eq!(empty.error_code(), "no_hours_in_period");

    let b = app.resident("王芳").await;
    app.post(
        "/api/v1/activities",
        &json!({ "title": "助老", "date": "2019-03-01", "participant_ids": [b], "hours": 2 }),
    )
    .await
    .assert_status(201);
    let no_id = issue_hours(&app, b, YEAR_2019).await;
    no_id.assert_status(409);
    assert_eq!(no_id.error_code(), "id_number_missing");
    issue_hours(&app, 999_999, YEAR_2019)
        .await
        .assert_status(404);
    assert_eq!(app.count("certificates").await, 0);

    // Refusals gave their numbers back: the first issued is 001.
    let issued = issue_hours(&app, a, YEAR_2019).await;
    issued.assert_status(201);
    assert_eq!(
        issued.body["number"],
        format!("长寿〔{}〕第001号", this_year(&app))
    );
}

#[tokio::test]
async fn only_reviewers_and_admins_issue_record_certificates() {
    let app = TestApp::spawn().await;
    let a = volunteer_with_hours(&app).await;
    let path = format!("/api/v1/residents/{a}/hours-certificates");
    let body = json!({ "from": "2019-01-01", "to": "2019-12-31" });
    for role in ["nominator", "editor"] {
        let token = app.user_token(&format!("hours-{role}"), &[role]).await;
        app.send_as(&token, "POST", &path, Some(&body))
            .await
            .assert_status(403);
    }
    app.send(app.client.post(&path).body_json(&body))
        .await
        .assert_status(401);
    let statement = format!("/api/v1/residents/{a}/hours-statement?from=2019-01-01&to=2019-12-31");
    app.get(&statement).await.assert_status(401);
    assert_eq!(app.count("certificates").await, 0);
    let reviewer = app.user_token("hours-reviewer", &["reviewer"]).await;
    let issued = app.send_as(&reviewer, "POST", &path, Some(&body)).await;
    issued.assert_status(201);
    let audit = app
        .staff_get(&format!(
            "/api/v1/audit?action=certificate.issue&entity_kind=certificate&entity_id={}",
            issued.body["id"]
        ))
        .await;
    assert!(audit.text.contains("certificate.issue"), "{}", audit.text);
}

#[tokio::test]
async fn a_reissued_record_certificate_counts_again_and_a_revoked_one_shows_revoked() {
    let app = TestApp::spawn().await;
    let a = volunteer_with_hours(&app).await;
    let first = issue_hours(&app, a, YEAR_2019).await;
    first.assert_status(201);
    let first_code = first.body["verification_code"]
        .as_str()
        .unwrap()
        .to_string();
    // A record found later: the reissue counts it.
    app.post(
        "/api/v1/activities",
        &json!({ "title": "社区义诊", "date": "2019-10-01", "participant_ids": [a], "hours": 1.5 }),
    )
    .await
    .assert_status(201);
    let second = app
        .post(
            &format!("/api/v1/certificates/{}/reissue", first.body["id"]),
            &json!({}),
        )
        .await;
    second.assert_status(201);
    assert_eq!(second.body["hours"], 7.0);
    assert_eq!(second.body["period_end"], "2019-12-31");
    let old = verify(&app, &first_code).await;
    assert_eq!(old.body["standing"], "superseded");
    assert_eq!(
        old.body["hours"], 5.5,
        "the old certificate states what it stated"
    );
    assert_eq!(old.body["superseded_by_number"], second.body["number"]);

    let second_code = second.body["verification_code"].as_str().unwrap();
    app.post(
        &format!("/api/v1/certificates/{}/revoke", second.body["id"]),
        &json!({ "reason": "时长登记有误" }),
    )
    .await
    .assert_status(200);
    let check = verify(&app, second_code).await;
    assert_eq!(check.body["standing"], "revoked");
    let page = app.get(&format!("/verify/{second_code}")).await;
    assert!(page.text.contains("此证书已撤销"), "{}", page.text);
    assert!(!page.text.contains("时长登记有误"));
    let print = app.get(&format!("/verify/{second_code}/certificate")).await;
    assert!(
        !print.text.contains("<svg"),
        "a revoked certificate does not print"
    );
}

#[tokio::test]
async fn erasing_a_resident_revokes_their_certificates_and_forgets_the_masked_id() {
    let (app, honour) = app_with_honour().await;
    let sun = app
        .staff_get(&format!("/api/v1/recognitions/{honour}"))
        .await
        .body["resident_id"]
        .as_i64()
        .unwrap();
    let honour_cert = issue(&app, honour).await;
    let a = volunteer_with_hours(&app).await;
    let record_cert = issue_hours(&app, a, YEAR_2019).await;
    record_cert.assert_status(201);
    for resident in [sun, a] {
        app.post(&format!("/api/v1/residents/{resident}/erasure"), &json!({}))
            .await
            .assert_status(200);
    }
    for cert in [&honour_cert, &record_cert] {
        let code = cert.body["verification_code"].as_str().unwrap();
        let check = verify(&app, code).await;
        assert_eq!(check.body["standing"], "revoked", "{}", check.text);
        assert!(!check.text.contains("4411"), "{}", check.text);
        let staff = app
            .staff_get(&format!("/api/v1/certificates/{}", cert.body["id"]))
            .await;
        assert_eq!(staff.body["revoke_reason"], "个人信息已按本人要求删除");
    }
    // Not in the audit log's snapshots either.
    let audit = app
        .staff_get(&format!(
            "/api/v1/audit?entity_kind=certificate&entity_id={}",
            record_cert.body["id"]
        ))
        .await;
    assert!(audit.text.contains("certificate.revoke"), "{}", audit.text);
    assert!(!audit.text.contains("4411"), "{}", audit.text);
}

#[tokio::test]
async fn a_reviewer_previews_and_issues_a_record_certificate_from_the_residents_page() {
    use crate::console::Browser;
    let app = TestApp::spawn().await;
    let a = volunteer_with_hours(&app).await;
    let mut b = Browser::signed_in(&app, "hours-desk", &["reviewer"]).await;
    let resident = b.get(&format!("/admin/residents/{a}")).await;
    let preview_path = format!("/admin/residents/{a}/hours-certificate");
    assert!(resident.text.contains(&preview_path), "{}", resident.text);
    let form = b.get(&preview_path).await;
    form.assert_status(200);
    assert!(form.text.contains("证明期间"));
    let preview = b
        .get(&format!("{preview_path}?from=2019-01-01&to=2019-12-31"))
        .await;
    preview.assert_status(200);
    for text in [
        "5.5 小时",
        "3101**********4411",
        "敬老院助老服务",
        "冬季巡逻",
        "未计入",
    ] {
        assert!(
            preview.text.contains(text),
            "preview lacks {text}: {}",
            preview.text
        );
    }
    let bad = b
        .get(&format!("{preview_path}?from=2019-12-31&to=2019-01-01"))
        .await;
    assert!(
        bad.text.contains("结束日期不能早于开始日期"),
        "{}",
        bad.text
    );

    let action = format!("/admin/residents/{a}/hours-certificates");
    let issued = b
        .submit(
            &format!("{preview_path}?from=2019-01-01&to=2019-12-31"),
            &action,
            &[("from", "2019-01-01"), ("to", "2019-12-31")],
        )
        .await;
    issued.assert_status(303);
    let page_path = issued.headers["location"].to_str().unwrap().to_string();
    let page = b.get(&page_path).await;
    assert!(page.text.contains("志愿服务记录证明"), "{}", page.text);
    assert!(page.text.contains("3101**********4411"));
    assert!(page.text.contains("5.5 小时"));
    let listed = b.get(&preview_path).await;
    assert!(
        listed
            .text
            .contains(&format!("长寿〔{}〕第001号", this_year(&app))),
        "{}",
        listed.text
    );
    let year = b
        .get(&format!("/admin/certificates?year={}", this_year(&app)))
        .await;
    assert!(
        year.text.contains("志愿服务记录证明（5.5 小时）"),
        "{}",
        year.text
    );

    // A nominator sees hours but cannot open the certificate desk.
    let mut n = Browser::signed_in(&app, "hours-nominator", &["nominator"]).await;
    let theirs = n.get(&format!("/admin/residents/{a}")).await;
    assert!(!theirs.text.contains(&preview_path));
    assert_eq!(n.get(&preview_path).await.status.as_u16(), 403);
}

/// A seal: a red ring on a transparent square (or, `opaque`, on white).
pub fn seal_png(side: u32, opaque: bool) -> Vec<u8> {
    let c = side as f32 / 2.0;
    let img = image::RgbaImage::from_fn(side, side, |x, y| {
        let d = ((x as f32 - c).powi(2) + (y as f32 - c).powi(2)).sqrt();
        if d < c * 0.9 && d > c * 0.75 {
            image::Rgba([200, 20, 20, 255])
        } else if opaque {
            image::Rgba([255, 255, 255, 255])
        } else {
            image::Rgba([0, 0, 0, 0])
        }
    });
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

fn wide_transparent_png(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    image::RgbaImage::new(width, height)
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

async fn put_seal(app: &TestApp, token: Option<&str>, bytes: Vec<u8>) -> Reply {
    let req = app
        .client
        .put("/api/v1/certificates/seal")
        .header("Content-Type", "image/png")
        .body(bytes);
    let req = match token {
        Some(t) => req.header("Authorization", format!("Bearer {t}")),
        None => app.staff(req),
    };
    app.send(req).await
}

#[tokio::test]
async fn an_admin_uploads_the_seal_and_certificates_show_it_but_it_is_never_served_alone() {
    let (app, honour) = app_with_honour().await;
    let issued = issue(&app, honour).await;
    let code = issued.body["verification_code"].as_str().unwrap();
    let printed = app.get(&format!("/verify/{code}/certificate")).await;
    assert!(!printed.text.contains("<img class=\"seal\""), "no seal yet");
    let none = app.staff_get("/api/v1/certificates/seal").await;
    none.assert_status(200);
    assert!(none.body["seal"].is_null(), "{}", none.text);

    // Only admins; and only a transparent PNG of a fitting size.
    let reviewer = app.user_token("seal-reviewer", &["reviewer"]).await;
    put_seal(&app, Some(&reviewer), seal_png(300, false))
        .await
        .assert_status(403);
    let jpeg = {
        let img = image::RgbImage::from_pixel(300, 300, image::Rgb([200, 20, 20]));
        let mut out = Vec::new();
        img.write_to(
            &mut std::io::Cursor::new(&mut out),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
        out
    };
    let refused = put_seal(&app, None, jpeg).await;
    refused.assert_status(415);
    assert_eq!(refused.error_code(), "unsupported_media_type");
    for (bytes, message) in [
        (seal_png(300, true), "透明背景"),
        (seal_png(60, false), "60×60"),
        (wide_transparent_png(1300, 200), "1300×200"),
    ] {
        let refused = put_seal(&app, None, bytes).await;
        refused.assert_status(422);
        assert_eq!(refused.invalid_fields(), ["file"]);
        assert!(refused.text.contains(message), "{}", refused.text);
    }
    // Over 512 KB: noise does not compress.
    let noisy = image::RgbaImage::from_fn(400, 400, |x, y| {
        let v = (x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503)).to_le_bytes();
        image::Rgba([v[0], v[1], v[2], if x < 100 { 0 } else { v[3] | 1 }])
    });
    let mut big = Vec::new();
    noisy
        .write_to(&mut std::io::Cursor::new(&mut big), image::ImageFormat::Png)
        .unwrap();
    assert!(big.len() > 512 * 1024, "{} bytes", big.len());
    let too_big = put_seal(&app, None, big).await;
    too_big.assert_status(422);
    assert!(too_big.text.contains("512 KB"), "{}", too_big.text);
    assert_eq!(app.count("certificate_seals").await, 0);

    let uploaded = put_seal(&app, None, seal_png(300, false)).await;
    uploaded.assert_status(200);
    assert_eq!(uploaded.body["width"], 300);
    let sha = uploaded.body["sha256"].as_str().unwrap().to_string();
    assert_eq!(
        app.staff_get("/api/v1/certificates/seal").await.body["seal"]["sha256"],
        sha.as_str()
    );
    let audit = app
        .staff_get("/api/v1/audit?action=certificate_seal.upload")
        .await;
    assert!(
        audit.text.contains("certificate_seal.upload"),
        "{}",
        audit.text
    );

    // On the printed certificate, inline; under /media/ nobody gets it, staff neither.
    let printed = app.get(&format!("/verify/{code}/certificate")).await;
    assert!(
        printed
            .text
            .contains("<img class=\"seal\" src=\"data:image/png;base64,"),
        "{}",
        printed.text
    );
    for path in [
        format!("/media/seal-{sha}.png"),
        format!("/media/{sha}.png"),
        format!("/media/{sha}.jpg"),
    ] {
        app.get(&path).await.assert_status(404);
        app.staff_get(&path).await.assert_status(404);
    }
    // The QR code still reads with the seal on the page.
    assert_eq!(
        qr_of(&printed.text),
        format!("https://youde.example.org/verify/{code}")
    );
    // The media sweep leaves it alone.
    app.media
        .sweep(&app.db, std::time::Duration::ZERO)
        .await
        .unwrap();
    let again = app.get(&format!("/verify/{code}/certificate")).await;
    assert!(again.text.contains("<img class=\"seal\""));
}

#[tokio::test]
async fn an_admin_uploads_the_seal_in_the_console() {
    use crate::console::Browser;
    let app = TestApp::spawn().await;
    let mut admin = Browser::signed_in(&app, "seal-admin", &["admin"]).await;
    let list = admin.get("/admin/certificates").await;
    assert!(
        list.text.contains("/admin/certificates/seal"),
        "{}",
        list.text
    );
    let page = admin.get("/admin/certificates/seal").await;
    assert!(page.text.contains("尚未上传印章"), "{}", page.text);
    let refused = admin
        .upload_to(
            "/admin/certificates/seal",
            "/admin/certificates/seal",
            &[],
            (seal_png(300, true), "seal.png", "image/png"),
        )
        .await;
    assert_eq!(refused.status.as_u16(), 422, "{}", refused.text);
    assert!(refused.text.contains("透明背景"));
    let done = admin
        .upload_to(
            "/admin/certificates/seal",
            "/admin/certificates/seal",
            &[],
            (seal_png(300, false), "seal.png", "image/png"),
        )
        .await;
    done.assert_status(303);
    let page = admin.get("/admin/certificates/seal").await;
    assert!(page.text.contains("300 × 300 像素"), "{}", page.text);
    assert!(page.text.contains("data:image/png;base64,"));
    // A reviewer sees the seal but gets no upload form.
    let mut reviewer = Browser::signed_in(&app, "seal-rev", &["reviewer"]).await;
    let theirs = reviewer.get("/admin/certificates/seal").await;
    theirs.assert_status(200);
    assert!(!theirs.text.contains("上传新印章"));
}

/// The PDF of a certificate (the `pdf` feature), written to `target/pdf-test/` for a look.
#[cfg(feature = "pdf")]
async fn pdf_of(app: &TestApp, code: &str, name: &str) -> Vec<u8> {
    let resp = app
        .client
        .get(format!("/verify/{code}/certificate.pdf"))
        .send()
        .await
        .0;
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(
        resp.headers()["content-type"].to_str().unwrap(),
        "application/pdf"
    );
    let bytes = resp.into_body().into_vec().await.unwrap();
    assert!(bytes.starts_with(b"%PDF-"), "a PDF");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/pdf-test");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), &bytes).unwrap();
    bytes
}

#[cfg(feature = "pdf")]
#[tokio::test]
async fn both_certificates_come_as_pdf_with_the_font_embedded_and_the_seal() {
    let (app, honour) = app_with_honour().await;
    put_seal(&app, None, seal_png(300, false))
        .await
        .assert_status(200);
    let honour_cert = issue(&app, honour).await;
    let a = volunteer_with_hours(&app).await;
    let record_cert = issue_hours(&app, a, YEAR_2019).await;
    for (cert, name, media_box) in [
        (&honour_cert, "honour.pdf", "841.89"),
        (&record_cert, "record.pdf", "595.28"),
    ] {
        let code = cert.body["verification_code"].as_str().unwrap();
        let pdf = pdf_of(&app, code, name).await;
        let raw = String::from_utf8_lossy(&pdf);
        assert!(raw.contains("/FontFile"), "the font is embedded");
        assert!(
            raw.contains("/Subtype /Image") || raw.contains("/Subtype/Image"),
            "the seal"
        );
        assert!(raw.contains(media_box), "A4 in its orientation");
        // The full ID number is nowhere, not even as text the PDF would not show.
        assert!(!raw.contains(ID_NUMBER));
    }
    // A revoked certificate has no PDF.
    let id = honour_cert.body["id"].as_i64().unwrap();
    app.post(
        &format!("/api/v1/certificates/{id}/revoke"),
        &json!({ "reason": "测试" }),
    )
    .await
    .assert_status(200);
    let code = honour_cert.body["verification_code"].as_str().unwrap();
    let revoked = app.get(&format!("/verify/{code}/certificate.pdf")).await;
    assert!(revoked.text.contains("此证书已撤销"), "{}", revoked.text);
}

#[cfg(feature = "pdf")]
#[tokio::test]
async fn without_a_font_the_pdf_says_which_is_missing() {
    let app = TestApp::spawn_configured(|state| {
        let mut settings = (*state.certificates).clone();
        settings.font = Some("/nonexistent/cjk.ttc".into());
        state.certificates = std::sync::Arc::new(settings);
    })
    .await;
    let a = volunteer_with_hours(&app).await;
    let cert = issue_hours(&app, a, YEAR_2019).await;
    let code = cert.body["verification_code"].as_str().unwrap();
    let reply = app.get(&format!("/verify/{code}/certificate.pdf")).await;
    reply.assert_status(503);
    assert!(
        reply.text.contains("YOUDE_CERT_FONT") && reply.text.contains("/nonexistent/cjk.ttc"),
        "{}",
        reply.text
    );
    // The printable page does not need it.
    app.get(&format!("/verify/{code}/certificate"))
        .await
        .assert_status(200);
}

#[cfg(not(feature = "pdf"))]
#[tokio::test]
async fn without_the_pdf_feature_the_pdf_address_says_so() {
    let app = TestApp::spawn().await;
    let a = volunteer_with_hours(&app).await;
    let cert = issue_hours(&app, a, YEAR_2019).await;
    let code = cert.body["verification_code"].as_str().unwrap();
    let reply = app.get(&format!("/verify/{code}/certificate.pdf")).await;
    reply.assert_status(501);
    assert!(reply.text.contains("pdf"), "{}", reply.text);
}
