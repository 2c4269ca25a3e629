//! App nodes as processes — `youde serve` of the debug binary — as a deployment runs them: two
//! nodes on one PostgreSQL database and one Meilisearch index; one node over a PostgreSQL server
//! of the test's own that restarts under load ([`postgres`]). Built as `#[ignore]`d unless
//! `YOUDE_TEST_DATABASE_URL` (PostgreSQL) — and for two nodes `YOUDE_TEST_MEILI_URL` — are set
//! (see `build.rs`).

mod postgres;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::fresh_database;

pub const TOKEN: &str = "two-nodes-admin-token-0123456789abcdef";

/// One `youde serve` process on a free loopback port; killed when dropped.
pub struct Node {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Node {
    /// A node searching through the test Meilisearch's `meili_index`, or its embedded index.
    pub async fn start(db_url: &str, meili_index: Option<&str>) -> Node {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let dir = tempfile::tempdir().expect("temp dir");
        let mut command = Command::new(env!("CARGO_BIN_EXE_youde"));
        command
            .arg("serve")
            .env("YOUDE_BIND", format!("127.0.0.1:{port}"))
            .env("YOUDE_DATABASE_URL", db_url)
            .env("YOUDE_DATA_DIR", dir.path().join("data"))
            .env("YOUDE_MEDIA_DIR", dir.path().join("media"));
        if let Some(index) = meili_index {
            command
                .env(
                    "YOUDE_MEILI_URL",
                    std::env::var("YOUDE_TEST_MEILI_URL").unwrap(),
                )
                .env(
                    "YOUDE_MEILI_API_KEY",
                    std::env::var("YOUDE_TEST_MEILI_API_KEY").unwrap_or_default(),
                )
                .env("YOUDE_MEILI_INDEX", index);
        }
        let child = command
            .env("YOUDE_ADMIN_TOKEN", TOKEN)
            .env("YOUDE_ADMIN_PASSWORD", "two-nodes-password-1")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start youde serve");
        let node = Node {
            child,
            base: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(90);
        while reqwest::get(format!("{}/readyz", node.base)).await.is_err() {
            assert!(Instant::now() < deadline, "node did not start");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        node
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn text(&self, path: &str) -> String {
        reqwest::get(self.url(path))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    pub async fn staff_json(&self, path: &str) -> (Value, String) {
        let reply = reqwest::Client::new()
            .get(self.url(path))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        let etag = reply.headers()["etag"].to_str().unwrap().to_string();
        (reply.json().await.unwrap(), etag)
    }

    async fn put(&self, path: &str, if_match: &str, body: &Value) -> StatusCode {
        reqwest::Client::new()
            .put(self.url(path))
            .bearer_auth(TOKEN)
            .header("If-Match", if_match)
            .json(body)
            .send()
            .await
            .unwrap()
            .status()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Poll `check` until it holds, for at most `limit`; returns how long it took.
async fn within<F: std::future::Future<Output = bool>>(
    limit: Duration,
    what: &str,
    mut check: impl FnMut() -> F,
) -> Duration {
    let start = Instant::now();
    loop {
        if check().await {
            return start.elapsed();
        }
        assert!(start.elapsed() < limit, "{what} not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
#[cfg_attr(
    not(all(youde_test_meili, youde_test_postgres)),
    ignore = "needs PostgreSQL and Meilisearch: build and run with YOUDE_TEST_DATABASE_URL and YOUDE_TEST_MEILI_URL set"
)]
async fn a_change_through_one_node_shows_on_the_other_and_concurrent_edits_end_in_one_412() {
    let dir = tempfile::tempdir().unwrap();
    let db_url = fresh_database(dir.path()).await;
    let index = format!("youde_nodes_{:016x}", rand::random::<u64>());
    // One after the other: the first migrates and loads the demo.
    let a = Node::start(&db_url, Some(&index)).await;
    let b = Node::start(&db_url, Some(&index)).await;

    // The demo's 孙建伟, edited through A.
    let found: Value = reqwest::get(a.url("/api/v1/residents?limit=200"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let person = found["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "孙建伟")
        .expect("the demo's 孙建伟")
        .clone();
    let path = format!("/api/v1/residents/{}", person["id"]);
    let (current, etag) = a.staff_json(&path).await;
    // B has served his page before the change (a cache would now hold it).
    assert!(b.text("/people/sun-jianwei").await.contains("孙建伟"));

    let mut changed = json!({ "name": current["name"], "community_id": current["community_id"] });
    changed["citation"] = json!("两个节点之间的推荐理由：楼道微更新");
    assert_eq!(a.put(&path, &etag, &changed).await, StatusCode::OK);
    within(Duration::from_secs(2), "the change on B's page", || async {
        b.text("/people/sun-jianwei").await.contains("楼道微更新")
    })
    .await;
    within(
        Duration::from_secs(2),
        "the change in B's search",
        || async {
            b.text("/api/v1/search?q=楼道微更新")
                .await
                .contains("孙建伟")
        },
    )
    .await;

    // Concurrent edits with the same version through both nodes: one wins, one gets 412.
    let (_, etag) = a.staff_json(&path).await;
    let mut through_a = changed.clone();
    through_a["citation"] = json!("经节点甲修改");
    let mut through_b = changed.clone();
    through_b["citation"] = json!("经节点乙修改");
    let (sa, sb) = tokio::join!(
        a.put(&path, &etag, &through_a),
        b.put(&path, &etag, &through_b)
    );
    let mut statuses = [sa.as_u16(), sb.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 412], "A {sa}, B {sb}");
    let winner = if sa == StatusCode::OK {
        &through_a
    } else {
        &through_b
    };
    let (now, _) = b.staff_json(&path).await;
    assert_eq!(now["citation"], winner["citation"]);

    if let Ok(client) = meilisearch_sdk::client::Client::new(
        std::env::var("YOUDE_TEST_MEILI_URL").unwrap(),
        std::env::var("YOUDE_TEST_MEILI_API_KEY").ok(),
    ) {
        let _ = client.delete_index(&index).await;
    }
}
