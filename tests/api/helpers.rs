//! The test harness: every test gets the real application over a fresh database built by the real
//! migrations — a new SQLite file, or a new PostgreSQL database when `YOUDE_TEST_DATABASE_URL`
//! names a server — with its own media folder and its own embedded search index in its own temp
//! dir (or, for the search conformance suite, its own Meilisearch index).

use std::sync::Arc;

use poem::endpoint::BoxEndpoint;
use poem::http::{HeaderMap, StatusCode};
use poem::test::{TestClient, TestForm, TestFormField, TestRequestBuilder};
use poem::{EndpointExt, Response};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::{json, Value};
use youde::app::Application;
use youde::config::Config;
use youde::domain::user::UserDraft;
use youde::media::Media;
use youde::search::{Search, SearchIndex};
use youde::state::{AppState, Clock};
use youde::store::{self, tokens, users};

/// `YOUDE_ADMIN_TOKEN` of every test app: it acts as the first admin.
pub const ADMIN_TOKEN: &str = "test-admin-token-7f3a9c2e5b8d1f4a6c0e3b7d9a2f5c8e";
/// The password of every user the tests create.
pub const PASSWORD: &str = "correct horse battery";

/// Hashing with argon2 is slow on purpose; hash the tests' password once per process.
fn password_hash() -> String {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| users::hash_password(PASSWORD)).clone()
}

pub struct TestApp {
    pub client: TestClient<BoxEndpoint<'static, Response>>,
    pub db: DatabaseConnection,
    pub clock: Clock,
    /// Photo storage: a real folder of its own per test.
    pub media: Media,
    pub media_dir: tempfile::TempDir,
    /// The engine and relay the app uses; tests deliver with `app.drain()`.
    pub search: Search,
    pub dir: tempfile::TempDir,
    /// The database the app uses (for running the `youde` binary against it).
    pub db_url: String,
    queries: Arc<std::sync::atomic::AtomicUsize>,
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Reply {
    pub fn etag(&self) -> String {
        self.headers
            .get("etag")
            .expect("ETag header")
            .to_str()
            .unwrap()
            .to_string()
    }

    pub fn error_code(&self) -> &str {
        self.body["error"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("not an error body: {}", self.text))
    }

    /// The fields a `validation_failed` error names.
    pub fn invalid_fields(&self) -> Vec<String> {
        assert_eq!(self.error_code(), "validation_failed", "{}", self.text);
        self.body["error"]["details"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["field"].as_str().unwrap().to_string())
            .collect()
    }

    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &Self {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.text
        );
        self
    }
}

/// A name per number, in characters (names are Chinese): 志愿者三〇七.
pub fn volunteer(n: usize) -> String {
    let digits: String = n
        .to_string()
        .chars()
        .map(|d| {
            "〇一二三四五六七八九"
                .chars()
                .nth(d as usize - '0' as usize)
                .unwrap()
        })
        .collect();
    format!("志愿者{digits}")
}

