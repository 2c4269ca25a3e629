//! The Meilisearch engine, for deployments with several app nodes (`YOUDE_MEILI_URL`).
//!
//! Documents carry normalised copies of their text (`search_name`, `search_body`,
//! `search_context`: simplified characters, the name's n-grams) and only those are searchable,
//! so a traditional-character query (normalised before it is sent) finds simplified text whatever
//! Meilisearch's own tokenizer does. Public queries always carry the `public = true` filter.
//! Every write is a Meilisearch task; a task still pending after the wait is reported as
//! [`SearchError::Unconfirmed`] (the relay keeps its rows and checks again), not as a failure.
//!
//! Time is bounded everywhere: every request by [`REQUEST_TIMEOUT`], every task wait by the wall
//! clock (the SDK's own wait counts only its sleeps and its HTTP client has no timeout), searches
//! and health checks by the short `YOUDE_MEILI_TIMEOUT_MS`, so a hung engine costs a search its
//! 503 within about a second. An unconfirmed write is checked again by its task uids, not sent
//! again. The index settings are applied once per start (retried in the background while the
//! engine is unreachable), never on the search path.

mod rebuild;

use std::collections::HashMap;
use std::future::Future;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use meilisearch_sdk::client::Client;
use meilisearch_sdk::documents::DocumentsQuery;
use meilisearch_sdk::errors::{Error as MeiliError, ErrorCode};
use meilisearch_sdk::search::{MatchingStrategies, Selectors};
use meilisearch_sdk::settings::{LocalizedAttributes, Settings, TypoToleranceSettings};
use meilisearch_sdk::task_info::TaskInfo;
use meilisearch_sdk::tasks::{Task, TasksSearchQuery};
use serde::{Deserialize, Serialize};

use super::{
    text, Facets, IndexBuilder, IndexOp, Scope, SearchDocument, SearchError, SearchIndex,
    SearchQuery,
};
use super::{SearchResult, SearchResults};

/// How long one HTTP request of a write may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a write waits for its task (wall clock) before calling it unconfirmed.
const TASK_TIMEOUT: Duration = Duration::from_secs(10);
const TASK_POLL: Duration = Duration::from_millis(25);
/// How long a search or a health check waits by default (`YOUDE_MEILI_TIMEOUT_MS`).
pub const DEFAULT_SEARCH_TIMEOUT: Duration = Duration::from_millis(1000);
/// Pause between attempts to apply the settings while the engine is unreachable at start.
const SETTINGS_RETRY: Duration = Duration::from_secs(2);

const SEARCHABLE: [&str; 6] = [
    "search_exact",
    "search_exact_pinyin",
    "search_name",
    "search_pinyin",
    "search_body",
    "search_context",
];
const FILTERABLE: [&str; 6] = [
    "public",
    "kind",
    "community_id",
    "community_ids",
    "categories",
    "years",
];
const FACETS: [&str; 4] = ["kind", "community_id", "categories", "years"];

/// The document as Meilisearch holds it.
#[derive(Debug, Serialize, Deserialize)]
struct MeiliDocument {
    #[serde(flatten)]
    doc: SearchDocument,
    /// The whole name, normalised, without spaces: a query equal to it ranks first (Meilisearch's
    /// `exactness` rule puts an attribute equal to the query first).
    search_exact: String,
    /// The whole name's pinyin joined, per reading, for the same with a pinyin query.
    search_exact_pinyin: Vec<String>,
    search_name: String,
    /// The name's pinyin words in every reading ([`text::PinyinKeys`]); Meilisearch matches the
    /// query's last word as a prefix of them itself.
    search_pinyin: String,
    search_body: String,
    search_context: String,
}

