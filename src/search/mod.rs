//! Search: one [`SearchIndex`] interface with two real engines — [`embedded`] (tantivy with jieba
//! word segmentation, the default, no services) and [`meili`] (Meilisearch, when
//! `YOUDE_MEILI_URL` is set).
//!
//! Documents ([`SearchDocument`]) hold only what a public page may show plus derived pinyin; they
//! are built from the database in [`document`], reach the engine through the transactional outbox
//! and the [`relay`], and can be rebuilt from scratch by [`reindex`]. A document of a resident
//! without an active profile consent is indexed with `public: false`: only the staff scope finds
//! it, and every engine filters it out of public queries itself.

pub mod document;
pub mod embedded;
pub mod meili;
pub mod reindex;
pub mod relay;
pub mod text;

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use document::SearchDocument;
pub use relay::{Relay, RelayStatus};

/// What a search engine can fail with.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The engine cannot be reached or cannot take writes right now; try again later.
    #[error("search engine unavailable: {0}")]
    Unavailable(String),
    /// The engine took the change but did not confirm it in time: not a failure, check again.
    #[error("search engine has not confirmed the change yet: {0}")]
    Unconfirmed(String),
    /// The engine refused the request.
    #[error("search engine refused the request: {0}")]
    Rejected(String),
    /// A rebuild is already running.
    #[error("{0}")]
    Busy(String),
}

pub type SearchResult<T> = Result<T, SearchError>;

/// Which documents a query may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Only documents with `public: true`.
    Public,
    /// Every document (staff tokens only).
    Staff,
}

/// A query, already checked by the API: `text` is normalised (see [`text::normalize`]) and not empty.
#[derive(Debug, Clone)]
pub struct SearchQuery {
    pub text: String,
    pub scope: Scope,
    pub kind: Option<String>,
    /// A community id: matches residents in it or anywhere below it.
    pub community: Option<i64>,
    pub category: Option<String>,
    pub year: Option<i32>,
    pub offset: usize,
    pub limit: usize,
}

impl SearchQuery {
    /// A public query for `text` with no filters, first page of 20.
    pub fn new(text: &str) -> Self {
        SearchQuery {
            text: text::normalize(text),
            scope: Scope::Public,
            kind: None,
            community: None,
            category: None,
            year: None,
            offset: 0,
            limit: 20,
        }
    }

    /// The words a hit must contain, for highlighting.
    pub fn words(&self) -> Vec<String> {
        let mut words = text::query_words(&self.text);
        let whole = text::compact(&self.text);
        if !words.contains(&whole) {
            words.push(whole);
        }
        words
    }
}

/// Count of the matching documents per value of a facet.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facets {
    pub kind: Vec<(String, u64)>,
    /// By the resident's own community id.
    pub community: Vec<(i64, u64)>,
    pub category: Vec<(String, u64)>,
    pub year: Vec<(i32, u64)>,
}

impl Facets {
    /// Most frequent first, then by value, so both engines answer in the same order.
    pub fn sorted(mut self) -> Self {
        self.kind
            .sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        self.community
            .sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        self.category
            .sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        self.year.sort_by_key(|y| std::cmp::Reverse(y.0));
        self
    }
}

/// One page of ranked documents, the number of all matches and the facet counts over them.
#[derive(Debug, Clone)]
pub struct SearchResults {
    pub hits: Vec<SearchDocument>,
    pub total: u64,
    pub facets: Facets,
}

/// A change for the engine. Applying the same operations twice gives the same index.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // short-lived, in batches of a few hundred
pub enum IndexOp {
    Upsert(SearchDocument),
    /// The document id (`resident-12`).
    Delete(String),
}

/// A search engine holding [`SearchDocument`]s.
#[async_trait]
pub trait SearchIndex: Send + Sync {
    /// `embedded` or `meilisearch`.
    fn engine(&self) -> &'static str;

    /// Apply upserts and deletes. `Ok` means the engine confirmed them.
    async fn apply(&self, ops: &[IndexOp]) -> SearchResult<()>;

    async fn search(&self, query: &SearchQuery) -> SearchResult<SearchResults>;

    /// Every stored document exactly as the engine holds it (tests and checks walk them).
    async fn raw_documents(&self) -> SearchResult<Vec<serde_json::Value>>;

    /// Whether the engine answers.
    async fn health(&self) -> SearchResult<()>;

    /// Start a fresh, empty index beside the live one; the live one keeps answering until the
    /// builder's [`IndexBuilder::finish`] swaps the new one in.
    async fn rebuild(&self) -> SearchResult<Box<dyn IndexBuilder>>;
}

/// A fresh index being filled by `youde reindex`.
#[async_trait]
pub trait IndexBuilder: Send {
    async fn add(&mut self, docs: Vec<SearchDocument>) -> SearchResult<()>;
    /// Make the new index the live one, atomically.
    async fn finish(self: Box<Self>) -> SearchResult<()>;
}

/// Every document an engine holds, parsed.
pub async fn documents(index: &dyn SearchIndex) -> SearchResult<Vec<SearchDocument>> {
    index
        .raw_documents()
        .await?
        .into_iter()
        .map(|v| {
            serde_json::from_value(v)
                .map_err(|e| SearchError::Rejected(format!("stored document: {e}")))
        })
        .collect()
}

/// Where the search settings come from (see `config.rs`).
#[derive(Debug, Clone)]
pub struct SearchSettings {
    /// The embedded index's folder.
    pub index_dir: PathBuf,
    pub meili_url: Option<String>,
    pub meili_api_key: Option<String>,
    pub meili_index: String,
    /// How long a search or health check waits for Meilisearch before answering 503.
    pub meili_timeout: std::time::Duration,
}

/// An opened engine; `fresh` when it did not exist before (so the caller fills it).
pub struct Opened {
    pub index: Arc<dyn SearchIndex>,
    pub fresh: bool,
}

/// Open the configured engine: Meilisearch when a URL is set, the embedded one otherwise.
pub async fn open(settings: &SearchSettings) -> SearchResult<Opened> {
    // Both engines cut queries with jieba: load its dictionary now rather than on the first query.
    tokio::task::spawn_blocking(text::jieba);
    match &settings.meili_url {
        Some(url) => {
            let (index, fresh) = meili::MeiliIndex::open_with_timeout(
                url,
                settings.meili_api_key.as_deref(),
                &settings.meili_index,
                settings.meili_timeout,
            )
            .await?;
            Ok(Opened {
                index: Arc::new(index),
                fresh,
            })
        }
        None => {
            let (index, fresh) = embedded::EmbeddedIndex::open(&settings.index_dir)?;
            Ok(Opened {
                index: Arc::new(index),
                fresh,
            })
        }
    }
}

/// What the application holds: the engine and the relay that feeds it.
#[derive(Clone)]
pub struct Search {
    pub index: Arc<dyn SearchIndex>,
    pub relay: Arc<Relay>,
}

impl Search {
    pub fn new(db: sea_orm::DatabaseConnection, index: Arc<dyn SearchIndex>) -> Self {
        let relay = Arc::new(Relay::new(db, index.clone()));
        Search { index, relay }
    }
}
