//! The conformance suite of the `SearchIndex` interface: the same cases run against the embedded
//! engine always, and against Meilisearch when `YOUDE_TEST_MEILI_URL` names one (with
//! `YOUDE_TEST_MEILI_API_KEY` if it needs a key), each test in its own index. Without it the
//! `meilisearch::*` cases are reported as ignored (see `build.rs`). Data: the
//! newsletter's demo data plus residents made in each test, delivered through the real outbox.

use std::sync::Arc;

use sea_orm::{EntityTrait, QueryOrder, QuerySelect};
use serde_json::json;
use youde::search::document::{residents_documents, stories_documents};
use youde::search::embedded::EmbeddedIndex;
use youde::search::meili::MeiliIndex;
use youde::search::{
    self, IndexOp, Scope, SearchDocument, SearchIndex, SearchQuery, SearchResults,
};
use youde::store::entities::{resident, story};

use crate::helpers::TestApp;

mod faults;
mod typing;
use typing::*;

#[derive(Clone)]
pub enum Engine {
    Embedded,
    Meili { url: String, key: Option<String> },
}

impl Engine {
    fn meili() -> Option<Engine> {
        let url = std::env::var("YOUDE_TEST_MEILI_URL")
            .ok()
            .filter(|u| !u.is_empty())?;
        let key = std::env::var("YOUDE_TEST_MEILI_API_KEY")
            .ok()
            .filter(|k| !k.is_empty());
        Some(Engine::Meili { url, key })
    }

    fn index_uid() -> String {
        format!("youde_test_{:016x}", rand::random::<u64>())
    }

    /// A fresh index of this engine.
    async fn open(&self, dir: &std::path::Path, uid: &str) -> Arc<dyn SearchIndex> {
        match self {
            Engine::Embedded => Arc::new(
                EmbeddedIndex::open(&dir.join("index"))
                    .expect("embedded index")
                    .0,
            ),
            Engine::Meili { url, key } => Arc::new(
                MeiliIndex::open(url, key.as_deref(), uid)
                    .await
                    .expect("meilisearch")
                    .0,
            ),
        }
    }

    /// The app with a fresh index of this engine and the demo data delivered.
    async fn app(&self) -> Harness {
        let dir = tempfile::tempdir().expect("temp dir");
        let uid = Self::index_uid();
        let index = self.open(dir.path(), &uid).await;
        let app = TestApp::spawn_with_index(dir, index).await;
        youde::demo::load(&app.db).await.expect("demo data");
        app.drain().await;
        Harness {
            app,
            engine: self.clone(),
            uid,
        }
    }
}

/// Each case runs as `search_conformance::embedded::<case>` and `search_conformance::meilisearch::<case>`.
macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod embedded {
            $( #[tokio::test] async fn $case() { super::$case(super::Engine::Embedded).await } )*
        }
        mod meilisearch {
            $(
                #[tokio::test]
                #[cfg_attr(
                    not(youde_test_meili),
                    ignore = "needs a Meilisearch: build and run with YOUDE_TEST_MEILI_URL set (see ../shared/tools/README.md)"
                )]
                async fn $case() {
                    let engine = super::Engine::meili()
                        .expect("YOUDE_TEST_MEILI_URL was set when this test was built but is not set now");
                    super::$case(engine).await
                }
            )*
        }
    };
}

conformance!(
    exact_name_ranks_first,
    pinyin_and_initials_find_the_name,
    traditional_characters_find_simplified,
    two_characters_of_a_name_find_it,
    deeds_find_the_person,
    facets_count_every_match_and_filters_narrow,
    withdrawal_and_deletion_leave_the_index,
    community_renames_reach_the_documents,
    pagination_walks_every_hit_once,
    no_private_value_in_any_document,
    rebuild_swaps_atomically_and_replays_changes_made_meanwhile,
    reindex_repairs_a_drifted_index,
    outage_then_recovery_leaves_the_index_equal_to_the_database,
    stories_are_indexed_only_while_the_public_may_read_them,
    last_word_matches_as_it_is_typed,
    v_and_u_colon_stand_for_u_umlaut,
    tone_marks_and_spaced_syllables,
    chinese_mixed_with_pinyin,
    every_reading_of_a_polyphonic_given_name,
    surnames_with_their_surname_reading,
    compound_surnames_as_units,
);