/// A new, empty database: a SQLite file in `dir`, or a new database on the PostgreSQL server.
pub async fn fresh_database(dir: &std::path::Path) -> String {
    match std::env::var("YOUDE_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
    {
        Some(server_url) => {
            let admin = sea_orm::Database::connect(&server_url)
                .await
                .expect("connect to YOUDE_TEST_DATABASE_URL");
            let name = format!("youde_t_{:016x}", rand::random::<u64>());
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create test database");
            admin.close().await.ok();
            let base = server_url
                .rsplit_once('/')
                .map(|(base, _)| base)
                .expect("URL with a database name");
            format!("{base}/{name}")
        }
        None => format!("sqlite://{}", dir.join("youde.db").display()),
    }
}

/// A free TCP port on the loopback address, for a server process of a test.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The configuration `serve` would read, naming a test's own database, data and media folders
/// (everything else at its default, or as the environment sets it).
pub fn test_config(
    database_url: &str,
    data_dir: &std::path::Path,
    media_dir: &std::path::Path,
) -> Config {
    use clap::Parser;
    let args = [
        "youde".to_string(),
        format!("--database-url={database_url}"),
        format!("--data-dir={}", data_dir.display()),
        format!("--media-dir={}", media_dir.display()),
        format!("--admin-token={ADMIN_TOKEN}"),
        "--public-url=https://youde.example.org".to_string(),
        "--no-demo".to_string(),
    ];
    let args = args.into_iter().chain(s3_bucket());
    youde::config::Cli::try_parse_from(args)
        .expect("the test configuration parses")
        .config
}

/// With `YOUDE_TEST_S3_DIR` naming the folder an S3-protocol server serves (CI runs s3s-fs on it,
/// with the `AWS_*` variables pointing object_store at the server), each test keeps its photos in
/// a new bucket of its own there: `--media-s3-bucket` (the build needs the `s3` feature).
fn s3_bucket() -> Option<String> {
    let root = std::env::var("YOUDE_TEST_S3_DIR")
        .ok()
        .filter(|d| !d.is_empty())?;
    let bucket = format!("youde-t-{:016x}", rand::random::<u64>());
    // s3s-fs keeps a bucket as a folder of its root.
    std::fs::create_dir_all(std::path::Path::new(&root).join(&bucket)).expect("a new bucket");
    Some(format!("--media-s3-bucket={bucket}"))
}

impl TestApp {
    /// The application over an empty, migrated database.
    pub async fn spawn() -> Self {
        Self::spawn_with_body_limit(1024 * 1024).await
    }

    pub async fn spawn_with_body_limit(max_body_bytes: usize) -> Self {
        Self::spawn_configured(|state| state.max_body_bytes = max_body_bytes).await
    }

    /// The application with settings changed from the defaults by `configure`.
    pub async fn spawn_configured(configure: impl FnOnce(&mut AppState)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let (index, _) = youde::search::embedded::EmbeddedIndex::open(&dir.path().join("index"))
            .expect("search index");
        Self::build(dir, Arc::new(index), configure).await
    }

    /// The application over an empty database, searching with `index` (kept in `dir`, if embedded).
    pub async fn spawn_with_index(dir: tempfile::TempDir, index: Arc<dyn SearchIndex>) -> Self {
        Self::build(dir, index, |_| {}).await
    }

    async fn build(
        dir: tempfile::TempDir,
        index: Arc<dyn SearchIndex>,
        configure: impl FnOnce(&mut AppState),
    ) -> Self {
        let url = fresh_database(dir.path()).await;
        let media_dir = tempfile::tempdir().expect("media dir");
        let config = test_config(&url, dir.path(), media_dir.path());
        // The wiring `serve` runs, over this test's database, media folder and index.
        let mut db = youde::app::connect(&config)
            .await
            .expect("connect and migrate");
        // Every statement the application runs is counted (`TestApp::queries`).
        let queries = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = queries.clone();
        db.set_metric_callback(move |_| {
            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        });
        let admin = UserDraft::parse("admin", "管理员", &["admin".to_string()]).unwrap();
        users::insert(&db, &admin, password_hash(), store::now())
            .await
            .expect("first admin");
        let search = Search::new(db.clone(), index);
        let application = Application::with_search(&config, db.clone(), search.clone())
            .await
            .expect("the application builds");
        let mut state = application.state;
        let clock = state.clock.clone();
        configure(&mut state);
        let media = state.media.clone();
        let client = TestClient::new(youde::router::routes(state).map_to_response().boxed());
        TestApp {
            client,
            db,
            clock,
            media,
            media_dir,
            search,
            dir,
            db_url: url,
            queries,
        }
    }

    /// Statements run on the database so far (by the application and by the test).
    pub fn queries(&self) -> usize {
        self.queries.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The sitemap as a search engine reads it: the index at `/sitemap.xml`, then each part it
    /// names (every one must answer 200), their bodies one after another.
    pub async fn sitemap(&self) -> String {
        let index = self.get("/sitemap.xml").await;
        index.assert_status(200);
        assert!(index.text.contains("<sitemapindex"), "{}", index.text);
        let mut all = String::new();
        for piece in index.text.split("<loc>").skip(1) {
            let url = &piece[..piece.find('<').expect("</loc>")];
            let path = url
                .strip_prefix("https://youde.example.org")
                .expect("a part on the public URL");
            let part = self.get(path).await;
            part.assert_status(200);
            assert!(part.text.contains("<urlset"), "{path}: {}", part.text);
            all.push_str(&part.text);
        }
        all
    }

    /// Deliver every pending outbox row to the search engine now.
    pub async fn drain(&self) -> usize {
        self.search.relay.drain().await.expect("search delivery")
    }

    /// A new user with these roles (and [`PASSWORD`]); returns an API token of theirs.
    pub async fn user_token(&self, username: &str, roles: &[&str]) -> String {
        self.scoped_token(username, roles, None).await
    }

    /// As [`Self::user_token`], the roles granted for the subtree under `community` (none: all).
    pub async fn scoped_token(
        &self,
        username: &str,
        roles: &[&str],
        community: Option<i64>,
    ) -> String {
        let roles: Vec<String> = roles.iter().map(|r| r.to_string()).collect();
        let draft = UserDraft::parse(username, &format!("{username} 测试"), &roles)
            .unwrap()
            .scoped_to(community);
        let user = users::insert(&self.db, &draft, password_hash(), store::now())
            .await
            .expect("user");
        let token = tokens::generate();
        tokens::insert(&self.db, Some(user.id), "tests", &token)
            .await
            .unwrap();
        token
    }

    /// A request with another user's token.
    pub async fn send_as(
        &self,
        token: &str,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Reply {
        let req = match method {
            "GET" => self.client.get(path),
            "POST" => self.client.post(path),
            "PUT" => self.client.put(path),
            "DELETE" => self.client.delete(path),
            other => panic!("method {other}"),
        };
        let mut req = req.header("Authorization", format!("Bearer {token}"));
        if let Some(body) = body {
            req = req.body_json(body);
        }
        self.send(req).await
    }

    /// The application with the newsletter's demo data loaded.
    pub async fn with_demo() -> Self {
        Self::with_demo_configured(|_| {}).await
    }

    /// The demo, with settings changed from the defaults by `configure`.
    pub async fn with_demo_configured(configure: impl FnOnce(&mut AppState)) -> Self {
        let app = Self::spawn_configured(configure).await;
        youde::demo::load(&app.db).await.expect("demo data loads");
        youde::demo::load_photos(&app.db, &app.media)
            .await
            .expect("demo photos load");
        app
    }

    pub async fn send(&self, req: TestRequestBuilder<'_, BoxEndpoint<'static, Response>>) -> Reply {
        let resp = req.send().await.0;
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().into_vec().await.expect("body");
        let text = String::from_utf8_lossy(&bytes).to_string();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
            text,
        }
    }

    pub fn staff<'a>(
        &'a self,
        req: TestRequestBuilder<'a, BoxEndpoint<'static, Response>>,
    ) -> TestRequestBuilder<'a, BoxEndpoint<'static, Response>> {
        req.header("Authorization", format!("Bearer {ADMIN_TOKEN}"))
    }

    /// Anonymous GET.
    pub async fn get(&self, path: &str) -> Reply {
        self.send(self.client.get(path)).await
    }

    /// GET with the staff token.
    pub async fn staff_get(&self, path: &str) -> Reply {
        self.send(self.staff(self.client.get(path))).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        self.send(self.staff(self.client.post(path)).body_json(body))
            .await
    }

    pub async fn put(&self, path: &str, if_match: Option<&str>, body: &Value) -> Reply {
        let mut req = self.staff(self.client.put(path)).body_json(body);
        if let Some(tag) = if_match {
            req = req.header("If-Match", tag);
        }
        self.send(req).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.send(self.staff(self.client.delete(path))).await
    }

    // --- helpers per resource, so tests read as the user's steps ---

    /// 普陀区 › 长寿路街道 › 音乐广场; returns the compound's id.
    pub async fn compound(&self) -> i64 {
        let district = self
            .post(
                "/api/v1/communities",
                &json!({ "name": "普陀区", "kind": "district" }),
            )
            .await;
        let sub = self
            .post(
                "/api/v1/communities",
                &json!({ "name": "长寿路街道", "kind": "subdistrict", "parent_id": district.body["id"] }),
            )
            .await;
        let compound = self
            .post(
                "/api/v1/communities",
                &json!({ "name": "音乐广场", "kind": "compound", "parent_id": sub.body["id"] }),
            )
            .await;
        compound.assert_status(201);
        compound.body["id"].as_i64().unwrap()
    }

    pub async fn create_resident(&self, body: &Value) -> Reply {
        self.post("/api/v1/residents", body).await
    }

    /// A resident with the given name in a new compound; returns the id.
    pub async fn resident(&self, name: &str) -> i64 {
        let community_id = self.compound_id().await;
        let reply = self
            .create_resident(&json!({ "name": name, "community_id": community_id }))
            .await;
        reply.assert_status(201);
        reply.body["id"].as_i64().unwrap()
    }

    /// The first compound, created on first use.
    pub async fn compound_id(&self) -> i64 {
        let list = self.get("/api/v1/communities?limit=200").await;
        match list.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["kind"] == "compound")
        {
            Some(c) => c["id"].as_i64().unwrap(),
            None => self.compound().await,
        }
    }

    pub async fn consent(&self, resident_id: i64, scope: &str) -> Reply {
        self.post(
            &format!("/api/v1/residents/{resident_id}/consents"),
            &json!({ "scope": scope, "text_version": "2026-01", "signed_on": "2026-01-05", "recorded_by": "居委会 王老师" }),
        )
        .await
    }

    /// Withdraw the resident's active consent of `scope` (it must have one).
    pub async fn withdraw_consent(&self, resident_id: i64, scope: &str) {
        let consents = self
            .staff_get(&format!("/api/v1/residents/{resident_id}/consents"))
            .await;
        let id = consents
            .body
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["scope"] == scope && c["withdrawn_on"].is_null())
            .unwrap_or_else(|| panic!("no active {scope} consent: {}", consents.text))["id"]
            .as_i64()
            .unwrap();
        self.post(
            &format!("/api/v1/residents/{resident_id}/consents/{id}/withdraw"),
            &json!({}),
        )
        .await
        .assert_status(200);
    }

    pub async fn add_record(&self, resident_id: i64, body: &Value) -> Reply {
        self.post(
            &format!("/api/v1/residents/{resident_id}/service-records"),
            body,
        )
        .await
    }

    pub async fn records(&self, resident_id: i64) -> Vec<Value> {
        let reply = self
            .staff_get(&format!(
                "/api/v1/residents/{resident_id}/service-records?limit=200"
            ))
            .await;
        reply.assert_status(200);
        reply.body["items"].as_array().unwrap().clone()
    }

    /// Upload `bytes` as the multipart field `file` named `file_name`, with the other fields.
    pub async fn upload(&self, bytes: &[u8], file_name: &str, fields: &[(&str, &str)]) -> Reply {
        let file = TestFormField::bytes(bytes.to_vec())
            .name("file")
            .filename(file_name)
            .content_type("image/jpeg");
        let mut form = TestForm::new().field(file);
        for (name, value) in fields {
            form = form.text(*name, *value);
        }
        self.send(
            self.staff(self.client.post("/api/v1/photos"))
                .multipart(form),
        )
        .await
    }

    /// A resident's photo; returns the answer.
    pub async fn upload_for_resident(&self, resident_id: i64, bytes: &[u8]) -> Reply {
        let id = resident_id.to_string();
        self.upload(
            bytes,
            "photo.jpg",
            &[("owner_kind", "resident"), ("owner_id", &id)],
        )
        .await
    }

    /// The raw bytes and headers of a GET, anonymous or as staff.
    pub async fn fetch(&self, path: &str, as_staff: bool) -> (StatusCode, HeaderMap, Vec<u8>) {
        let mut req = self.client.get(path);
        if as_staff {
            req = self.staff(req);
        }
        let resp = req.send().await.0;
        let (status, headers) = (resp.status(), resp.headers().clone());
        let body = resp.into_body().into_vec().await.expect("body");
        (status, headers, body)
    }

    /// Names of the objects in the photo store (the media folder, or the test's S3 bucket).
    pub async fn media_files(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .media
            .store
            .list()
            .await
            .expect("list the photo store")
            .into_iter()
            .map(|o| o.key)
            .collect();
        names.sort();
        names
    }

    pub async fn count(&self, table: &str) -> i64 {
        let row = self
            .db
            .query_one(sea_orm::Statement::from_string(
                self.db.get_database_backend(),
                format!("SELECT COUNT(*) AS n FROM {table}"),
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get::<i64>("", "n").unwrap()
    }
}
