//! The backup drill: `youde backup` runs while the registry is being written to, the archive is
//! restored into a fresh database and media folder by `youde restore`, a second server starts on
//! the restored data, and the restored registry is compared with the live one — nothing that was
//! acknowledged before the backup began is lost, nothing is half-written, every file matches.
//! Also: a damaged archive and one from a newer schema are refused with nothing written.

use std::collections::{BTreeMap, HashSet};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseConnection, FromQueryResult, JsonValue, Statement,
};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::helpers::{free_port, fresh_database, TestApp};

/// `youde` with `args`, in its own process, on a blocking thread.
async fn youde(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_youde"))
            .args(&args)
            .env("RUST_LOG", "warn")
            .env_remove("YOUDE_DATABASE_URL")
            .output()
            .expect("run youde")
    })
    .await
    .expect("youde finished")
}

fn text(out: &Output) -> String {
    format!(
        "status {}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

async fn tables(db: &DatabaseConnection) -> Vec<String> {
    let sql = match db.get_database_backend() {
        DatabaseBackend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        }
        _ => "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
    };
    db.query_all(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get::<String>("", "name").unwrap())
        .collect()
}

/// Every row of `table`, as JSON, keyed by its id (or by the whole row where it has none).
async fn rows(db: &DatabaseConnection, table: &str) -> BTreeMap<String, Value> {
    let stmt = Statement::from_string(
        db.get_database_backend(),
        format!("SELECT * FROM \"{table}\""),
    );
    JsonValue::find_by_statement(stmt)
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|row| {
            let key = match row.get("id") {
                Some(id) if !id.is_null() => id.to_string(),
                _ => row.to_string(),
            };
            (key, row)
        })
        .collect()
}

