//! The smaller guarantees: partial-date periods across precisions, strong `If-Match`, the issue
//! pack's captions file for Chinese spreadsheets.

use std::io::Read;

use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn a_year_end_in_the_year_a_month_start_began_is_accepted() {
    let app = TestApp::spawn().await;
    let id = app.resident("孙建伟").await;
    let survey =
        json!({ "kind": "survey", "title": "排摸调查", "start": "2019-03", "end": "2019" });
    app.add_record(id, &survey).await.assert_status(201);
    let before =
        json!({ "kind": "survey", "title": "排摸调查", "start": "2019-03", "end": "2018" });
    let refused = app.add_record(id, &before).await;
    refused.assert_status(422);
    assert_eq!(refused.invalid_fields(), ["end"]);
}

#[tokio::test]
async fn if_match_compares_strongly_and_refuses_weak_tags() {
    let app = TestApp::spawn().await;
    let id = app.resident("孙建伟").await;
    let path = format!("/api/v1/residents/{id}");
    let current = app.staff_get(&path).await;
    let body =
        json!({ "name": "孙建伟", "community_id": current.body["community_id"], "citation": "改" });
    let weak = format!("W/{}", current.etag());
    let refused = app.put(&path, Some(&weak), &body).await;
    refused.assert_status(412);
    assert_eq!(refused.error_code(), "version_mismatch");
    app.put(&path, Some(&current.etag()), &body)
        .await
        .assert_status(200);
}

#[tokio::test]
async fn the_captions_file_opens_in_chinese_spreadsheets() {
    let app = TestApp::with_demo().await;
    let issue = app.get("/api/v1/issues").await.body["items"][0]["id"]
        .as_i64()
        .unwrap();
    let resp = app
        .client
        .get(format!("/api/v1/issues/{issue}/pack"))
        .send()
        .await
        .0;
    let bytes = resp.into_body().into_vec().await.unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut captions = Vec::new();
    zip.by_name("captions.csv")
        .unwrap()
        .read_to_end(&mut captions)
        .unwrap();
    assert!(
        captions.starts_with(b"\xEF\xBB\xBFfile,caption,credit,residents\n"),
        "{}",
        String::from_utf8_lossy(&captions)
    );
}

/// Run the `youde` binary against the test's database.
fn youde(app: &TestApp, args: &[&str], stdin: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_youde"))
        .args(args)
        .args(["--database-url", &app.db_url])
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run youde");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[tokio::test]
async fn the_command_line_and_the_demo_loader_leave_audit_events() {
    let app = TestApp::spawn().await;
    let password = "a long enough passphrase 42";
    youde(
        &app,
        &[
            "user",
            "add",
            "li-ming",
            "--name",
            "李明",
            "--roles",
            "editor",
            "--password-stdin",
        ],
        password,
    );
    youde(
        &app,
        &["user", "passwd", "li-ming", "--password-stdin"],
        password,
    );
    youde(&app, &["user", "disable", "li-ming"], "");
    youde(&app, &["user", "enable", "li-ming"], "");
    let audit = app
        .staff_get("/api/v1/audit?entity_kind=user&limit=200")
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
            "user.create",
            "user.password",
            "user.disable",
            "user.enable"
        ],
        "{}",
        audit.text
    );
    assert!(audit.text.contains("命令行") && !audit.text.contains(password));

    youde::demo::load(&app.db).await.unwrap();
    let demo = app.staff_get("/api/v1/audit?action=demo.load").await;
    assert_eq!(
        demo.body["items"].as_array().unwrap().len(),
        1,
        "{}",
        demo.text
    );
}
