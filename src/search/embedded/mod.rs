//! The embedded engine: a tantivy index under `YOUDE_DATA_DIR/index`, needing no services.
//!
//! The folder holds generations (`g<millis>-<n>/`, each a whole tantivy index) and a `CURRENT`
//! file naming the live one. A rebuild fills a fresh generation and switches `CURRENT` with one
//! atomic rename, so searches keep answering from the old generation until the switch. Writers
//! — the relay of a running server, `youde reindex` in another process — take `write.lock`
//! (an OS file lock) for each batch and read `CURRENT` under it, so no write lands in a generation
//! after it was switched out. Another process holding the lock for longer than the lock wait makes
//! the engine report itself unavailable for writes; the relay then retries.

mod query;
mod schema;

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tantivy::collector::DocSetCollector;
use tantivy::query::AllQuery;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

use self::schema::Fields;
use super::{
    IndexBuilder, IndexOp, SearchDocument, SearchError, SearchIndex, SearchQuery, SearchResult,
    SearchResults,
};

const CURRENT: &str = "CURRENT";
const WRITE_LOCK: &str = "write.lock";
const REINDEX_LOCK: &str = "reindex.lock";
/// How often a search checks whether another process switched the generation.
const SWITCH_CHECK: Duration = Duration::from_millis(500);
/// tantivy's smallest indexing budget; enough for the relay's small batches.
const BATCH_WRITER_BYTES: usize = 15_000_000;
const REBUILD_WRITER_BYTES: usize = 64_000_000;

/// One opened generation.
struct Live {
    generation: String,
    index: Index,
    reader: IndexReader,
    fields: Fields,
}

struct Inner {
    root: PathBuf,
    live: RwLock<Arc<Live>>,
    checked: Mutex<Instant>,
    lock_wait: Duration,
}

/// The embedded engine. Cheap to share: clone the `Arc` it is usually held in.
pub struct EmbeddedIndex {
    inner: Arc<Inner>,
}

fn io(what: &str, path: &Path, e: std::io::Error) -> SearchError {
    SearchError::Unavailable(format!("{what} {}: {e}", path.display()))
}

fn tantivy_error(e: tantivy::TantivyError) -> SearchError {
    SearchError::Unavailable(format!("embedded index: {e}"))
}

/// An exclusive OS lock on a file in the index folder, released on drop.
struct FileLock(#[allow(dead_code)] File);

impl FileLock {
    fn acquire(path: &Path, wait: Duration) -> SearchResult<FileLock> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(|e| io("open", path, e))?;
        let deadline = Instant::now() + wait;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(FileLock(file)),
                Err(std::fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(SearchError::Unavailable(format!(
                        "the index at {} is locked by another writer",
                        path.parent().unwrap_or(path).display()
                    )))
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(io("lock", path, e)),
            }
        }
    }
}

fn new_generation_name() -> String {
    let millis = chrono::Utc::now().timestamp_millis();
    format!("g{millis}-{:04x}", rand::random::<u16>())
}

fn read_current(root: &Path) -> SearchResult<Option<String>> {
    let path = root.join(CURRENT);
    match fs::read_to_string(&path) {
        Ok(s) => Ok(Some(s.trim().to_string()).filter(|s| !s.is_empty())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io("read", &path, e)),
    }
}

