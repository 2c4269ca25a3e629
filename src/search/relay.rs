//! The outbox relay: reads pending `search_outbox` rows in order, builds the *current* documents
//! of their subjects from the database and hands them to the engine — an upsert, or a delete for
//! a resident that no longer exists (a resident without consent is kept for the staff scope with
//! `public: false`). Rows are marked delivered only once the engine confirmed; on failure they stay
//! and the loop retries with capped exponential backoff. Delivering the current state makes every
//! retry and every duplicate harmless.
//!
//! It runs in the server (`youde serve`) or alone (`youde search-relay`); tests drive it with
//! [`Relay::drain`].

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseConnection, DatabaseTransaction, Statement,
    TransactionTrait,
};

use super::{document, SearchError, SearchIndex};
use crate::store::outbox::{self, OutboxKind};
use crate::store::StoreError;

/// Rows taken per batch.
const BATCH: u64 = 200;
/// Pause between polls while everything is delivered: consent withdrawals reach the index within
/// about this long.
const POLL: Duration = Duration::from_millis(500);
const BACKOFF_FIRST: Duration = Duration::from_millis(500);
const BACKOFF_CAP: Duration = Duration::from_secs(30);
/// Delivered rows are kept this long for `youde reindex` to replay, then pruned.
const KEEP_DELIVERED: chrono::Duration = chrono::Duration::hours(1);

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Search(#[from] SearchError),
}

/// How delivery is going, for `/readyz`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RelayStatus {
    /// Attempts that failed in a row (0 while delivery works).
    pub consecutive_failures: u32,
    /// The last failure, in words fit for an operator (no document content).
    pub last_error: Option<String>,
    pub last_delivery: Option<DateTime<Utc>>,
}

/// The advisory lock key of the relay on PostgreSQL ("youde" in ASCII).
pub const RELAY_LOCK: i64 = 0x79_6f75_6465;

enum Turn {
    /// SQLite: one node only.
    Alone,
    /// This node's turn; the transaction holds the lock.
    Held(DatabaseTransaction),
    /// Another node is delivering right now.
    Busy,
}

pub struct Relay {
    db: DatabaseConnection,
    index: Arc<dyn SearchIndex>,
    /// One batch at a time per process: the background loop, `drain` and replays take turns.
    gate: tokio::sync::Mutex<()>,
    status: Mutex<RelayStatus>,
}

/// The delay before retry number `failures` (1-based): 0.5 s, 1 s, 2 s, … up to 30 s, with ±20 %
/// jitter so that several nodes do not retry in step.
pub fn backoff(failures: u32) -> Duration {
    let exp = BACKOFF_FIRST.saturating_mul(1u32 << failures.saturating_sub(1).min(16));
    let capped = exp.min(BACKOFF_CAP);
    capped.mul_f64(0.8 + 0.4 * rand::random::<f64>())
}

impl Relay {
    pub fn new(db: DatabaseConnection, index: Arc<dyn SearchIndex>) -> Self {
        Relay {
            db,
            index,
            gate: tokio::sync::Mutex::new(()),
            status: Mutex::new(RelayStatus::default()),
        }
    }

    pub fn status(&self) -> RelayStatus {
        self.status.lock().expect("status lock").clone()
    }

    /// Deliver everything pending now; returns how many rows were delivered. Stops at the first
    /// failure (the rows stay pending). On PostgreSQL, delivers nothing (0) while another node's
    /// relay has the turn: that node delivers them.
    pub async fn drain(&self) -> Result<usize, RelayError> {
        let mut delivered = 0;
        loop {
            let n = self.deliver_batch().await?;
            if n == 0 {
                return Ok(delivered);
            }
            delivered += n;
        }
    }

    async fn deliver_batch(&self) -> Result<usize, RelayError> {
        let _turn = self.gate.lock().await;
        let turn = self.cluster_turn().await?;
        if matches!(turn, Turn::Busy) {
            return Ok(0);
        }
        let result = self.deliver_pending().await;
        if let Turn::Held(txn) = turn {
            // Nothing was written in it: ending it releases the lock.
            txn.rollback().await.map_err(StoreError::from)?;
        }
        result
    }

