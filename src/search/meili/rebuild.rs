//! `youde reindex` on Meilisearch: a fresh index `{uid}_rebuild_{millis}` filled beside the live
//! one and swapped in. Waits here are long (a big build takes minutes) but still bounded by the
//! wall clock, and a swap that confirms late still returns `Ok`, so the caller replays the changes
//! made meanwhile. Rebuild indexes left by an interrupted run are removed by the next one.

use std::time::Duration;

use async_trait::async_trait;
use meilisearch_sdk::client::{Client, SwapIndexes};
use meilisearch_sdk::indexes::IndexesQuery;
use meilisearch_sdk::task_info::TaskInfo;

use super::{timed, wait_task, MeiliIndex};
use crate::search::{IndexBuilder, SearchDocument, SearchResult};

/// How long each of the build's tasks, and then the swap, may take to confirm. Meilisearch batches
/// the build's document tasks together: at a million residents one batch ran for 446 s on two
/// cores, so the bound leaves room for a slower machine while still ending a wait on a hung engine.
const BUILD_WAIT: Duration = Duration::from_secs(1800);
/// A rebuild index older than this is a leftover of an interrupted run, not one in progress.
const LEFTOVER_AGE: chrono::Duration = chrono::Duration::hours(1);

fn prefix(live: &str) -> String {
    format!("{live}_rebuild_")
}

pub(super) fn fresh_uid(live: &str) -> String {
    format!("{}{}", prefix(live), chrono::Utc::now().timestamp_millis())
}

/// Delete the rebuild indexes of `live` older than [`LEFTOVER_AGE`]. Best effort: a failure is
/// logged, the rebuild goes on.
pub(super) async fn remove_leftovers(client: &Client, live: &str) {
    let mut query = IndexesQuery::new(client);
    query.with_limit(1000);
    let indexes = match timed(client.list_all_indexes_with(&query)).await {
        Ok(list) => list.results,
        Err(err) => {
            tracing::warn!(error = %err, "could not list meilisearch indexes for leftovers");
            return;
        }
    };
    let cutoff = (chrono::Utc::now() - LEFTOVER_AGE).timestamp_millis();
    for index in indexes {
        let started = index
            .uid
            .strip_prefix(&prefix(live))
            .and_then(|millis| millis.parse::<i64>().ok());
        if started.is_some_and(|millis| millis < cutoff) {
            match timed(client.delete_index(&index.uid)).await {
                Ok(_) => tracing::info!(index = %index.uid, "removed a leftover rebuild index"),
                Err(err) => {
                    tracing::warn!(error = %err, index = %index.uid, "could not remove a leftover rebuild index")
                }
            }
        }
    }
}

pub(super) struct MeiliBuilder {
    live: MeiliIndex,
    fresh: String,
    tasks: Vec<TaskInfo>,
}

impl MeiliBuilder {
    pub(super) fn new(live: MeiliIndex, fresh: String) -> Self {
        MeiliBuilder {
            live,
            fresh,
            tasks: Vec::new(),
        }
    }
}

#[async_trait]
impl IndexBuilder for MeiliBuilder {
    async fn add(&mut self, docs: Vec<SearchDocument>) -> SearchResult<()> {
        let task = self.live.add(&self.fresh, &docs).await?;
        self.tasks.push(task);
        Ok(())
    }

    async fn finish(self: Box<Self>) -> SearchResult<()> {
        let client = &self.live.client;
        // Tasks of one index run in order: the last one confirmed confirms the whole build, but
        // a failed one must not go unnoticed, so each is checked.
        for task in &self.tasks {
            wait_task(client, task.get_task_uid(), BUILD_WAIT).await?;
        }
        let swap = SwapIndexes {
            indexes: (self.live.uid.clone(), self.fresh.clone()),
            rename: None,
        };
        let task = timed(client.swap_indexes([&swap])).await?;
        wait_task(client, task.get_task_uid(), BUILD_WAIT).await?;
        // After the swap, the rebuild's uid holds the old documents.
        let task = timed(client.delete_index(&self.fresh)).await?;
        if let Err(e) = self.live.wait(task).await {
            tracing::warn!(error = %e, index = %self.fresh, "could not delete the replaced search index");
        }
        Ok(())
    }
}