/// The demo's featured story; it names 孙建伟 and mentions 智慧社区 in its title.
const SMART: &str = "“智慧社区”建成的背后 有着这位专业“老法师”的强势助攻";
/// The demo's other story; it names nobody and mentions 业委会, 垃圾分类 and 加装电梯.
const SECRETARIES: &str = "开学季 居民区书记忙着增强基层治理“经验值”";

pub struct Harness {
    pub app: TestApp,
    engine: Engine,
    uid: String,
}

impl Harness {
    fn index(&self) -> &dyn SearchIndex {
        self.app.search.index.as_ref()
    }

    async fn query(&self, query: SearchQuery) -> SearchResults {
        self.index().search(&query).await.expect("search")
    }

    async fn names(&self, q: &str) -> Vec<String> {
        self.query(SearchQuery::new(q))
            .await
            .hits
            .into_iter()
            .map(|d| d.name)
            .collect()
    }

    /// Names of the people found, in rank order (stories left out by the `kind` filter).
    async fn people(&self, q: &str) -> Vec<String> {
        let mut query = SearchQuery::new(q);
        query.kind = Some("resident".into());
        self.query(query)
            .await
            .hits
            .into_iter()
            .map(|d| d.name)
            .collect()
    }

    /// `(kind, name)` of every hit, sorted: for checks where ranking is not the point.
    async fn found(&self, q: &str) -> Vec<(String, String)> {
        let mut hits: Vec<_> = self
            .query(SearchQuery::new(q))
            .await
            .hits
            .into_iter()
            .map(|d| (d.kind, d.name))
            .collect();
        hits.sort();
        hits
    }

    /// A resident in `community` (default: the demo's 音乐广场), public when `public`, with
    /// service records `(kind, title, start, end)`. Returns the id.
    async fn person(
        &self,
        name: &str,
        community: Option<i64>,
        public: bool,
        records: &[(&str, &str, &str, Option<&str>)],
    ) -> i64 {
        let community_id = match community {
            Some(id) => id,
            None => self.community("音乐广场").await,
        };
        let created = self
            .app
            .create_resident(&json!({ "name": name, "community_id": community_id }))
            .await;
        created.assert_status(201);
        let id = created.body["id"].as_i64().unwrap();
        if public {
            self.app.consent(id, "profile").await.assert_status(201);
        }
        for (kind, title, start, end) in records {
            self.app
                .add_record(id, &json!({ "kind": kind, "title": title, "start": start, "end": end, "unpaid": true }))
                .await
                .assert_status(201);
        }
        id
    }

    async fn community(&self, name: &str) -> i64 {
        let list = self.app.get("/api/v1/communities?limit=200").await;
        list.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .expect("community")["id"]
            .as_i64()
            .unwrap()
    }

    async fn new_compound(&self, name: &str) -> i64 {
        let parent = self.community("长寿路街道").await;
        let reply = self
            .app
            .post(
                "/api/v1/communities",
                &json!({ "name": name, "kind": "compound", "parent_id": parent }),
            )
            .await;
        reply.assert_status(201);
        reply.body["id"].as_i64().unwrap()
    }

    /// What the database says the index should hold — every resident, the public stories — by id.
    async fn expected(&self) -> Vec<SearchDocument> {
        let db = &self.app.db;
        let ids: Vec<i64> = resident::Entity::find()
            .select_only()
            .column(resident::Column::Id)
            .order_by_asc(resident::Column::Id)
            .into_tuple()
            .all(db)
            .await
            .unwrap();
        let story_ids: Vec<i64> = story::Entity::find()
            .select_only()
            .column(story::Column::Id)
            .order_by_asc(story::Column::Id)
            .into_tuple()
            .all(db)
            .await
            .unwrap();
        let today = youde::search::document::today();
        let mut docs: Vec<SearchDocument> = residents_documents(db, &ids, today)
            .await
            .unwrap()
            .into_iter()
            .chain(stories_documents(db, &story_ids).await.unwrap())
            .filter_map(|(_, d)| d)
            .collect();
        docs.sort_by(|a, b| a.id.cmp(&b.id));
        docs
    }