fn sha(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn files(dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter(|e| e.path().is_file())
                .map(|e| {
                    (
                        e.file_name().to_string_lossy().into_owned(),
                        sha(&std::fs::read(e.path()).unwrap()),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// An archive, after `youde backup` of the app's database and media.
async fn backup(app: &TestApp, archive: &Path) -> Output {
    youde(vec![
        "backup".into(),
        "--database-url".into(),
        app.db_url.clone(),
        "--media-dir".into(),
        s(app.media_dir.path()),
        "-o".into(),
        s(archive),
    ])
    .await
}

/// `youde restore` into a fresh database and folders under `into`; returns the database URL.
async fn restore(archive: &Path, into: &Path) -> (String, Output) {
    let url = fresh_database(into).await;
    let out = youde(vec![
        "restore".into(),
        s(archive),
        "--database-url".into(),
        url.clone(),
        "--data-dir".into(),
        s(into),
        "--media-dir".into(),
        s(&into.join("media")),
    ])
    .await;
    (url, out)
}

#[tokio::test]
async fn a_backup_taken_while_staff_write_restores_whole_and_serves() {
    let app = TestApp::with_demo().await;
    let community = app.compound_id().await;
    let work = tempfile::tempdir().unwrap();
    let archive = work.path().join("backups/youde-drill.zip");

    // The writer: residents with a record each, and a photo every fifth; ids as acknowledged. It
    // goes on until the backup has finished (at least 20 residents, at most 400).
    let finished = std::sync::atomic::AtomicBool::new(false);
    let writer = async {
        let mut acknowledged = Vec::new();
        for i in 0..400 {
            if i >= 20 && finished.load(std::sync::atomic::Ordering::SeqCst) {
                break;
            }
            let reply = app
                .create_resident(
                    &json!({ "name": format!("演练{i}号"), "community_id": community,
                                           "phone": format!("1380000{i:04}") }),
                )
                .await;
            reply.assert_status(201);
            let id = reply.body["id"].as_i64().unwrap();
            app.add_record(
                id,
                &json!({ "kind": "activity", "title": "楼道清扫", "start": "2024-05" }),
            )
            .await
            .assert_status(201);
            if i % 5 == 0 {
                app.upload_for_resident(id, &crate::photos::jpeg(64 + i as u32, 48))
                    .await
                    .assert_status(201);
            }
            acknowledged.push((Instant::now(), id));
        }
        acknowledged
    };
    let backing_up = async {
        // Let the writer get going first, so the snapshot lands in the middle of its work.
        tokio::time::sleep(Duration::from_millis(150)).await;
        let began = Instant::now();
        let out = backup(&app, &archive).await;
        finished.store(true, std::sync::atomic::Ordering::SeqCst);
        (began, out)
    };
    let (acknowledged, (began, out)) = tokio::join!(writer, backing_up);
    assert!(out.status.success(), "{}", text(&out));
    assert!(archive.exists(), "{}", text(&out));
    assert!(
        !work.path().join("backups/youde-drill.zip.partial").exists(),
        "no partial archive is left"
    );
    let before: HashSet<i64> = acknowledged
        .iter()
        .filter(|(at, _)| *at < began)
        .map(|(_, id)| *id)
        .collect();

    let into = work.path().join("restored");
    let (restored_url, out) = restore(&archive, &into).await;
    assert!(out.status.success(), "{}", text(&out));
    let restored = youde::store::connect(&restored_url).await.unwrap();

    // Nothing acknowledged before the backup began is lost.
    let restored_residents = rows(&restored, "residents").await;
    for id in &before {
        assert!(
            restored_residents.contains_key(&id.to_string()),
            "resident {id}, acknowledged before the backup began, is missing"
        );
    }
    // Every restored row is the live row as it was (the writer only adds), and no table lost
    // rows the snapshot held: compare every table of the live database.
    let live_tables = tables(&app.db).await;
    assert_eq!(tables(&restored).await, live_tables, "the same tables");
    let mut compared = 0;
    for table in &live_tables {
        let live = rows(&app.db, table).await;
        for (key, row) in rows(&restored, table).await {
            match live.get(&key) {
                Some(now) => assert_eq!(&row, now, "{table} {key} differs from the live row"),
                None => panic!("{table} {key} is in the archive but not in the live database"),
            }
            compared += 1;
        }
    }
    assert!(compared > 100, "only {compared} rows compared");
    // Nothing half-written: a resident the writer made is in the archive exactly when its
    // creation's audit event is (they commit together).
    let written: HashSet<String> = acknowledged.iter().map(|(_, id)| id.to_string()).collect();
    let audit = rows(&restored, "audit_events").await;
    let created: HashSet<String> = audit
        .values()
        .filter(|e| e["action"] == "resident.create")
        .map(|e| e["entity_id"].to_string())
        .filter(|id| written.contains(id))
        .collect();
    let residents: HashSet<String> = restored_residents
        .keys()
        .filter(|id| written.contains(*id))
        .cloned()
        .collect();
    assert_eq!(created, residents, "residents and their creation events");
    // Every photo file the restored database names is there, byte for byte as the live one.
    let live_files = files(app.media_dir.path());
    let restored_files = files(&into.join("media"));
    let photo_files = rows(&restored, "photo_files").await;
    assert!(!photo_files.is_empty());
    for row in photo_files.values() {
        let key = row["object_key"].as_str().expect("object_key");
        assert_eq!(
            restored_files.get(key),
            live_files.get(key),
            "file {key} differs or is missing"
        );
        assert!(restored_files.contains_key(key), "file {key} is missing");
    }

    // A second server starts on the restored registry and serves what was acknowledged.
    let port = free_port();
    let token = "drill-admin-token-0123456789abcdef0123456789abcdef";
    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_youde"))
        .args([
            "serve",
            "--no-demo",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--database-url",
            &restored_url,
        ])
        .arg("--data-dir")
        .arg(&into)
        .arg("--media-dir")
        .arg(into.join("media"))
        .env("YOUDE_ADMIN_TOKEN", token)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start the second server");
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let waited = Instant::now();
    let ready = loop {
        match client.get(format!("{base}/readyz")).send().await {
            Ok(r) if r.status() == 200 => break true,
            _ if waited.elapsed() > Duration::from_secs(30) => break false,
            _ => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    };
    let healthcheck = youde(vec![
        "healthcheck".into(),
        "--bind".into(),
        format!("127.0.0.1:{port}"),
    ])
    .await;
    let some = *before.iter().next().expect("a write before the backup");
    let answer = client
        .get(format!("{base}/api/v1/residents/{some}"))
        .bearer_auth(token)
        .send()
        .await
        .map(|r| r.status().as_u16());
    server.kill().ok();
    server.wait().ok();
    assert!(ready, "the restored server never became ready");
    assert!(healthcheck.status.success(), "{}", text(&healthcheck));
    assert_eq!(
        answer.ok(),
        Some(200),
        "resident {some} on the restored server"
    );
    let stopped = youde(vec![
        "healthcheck".into(),
        "--bind".into(),
        format!("127.0.0.1:{port}"),
    ])
    .await;
    assert!(
        !stopped.status.success(),
        "healthcheck of a stopped server must fail"
    );
}

#[tokio::test]
async fn a_damaged_or_newer_archive_is_refused_and_nothing_is_written() {
    let app = TestApp::with_demo().await;
    let work = tempfile::tempdir().unwrap();
    let archive = work.path().join("good.zip");
    let out = backup(&app, &archive).await;
    assert!(out.status.success(), "{}", text(&out));

    // Restoring into a registry that has data is refused.
    let out = youde(vec![
        "restore".into(),
        s(&archive),
        "--database-url".into(),
        app.db_url.clone(),
        "--media-dir".into(),
        s(app.media_dir.path()),
    ])
    .await;
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not empty"),
        "{}",
        text(&out)
    );

    // One flipped byte in the middle of the archive.
    let mut bytes = std::fs::read(&archive).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    let damaged = work.path().join("damaged.zip");
    std::fs::write(&damaged, &bytes).unwrap();
    let into = work.path().join("from-damaged");
    let (url, out) = restore(&damaged, &into).await;
    assert!(
        !out.status.success(),
        "a damaged archive was restored: {}",
        text(&out)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("damaged") || stderr.contains("checksum"),
        "{}",
        text(&out)
    );
    assert_nothing_written(&url, &into).await;

    // The same archive with a manifest naming a migration this program does not know.
    let newer = work.path().join("newer.zip");
    rewrite_manifest(&archive, &newer, |manifest| {
        manifest["schema"]
            .as_array_mut()
            .unwrap()
            .push(json!("m20991231_000000_from_the_future"));
    });
    let into = work.path().join("from-newer");
    let (url, out) = restore(&newer, &into).await;
    assert!(
        !out.status.success(),
        "a newer archive was restored: {}",
        text(&out)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("newer schema"),
        "{}",
        text(&out)
    );
    assert_nothing_written(&url, &into).await;
}

async fn assert_nothing_written(url: &str, into: &Path) {
    assert!(
        files(&into.join("media")).is_empty(),
        "media files were written"
    );
    match url.strip_prefix("sqlite://") {
        Some(path) => assert!(!PathBuf::from(path).exists(), "a database file was written"),
        None => {
            let db = sea_orm::Database::connect(url).await.unwrap();
            assert!(tables(&db).await.is_empty(), "tables were written");
        }
    }
}

/// A copy of `from` whose manifest is changed by `change`.
fn rewrite_manifest(from: &Path, to: &Path, change: impl Fn(&mut Value)) {
    let mut source = zip::ZipArchive::new(std::fs::File::open(from).unwrap()).unwrap();
    let mut out = zip::ZipWriter::new(std::fs::File::create(to).unwrap());
    for i in 0..source.len() {
        let mut entry = source.by_index(i).unwrap();
        let name = entry.name().unwrap().to_string();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        if name == "manifest.json" {
            let mut manifest: Value = serde_json::from_slice(&bytes).unwrap();
            change(&mut manifest);
            bytes = serde_json::to_vec(&manifest).unwrap();
        }
        out.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        out.write_all(&bytes).unwrap();
    }
    out.finish().unwrap();
}
