//! What an operator sees, on the real binary: `/metrics` counts the traffic it served and is
//! refused to addresses not allowed; JSON log lines carry the request id the response echoes.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::free_port;

struct Server {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// `youde serve` on a fresh SQLite registry with the demo data, with extra environment.
async fn serve(env: &[(&str, &str)]) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_youde"));
    command
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .env("YOUDE_DATA_DIR", dir.path())
        .env("YOUDE_MEDIA_DIR", dir.path().join("media"))
        .env("YOUDE_ADMIN_PASSWORD", "operations test password")
        .env_remove("YOUDE_DATABASE_URL")
        .env_remove("YOUDE_MEILI_URL")
        .env("RUST_LOG", "info,sqlx=warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (k, v) in env {
        command.env(k, v);
    }
    let child = command.spawn().expect("start youde serve");
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    while reqwest::get(format!("{base}/readyz"))
        .await
        .map(|r| r.status().as_u16())
        .ok()
        != Some(200)
    {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the server did not start"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Server {
        child,
        base,
        _dir: dir,
    }
}

async fn status(url: String) -> u16 {
    reqwest::get(url).await.unwrap().status().as_u16()
}

/// The value of the metric line that starts with `series` (name and labels, exactly).
fn value(scraped: &str, series: &str) -> Option<f64> {
    scraped
        .lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
}

#[tokio::test]
async fn metrics_count_the_traffic_served_and_only_allowed_addresses_read_them() {
    let server = serve(&[]).await;
    let b = &server.base;
    for _ in 0..3 {
        assert_eq!(status(format!("{b}/people/sun-jianwei")).await, 200);
    }
    for _ in 0..2 {
        assert_eq!(status(format!("{b}/api/v1/residents")).await, 200);
    }
    assert_eq!(status(format!("{b}/no-such-page")).await, 404);
    assert_eq!(status(format!("{b}/api/v1/search?q=sjw")).await, 200);
    let scraped = reqwest::get(format!("{b}/metrics")).await.unwrap();
    assert_eq!(scraped.status().as_u16(), 200);
    assert!(scraped.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let scraped = scraped.text().await.unwrap();
    let page = r#"youde_http_requests_total{method="GET",route="/people/:slug",status="200"}"#;
    assert_eq!(value(&scraped, page), Some(3.0), "{scraped}");
    let api = r#"youde_http_requests_total{method="GET",route="/api/v1/residents",status="200"}"#;
    assert_eq!(value(&scraped, api), Some(2.0), "{scraped}");
    let missing = r#"youde_http_requests_total{method="GET",route="unmatched",status="404"}"#;
    assert_eq!(value(&scraped, missing), Some(1.0), "{scraped}");
    let latency =
        r#"youde_http_request_duration_seconds_count{method="GET",route="/people/:slug"}"#;
    assert_eq!(value(&scraped, latency), Some(3.0), "{scraped}");
    let searched = r#"youde_search_seconds_count{engine="embedded",outcome="ok"}"#;
    assert_eq!(value(&scraped, searched), Some(1.0), "{scraped}");
    // The first of the three page requests rendered it; the next two were served from the cache.
    let rendered = r#"youde_page_cache_requests{outcome="render"}"#;
    let hits = r#"youde_page_cache_requests{outcome="hit"}"#;
    assert!(value(&scraped, rendered) >= Some(1.0), "{scraped}");
    assert!(value(&scraped, hits) >= Some(2.0), "{scraped}");
    for name in [
        "youde_page_cache_hit_ratio",
        "youde_db_pool_connections",
        "youde_db_pool_idle",
        "youde_photo_ingest_seconds_count",
        "youde_page_cache_bytes",
        "youde_search_outbox_backlog",
        "youde_search_outbox_oldest_age_seconds",
        "youde_search_relay_consecutive_failures",
        "youde_http_panics_total",
    ] {
        assert!(value(&scraped, name).is_some(), "{name} missing: {scraped}");
    }
    assert!(scraped.contains(&format!(
        "youde_build_info{{version=\"{}\"}} 1",
        env!("CARGO_PKG_VERSION")
    )));

    // A server that allows only another address answers 404 to this one.
    let closed = serve(&[("YOUDE_METRICS_ALLOW", "10.9.8.7")]).await;
    assert_eq!(status(format!("{}/metrics", closed.base)).await, 404);
}

#[tokio::test]
async fn json_logs_carry_the_request_id_the_response_echoes() {
    let mut server = serve(&[("YOUDE_LOG_FORMAT", "json")]).await;
    // A query string can carry what no log may keep.
    let reply = reqwest::Client::new()
        .get(format!(
            "{}/people/sun-jianwei?phone=13912345678",
            server.base
        ))
        .header("x-request-id", "chosen-by-the-client")
        .send()
        .await
        .unwrap();
    let id = reply.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    assert_ne!(
        id, "chosen-by-the-client",
        "an untrusted client's id is not taken"
    );
    let stdout = server.child.stdout.take().unwrap();
    let (lines, id2) = tokio::task::spawn_blocking(move || {
        let mut found = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            let done = line.contains(&id);
            found.push(line);
            if done || found.len() > 500 {
                break;
            }
        }
        (found, id)
    })
    .await
    .unwrap();
    for line in &lines {
        serde_json::from_str::<serde_json::Value>(line)
            .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"));
    }
    let answered = lines
        .iter()
        .find(|l| l.contains(&id2) && l.contains("answered"))
        .unwrap_or_else(|| panic!("no log line names request {id2}: {lines:#?}"));
    assert!(
        answered.contains("/people/:slug") && answered.contains("200"),
        "{answered}"
    );
    assert!(
        lines.iter().all(|l| !l.contains("13912345678")),
        "a query string reached the log: {lines:#?}"
    );
}