    async fn assert_index_equals_database(&self) {
        let mut actual = search::documents(self.index()).await.expect("documents");
        actual.sort_by(|a, b| a.id.cmp(&b.id));
        let expected = self.expected().await;
        assert_eq!(actual.len(), expected.len(), "document count");
        for (a, e) in actual.iter().zip(&expected) {
            assert_eq!(a, e, "document {} differs from the database", e.id);
        }
    }

    /// Delete this test's Meilisearch index (the embedded one goes with the temp dir).
    async fn finish(self) {
        if let Engine::Meili { url, key } = &self.engine {
            let client =
                meilisearch_sdk::client::Client::new(url.as_str(), key.as_deref()).unwrap();
            let _ = client.delete_index(&self.uid).await;
        }
    }
}

/// The namesakes and near-namesakes the relevance cases need, beside the demo's 孙建伟.
async fn namesakes(h: &Harness) {
    h.person("孙建国", None, true, &[("role", "楼组长", "2015", None)])
        .await;
    h.person(
        "王建伟",
        None,
        true,
        &[("volunteer_hours", "社区巡逻志愿服务", "2018", Some("2019"))],
    )
    .await;
    h.person(
        "沈家旺",
        None,
        true,
        &[("activity", "社区读书会", "2019-03", Some("2019-03"))],
    )
    .await;
    h.person("孙伟", None, true, &[]).await;
    h.app.drain().await;
}

async fn exact_name_ranks_first(engine: Engine) {
    let h = engine.app().await;
    namesakes(&h).await;
    assert_eq!(
        h.names("孙建伟").await.first().map(String::as_str),
        Some("孙建伟")
    );
    assert_eq!(
        h.names("孙建国").await.first().map(String::as_str),
        Some("孙建国")
    );
    let sun_wei = h.names("孙伟").await;
    assert_eq!(
        sun_wei.first().map(String::as_str),
        Some("孙伟"),
        "{sun_wei:?}"
    );
    h.finish().await;
}

async fn pinyin_and_initials_find_the_name(engine: Engine) {
    let h = engine.app().await;
    namesakes(&h).await;
    for q in [
        "sunjianwei",
        "sun jianwei",
        "SunJianwei",
        "ｓｕｎｊｉａｎｗｅｉ",
    ] {
        assert_eq!(
            h.names(q).await.first().map(String::as_str),
            Some("孙建伟"),
            "query {q}"
        );
    }
    let sjw = h.names("sjw").await;
    assert!(
        sjw.contains(&"孙建伟".to_string()) && sjw.contains(&"沈家旺".to_string()),
        "sjw: {sjw:?}"
    );
    assert!(!sjw.contains(&"孙建国".to_string()), "sjw: {sjw:?}");
    h.finish().await;
}

async fn traditional_characters_find_simplified(engine: Engine) {
    let h = engine.app().await;
    let person = || ("resident".to_string(), "孙建伟".to_string());
    let story = |title: &str| ("story".to_string(), title.to_string());
    // The person first; then the story that names him.
    assert_eq!(h.names("孫建偉").await, vec!["孙建伟", SMART]);
    assert_eq!(h.found("智慧社區").await, vec![person(), story(SMART)]);
    assert_eq!(
        h.found("業委會").await,
        vec![person(), story(SMART), story(SECRETARIES)]
    );
    h.finish().await;
}

async fn two_characters_of_a_name_find_it(engine: Engine) {
    let h = engine.app().await;
    namesakes(&h).await;
    let found = h.names("建伟").await;
    assert!(
        found.contains(&"孙建伟".to_string()) && found.contains(&"王建伟".to_string()),
        "建伟: {found:?}"
    );
    assert!(!found.contains(&"孙建国".to_string()), "建伟: {found:?}");
    let found = h.names("孙建").await;
    assert!(
        found.contains(&"孙建伟".to_string()) && found.contains(&"孙建国".to_string()),
        "孙建: {found:?}"
    );
    h.finish().await;
}

async fn deeds_find_the_person(engine: Engine) {
    let h = engine.app().await;
    namesakes(&h).await;
    for q in [
        "智慧社区",
        "业委会",
        "接待参访",
        "预算模块",
        "无偿服务 12 年",
    ] {
        assert_eq!(
            h.people(q).await.first().map(String::as_str),
            Some("孙建伟"),
            "query {q}"
        );
    }
    // A topic query finds the person behind it and the story with that title; nobody else.
    // (Which of the two ranks first is the engine's call: the story's title against his deeds.)
    assert_eq!(
        h.found("智慧社区").await,
        vec![
            ("resident".to_string(), "孙建伟".to_string()),
            ("story".to_string(), SMART.to_string())
        ]
    );
    assert!(h.names("火星探测").await.is_empty());
    h.finish().await;
}

