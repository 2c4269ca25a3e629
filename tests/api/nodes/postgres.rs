//! PostgreSQL restarted under load: a server of the test's own (`initdb` + `pg_ctl` in a
//! temporary folder on a free port, not the machine's shared one), one app node over it, writes
//! and reads going on while the server stops for three seconds and starts again. Requests during
//! the outage get 503 (never 500), the node recovers without a restart, and every write it
//! acknowledged is there afterwards.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::{Node, TOKEN};

/// The newest PostgreSQL server binaries on the machine (Debian's layout).
fn pg_bin() -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL server binaries under /usr/lib/postgresql (package postgresql)")
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|bin| bin.join("initdb").exists())
        .collect();
    versions.sort();
    versions
        .pop()
        .expect("an initdb under /usr/lib/postgresql/*/bin")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A private PostgreSQL server; stopped (immediately) when dropped.
struct PrivatePg {
    dir: tempfile::TempDir,
    port: u16,
}

/// A server binary with its arguments, run as the `postgres` user when we are root (PostgreSQL
/// refuses to run as root).
fn pg_command(tool: &str, args: &[&str]) -> Command {
    let bin = pg_bin().join(tool);
    let mut command = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(&bin);
        c
    } else {
        Command::new(&bin)
    };
    command.args(args);
    command
}

impl PrivatePg {
    fn run(&self, tool: &str, args: &[&str]) {
        let status = pg_command(tool, args)
            .status()
            .unwrap_or_else(|e| panic!("{tool}: {e}"));
        assert!(status.success(), "{tool} {args:?}");
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn start_server(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("server.log").display().to_string();
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-o",
                &options,
                "-l",
                &log,
                "-w",
                "start",
            ],
        );
    }

    fn stop_server(&self) {
        self.run("pg_ctl", &["-D", &self.data(), "-m", "fast", "-w", "stop"]);
    }

    fn start() -> PrivatePg {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let dir = tempfile::tempdir().expect("temp dir");
        if is_root() {
            let owned = Command::new("chown")
                .arg("postgres")
                .arg(dir.path())
                .status()
                .expect("chown");
            assert!(owned.success());
        }
        let pg = PrivatePg { dir, port };
        pg.run(
            "initdb",
            &[
                "-D",
                &pg.data(),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "-N",
            ],
        );
        pg.start_server();
        pg
    }

    fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }
}

impl Drop for PrivatePg {
    fn drop(&mut self) {
        let data = self.data();
        let _ = pg_command("pg_ctl", &["-D", &data, "-m", "immediate", "stop"]).output();
    }
}

/// What one request of the load got: its status, and for a write the id it acknowledged.
#[derive(Debug)]
struct Outcome {
    status: u16,
    created: Option<i64>,
    code: Option<String>,
}

async fn load_step(
    client: &reqwest::Client,
    node: &Node,
    n: usize,
    community: i64,
) -> Vec<Outcome> {
    let mut out = Vec::new();
    let write = client
        .post(node.url("/api/v1/residents"))
        .bearer_auth(TOKEN)
        .json(&json!({ "name": format!("重启测试{}", crate::helpers::volunteer(n)), "community_id": community }))
        .timeout(Duration::from_secs(20))
        .send()
        .await;
    match write {
        Ok(reply) => {
            let status = reply.status().as_u16();
            let body: Value = reply.json().await.unwrap_or(Value::Null);
            out.push(Outcome {
                status,
                created: (status == 201).then(|| body["id"].as_i64()).flatten(),
                code: body["error"]["code"].as_str().map(String::from),
            });
        }
        Err(e) => panic!("the node did not answer a write: {e}"),
    }
    for path in ["/api/v1/residents?limit=5", "/people/sun-jianwei"] {
        let reply = client
            .get(node.url(path))
            .timeout(Duration::from_secs(20))
            .send()
            .await
            .unwrap_or_else(|e| panic!("the node did not answer {path}: {e}"));
        out.push(Outcome {
            status: reply.status().as_u16(),
            created: None,
            code: None,
        });
    }
    out
}

#[tokio::test]
#[cfg_attr(
    not(youde_test_postgres),
    ignore = "needs PostgreSQL (its server binaries): build and run with YOUDE_TEST_DATABASE_URL set"
)]
async fn postgres_restart_under_load_gives_503_and_loses_no_acknowledged_write() {
    let pg = PrivatePg::start();
    let admin = sea_orm::Database::connect(pg.url("postgres"))
        .await
        .unwrap();
    use sea_orm::ConnectionTrait;
    admin
        .execute_unprepared("CREATE DATABASE youde")
        .await
        .unwrap();
    admin.close().await.ok();
    let node = Node::start(&pg.url("youde"), None).await;
    let communities: Value = reqwest::get(node.url("/api/v1/communities?limit=200"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let community = communities["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "音乐广场")
        .expect("the demo's 音乐广场")["id"]
        .as_i64()
        .unwrap();

    let client = reqwest::Client::new();
    let mut outcomes = Vec::new();
    let mut n = 0;
    // Before: a second of load.
    let until = Instant::now() + Duration::from_secs(1);
    while Instant::now() < until {
        outcomes.extend(load_step(&client, &node, n, community).await);
        n += 1;
    }
    // The outage: the server stops (fast shutdown, as a restart does) for three seconds.
    pg.stop_server();
    let until = Instant::now() + Duration::from_secs(3);
    let mut during = Vec::new();
    while Instant::now() < until {
        during.extend(load_step(&client, &node, n, community).await);
        n += 1;
    }
    pg.start_server();
    // After: the node recovers by itself.
    let recovered = Instant::now();
    let mut after = Vec::new();
    loop {
        let step = load_step(&client, &node, n, community).await;
        n += 1;
        let ok = step.iter().all(|o| o.status < 300);
        after.extend(step);
        if ok {
            break;
        }
        assert!(
            recovered.elapsed() < Duration::from_secs(30),
            "no recovery: {after:?}"
        );
    }

    let all: Vec<&Outcome> = outcomes.iter().chain(&during).chain(&after).collect();
    for o in &all {
        assert!(matches!(o.status, 200 | 201 | 503), "{o:?}");
    }
    assert!(
        during.iter().any(|o| o.status == 503),
        "the outage was not seen: {during:?}"
    );
    for o in during
        .iter()
        .filter(|o| o.status == 503 && o.code.is_some())
    {
        assert_eq!(o.code.as_deref(), Some("database_unavailable"), "{o:?}");
    }
    let acknowledged: Vec<i64> = all.iter().filter_map(|o| o.created).collect();
    assert!(!acknowledged.is_empty());
    for id in acknowledged {
        let (person, _) = node.staff_json(&format!("/api/v1/residents/{id}")).await;
        assert_eq!(person["id"], id, "acknowledged write {id} lost");
    }
}