impl From<&SearchDocument> for MeiliDocument {
    fn from(doc: &SearchDocument) -> Self {
        let name = text::normalize(&doc.name);
        // Titles of stories have no pinyin: `sjw` finds people, not headlines.
        let keys = if doc.pinyin.is_empty() {
            text::PinyinKeys::default()
        } else {
            text::PinyinKeys::of(&doc.name)
        };
        MeiliDocument {
            doc: doc.clone(),
            search_exact: text::compact(&name),
            search_exact_pinyin: keys.whole,
            search_name: text::name_grams(&name).join(" "),
            search_pinyin: keys.words.join(" "),
            search_body: text::normalize(&doc.body()),
            search_context: text::normalize(&doc.context()),
        }
    }
}

fn settings() -> Settings {
    Settings::new()
        .with_searchable_attributes(SEARCHABLE)
        .with_filterable_attributes(FILTERABLE)
        .with_sortable_attributes(["entity_id"])
        .with_ranking_rules([
            "words",
            "typo",
            "proximity",
            "attribute",
            "sort",
            "exactness",
        ])
        .with_localized_attributes([LocalizedAttributes {
            locales: vec!["cmn".into()],
            attribute_patterns: vec![
                "search_exact".into(),
                "search_name".into(),
                "search_body".into(),
                "search_context".into(),
            ],
        }])
        .with_max_values_per_facet(200)
        // Pinyin comes from a keyboard that spells syllables exactly; a typo there finds
        // different people (`chenxiaoy` is not 陈小明). Names and text keep typo tolerance.
        .with_typo_tolerance(TypoToleranceSettings {
            enabled: Some(true),
            disable_on_attributes: Some(vec!["search_pinyin".into(), "search_exact_pinyin".into()]),
            disable_on_words: None,
            min_word_size_for_typos: None,
            disable_on_numbers: None,
        })
}

/// Whether the settings an index has (`have`, as Meilisearch reports them, every field filled
/// in) include every setting of `want`. Lists compare as sets, except the two whose order means
/// something: ranking rules and searchable attributes.
fn settings_cover(want: &Settings, have: &Settings) -> bool {
    fn covers(key: &str, want: &serde_json::Value, have: &serde_json::Value) -> bool {
        use serde_json::Value;
        match (want, have) {
            (Value::Null, _) => true,
            (Value::Object(want), Value::Object(have)) => want
                .iter()
                .all(|(k, w)| covers(k, w, have.get(k).unwrap_or(&Value::Null))),
            (Value::Array(want), Value::Array(have))
                if !matches!(key, "rankingRules" | "searchableAttributes") =>
            {
                let key = |v: &Value| v.to_string();
                let mut want: Vec<String> = want.iter().map(key).collect();
                let mut have: Vec<String> = have.iter().map(key).collect();
                want.sort();
                have.sort();
                want == have
            }
            (want, have) => want == have,
        }
    }
    match (serde_json::to_value(want), serde_json::to_value(have)) {
        (Ok(want), Ok(have)) => covers("", &want, &have),
        _ => false,
    }
}

fn unavailable(e: MeiliError) -> SearchError {
    match e {
        MeiliError::Meilisearch(e) => {
            SearchError::Rejected(format!("{}: {}", e.error_code, e.error_message))
        }
        other => SearchError::Unavailable(format!("meilisearch: {other}")),
    }
}

async fn timed<T>(fut: impl Future<Output = Result<T, MeiliError>>) -> SearchResult<T> {
    within(REQUEST_TIMEOUT, fut).await
}

async fn within<T>(
    limit: Duration,
    fut: impl Future<Output = Result<T, MeiliError>>,
) -> SearchResult<T> {
    match tokio::time::timeout(limit, fut).await {
        Ok(result) => result.map_err(unavailable),
        Err(_) => Err(SearchError::Unavailable(format!(
            "meilisearch did not answer within {} ms",
            limit.as_millis()
        ))),
    }
}

/// A task uid in the form the SDK's `get_task` takes.
struct TaskUid(u32);

impl AsRef<u32> for TaskUid {
    fn as_ref(&self) -> &u32 {
        &self.0
    }
}