async fn facets_count_every_match_and_filters_narrow(engine: Engine) {
    let h = engine.app().await;
    let a = h.community("音乐广场").await;
    let b = h.new_compound("江宁小区").await;
    h.person(
        "周丽",
        Some(a),
        true,
        &[("volunteer_hours", "楼道清洁志愿服务", "2018", Some("2019"))],
    )
    .await;
    h.person(
        "吴敏",
        Some(b),
        true,
        &[
            ("volunteer_hours", "楼道清洁志愿服务", "2019", Some("2019")),
            ("hosting", "接待外区参观团", "2020", Some("2020")),
        ],
    )
    .await;
    h.person(
        "郑华",
        Some(b),
        false,
        &[("volunteer_hours", "楼道清洁志愿服务", "2019", Some("2019"))],
    )
    .await;
    h.app.drain().await;

    let all = h.query(SearchQuery::new("楼道清洁")).await;
    assert_eq!(all.total, 2, "public: 周丽 and 吴敏, not 郑华");
    let f = &all.facets;
    assert_eq!(f.kind, vec![("resident".to_string(), 2)]);
    let mut communities = f.community.clone();
    communities.sort();
    assert_eq!(communities, vec![(a, 1), (b, 1)]);
    assert!(
        f.category.contains(&("志愿服务".to_string(), 2)),
        "{:?}",
        f.category
    );
    assert!(
        f.category.contains(&("接待参访".to_string(), 1)),
        "{:?}",
        f.category
    );
    assert_eq!(f.year, vec![(2020, 1), (2019, 2), (2018, 1)]);

    let narrowed = |edit: &dyn Fn(&mut SearchQuery)| {
        let mut q = SearchQuery::new("楼道清洁");
        edit(&mut q);
        q
    };
    let names = |r: SearchResults| r.hits.into_iter().map(|d| d.name).collect::<Vec<_>>();
    assert_eq!(
        names(h.query(narrowed(&|q| q.community = Some(b))).await),
        vec!["吴敏"]
    );
    let street = h.community("长寿路街道").await;
    assert_eq!(
        h.query(narrowed(&|q| q.community = Some(street)))
            .await
            .total,
        2,
        "a community includes those below it"
    );
    assert_eq!(
        names(
            h.query(narrowed(&|q| q.category = Some("接待参访".into())))
                .await
        ),
        vec!["吴敏"]
    );
    assert_eq!(
        names(h.query(narrowed(&|q| q.year = Some(2018))).await),
        vec!["周丽"]
    );
    assert_eq!(
        h.query(narrowed(&|q| q.kind = Some("resident".into())))
            .await
            .total,
        2
    );
    assert_eq!(
        h.query(narrowed(&|q| q.kind = Some("story".into())))
            .await
            .total,
        0
    );
    let staff = h.query(narrowed(&|q| q.scope = Scope::Staff)).await;
    assert_eq!(staff.total, 3, "staff see 郑华 too");
    assert_eq!(
        staff.facets.community.iter().find(|(id, _)| *id == b),
        Some(&(b, 2))
    );
    h.finish().await;
}

async fn withdrawal_and_deletion_leave_the_index(engine: Engine) {
    let h = engine.app().await;
    let id = h
        .person(
            "钱多多",
            None,
            true,
            &[("project", "加装电梯协调", "2020", Some("2021"))],
        )
        .await;
    h.app.drain().await;
    assert_eq!(h.names("钱多多").await, vec!["钱多多"]);

    let consent_id = h
        .app
        .staff_get(&format!("/api/v1/residents/{id}/consents"))
        .await
        .body[0]["id"]
        .as_i64()
        .unwrap();
    h.app
        .post(
            &format!("/api/v1/residents/{id}/consents/{consent_id}/withdraw"),
            &json!({}),
        )
        .await
        .assert_status(200);
    h.app.drain().await;
    assert!(
        h.names("钱多多").await.is_empty(),
        "withdrawn: gone from public search"
    );
    assert!(
        h.people("加装电梯").await.is_empty(),
        "and from searches by deed (the demo story mentioning 加装电梯 stays)"
    );
    let mut staff = SearchQuery::new("钱多多");
    staff.scope = Scope::Staff;
    let hits = h.query(staff.clone()).await.hits;
    assert_eq!(hits.len(), 1, "staff still find the resident");
    assert!(!hits[0].public);

    h.app
        .delete(&format!("/api/v1/residents/{id}"))
        .await
        .assert_status(204);
    h.app.drain().await;
    assert!(
        h.query(staff).await.hits.is_empty(),
        "deleted: gone for staff too"
    );
    let doc_id = SearchDocument::doc_id("resident", id);
    assert!(!search::documents(h.index())
        .await
        .unwrap()
        .iter()
        .any(|d| d.id == doc_id));
    h.finish().await;
}

