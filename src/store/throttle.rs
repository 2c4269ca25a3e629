//! Locks for throttles, so that counting and deciding happen as one step. A throttle reads "how
//! many failures (or objections) from this key lately" and then writes one more; two requests that
//! both read before either writes would both pass. Every throttle therefore decides under a lock
//! per key, held from the count to the write:
//!
//! - on PostgreSQL, a transaction-scoped advisory lock per key, so the lock holds across every app
//!   node sharing the database; the count and the write run in that transaction, on its one
//!   connection (a holder never waits for a second connection, so waiters cannot starve it);
//! - on SQLite, which serves one node (the file is local), a mutex per key in this process; the
//!   count and the write then run as separate statements on the pool, which avoids holding
//!   SQLite's single write lock while a throttle decides.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, Weak};

use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    ExecResult, QueryResult, Statement, TransactionTrait,
};
use tokio::sync::OwnedMutexGuard;

use super::StoreResult;

type KeyLock = tokio::sync::Mutex<()>;

/// Locks are per process by nature; the table only holds keys someone is waiting on or holding.
static LOCAL: LazyLock<Mutex<HashMap<String, Weak<KeyLock>>>> = LazyLock::new(Default::default);

fn local_lock(key: &str) -> Arc<KeyLock> {
    let mut table = LOCAL.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(lock) = table.get(key).and_then(Weak::upgrade) {
        return lock;
    }
    if table.len() > 1024 {
        table.retain(|_, lock| lock.strong_count() > 0);
    }
    let lock = Arc::new(KeyLock::new(()));
    table.insert(key.to_string(), Arc::downgrade(&lock));
    lock
}

enum Held {
    /// PostgreSQL: the transaction holding the advisory locks.
    Txn(DatabaseTransaction),
    /// SQLite: the pool.
    Pool(DatabaseConnection),
}

/// The locks of one throttle decision. Run the count and the write through it (it is a
/// connection), then [`Locked::release`] it; dropping it without releasing rolls back.
pub struct Locked {
    held: Held,
    _local: Vec<OwnedMutexGuard<()>>,
}

/// Take the locks of `keys` (in a fixed order, so two decisions sharing keys cannot deadlock).
pub async fn lock(db: &DatabaseConnection, keys: &[String]) -> StoreResult<Locked> {
    let mut keys: Vec<&String> = keys.iter().collect();
    keys.sort();
    keys.dedup();
    let mut local = Vec::with_capacity(keys.len());
    let held = if db.get_database_backend() == DatabaseBackend::Postgres {
        let txn = db.begin().await?;
        for key in &keys {
            txn.execute(Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
                [format!("youde-throttle:{key}").into()],
            ))
            .await?;
        }
        Held::Txn(txn)
    } else {
        for key in &keys {
            local.push(local_lock(key).lock_owned().await);
        }
        Held::Pool(db.clone())
    };
    Ok(Locked {
        held,
        _local: local,
    })
}

impl Locked {
    /// A transaction for a write of several rows under the lock (nested in the lock's
    /// transaction on PostgreSQL).
    pub async fn begin(&self) -> StoreResult<DatabaseTransaction> {
        Ok(match &self.held {
            Held::Txn(txn) => txn.begin().await?,
            Held::Pool(db) => db.begin().await?,
        })
    }

    /// Commit what was written under the lock and let the next request for these keys go.
    pub async fn release(self) -> StoreResult<()> {
        if let Held::Txn(txn) = self.held {
            txn.commit().await?;
        }
        Ok(())
    }

    fn conn(&self) -> &dyn ConnectionTrait {
        match &self.held {
            Held::Txn(txn) => txn,
            Held::Pool(db) => db,
        }
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for Locked {
    fn get_database_backend(&self) -> DbBackend {
        self.conn().get_database_backend()
    }

    async fn execute(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.conn().execute(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.conn().execute_unprepared(sql).await
    }

    async fn query_one(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.conn().query_one(stmt).await
    }

    async fn query_all(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.conn().query_all(stmt).await
    }
}
