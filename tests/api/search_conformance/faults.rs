//! Faults of a real Meilisearch, each test with a Meilisearch process of its own on loopback
//! (the binary of `../shared/tools`, or `YOUDE_TEST_MEILI_BIN`): hung with SIGSTOP, killed with
//! SIGKILL and restarted on its folder. Built as `#[ignore]`d where no Meilisearch is configured
//! (see `build.rs`), like the `meilisearch::*` conformance cases.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use youde::store::outbox;

use youde::search::meili::MeiliIndex;

use super::{Engine, Harness};
use crate::helpers::volunteer;

/// A Meilisearch process on a free loopback port with a folder and a key of its own; killed
/// when dropped.
pub struct MeiliProcess {
    child: Child,
    dir: tempfile::TempDir,
    port: u16,
    key: String,
}

fn meili_binary() -> String {
    std::env::var("YOUDE_TEST_MEILI_BIN")
        .unwrap_or_else(|_| format!("{}/../shared/tools/meilisearch", env!("CARGO_MANIFEST_DIR")))
}

impl MeiliProcess {
    pub async fn start() -> MeiliProcess {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let dir = tempfile::tempdir().expect("temp dir");
        let key = format!("{:032x}", rand::random::<u128>());
        let child = Self::launch(dir.path(), port, &key);
        let process = MeiliProcess {
            child,
            dir,
            port,
            key,
        };
        process.wait_healthy().await;
        process
    }

    fn launch(dir: &std::path::Path, port: u16, key: &str) -> Child {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("meili.log"))
            .expect("log file");
        Command::new(meili_binary())
            .arg("--db-path")
            .arg(dir.join("data.ms"))
            .arg("--dump-dir")
            .arg(dir.join("dumps"))
            .arg("--snapshot-dir")
            .arg(dir.join("snapshots"))
            .args(["--http-addr", &format!("127.0.0.1:{port}")])
            .args([
                "--master-key",
                key,
                "--env",
                "development",
                "--no-analytics",
            ])
            .stdout(Stdio::from(log.try_clone().expect("log file")))
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", meili_binary()))
    }

    async fn wait_healthy(&self) {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let answered = client
                .get(format!("{}/health", self.url()))
                .timeout(Duration::from_secs(1))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if answered {
                return;
            }
            assert!(Instant::now() < deadline, "meilisearch did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn engine(&self) -> Engine {
        Engine::Meili {
            url: self.url(),
            key: Some(self.key.clone()),
        }
    }

    /// Send `signal` (`STOP`, `CONT`, `KILL`) to the process.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill");
        assert!(status.success(), "kill -{signal}");
    }

    /// SIGKILL, as a crash would.
    pub fn crash(&mut self) {
        self.signal("KILL");
        let _ = self.child.wait();
    }

    /// Start again on the same folder, port and key.
    pub async fn restart(&mut self) {
        self.child = Self::launch(self.dir.path(), self.port, &self.key);
        self.wait_healthy().await;
    }
}

impl Drop for MeiliProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn pending(h: &Harness) -> u64 {
    outbox::backlog(&h.app.db).await.expect("backlog").pending
}