async fn community_renames_reach_the_documents(engine: Engine) {
    let h = engine.app().await;
    let compound = h.community("音乐广场").await;
    let current = h.app.get(&format!("/api/v1/communities/{compound}")).await;
    let parent = current.body["parent_id"].clone();
    h.app
        .put(
            &format!("/api/v1/communities/{compound}"),
            Some(&current.etag()),
            &json!({ "name": "音乐广场花园", "kind": "compound", "parent_id": parent }),
        )
        .await
        .assert_status(200);
    h.app.drain().await;
    // 孙建伟, and the story naming him: its document carries his community too.
    let hits = h.query(SearchQuery::new("音乐广场花园")).await.hits;
    let mut kinds: Vec<&str> = hits.iter().map(|d| d.kind.as_str()).collect();
    kinds.sort();
    assert_eq!(kinds, ["resident", "story"]);
    for hit in &hits {
        assert_eq!(hit.community_path, "普陀区 › 长寿路街道 › 音乐广场花园");
    }
    h.assert_index_equals_database().await;
    h.finish().await;
}

async fn pagination_walks_every_hit_once(engine: Engine) {
    let h = engine.app().await;
    let given = [
        "一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "甲", "乙",
    ];
    for (i, g) in given.iter().enumerate() {
        let record = [("volunteer_hours", "垃圾分类值守", "2021", Some("2021"))];
        h.person(
            &format!("陈{g}{}", if i % 2 == 0 { "明" } else { "华" }),
            None,
            true,
            &record,
        )
        .await;
    }
    h.app.drain().await;
    let mut seen = Vec::new();
    let mut offset = 0;
    loop {
        let mut q = SearchQuery::new("垃圾分类");
        q.limit = 5;
        q.offset = offset;
        let page = h.query(q).await;
        assert_eq!(
            page.total, 13,
            "12 people and the demo story on 垃圾分类; the same on every page"
        );
        if page.hits.is_empty() {
            break;
        }
        assert!(page.hits.len() <= 5);
        seen.extend(page.hits.into_iter().map(|d| d.id));
        offset += 5;
    }
    let unique: std::collections::BTreeSet<_> = seen.iter().collect();
    assert_eq!(seen.len(), 13);
    assert_eq!(unique.len(), 13, "no hit twice");
    h.finish().await;
}

const PHONE: &str = "13912345678";
const ID_NUMBER: &str = "11010519491231002X";
const ADDRESS: &str = "胶州路 1234 弄 56 号 789 室";
const BIRTH_YEAR: i64 = 1931;

async fn no_private_value_in_any_document(engine: Engine) {
    let h = engine.app().await;
    let community_id = h.community("音乐广场").await;
    for (name, public) in [("褚秀英", true), ("卫国强", false)] {
        let created = h
            .app
            .create_resident(&json!({
                "name": name, "community_id": community_id, "citation": "热心调解邻里纠纷",
                "phone": PHONE, "id_number": ID_NUMBER, "birth_year": BIRTH_YEAR, "address": ADDRESS,
            }))
            .await;
        created.assert_status(201);
        let id = created.body["id"].as_i64().unwrap();
        if public {
            h.app.consent(id, "profile").await.assert_status(201);
        }
        h.app
            .add_record(id, &json!({ "kind": "other", "title": "调解邻里纠纷", "start": "2016", "end": "2020" }))
            .await
            .assert_status(201);
    }
    h.app.drain().await;
    let raw = h.index().raw_documents().await.unwrap();
    assert!(
        raw.len() >= 3,
        "the demo's 孙建伟 and both new residents are indexed"
    );
    for doc in &raw {
        let text = doc.to_string();
        for secret in [
            PHONE,
            ID_NUMBER,
            ADDRESS,
            &BIRTH_YEAR.to_string(),
            "phone",
            "id_number",
            "address",
            "birth_year",
        ] {
            assert!(
                !text.contains(secret),
                "private value or field {secret} in a search document: {text}"
            );
        }
    }
    h.finish().await;
}

