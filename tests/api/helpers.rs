//! The test harness: every test gets the real application over a fresh database built by the real
//! migrations — a new SQLite file, or a new PostgreSQL database when `YOUDE_TEST_DATABASE_URL`
//! names a server — and its own embedded search index in its own temp dir (or, for the search
//! conformance suite, its own Meilisearch index).

use std::sync::Arc;

use poem::endpoint::BoxEndpoint;
use poem::http::{HeaderMap, StatusCode};
use poem::test::{TestClient, TestRequestBuilder};
use poem::{EndpointExt, Response};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::{json, Value};
use youde::app::{routes, AppState};
use youde::search::{Search, SearchIndex};
use youde::store;

pub const ADMIN_TOKEN: &str = "test-admin-token-7f3a";

pub struct TestApp {
    pub client: TestClient<BoxEndpoint<'static, Response>>,
    pub db: DatabaseConnection,
    /// The engine and relay the app uses; tests deliver with `app.drain()`.
    pub search: Search,
    pub dir: tempfile::TempDir,
    /// The database the app uses (for running the `youde` binary against it).
    pub db_url: String,
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

async fn fresh_database(dir: &std::path::Path) -> String {
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

impl TestApp {
    /// The application over an empty, migrated database.
    pub async fn spawn() -> Self {
        Self::spawn_with_body_limit(1024 * 1024).await
    }

    pub async fn spawn_with_body_limit(max_body_bytes: usize) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let (index, _) = youde::search::embedded::EmbeddedIndex::open(&dir.path().join("index"))
            .expect("search index");
        Self::build(dir, Arc::new(index), max_body_bytes).await
    }

    /// The application over an empty database, searching with `index` (kept in `dir`, if embedded).
    pub async fn spawn_with_index(dir: tempfile::TempDir, index: Arc<dyn SearchIndex>) -> Self {
        Self::build(dir, index, 1024 * 1024).await
    }

    async fn build(
        dir: tempfile::TempDir,
        index: Arc<dyn SearchIndex>,
        max_body_bytes: usize,
    ) -> Self {
        let url = fresh_database(dir.path()).await;
        let db = store::connect(&url).await.expect("connect");
        store::migrate(&db).await.expect("migrate");
        let search = Search::new(db.clone(), index);
        let state = AppState {
            db: db.clone(),
            admin_token: Some(Arc::from(ADMIN_TOKEN)),
            max_body_bytes,
            search: search.clone(),
        };
        let client = TestClient::new(routes(state).map_to_response().boxed());
        TestApp {
            client,
            db,
            search,
            dir,
            db_url: url,
        }
    }

    /// Deliver every pending outbox row to the search engine now.
    pub async fn drain(&self) -> usize {
        self.search.relay.drain().await.expect("search delivery")
    }

    /// The application with the newsletter's demo data loaded.
    pub async fn with_demo() -> Self {
        let app = Self::spawn().await;
        youde::demo::load(&app.db).await.expect("demo data loads");
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

    fn staff<'a>(
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