/// Drain until nothing is pending; the relay may need a few attempts after an outage.
async fn drain_until_delivered(h: &Harness, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let drained = h.app.search.relay.drain().await;
        if drained.is_ok() && pending(h).await == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "still {} changes pending: {drained:?}",
            pending(h).await
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

macro_rules! with_meilisearch {
    ($($(#[$doc:meta])* async fn $name:ident() $body:block)*) => {
        $(
            $(#[$doc])*
            #[tokio::test]
            #[cfg_attr(
                not(youde_test_meili),
                ignore = "needs a Meilisearch: build and run with YOUDE_TEST_MEILI_URL set (see ../shared/tools/README.md)"
            )]
            async fn $name() $body
        )*
    };
}

with_meilisearch! {
    /// Meilisearch hangs for 20 s: a search answers 503 within the short timeout, writes go on,
    /// `/readyz` says search is degraded with the backlog, and after SIGCONT everything arrives.
    async fn hung_meilisearch_costs_searches_a_quick_503_and_nothing_else() {
        let meili = MeiliProcess::start().await;
        let h = meili.engine().app().await;
        meili.signal("STOP");
        let stopped = Instant::now();

        let asked = Instant::now();
        let reply = h.app.get("/api/v1/search?q=孙建伟").await;
        reply.assert_status(503);
        assert_eq!(reply.error_code(), "search_unavailable");
        assert!(asked.elapsed() < Duration::from_secs(3), "503 after {:?}", asked.elapsed());

        let mut names = Vec::new();
        for n in 0..20 {
            let name = volunteer(n);
            h.person(&name, None, true, &[]).await;
            names.push(name);
        }
        let ready = h.app.get("/readyz").await;
        ready.assert_status(200);
        assert_eq!(ready.body["search"]["status"], "degraded", "{}", ready.body);
        assert!(ready.body["search"]["backlog"].as_u64() >= Some(20), "{}", ready.body);
        // A delivery attempt gives up (bounded), it does not hang with the engine.
        assert!(h.app.search.relay.drain().await.is_err());

        if let Some(left) = Duration::from_secs(20).checked_sub(stopped.elapsed()) {
            tokio::time::sleep(left).await;
        }
        meili.signal("CONT");
        drain_until_delivered(&h, Duration::from_secs(60)).await;
        h.assert_index_equals_database().await;
        for name in &names {
            assert_eq!(h.people(name).await.first(), Some(name), "{name}");
        }
        let ready = h.app.get("/readyz").await;
        assert_eq!(ready.body["search"]["status"], "ok", "{}", ready.body);
        h.finish().await;
    }

    /// Meilisearch is SIGKILLed while 200 changes are made and delivered, then restarted on its
    /// folder: every write succeeded, and the index ends equal to the database.
    async fn meilisearch_killed_during_200_changes_loses_nothing() {
        let mut meili = MeiliProcess::start().await;
        let h = meili.engine().app().await;
        let relay = h.app.search.relay.spawn();
        let mut names = Vec::new();
        // 200 changes: 100 residents created, then given their profile consent.
        for n in 0..100 {
            if n == 30 {
                meili.crash();
            }
            if n == 70 {
                meili.restart().await;
            }
            let name = volunteer(n);
            let created = h
                .app
                .create_resident(&json!({ "name": name, "community_id": h.community("音乐广场").await }))
                .await;
            created.assert_status(201);
            let id = created.body["id"].as_i64().unwrap();
            h.app.consent(id, "profile").await.assert_status(201);
            names.push(name);
        }
        relay.abort();
        drain_until_delivered(&h, Duration::from_secs(60)).await;
        h.assert_index_equals_database().await;
        for name in names.iter().step_by(9) {
            assert_eq!(h.people(name).await.first(), Some(name), "{name}");
        }
        h.finish().await;
    }

    /// A node starting against an index that already has its settings queues no Meilisearch task:
    /// at a million residents one settings task runs for minutes and every change waits behind
    /// it. When someone has changed the settings by hand, a start queues exactly one task to put
    /// them back, and searches work as before.
    async fn a_start_queues_no_settings_task_when_the_settings_are_in() {
        let meili = MeiliProcess::start().await;
        let h = meili.engine().app().await;
        let client = meilisearch_sdk::client::Client::new(meili.url(), Some(meili.key.as_str())).unwrap();
        let tasks = || async {
            let mut query = meilisearch_sdk::tasks::TasksSearchQuery::new(&client);
            query.with_index_uids([h.uid.as_str()]).with_limit(1000);
            client.get_tasks_with(&query).await.expect("tasks").total
        };
        let url = meili.url();
        let open = || MeiliIndex::open(&url, Some(meili.key.as_str()), &h.uid);

        let before = tasks().await;
        for _ in 0..3 {
            let (_, fresh) = open().await.expect("open");
            assert!(!fresh, "the index exists");
        }
        assert_eq!(tasks().await, before, "a start with the settings in place queued tasks");

        let index = client.index(&h.uid);
        let task = index.set_ranking_rules(["words"]).await.unwrap();
        client.wait_for_task(task, None, None).await.unwrap();
        let before = tasks().await;
        open().await.expect("open");
        open().await.expect("open");
        assert_eq!(tasks().await, before + 1, "settings changed by hand are put back by one task");
        let rules = index.get_ranking_rules().await.unwrap();
        assert_eq!(rules.first().map(String::as_str), Some("words"));
        assert!(rules.len() > 1, "ranking rules not restored: {rules:?}");

        let name = volunteer(7);
        h.person(&name, None, true, &[]).await;
        drain_until_delivered(&h, Duration::from_secs(30)).await;
        assert_eq!(h.people(&name).await.first(), Some(&name));
        h.finish().await;
    }

    /// A rebuild index left by an interrupted `youde reindex` (an hour old or more) is removed by
    /// the next rebuild; a recent one, perhaps still being built by another node, is left alone.
    async fn reindex_removes_leftover_rebuild_indexes() {
        let meili = MeiliProcess::start().await;
        let h = meili.engine().app().await;
        let client = meilisearch_sdk::client::Client::new(meili.url(), Some(meili.key.as_str())).unwrap();
        let old = format!("{}_rebuild_{}", h.uid, 1_000_000);
        let recent = format!("{}_rebuild_{}", h.uid, chrono::Utc::now().timestamp_millis());
        for uid in [&old, &recent] {
            let task = client.create_index(uid, Some("id")).await.unwrap();
            client.wait_for_task(task, None, None).await.unwrap();
        }
        let search = &h.app.search;
        youde::search::reindex::run(&h.app.db, search.index.as_ref(), &search.relay, None)
            .await
            .expect("reindex");
        let deadline = Instant::now() + Duration::from_secs(10);
        while client.get_index(&old).await.is_ok() {
            assert!(Instant::now() < deadline, "leftover {old} still there");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(client.get_index(&recent).await.is_ok(), "a recent rebuild index was removed");
        h.assert_index_equals_database().await;
        h.finish().await;
    }
}