async fn rebuild_swaps_atomically_and_replays_changes_made_meanwhile(engine: Engine) {
    let h = engine.app().await;
    let started = chrono::Utc::now();
    let mut builder = h.index().rebuild().await.expect("rebuild");
    // The rebuild reads its snapshot …
    let snapshot: Vec<SearchDocument> = h.expected().await;
    builder.add(snapshot).await.unwrap();
    // … while the registry changes and the relay keeps delivering to the live index,
    let newcomer = h
        .person(
            "冯新",
            None,
            true,
            &[("project", "屋顶花园改造", "2022", Some("2022"))],
        )
        .await;
    let sun = h.app.get("/api/v1/residents?limit=5").await.body["items"][0]["id"]
        .as_i64()
        .unwrap();
    let consent_id = h
        .app
        .staff_get(&format!("/api/v1/residents/{sun}/consents"))
        .await
        .body[0]["id"]
        .as_i64()
        .unwrap();
    h.app
        .post(
            &format!("/api/v1/residents/{sun}/consents/{consent_id}/withdraw"),
            &json!({}),
        )
        .await
        .assert_status(200);
    h.app.drain().await;
    // … which keeps answering.
    assert_eq!(h.names("冯新").await, vec!["冯新"]);
    // His profile consent is gone; his story consent is not, so the story naming him stays.
    assert_eq!(h.names("孙建伟").await, vec![SMART]);

    builder.finish().await.expect("swap");
    // The swapped-in index is the stale snapshot until the changes made meanwhile are replayed.
    assert!(
        h.names("冯新").await.is_empty(),
        "the new index was built from the snapshot"
    );
    let replayed = h
        .app
        .search
        .relay
        .replay_since(started - chrono::Duration::seconds(60))
        .await
        .unwrap();
    assert!(replayed >= 2, "replayed {replayed}");
    assert_eq!(h.names("冯新").await, vec!["冯新"]);
    assert!(
        h.people("孙建伟").await.is_empty(),
        "the withdrawal survived the rebuild"
    );
    assert!(h.expected().await.iter().any(|d| d.entity_id == newcomer));
    h.assert_index_equals_database().await;
    h.finish().await;
}

async fn reindex_repairs_a_drifted_index(engine: Engine) {
    let h = engine.app().await;
    namesakes(&h).await;
    // Drift: a document lost, a stray one added behind the outbox's back.
    let mut stray = h.expected().await[0].clone();
    stray.id = SearchDocument::doc_id("resident", 999_999);
    stray.entity_id = 999_999;
    stray.name = "不存在".into();
    let lost = h.expected().await[1].id.clone();
    h.index()
        .apply(&[IndexOp::Upsert(stray), IndexOp::Delete(lost)])
        .await
        .unwrap();
    let report = search::reindex::run(&h.app.db, h.index(), &h.app.search.relay, None)
        .await
        .expect("reindex");
    assert_eq!(
        report.documents, 7,
        "the demo's and 4 namesakes, and the 2 demo stories"
    );
    h.assert_index_equals_database().await;
    assert!(h.names("不存在").await.is_empty());
    h.finish().await;
}