/// Wait for a task by its uid until `limit` of wall-clock time has passed: `Unconfirmed` if it is
/// still enqueued or processing then.
async fn wait_task(client: &Client, uid: u32, limit: Duration) -> SearchResult<()> {
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let task = match within(left.min(REQUEST_TIMEOUT), client.get_task(TaskUid(uid))).await {
            Ok(task) => task,
            // The engine stopped answering while we wait: the task may still run; check again.
            Err(SearchError::Unavailable(_)) if left.is_zero() => {
                return Err(SearchError::Unconfirmed(format!("meilisearch task {uid}")))
            }
            Err(e) => return Err(e),
        };
        match task {
            Task::Succeeded { .. } => return Ok(()),
            Task::Failed { content } => {
                return Err(SearchError::Rejected(format!(
                    "task {uid}: {}: {}",
                    content.error.error_code, content.error.error_message
                )))
            }
            Task::Enqueued { .. } | Task::Processing { .. } => {
                if Instant::now() + TASK_POLL >= deadline {
                    return Err(SearchError::Unconfirmed(format!("meilisearch task {uid}")));
                }
                tokio::time::sleep(TASK_POLL).await;
            }
        }
    }
}

/// Filter values are quoted strings; a quote or backslash inside is escaped.
fn quoted(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

fn filter_expression(query: &SearchQuery) -> String {
    let mut parts: Vec<String> = Vec::new();
    if query.scope == Scope::Public {
        parts.push("public = true".into());
    }
    if let Some(kind) = &query.kind {
        parts.push(format!("kind = {}", quoted(kind)));
    }
    if let Some(community) = query.community {
        parts.push(format!("community_ids = {community}"));
    }
    if let Some(category) = &query.category {
        parts.push(format!("categories = {}", quoted(category)));
    }
    if let Some(year) = query.year {
        parts.push(format!("years = {year}"));
    }
    parts.join(" AND ")
}

pub struct MeiliIndex {
    client: Client,
    uid: String,
    /// The index is known to exist with our settings. Until then (Meilisearch was down at start,
    /// or the index vanished) writes apply them first; searches never do.
    ready: Arc<AtomicBool>,
    search_timeout: Duration,
    /// Tasks sent and not confirmed yet, with the fingerprint of the changes they carry.
    unconfirmed: Mutex<Option<Unconfirmed>>,
}

struct Unconfirmed {
    fingerprint: u64,
    tasks: Vec<u32>,
}

/// What a batch of changes is, for recognising it when the relay offers it again.
fn fingerprint(upserts: &[SearchDocument], deletes: &[String]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for doc in upserts {
        serde_json::to_string(doc).unwrap_or_default().hash(&mut h);
    }
    deletes.hash(&mut h);
    h.finish()
}

impl MeiliIndex {
    /// Connect and make sure the index exists with our settings. Meilisearch being down is not an
    /// error here (the app starts and the relay catches up later): the settings are applied in
    /// the background as soon as it answers, and by the first write that reaches it.
    pub async fn open(
        url: &str,
        api_key: Option<&str>,
        uid: &str,
    ) -> SearchResult<(MeiliIndex, bool)> {
        Self::open_with_timeout(url, api_key, uid, DEFAULT_SEARCH_TIMEOUT).await
    }

    /// [`MeiliIndex::open`] with how long a search or health check may wait for the engine.
    pub async fn open_with_timeout(
        url: &str,
        api_key: Option<&str>,
        uid: &str,
        search_timeout: Duration,
    ) -> SearchResult<(MeiliIndex, bool)> {
        let client = Client::new(url, api_key).map_err(unavailable)?;
        let index = MeiliIndex {
            client,
            uid: uid.to_string(),
            ready: Arc::new(AtomicBool::new(false)),
            search_timeout,
            unconfirmed: Mutex::new(None),
        };
        let fresh = match index.ensure(uid).await {
            Ok(fresh) => fresh,
            Err(err) => {
                tracing::warn!(error = %err, "meilisearch not reachable at start; search is degraded until it is");
                index.retry_settings_in_background();
                false
            }
        };
        Ok((index, fresh))
    }

    /// Apply the settings every [`SETTINGS_RETRY`] until they are in (or a write put them in).
    fn retry_settings_in_background(&self) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let engine = self.sibling();
        runtime.spawn(async move {
            while !engine.ready.load(Ordering::Relaxed) {
                tokio::time::sleep(SETTINGS_RETRY).await;
                if engine.ready.load(Ordering::Relaxed) {
                    break;
                }
                match engine.ensure(&engine.uid).await {
                    Ok(_) => tracing::info!("meilisearch answers; index settings applied"),
                    Err(err) => {
                        tracing::debug!(error = %err, "meilisearch settings not applied yet")
                    }
                }
            }
        });
    }

    /// Another handle on the same index and readiness.
    fn sibling(&self) -> MeiliIndex {
        MeiliIndex {
            client: self.client.clone(),
            uid: self.uid.clone(),
            ready: self.ready.clone(),
            search_timeout: self.search_timeout,
            unconfirmed: Mutex::new(None),
        }
    }

    /// Make sure `uid` exists with our settings; true when it was created.
    ///
    /// Nothing is queued when nothing needs doing: the index is looked up and its settings
    /// compared before any task is sent, and a settings task already pending (queued by another
    /// node, or by this one before a restart) is waited for rather than queued again. At a million
    /// residents one settings task runs for minutes, and every document change queued after it
    /// waits behind it; a node that queued a new one on each start or each retry never delivered
    /// a change. A settings task still running when the wait ends counts as applied for writes:
    /// Meilisearch runs an index's tasks in order, so documents sent afterwards are indexed with
    /// the new settings.
    async fn ensure(&self, uid: &str) -> SearchResult<bool> {
        let fresh = match timed(self.client.get_index(uid)).await {
            Ok(_) => false,
            Err(SearchError::Rejected(msg)) if msg.contains("index_not_found") => {
                self.create(uid).await?
            }
            Err(e) => return Err(e),
        };
        self.apply_settings(uid).await?;
        if uid == self.uid {
            self.ready.store(true, Ordering::Relaxed);
        }
        Ok(fresh)
    }

    /// Create index `uid`: true when this call created it, false when another node did meanwhile.
    async fn create(&self, uid: &str) -> SearchResult<bool> {
        let created = timed(self.client.create_index(uid, Some("id"))).await?;
        match self.wait(created).await {
            Ok(()) => Ok(true),
            Err(SearchError::Rejected(msg)) if msg.contains("index_already_exists") => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Send our settings to `uid` unless it has them already, or wait on a settings task that is
    /// already pending instead of queueing another.
    async fn apply_settings(&self, uid: &str) -> SearchResult<()> {
        let index = self.client.index(uid);
        let have = timed(index.get_settings()).await?;
        if settings_cover(&settings(), &have) {
            return Ok(());
        }
        let task = match self.pending_settings_task(uid).await? {
            Some(pending) => pending,
            None => timed(index.set_settings(&settings())).await?.get_task_uid(),
        };
        match wait_task(&self.client, task, TASK_TIMEOUT).await {
            Ok(()) => Ok(()),
            Err(SearchError::Unconfirmed(_)) => {
                tracing::info!(
                    index = uid,
                    task,
                    "meilisearch is still applying the index settings; changes queue behind them"
                );
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// The newest settings task of `uid` still enqueued or processing, if any.
    async fn pending_settings_task(&self, uid: &str) -> SearchResult<Option<u32>> {
        let mut query = TasksSearchQuery::new(&self.client);
        query
            .with_index_uids([uid])
            .with_types(["settingsUpdate"])
            .with_statuses(["enqueued", "processing"])
            .with_limit(1);
        let tasks = timed(self.client.get_tasks_with(&query)).await?;
        Ok(tasks.results.first().map(Task::get_uid))
    }

    async fn wait(&self, task: TaskInfo) -> SearchResult<()> {
        wait_task(&self.client, task.get_task_uid(), TASK_TIMEOUT).await
    }

    /// Check the tasks of an earlier unconfirmed write. `Ok(true)` when they carried exactly
    /// `fingerprint` and are now confirmed: nothing needs sending again.
    async fn settle_unconfirmed(&self, fingerprint: u64) -> SearchResult<bool> {
        let Some(pending) = self.unconfirmed.lock().expect("unconfirmed lock").take() else {
            return Ok(false);
        };
        for (i, uid) in pending.tasks.iter().enumerate() {
            match wait_task(&self.client, *uid, TASK_TIMEOUT).await {
                Ok(()) => {}
                Err(e @ (SearchError::Unconfirmed(_) | SearchError::Unavailable(_))) => {
                    *self.unconfirmed.lock().expect("unconfirmed lock") = Some(Unconfirmed {
                        fingerprint: pending.fingerprint,
                        tasks: pending.tasks[i..].to_vec(),
                    });
                    return Err(e);
                }
                // It failed: the current changes are sent afresh.
                Err(SearchError::Rejected(msg)) => {
                    tracing::warn!(task = uid, %msg, "an unconfirmed meilisearch task failed; sending again");
                    return Ok(false);
                }
                Err(e) => return Err(e),
            }
        }
        Ok(pending.fingerprint == fingerprint)
    }

    async fn add(&self, uid: &str, docs: &[SearchDocument]) -> SearchResult<TaskInfo> {
        let docs: Vec<MeiliDocument> = docs.iter().map(MeiliDocument::from).collect();
        timed(self.client.index(uid).add_or_replace(&docs, Some("id"))).await
    }
}

#[async_trait]
impl SearchIndex for MeiliIndex {
    fn engine(&self) -> &'static str {
        "meilisearch"
    }

    async fn apply(&self, ops: &[IndexOp]) -> SearchResult<()> {
        let mut upserts: Vec<SearchDocument> = Vec::new();
        let mut deletes: Vec<String> = Vec::new();
        // Keep the last operation per document, in order: an upsert then a delete is a delete.
        for op in ops {
            match op {
                IndexOp::Upsert(doc) => {
                    deletes.retain(|d| d != &doc.id);
                    upserts.retain(|d| d.id != doc.id);
                    upserts.push(doc.clone());
                }
                IndexOp::Delete(id) => {
                    upserts.retain(|d| &d.id != id);
                    deletes.retain(|d| d != id);
                    deletes.push(id.clone());
                }
            }
        }
        let fingerprint = fingerprint(&upserts, &deletes);
        if self.settle_unconfirmed(fingerprint).await? {
            return Ok(());
        }
        if !self.ready.load(Ordering::Relaxed) {
            self.ensure(&self.uid).await?;
        }
        let mut tasks = Vec::new();
        if !upserts.is_empty() {
            match self.add(&self.uid, &upserts).await {
                Ok(task) => tasks.push(task),
                // The index vanished (deleted by hand): recreate it with its settings and retry.
                Err(SearchError::Rejected(msg)) if msg.contains("index_not_found") => {
                    self.ensure(&self.uid).await?;
                    tasks.push(self.add(&self.uid, &upserts).await?);
                }
                Err(e) => return Err(e),
            }
        }
        if !deletes.is_empty() {
            tasks.push(timed(self.client.index(&self.uid).delete_documents(&deletes)).await?);
        }
        let uids: Vec<u32> = tasks.iter().map(TaskInfo::get_task_uid).collect();
        for (i, task) in tasks.into_iter().enumerate() {
            match self.wait(task).await {
                Err(SearchError::Rejected(msg))
                    if msg.contains(&ErrorCode::IndexNotFound.to_string()) =>
                {
                    self.ensure(&self.uid).await?;
                    return Err(SearchError::Unconfirmed(format!(
                        "index {} was missing and is recreated",
                        self.uid
                    )));
                }
                // Taken but not confirmed: remember the tasks, so the relay's next offer of the
                // same changes checks them instead of sending them again.
                Err(e @ (SearchError::Unconfirmed(_) | SearchError::Unavailable(_))) => {
                    *self.unconfirmed.lock().expect("unconfirmed lock") = Some(Unconfirmed {
                        fingerprint,
                        tasks: uids[i..].to_vec(),
                    });
                    return Err(e);
                }
                other => other?,
            }
        }
        Ok(())
    }

    async fn search(&self, query: &SearchQuery) -> SearchResult<SearchResults> {
        let index = self.client.index(&self.uid);
        let filter = filter_expression(query);
        let mut search = index.search();
        search
            .with_query(&query.text)
            .with_offset(query.offset)
            .with_limit(query.limit)
            .with_matching_strategy(MatchingStrategies::ALL)
            .with_facets(Selectors::Some(&FACETS))
            .with_locales(&["cmn"]);
        if !filter.is_empty() {
            search.with_filter(&filter);
        }
        let results = match within(self.search_timeout, search.execute::<MeiliDocument>()).await {
            Ok(results) => results,
            Err(SearchError::Rejected(msg)) => {
                // Filters or facets refused, or no index: the settings are gone (index deleted
                // or re-created bare); the next write applies them again.
                self.ready.store(false, Ordering::Relaxed);
                return Err(SearchError::Unavailable(format!(
                    "meilisearch refused the query: {msg}"
                )));
            }
            Err(e) => return Err(e),
        };
        let distribution = results.facet_distribution.unwrap_or_default();
        let group = |name: &str| -> Vec<(String, u64)> {
            distribution
                .get(name)
                .map_or_else(Vec::new, |m: &HashMap<String, usize>| {
                    m.iter()
                        .filter(|(_, n)| **n > 0)
                        .map(|(v, n)| (v.clone(), *n as u64))
                        .collect()
                })
        };
        let facets = Facets {
            kind: group("kind"),
            community: group("community_id")
                .into_iter()
                .filter_map(|(v, n)| v.parse().ok().map(|id| (id, n)))
                .collect(),
            category: group("categories"),
            year: group("years")
                .into_iter()
                .filter_map(|(v, n)| v.parse().ok().map(|y| (y, n)))
                .collect(),
        };
        Ok(SearchResults {
            total: results
                .estimated_total_hits
                .or(results.total_hits)
                .unwrap_or(results.hits.len()) as u64,
            hits: results.hits.into_iter().map(|h| h.result.doc).collect(),
            facets: facets.sorted(),
        })
    }

    async fn raw_documents(&self) -> SearchResult<Vec<serde_json::Value>> {
        let index = self.client.index(&self.uid);
        let mut out = Vec::new();
        loop {
            let mut query = DocumentsQuery::new(&index);
            query.with_offset(out.len()).with_limit(1000);
            let page = timed(query.execute::<serde_json::Value>()).await?;
            let n = page.results.len();
            out.extend(page.results);
            if n < 1000 {
                break;
            }
        }
        out.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
        Ok(out)
    }

    async fn health(&self) -> SearchResult<()> {
        within(self.search_timeout, self.client.health())
            .await
            .map(|_| ())
    }

    async fn rebuild(&self) -> SearchResult<Box<dyn IndexBuilder>> {
        // Make sure the live index exists: swapping needs both.
        self.ensure(&self.uid).await?;
        rebuild::remove_leftovers(&self.client, &self.uid).await;
        let fresh_uid = rebuild::fresh_uid(&self.uid);
        // New by its name: created without looking it up first.
        self.create(&fresh_uid).await?;
        self.apply_settings(&fresh_uid).await?;
        Ok(Box::new(rebuild::MeiliBuilder::new(
            self.sibling(),
            fresh_uid,
        )))
    }
}
