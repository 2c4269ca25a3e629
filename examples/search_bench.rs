//! The search benchmark's tool (run by `bench/search.sh`, which starts and stops the server):
//!
//! - `generate --data-dir D --residents N`: a SQLite registry of N realistic residents (common
//!   surnames and given names, 3–5 service records each, 70 % with a public profile consent) in
//!   50 compounds of 长寿路街道;
//! - `build --data-dir D`: the full index build (`youde reindex`'s code), timed;
//! - `query --url U --pid P [--rounds R]`: the API's latency for a fixed query mix, one keep-alive
//!   connection, sequential requests; and the server's memory. With `--meili-url`, the same terms
//!   straight against Meilisearch too, and the API's overhead over it.
//!
//! Figures are printed with their ratio to the targets (the named baselines): p50 ≤ 5 ms,
//! p99 ≤ 20 ms, build ≥ 5,000 residents/s.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::Utc;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait, TransactionTrait};
use youde::domain::community::CommunityDraft;
use youde::domain::naming;
use youde::search::{self, Search, SearchSettings};
use youde::store::entities::{consent, resident, service_record};
use youde::store::{self, communities};

type Error = Box<dyn std::error::Error + Send + Sync>;

const TARGET_P50_MS: f64 = 5.0;
const TARGET_P99_MS: f64 = 20.0;
const TARGET_BUILD_PER_S: f64 = 5_000.0;

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾",
    "肖", "田", "董", "袁", "潘", "于", "蒋", "蔡", "余", "杜", "叶", "程", "苏", "魏", "吕", "丁",
    "任", "沈", "姚", "卢", "姜", "崔", "钟", "谭", "陆", "汪", "范", "金", "欧阳", "司马",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀英", "华", "平", "红", "霞", "玲", "桂英", "建华", "建国", "建军", "志强", "秀兰",
    "玉兰", "桂兰", "国强", "国平", "建伟", "海燕", "丽娟", "文斌", "志明", "春梅", "凤英", "德华",
    "宝林", "福生", "小龙", "美玲", "慧敏", "佳怡", "子涵", "浩然", "雨欣", "晓东", "永刚", "淑珍",
    "瑞芬", "金凤", "卫东", "爱华", "振华", "学军", "惠英",
];
const COMPOUNDS: &[&str] = &[
    "音乐广场",
    "江宁小区",
    "长寿新村",
    "普雄小区",
    "武宁小区",
    "常德小区",
    "西康公寓",
    "澳门路小区",
    "苏州河花园",
    "昌化小区",
    "胶州路小区",
    "宜昌小区",
    "叶家宅",
    "莫干山公寓",
    "梅芳花园",
    "光复里",
    "新会小区",
    "余姚路小区",
    "谈家渡",
    "安远小区",
];