    /// Across app nodes sharing one PostgreSQL database, one relay delivers at a time, so that an
    /// older document built by one node cannot overwrite a newer one sent by another. The lock is
    /// a transaction-scoped advisory lock: it ends with the batch, or with the node.
    async fn cluster_turn(&self) -> Result<Turn, StoreError> {
        if self.db.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(Turn::Alone);
        }
        let txn = self.db.begin().await?;
        let row = txn
            .query_one(Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                "SELECT pg_try_advisory_xact_lock($1) AS got",
                [RELAY_LOCK.into()],
            ))
            .await?;
        let got: bool = match row {
            Some(row) => row.try_get("", "got")?,
            None => false,
        };
        if got {
            Ok(Turn::Held(txn))
        } else {
            txn.rollback().await?;
            Ok(Turn::Busy)
        }
    }

    async fn deliver_pending(&self) -> Result<usize, RelayError> {
        let rows = outbox::pending(&self.db, BATCH).await?;
        if rows.is_empty() {
            return Ok(0);
        }
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let subjects = subjects(rows.iter().map(|r| (r.kind.as_str(), r.entity_id)));
        match self.deliver(&subjects).await {
            Ok(()) => {
                outbox::mark_delivered(&self.db, &ids).await?;
                let mut status = self.status.lock().expect("status lock");
                if status.consecutive_failures > 0 {
                    tracing::info!(
                        after = status.consecutive_failures,
                        "search delivery works again"
                    );
                }
                *status = RelayStatus {
                    consecutive_failures: 0,
                    last_error: None,
                    last_delivery: Some(Utc::now()),
                };
                Ok(ids.len())
            }
            // Taken but not confirmed yet: not a failed attempt; the rows stay and are checked
            // (delivered again, which is harmless) on the next poll.
            Err(err @ RelayError::Search(SearchError::Unconfirmed(_))) => Err(err),
            Err(err) => {
                outbox::mark_failed(&self.db, &ids, &err.to_string()).await?;
                let mut status = self.status.lock().expect("status lock");
                status.consecutive_failures += 1;
                status.last_error = Some(err.to_string());
                Err(err)
            }
        }
    }

    async fn deliver(&self, subjects: &[(OutboxKind, i64)]) -> Result<(), RelayError> {
        let ops = document::ops_for(&self.db, subjects, document::today()).await?;
        for chunk in ops.chunks(500) {
            self.index.apply(chunk).await?;
        }
        Ok(())
    }

    /// Deliver again every subject changed since `since`, delivered or not: after `youde reindex`
    /// swapped in an index built from a snapshot, the changes made during the build are replayed.
    pub async fn replay_since(&self, since: DateTime<Utc>) -> Result<usize, RelayError> {
        let _turn = self.gate.lock().await;
        let mut after = 0;
        let mut all: BTreeSet<(OutboxKind, i64)> = BTreeSet::new();
        loop {
            let rows = outbox::written_since(&self.db, since, after, 1000).await?;
            let Some(last) = rows.last() else { break };
            after = last.id;
            all.extend(subjects(
                rows.iter().map(|r| (r.kind.as_str(), r.entity_id)),
            ));
        }
        let subjects: Vec<_> = all.into_iter().collect();
        self.deliver(&subjects).await?;
        Ok(subjects.len())
    }

    /// Deliver forever: poll, back off while the engine fails, prune old delivered rows.
    pub async fn run(self: Arc<Self>) {
        let mut last_prune = std::time::Instant::now();
        loop {
            let pause = match self.drain().await {
                Ok(_) => POLL,
                Err(RelayError::Search(SearchError::Unconfirmed(what))) => {
                    tracing::info!(%what, "search engine has not confirmed yet; checking again");
                    POLL
                }
                Err(err) => {
                    let failures = self.status().consecutive_failures;
                    if failures.is_power_of_two() {
                        tracing::warn!(error = %err, failures, "search delivery failed; changes stay in the outbox");
                    }
                    backoff(failures)
                }
            };
            if last_prune.elapsed() > Duration::from_secs(60) {
                last_prune = std::time::Instant::now();
                if let Err(err) = outbox::prune(&self.db, Utc::now() - KEEP_DELIVERED).await {
                    tracing::warn!(error = %err, "could not prune the search outbox");
                }
            }
            tokio::time::sleep(pause).await;
        }
    }

    /// Start [`Relay::run`] on the runtime.
    pub fn spawn(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(self.clone().run())
    }
}

/// The distinct subjects of some rows, in a stable order. Unknown kinds (written by a newer
/// version) are skipped with a warning rather than blocking the queue.
fn subjects<'a>(rows: impl Iterator<Item = (&'a str, i64)>) -> Vec<(OutboxKind, i64)> {
    let mut out = BTreeSet::new();
    for (kind, id) in rows {
        match kind.parse::<OutboxKind>() {
            Ok(kind) => {
                out.insert((kind, id));
            }
            Err(()) => tracing::warn!(kind, id, "search outbox row of an unknown kind skipped"),
        }
    }
    out.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let first = backoff(1);
        assert!(
            first >= Duration::from_millis(400) && first <= Duration::from_millis(600),
            "{first:?}"
        );
        let fourth = backoff(4);
        assert!(
            fourth >= Duration::from_millis(3200) && fourth <= Duration::from_millis(4800),
            "{fourth:?}"
        );
        for n in [10, 20, 40, u32::MAX] {
            assert!(backoff(n) <= Duration::from_secs(36), "{n}");
        }
    }
}