/// Delivery stops (the engine cannot take writes), 100 changes are made through the API, the
/// engine comes back, and the index ends up equal to the database.
async fn outage_then_recovery_leaves_the_index_equal_to_the_database(engine: Engine) {
    let h = engine.app().await;
    // The outage. Embedded: another process's writer holds the index's write lock. Meilisearch:
    // the relay talks to an address where nothing listens.
    let (held_lock, down_relay) = match &h.engine {
        Engine::Embedded => {
            let lock = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(h.app.dir.path().join("index").join("write.lock"))
                .unwrap();
            lock.lock().unwrap();
            (Some(lock), None)
        }
        Engine::Meili { .. } => {
            let (down, _) = MeiliIndex::open("http://127.0.0.1:9", None, &h.uid)
                .await
                .unwrap();
            (
                None,
                Some(youde::search::Relay::new(h.app.db.clone(), Arc::new(down))),
            )
        }
    };
    let deliver_during_outage = || async {
        match &down_relay {
            Some(relay) => relay.drain().await.is_err(),
            None => h.app.search.relay.drain().await.is_err(),
        }
    };

    let compound = h.community("音乐广场").await;
    let mut changes = 0;
    let mut ids = Vec::new();
    for i in 0..20 {
        let reply = h.app.create_resident(&json!({ "name": format!("蒋{}", ["红", "军", "芳", "平", "勇"][i % 5]), "community_id": compound })).await;
        reply.assert_status(201);
        ids.push(reply.body["id"].as_i64().unwrap());
        changes += 1;
    }
    for (i, id) in ids.iter().enumerate() {
        if i % 4 != 3 {
            h.app.consent(*id, "profile").await.assert_status(201);
            changes += 1;
        }
        let record = json!({ "kind": "volunteer_hours", "title": format!("第 {i} 期社区团购志愿服务"), "start": "2020", "end": "2020" });
        h.app.add_record(*id, &record).await.assert_status(201);
        changes += 1;
    }
    assert!(
        deliver_during_outage().await,
        "delivery fails while the engine is down"
    );
    if down_relay.is_none() {
        let ready = h.app.get("/readyz").await;
        ready.assert_status(200);
        assert_eq!(ready.body["search"]["status"], "degraded", "{}", ready.text);
        assert!(ready.body["search"]["backlog"].as_u64().unwrap() > 0);
    }
    // Withdrawals, edits and deletes while still down.
    for id in ids.iter().take(15) {
        let consents = h
            .app
            .staff_get(&format!("/api/v1/residents/{id}/consents"))
            .await;
        if let Some(c) = consents.body.as_array().unwrap().first() {
            let cid = c["id"].as_i64().unwrap();
            h.app
                .post(
                    &format!("/api/v1/residents/{id}/consents/{cid}/withdraw"),
                    &json!({}),
                )
                .await
                .assert_status(200);
            changes += 1;
        }
    }
    for id in ids.iter().skip(15).take(3) {
        let current = h.app.staff_get(&format!("/api/v1/residents/{id}")).await;
        let body =
            json!({ "name": "蒋改名", "community_id": compound, "citation": "疫情期间组织团购" });
        h.app
            .put(
                &format!("/api/v1/residents/{id}"),
                Some(&current.etag()),
                &body,
            )
            .await
            .assert_status(200);
        changes += 1;
    }
    for id in ids.iter().skip(18) {
        h.app
            .delete(&format!("/api/v1/residents/{id}"))
            .await
            .assert_status(204);
        changes += 1;
    }
    while changes < 100 {
        h.app
            .add_record(
                ids[0],
                &json!({ "kind": "other", "title": format!("补记 {changes}"), "start": "2021" }),
            )
            .await
            .assert_status(201);
        changes += 1;
    }
    assert!(deliver_during_outage().await, "still down");
    assert_eq!(changes, 100);
    let pending = youde::store::outbox::backlog(&h.app.db)
        .await
        .unwrap()
        .pending;
    assert!(
        pending >= 100,
        "every change waits in the outbox: {pending}"
    );

    drop(held_lock); // the engine is back
    h.app.drain().await;
    assert_eq!(
        youde::store::outbox::backlog(&h.app.db)
            .await
            .unwrap()
            .pending,
        0
    );
    h.assert_index_equals_database().await;
    assert_eq!(h.app.get("/readyz").await.body["search"]["status"], "ok");
    h.finish().await;
}