struct Template {
    kind: &'static str,
    title: &'static str,
    measure: Option<(f64, f64, &'static str)>,
}

const RECORDS: &[Template] = &[
    Template {
        kind: "role",
        title: "{c}业主委员会委员",
        measure: None,
    },
    Template {
        kind: "role",
        title: "{c}楼组长",
        measure: None,
    },
    Template {
        kind: "role",
        title: "居民区志愿者服务队队长",
        measure: None,
    },
    Template {
        kind: "role",
        title: "{c}睦邻点负责人",
        measure: None,
    },
    Template {
        kind: "hosting",
        title: "接待兄弟街道参访{c}",
        measure: Some((2.0, 40.0, "visit_batches")),
    },
    Template {
        kind: "hosting",
        title: "接待市、区各部门领导参访智慧社区",
        measure: Some((5.0, 40.0, "visit_batches")),
    },
    Template {
        kind: "project",
        title: "{c}加装电梯协调",
        measure: Some((1.0, 8.0, "items")),
    },
    Template {
        kind: "project",
        title: "{c}门栋大堂改造，节约工程资金",
        measure: Some((20_000.0, 300_000.0, "yuan_saved")),
    },
    Template {
        kind: "project",
        title: "{c}智慧社区改造",
        measure: None,
    },
    Template {
        kind: "project",
        title: "垃圾分类厢房改造",
        measure: None,
    },
    Template {
        kind: "survey",
        title: "排摸调查{c}老年居民需求",
        measure: Some((50.0, 600.0, "households")),
    },
    Template {
        kind: "survey",
        title: "街道商品房小区现状调研",
        measure: Some((10.0, 60.0, "compounds")),
    },
    Template {
        kind: "volunteer_hours",
        title: "楼道清洁志愿服务",
        measure: Some((20.0, 500.0, "hours")),
    },
    Template {
        kind: "volunteer_hours",
        title: "垃圾分类值守",
        measure: Some((20.0, 800.0, "hours")),
    },
    Template {
        kind: "volunteer_hours",
        title: "社区夜间巡逻",
        measure: Some((10.0, 300.0, "hours")),
    },
    Template {
        kind: "activity",
        title: "重阳节敬老慰问",
        measure: None,
    },
    Template {
        kind: "activity",
        title: "社区读书会",
        measure: None,
    },
    Template {
        kind: "publication",
        title: "编写{c}居民公约",
        measure: None,
    },
    Template {
        kind: "other",
        title: "调解邻里纠纷",
        measure: Some((3.0, 40.0, "items")),
    },
];

const CITATIONS: &[&str] = &[
    "{y} 年来热心{c}公共事务，工作踏实认真、一丝不苟，深受居民信赖。",
    "退休后坚持参加志愿服务，组织楼组居民开展垃圾分类和楼道清洁。",
    "作为业委会委员，他逐个门栋实地测量，用精准数据说话，为业主节约维修资金。",
    "她常年照顾独居老人，逢年过节上门慰问，被邻居称为“热心肠”。",
    "参与智慧社区建设，接待各地参访团，讲解小区改造经验。",
    "调解邻里纠纷数十起，带动身边居民参与社区治理。",
];

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("generate") => {
            let dir = PathBuf::from(arg(&args, "--data-dir").ok_or("--data-dir")?);
            let n: usize = arg(&args, "--residents").map_or(Ok(100_000), |s| s.parse())?;
            generate(&dir, n).await
        }
        Some("build") => {
            build(
                &PathBuf::from(arg(&args, "--data-dir").ok_or("--data-dir")?),
                &args,
            )
            .await
        }
        Some("query") => {
            let url = arg(&args, "--url").ok_or("--url")?;
            let pid = arg(&args, "--pid").ok_or("--pid")?;
            let rounds: usize = arg(&args, "--rounds").map_or(Ok(100), |s| s.parse())?;
            query(
                &url,
                &pid,
                rounds,
                arg(&args, "--meili-url"),
                arg(&args, "--meili-key"),
                arg(&args, "--meili-index"),
            )
            .await
        }
        _ => Err("usage: search_bench generate|build|query …".into()),
    }
}

async fn connect(dir: &std::path::Path) -> Result<DatabaseConnection, Error> {
    let db = store::connect(&format!("sqlite://{}", dir.join("youde.db").display())).await?;
    store::migrate(&db).await?;
    Ok(db)
}