/// Point `CURRENT` at `generation` with one rename (atomic on POSIX file systems).
fn write_current(root: &Path, generation: &str) -> SearchResult<()> {
    let tmp = root.join("CURRENT.tmp");
    let mut f = File::create(&tmp).map_err(|e| io("create", &tmp, e))?;
    f.write_all(generation.as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(|e| io("write", &tmp, e))?;
    fs::rename(&tmp, root.join(CURRENT)).map_err(|e| io("rename", &tmp, e))
}

fn create_generation(root: &Path, name: &str) -> SearchResult<Index> {
    let dir = root.join(name);
    fs::create_dir_all(&dir).map_err(|e| io("create", &dir, e))?;
    let index = Index::create_in_dir(&dir, schema::schema()).map_err(tantivy_error)?;
    schema::register_tokenizers(&index);
    Ok(index)
}

fn open_generation(root: &Path, name: &str) -> SearchResult<Live> {
    let index = Index::open_in_dir(root.join(name)).map_err(tantivy_error)?;
    if !schema::is_current(&index.schema()) {
        return Err(SearchError::Unavailable(format!(
            "the index {name} was written by an older version"
        )));
    }
    schema::register_tokenizers(&index);
    // Commits by another process (a reindex replaying into this generation) show within a second.
    let reader = index
        .reader_builder()
        .reload_policy(ReloadPolicy::OnCommitWithDelay)
        .try_into()
        .map_err(tantivy_error)?;
    let fields = schema::fields(&index.schema());
    Ok(Live {
        generation: name.to_string(),
        index,
        reader,
        fields,
    })
}

impl EmbeddedIndex {
    /// Open (or create) the index in `root`. `fresh` is true when no index existed there.
    pub fn open(root: &Path) -> SearchResult<(EmbeddedIndex, bool)> {
        fs::create_dir_all(root).map_err(|e| io("create", root, e))?;
        let _lock = FileLock::acquire(&root.join(WRITE_LOCK), Duration::from_secs(10))?;
        let existing = read_current(root)?.and_then(|name| match open_generation(root, &name) {
            Ok(live) => Some(live),
            Err(err) => {
                tracing::warn!(error = %err, generation = %name, "search index unreadable; starting an empty one");
                None
            }
        });
        let (live, fresh) = match existing {
            Some(live) => (live, false),
            None => {
                let name = new_generation_name();
                create_generation(root, &name)?;
                write_current(root, &name)?;
                (open_generation(root, &name)?, true)
            }
        };
        let inner = Inner {
            root: root.to_path_buf(),
            live: RwLock::new(Arc::new(live)),
            checked: Mutex::new(Instant::now()),
            lock_wait: Duration::from_secs(1),
        };
        Ok((
            EmbeddedIndex {
                inner: Arc::new(inner),
            },
            fresh,
        ))
    }

    /// The folder of the index.
    pub fn root(&self) -> &Path {
        &self.inner.root
    }
}

impl Inner {
    fn live(&self) -> Arc<Live> {
        self.live.read().expect("live lock").clone()
    }

    /// Follow `CURRENT` if another process switched it.
    fn follow_current(&self) -> SearchResult<Arc<Live>> {
        let live = self.live();
        match read_current(&self.root)? {
            Some(name) if name != live.generation => {
                let next = Arc::new(open_generation(&self.root, &name)?);
                *self.live.write().expect("live lock") = next.clone();
                tracing::info!(generation = %name, "search index switched to a rebuilt generation");
                Ok(next)
            }
            _ => Ok(live),
        }
    }

    fn live_for_search(&self) -> SearchResult<Arc<Live>> {
        let due = {
            let mut checked = self.checked.lock().expect("check lock");
            let due = checked.elapsed() >= SWITCH_CHECK;
            if due {
                *checked = Instant::now();
            }
            due
        };
        if due {
            self.follow_current()
        } else {
            Ok(self.live())
        }
    }

    fn apply(&self, ops: &[IndexOp]) -> SearchResult<()> {
        let _lock = FileLock::acquire(&self.root.join(WRITE_LOCK), self.lock_wait)?;
        let live = self.follow_current()?;
        let mut writer: IndexWriter<TantivyDocument> = live
            .index
            .writer_with_num_threads(1, BATCH_WRITER_BYTES)
            .map_err(tantivy_error)?;
        for op in ops {
            match op {
                IndexOp::Upsert(doc) => {
                    writer.delete_term(Term::from_field_text(live.fields.id, &doc.id));
                    writer
                        .add_document(schema::to_tantivy(&live.fields, doc))
                        .map_err(tantivy_error)?;
                }
                IndexOp::Delete(id) => {
                    writer.delete_term(Term::from_field_text(live.fields.id, id));
                }
            }
        }
        writer.commit().map_err(tantivy_error)?;
        writer.wait_merging_threads().map_err(tantivy_error)?;
        live.reader.reload().map_err(tantivy_error)
    }

    fn raw_documents(&self) -> SearchResult<Vec<serde_json::Value>> {
        let live = self.follow_current()?;
        live.reader.reload().map_err(tantivy_error)?;
        let searcher = live.reader.searcher();
        let mut addresses: Vec<_> = searcher
            .search(&AllQuery, &DocSetCollector)
            .map_err(tantivy_error)?
            .into_iter()
            .collect();
        addresses.sort();
        addresses
            .into_iter()
            .map(|a| {
                query::stored(
                    &live.fields,
                    &searcher.doc::<TantivyDocument>(a).map_err(tantivy_error)?,
                )
            })
            .collect()
    }

    /// Remove generations other than the live one and `keep` (an interrupted rebuild's leftovers,
    /// generations switched out long ago).
    fn remove_stale_generations(&self, keep: &str) {
        let Ok(current) = read_current(&self.root) else {
            return;
        };
        let Ok(entries) = fs::read_dir(&self.root) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            let is_generation = name.starts_with('g') && entry.path().is_dir();
            if is_generation && Some(&name) != current.as_ref() && name != keep {
                if let Err(e) = fs::remove_dir_all(entry.path()) {
                    tracing::warn!(error = %e, generation = %name, "could not remove an old search index generation");
                }
            }
        }
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> SearchResult<T> + Send + 'static,
) -> SearchResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| SearchError::Unavailable(format!("index task: {e}")))?
}