/// A story is in the index only while the public may read it — not as a draft (not even for the
/// staff scope), from its publication on, not while a named resident's story consent is
/// withdrawn, not once deleted — and its document finds it by a word of its body, by kind,
/// community, theme and year, and equals what the database says.
async fn stories_are_indexed_only_while_the_public_may_read_them(engine: Engine) {
    let h = engine.app().await;
    let compound = h.new_compound("江宁小区").await;
    let resident = h.person("严秀兰", Some(compound), true, &[]).await;
    h.app.consent(resident, "story").await.assert_status(201);
    let created = h
        .app
        .post(
            "/api/v1/stories",
            &json!({
                "title": "楼道花园的守护人", "subtitle": "二十年如一日", "section": "长寿先锋",
                "themes": ["有德之士", "绿化"], "byline": "记者 周晶",
                "body": "她把废弃的**泡沫箱**改成花盆，带着邻居种出一条月季长廊。",
                "resident_ids": [resident],
            }),
        )
        .await;
    created.assert_status(201);
    let id = created.body["id"].as_i64().unwrap();
    let slug = created.body["slug"].as_str().unwrap().to_string();
    let doc_id = SearchDocument::doc_id("story", id);
    let staff = |q: &str| {
        let mut query = SearchQuery::new(q);
        query.scope = Scope::Staff;
        query
    };
    let indexed = || async {
        search::documents(h.index())
            .await
            .unwrap()
            .iter()
            .any(|d| d.id == doc_id)
    };
    h.app.drain().await;
    assert!(h.names("月季长廊").await.is_empty(), "a draft is not found");
    assert!(h.query(staff("月季长廊")).await.hits.is_empty());
    assert!(!indexed().await, "a draft has no document at all");

    let publication = format!("/api/v1/stories/{id}/publication");
    h.app
        .put(&publication, None, &json!({ "published": true }))
        .await
        .assert_status(200);
    h.app.drain().await;
    let found = h.query(SearchQuery::new("月季长廊")).await;
    assert_eq!(
        found.hits.len(),
        1,
        "published: found by a word of its body"
    );
    let hit = &found.hits[0];
    assert_eq!(hit.kind, "story");
    assert_eq!(hit.name, "楼道花园的守护人");
    assert_eq!(hit.url(), format!("/stories/{slug}"));
    assert_eq!(hit.community_id, Some(compound));
    assert_eq!(hit.community_path, "普陀区 › 长寿路街道 › 江宁小区");
    assert!(hit.public);
    assert_eq!(found.facets.kind, vec![("story".to_string(), 1)]);
    assert_eq!(h.names("二十年如一日").await, vec!["楼道花园的守护人"]);
    assert_eq!(h.names("泡沫箱").await, vec!["楼道花园的守护人"]);
    let narrowed = |edit: &dyn Fn(&mut SearchQuery)| {
        let mut q = SearchQuery::new("月季长廊");
        edit(&mut q);
        q
    };
    let year = chrono::Datelike::year(&youde::search::document::today());
    let street = h.community("长寿路街道").await;
    for (what, query, total) in [
        (
            "kind story",
            narrowed(&|q| q.kind = Some("story".into())),
            1,
        ),
        (
            "kind resident",
            narrowed(&|q| q.kind = Some("resident".into())),
            0,
        ),
        (
            "its resident's compound",
            narrowed(&|q| q.community = Some(compound)),
            1,
        ),
        (
            "the street above it",
            narrowed(&|q| q.community = Some(street)),
            1,
        ),
        (
            "a theme",
            narrowed(&|q| q.category = Some("绿化".into())),
            1,
        ),
        ("the year published", narrowed(&|q| q.year = Some(year)), 1),
        ("another year", narrowed(&|q| q.year = Some(2001)), 0),
    ] {
        assert_eq!(h.query(query).await.total, total, "filter: {what}");
    }
    h.assert_index_equals_database().await;

    // The named resident withdraws their story consent: the story leaves the index.
    h.app.withdraw_consent(resident, "story").await;
    h.app.drain().await;
    assert!(
        h.names("月季长廊").await.is_empty(),
        "unconsented: not found"
    );
    assert!(h.query(staff("月季长廊")).await.hits.is_empty());
    assert!(!indexed().await);
    h.assert_index_equals_database().await;

    // Consent given again: it is public again, and found again; deleted: gone.
    h.app.consent(resident, "story").await.assert_status(201);
    h.app.drain().await;
    assert_eq!(h.names("月季长廊").await, vec!["楼道花园的守护人"]);
    h.app
        .delete(&format!("/api/v1/stories/{id}"))
        .await
        .assert_status(204);
    h.app.drain().await;
    assert!(!indexed().await, "deleted: gone");
    h.assert_index_equals_database().await;
    h.finish().await;
}
