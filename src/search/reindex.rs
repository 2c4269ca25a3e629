//! `youde reindex`: rebuild the index from the database into a fresh index beside the live one,
//! swap it in atomically (searches keep answering meanwhile), then replay the outbox rows written
//! since the rebuild started, so that changes made during the rebuild are not lost.

use std::time::{Duration, Instant};

use chrono::Utc;
use indicatif::{ProgressBar, ProgressStyle};
use sea_orm::ColumnTrait;
use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};

use super::relay::{Relay, RelayError};
use super::{document, SearchIndex};
use crate::store::entities::resident;

/// Residents read and indexed per step.
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
            "{spinner} 重建索引 [{bar:40}] {pos}/{len} 位居民 · {per_sec} · 剩余 {eta}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar
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
        .map_err(crate::store::StoreError::from)?;
    if let Some(bar) = progress {
        bar.set_length(total);
    }
    let mut builder = index.rebuild().await?;
    let mut after = 0i64;
    let mut documents = 0u64;
    let today = document::today();
    loop {
        let ids: Vec<i64> = resident::Entity::find()
            .select_only()
            .column(resident::Column::Id)
            .filter(resident::Column::Id.gt(after))
            .order_by_asc(resident::Column::Id)
            .limit(CHUNK)
            .into_tuple()
            .all(db)
            .await
            .map_err(crate::store::StoreError::from)?;
        let Some(last) = ids.last() else { break };
        after = *last;
        let docs: Vec<_> = document::residents_documents(db, &ids, today)
            .await?
            .into_iter()
            .filter_map(|(_, d)| d)
            .collect();
        documents += docs.len() as u64;
        builder.add(docs).await?;
        if let Some(bar) = progress {
            bar.inc(ids.len() as u64);
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