#[async_trait]
impl SearchIndex for EmbeddedIndex {
    fn engine(&self) -> &'static str {
        "embedded"
    }

    async fn apply(&self, ops: &[IndexOp]) -> SearchResult<()> {
        if ops.is_empty() {
            return Ok(());
        }
        let inner = self.inner.clone();
        let ops = ops.to_vec();
        blocking(move || inner.apply(&ops)).await
    }

    async fn search(&self, query: &SearchQuery) -> SearchResult<SearchResults> {
        let inner = self.inner.clone();
        let query = query.clone();
        blocking(move || {
            let live = inner.live_for_search()?;
            query::run(&live.reader.searcher(), &live.fields, &query)
        })
        .await
    }

    async fn raw_documents(&self) -> SearchResult<Vec<serde_json::Value>> {
        let inner = self.inner.clone();
        blocking(move || inner.raw_documents()).await
    }

    async fn health(&self) -> SearchResult<()> {
        let root = self.inner.root.clone();
        blocking(move || {
            read_current(&root)?
                .map(|_| ())
                .ok_or_else(|| SearchError::Unavailable("no CURRENT index".into()))
        })
        .await
    }

    async fn rebuild(&self) -> SearchResult<Box<dyn IndexBuilder>> {
        let inner = self.inner.clone();
        blocking(move || {
            let lock_path = inner.root.join(REINDEX_LOCK);
            let lock = FileLock::acquire(&lock_path, Duration::ZERO)
                .map_err(|_| SearchError::Busy("另一个重建索引的任务正在进行".into()))?;
            let previous = read_current(&inner.root)?.unwrap_or_default();
            inner.remove_stale_generations(&previous);
            let generation = new_generation_name();
            let index = create_generation(&inner.root, &generation)?;
            let writer: IndexWriter<TantivyDocument> =
                index.writer(REBUILD_WRITER_BYTES).map_err(tantivy_error)?;
            let fields = schema::fields(&index.schema());
            let builder: Box<dyn IndexBuilder> = Box::new(EmbeddedBuilder {
                inner,
                generation,
                writer: Arc::new(writer),
                fields,
                _lock: lock,
            });
            Ok(builder)
        })
        .await
    }
}

/// A generation being filled by a rebuild; holds `reindex.lock` until it finishes or is dropped.
struct EmbeddedBuilder {
    inner: Arc<Inner>,
    generation: String,
    writer: Arc<IndexWriter<TantivyDocument>>,
    fields: Fields,
    _lock: FileLock,
}

#[async_trait]
impl IndexBuilder for EmbeddedBuilder {
    async fn add(&mut self, docs: Vec<SearchDocument>) -> SearchResult<()> {
        let writer = self.writer.clone();
        let fields = self.fields;
        blocking(move || {
            for doc in &docs {
                writer
                    .add_document(schema::to_tantivy(&fields, doc))
                    .map_err(tantivy_error)?;
            }
            Ok(())
        })
        .await
    }

    async fn finish(self: Box<Self>) -> SearchResult<()> {
        let EmbeddedBuilder {
            inner,
            generation,
            writer,
            _lock,
            ..
        } = *self;
        blocking(move || {
            let mut writer = Arc::try_unwrap(writer)
                .map_err(|_| SearchError::Unavailable("rebuild writer still in use".into()))?;
            writer.commit().map_err(tantivy_error)?;
            writer.wait_merging_threads().map_err(tantivy_error)?;
            {
                // Under the write lock: no batch is between reading CURRENT and committing.
                let _write =
                    FileLock::acquire(&inner.root.join(WRITE_LOCK), Duration::from_secs(30))?;
                write_current(&inner.root, &generation)?;
            }
            inner.follow_current()?;
            drop(_lock);
            Ok(())
        })
        .await
    }
}
