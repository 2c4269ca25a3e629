//! `youde reindex`: rebuild the index — residents, then public stories — from the database into a fresh index beside the live one,
//! swap it in atomically (searches keep answering meanwhile), then replay the outbox rows written
//! since the rebuild started, so that changes made during the rebuild are not lost.

use std::time::{Duration, Instant};

use chrono::Utc;
use indicatif::{ProgressBar, ProgressStyle};
use sea_orm::ColumnTrait;
use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};

use super::relay::{Relay, RelayError};
use super::{document, IndexBuilder, SearchDocument, SearchIndex};
use crate::store::entities::{resident, story};

/// Residents (then stories) read and indexed per step.
const CHUNK: u64 = 1000;
/// Rows written this long before the start are replayed too: a transaction that began before the
/// rebuild read its snapshot may commit after it.
const REPLAY_MARGIN: chrono::Duration = chrono::Duration::seconds(60);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReindexReport {
    pub documents: u64,
    /// Subjects delivered again after the swap.
    pub replayed: usize,
    pub elapsed: Duration,
}

/// A progress bar for a terminal (hidden when stderr is not one).
pub fn progress_bar(total: u64) -> ProgressBar {
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} 重建索引 [{bar:40}] {pos}/{len} 位居民与报道 · {per_sec} · 剩余 {eta}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar
}

#[derive(Clone, Copy)]
enum Kind {
    Resident,
    Story,
}

/// The next ids of `E` after `after`, in order, [`CHUNK`] at most.
async fn next_ids<E: EntityTrait>(
    db: &impl ConnectionTrait,
    id: E::Column,
    after: i64,
) -> Result<Vec<i64>, RelayError> {
    Ok(E::find()
        .select_only()
        .column(id)
        .filter(id.gt(after))
        .order_by_asc(id)
        .limit(CHUNK)
        .into_tuple()
        .all(db)
        .await
        .map_err(crate::store::StoreError::from)?)
}

/// Add the documents that exist to the new index; returns how many.
async fn add(
    builder: &mut dyn IndexBuilder,
    docs: Vec<(i64, Option<SearchDocument>)>,
    read: usize,
    progress: Option<&ProgressBar>,
) -> Result<u64, RelayError> {
    let docs: Vec<_> = docs.into_iter().filter_map(|(_, d)| d).collect();
    let n = docs.len() as u64;
    builder.add(docs).await?;
    if let Some(bar) = progress {
        bar.inc(read as u64);
    }
    Ok(n)
}

pub async fn run(
    db: &impl ConnectionTrait,
    index: &dyn SearchIndex,
    relay: &Relay,
    progress: Option<&ProgressBar>,
) -> Result<ReindexReport, RelayError> {
    let clock = Instant::now();
    let started = Utc::now();
    let total = resident::Entity::find()
        .count(db)
        .await
        .map_err(crate::store::StoreError::from)?
        + story::Entity::find()
            .count(db)
            .await
            .map_err(crate::store::StoreError::from)?;
    if let Some(bar) = progress {
        bar.set_length(total);
    }
    let mut builder = index.rebuild().await?;
    let mut documents = 0u64;
    let today = document::today();
    for kind in [Kind::Resident, Kind::Story] {
        let mut after = 0i64;
        loop {
            let ids = match kind {
                Kind::Resident => {
                    next_ids::<resident::Entity>(db, resident::Column::Id, after).await?
                }
                Kind::Story => next_ids::<story::Entity>(db, story::Column::Id, after).await?,
            };
            let Some(last) = ids.last() else { break };
            after = *last;
            let docs = match kind {
                Kind::Resident => document::residents_documents(db, &ids, today).await?,
                // Only the public stories have a document.
                Kind::Story => document::stories_documents(db, &ids).await?,
            };
            documents += add(&mut *builder, docs, ids.len(), progress).await?;
        }
    }
    builder.finish().await?;
    if let Some(bar) = progress {
        bar.finish();
    }
    let replayed = relay.replay_since(started - REPLAY_MARGIN).await?;
    Ok(ReindexReport {
        documents,
        replayed,
        elapsed: clock.elapsed(),
    })
}