async fn generate(dir: &std::path::Path, n: usize) -> Result<(), Error> {
    let clock = Instant::now();
    let db = connect(dir).await?;
    let mut rng = StdRng::seed_from_u64(20_190_901);
    let district =
        communities::insert(&db, &CommunityDraft::parse("普陀区", "district", None)?).await?;
    let street = communities::insert(
        &db,
        &CommunityDraft::parse("长寿路街道", "subdistrict", Some(district.id))?,
    )
    .await?;
    let mut compounds = Vec::new();
    for name in COMPOUNDS {
        let c = communities::insert(
            &db,
            &CommunityDraft::parse(name, "compound", Some(street.id))?,
        )
        .await?;
        compounds.push((c.id, *name));
    }
    let now = Utc::now();
    let (mut record_id, mut consent_id) = (0i64, 0i64);
    for chunk_start in (0..n).step_by(1000) {
        let txn = db.begin().await?;
        let (mut people, mut records, mut consents) = (Vec::new(), Vec::new(), Vec::new());
        for i in chunk_start..(chunk_start + 1000).min(n) {
            let id = i as i64 + 1;
            let name = format!("{}{}", pick(&mut rng, SURNAMES), pick(&mut rng, GIVEN));
            let (community_id, compound) = *pick(&mut rng, &compounds);
            let since = rng.random_range(2003..2021);
            let citation = pick(&mut rng, CITATIONS)
                .replace("{c}", compound)
                .replace("{y}", &(2024 - since).to_string());
            people.push(resident::ActiveModel {
                id: Set(id),
                pinyin: Set(naming::person_pinyin(&name)),
                slug: Set(format!("{}-{id}", naming::person_slug(&name))),
                name: Set(name),
                community_id: Set(community_id),
                citation: Set(Some(citation)),
                phone: Set(Some(format!(
                    "139{:08}",
                    rng.random_range(0..100_000_000u32)
                ))),
                id_number: Set(None),
                birth_year: Set(Some(rng.random_range(1940..1990))),
                address: Set(Some(format!(
                    "{compound}{}号{}室",
                    rng.random_range(1..80),
                    rng.random_range(101..1802)
                ))),
                erased_at: Set(None),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
            });
            for _ in 0..rng.random_range(3..=5) {
                let t = pick(&mut rng, RECORDS);
                let start = rng.random_range(since..2024);
                let end = if rng.random_bool(0.2) {
                    None
                } else {
                    Some(rng.random_range(start..=2024).to_string())
                };
                let measures = match t.measure {
                    Some((lo, hi, unit)) => {
                        format!(
                            r#"[{{"value":{},"unit":"{unit}","qualifier":"exact"}}]"#,
                            rng.random_range(lo..hi).round()
                        )
                    }
                    None => "[]".to_string(),
                };
                record_id += 1;
                records.push(service_record::ActiveModel {
                    id: Set(record_id),
                    resident_id: Set(id),
                    activity_id: Set(None),
                    kind: Set(t.kind.to_string()),
                    title: Set(t.title.replace("{c}", compound)),
                    organisation: Set(None),
                    start_date: Set(start.to_string()),
                    end_date: Set(end),
                    unpaid: Set(true),
                    measures: Set(measures),
                    evidence: Set(None),
                    recorded_by: Set("基准测试".into()),
                    verified_by: Set(None),
                    verified_on: Set(None),
                    recorded_by_user_id: Set(None),
                    verified_by_user_id: Set(None),
                    // No confirmation: an ongoing record counts to the day asked about.
                    confirmed_on: Set(None),
                    version: Set(1),
                    created_at: Set(now),
                    updated_at: Set(now),
                });
            }
            if rng.random_bool(0.7) {
                consent_id += 1;
                consents.push(consent::ActiveModel {
                    id: Set(consent_id),
                    resident_id: Set(id),
                    scope: Set("profile".into()),
                    text_version: Set("bench".into()),
                    signed_on: Set(chrono::NaiveDate::from_ymd_opt(2024, 1, 1).expect("date")),
                    recorded_by: Set("基准测试".into()),
                    evidence: Set(None),
                    withdrawn_on: Set(None),
                    created_at: Set(now),
                });
            }
        }
        resident::Entity::insert_many(people).exec(&txn).await?;
        for part in records.chunks(1000) {
            service_record::Entity::insert_many(part.to_vec())
                .exec(&txn)
                .await?;
        }
        if !consents.is_empty() {
            consent::Entity::insert_many(consents).exec(&txn).await?;
        }
        txn.commit().await?;
    }
    println!(
        "generated {n} residents, {record_id} service records, {consent_id} public profiles in {:.1} s",
        clock.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn build(dir: &std::path::Path, args: &[String]) -> Result<(), Error> {
    let db = connect(dir).await?;
    let settings = SearchSettings {
        index_dir: dir.join("index"),
        meili_url: arg(args, "--meili-url"),
        meili_api_key: arg(args, "--meili-key"),
        meili_index: arg(args, "--meili-index").unwrap_or_else(|| "youde".into()),
        meili_timeout: search::meili::DEFAULT_SEARCH_TIMEOUT,
    };
    let opened = search::open(&settings).await?;
    let search = Search::new(db.clone(), opened.index);
    let report = search::reindex::run(&db, search.index.as_ref(), &search.relay, None).await?;
    let per_s = report.documents as f64 / report.elapsed.as_secs_f64();
    println!(
        "index build ({}): {} residents in {:.1} s = {:.0} residents/s (target ≥ {:.0}/s: {:.2}× the target)",
        search.index.engine(),
        report.documents,
        report.elapsed.as_secs_f64(),
        per_s,
        TARGET_BUILD_PER_S,
        per_s / TARGET_BUILD_PER_S
    );
    if settings.meili_url.is_none() {
        let current = std::fs::read_to_string(dir.join("index").join("CURRENT"))?;
        let size: u64 = walk_size(&dir.join("index").join(current.trim()));
        println!("index size on disk: {:.1} MB", size as f64 / 1e6);
    }
    Ok(())
}

fn walk_size(path: &std::path::Path) -> u64 {
    std::fs::read_dir(path).map_or(0, |entries| {
        entries
            .flatten()
            .map(|e| match e.metadata() {
                Ok(m) if m.is_dir() => walk_size(&e.path()),
                Ok(m) => m.len(),
                Err(_) => 0,
            })
            .sum()
    })
}

/// The fixed query mix: names, parts of names, pinyin, initials, traditional characters, deeds,
/// and filtered queries.
const MIX: &[&str] = &[
    "q=王建华",
    "q=陈志强",
    "q=欧阳美玲",
    "q=建国",
    "q=秀英",
    "q=wangjianhua",
    "q=li%20guoqiang",
    "q=zjg",
    "q=陳志強",
    "q=張秀蘭",
    "q=智慧社区",
    "q=业委会",
    "q=接待参访",
    "q=垃圾分类",
    "q=楼道清洁",
    "q=加装电梯",
    "q=调解邻里纠纷",
    "q=垃圾分类&year=2020",
    "q=王&community=3",
    "q=志愿服务&category=志愿服务&limit=10",
];

fn rss(pid: &str) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// Every query of the mix once to warm up, then `rounds` rounds. Returns all latencies sorted,
/// each query's own latencies, and each query's `total`.
async fn measure<F, Fut>(
    rounds: usize,
    mut call: F,
) -> Result<(Vec<Duration>, Vec<Vec<Duration>>, Vec<u64>), Error>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = Result<u64, Error>>,
{
    let mut totals = vec![0; MIX.len()];
    for (i, total) in totals.iter_mut().enumerate() {
        *total = call(i).await?;
    }
    let mut per_query = vec![Vec::with_capacity(rounds); MIX.len()];
    for _ in 0..rounds {
        for (i, times) in per_query.iter_mut().enumerate() {
            let t = Instant::now();
            call(i).await?;
            times.push(t.elapsed());
        }
    }
    let mut all: Vec<Duration> = per_query.iter().flatten().copied().collect();
    all.sort();
    for times in &mut per_query {
        times.sort();
    }
    Ok((all, per_query, totals))
}

fn report(label: &str, times: &[Duration]) -> (f64, f64) {
    let (p50, p99) = (percentile(times, 0.50), percentile(times, 0.99));
    let mean = times.iter().map(Duration::as_secs_f64).sum::<f64>() / times.len() as f64 * 1000.0;
    println!(
        "{label}: {} requests, p50 {p50:.2} ms ({:.2}× the {TARGET_P50_MS} ms target), p99 {p99:.2} ms ({:.2}× the {TARGET_P99_MS} ms target), mean {mean:.2} ms, max {:.2} ms",
        times.len(),
        p50 / TARGET_P50_MS,
        p99 / TARGET_P99_MS,
        percentile(times, 1.0)
    );
    (p50, p99)
}

async fn query(
    url: &str,
    pid: &str,
    rounds: usize,
    meili_url: Option<String>,
    meili_key: Option<String>,
    meili_index: Option<String>,
) -> Result<(), Error> {
    let (idle, _) = rss(pid);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .build()?;
    let (api, per_query, totals) = measure(rounds, |i| {
        let request = client.get(format!("{url}/api/v1/search?{}", MIX[i]));
        async move {
            let response = request.send().await?;
            if !response.status().is_success() {
                return Err(format!("{} answered {}", MIX[i], response.status()).into());
            }
            let body: serde_json::Value = response.json().await?;
            Ok(body["total"].as_u64().unwrap_or(0))
        }
    })
    .await?;
    let (rss_after, peak) = rss(pid);
    println!("  {:>6}  {:>8}  {:>8}  query", "hits", "p50 ms", "p99 ms");
    for ((q, n), times) in MIX.iter().zip(&totals).zip(&per_query) {
        println!(
            "  {n:>6}  {:>8.2}  {:>8.2}  {q}",
            percentile(times, 0.5),
            percentile(times, 0.99)
        );
    }
    let (api_p50, api_p99) = report("API /api/v1/search", &api);
    println!("server memory: {idle:.1} MB RSS before the queries, {rss_after:.1} MB after, peak {peak:.1} MB");

    if let Some(meili) = meili_url {
        let index = meili_index.unwrap_or_else(|| "youde".into());
        let terms: Vec<String> = MIX
            .iter()
            .map(|q| {
                let raw = q
                    .split('&')
                    .next()
                    .unwrap_or("")
                    .trim_start_matches("q=")
                    .replace("%20", " ");
                youde::search::text::normalize(&raw)
            })
            .collect();
        let (direct, _, _) = measure(rounds, |i| {
            let mut request = client.post(format!("{meili}/indexes/{index}/search")).json(&serde_json::json!({
                "q": terms[i], "filter": "public = true", "limit": 20, "matchingStrategy": "all",
                "facets": ["kind", "community_id", "categories", "years"], "locales": ["cmn"],
            }));
            if let Some(key) = &meili_key {
                request = request.bearer_auth(key);
            }
            async move {
                let response = request.send().await?;
                if !response.status().is_success() {
                    return Err(format!("meilisearch answered {}", response.status()).into());
                }
                let body: serde_json::Value = response.json().await?;
                Ok(body["estimatedTotalHits"].as_u64().unwrap_or(0))
            }
        })
        .await?;
        let (m50, m99) = report("Meilisearch direct (same terms)", &direct);
        println!(
            "API over direct Meilisearch: p50 {:.2}× (+{:.2} ms), p99 {:.2}× (+{:.2} ms)",
            api_p50 / m50,
            api_p50 - m50,
            api_p99 / m99,
            api_p99 - m99
        );
    }
    Ok(())
}
