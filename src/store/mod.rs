//! Storage: sea-orm entities and queries. Every function takes `&impl ConnectionTrait`, so a change
//! and the rows that go with it (service records of an activity, later the search outbox and audit
//! events) commit in one transaction.

// Every file here is a module (`automod`, watched by `build.rs`): a new query module is a new file.
automod::dir!(pub "src/store");
pub mod entities;

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbErr};

use crate::domain::ValidationErrors;

/// What the store can fail with; mapped to HTTP in `api::error`, nowhere else.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The `If-Match` version is not the current one.
    #[error("version mismatch: current is {current}")]
    VersionMismatch { current: i32 },
    /// The change would break a rule that involves other rows (e.g. deleting a community in use).
    #[error("{0}")]
    Conflict(String),
    /// Input that is well-formed but refers to something that does not fit (unknown community).
    #[error("{0}")]
    Invalid(ValidationErrors),
    /// A stored row breaks a rule the store keeps on the way in (a photo without its
    /// renditions, a state no code knows): the database was edited by hand. Reported, never
    /// papered over; the fronts answer 500.
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Db(#[from] DbErr),
}

pub type StoreResult<T> = Result<T, StoreError>;

impl StoreError {
    /// The database cannot be reached right now (down, restarting, no connection to be had): the
    /// same request may succeed in a moment, so the fronts answer 503, not 500.
    pub fn is_unavailable(&self) -> bool {
        use sea_orm::{RuntimeErr, SqlxError};
        let StoreError::Db(err) = self else {
            return false;
        };
        match err {
            DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
            DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
                match e {
                    SqlxError::Io(_)
                    | SqlxError::PoolTimedOut
                    | SqlxError::PoolClosed
                    | SqlxError::WorkerCrashed => true,
                    // PostgreSQL's "operator intervention" (shutting down, starting up) and
                    // "connection exception" classes.
                    SqlxError::Database(db) => db
                        .code()
                        .is_some_and(|c| c.starts_with("57P") || c.starts_with("08")),
                    _ => false,
                }
            }
            _ => false,
        }
    }
}

/// One page of a keyset-paginated list, ordered by id.
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// The id to continue after, when there is more.
    pub next_after: Option<i64>,
}

impl<T> Page<T> {
    /// Build from `limit + 1` fetched rows: the extra row only says that there is more.
    fn from_rows(mut rows: Vec<T>, limit: u64, id: impl Fn(&T) -> i64) -> Self {
        let next_after = if rows.len() as u64 > limit {
            rows.truncate(limit as usize);
            rows.last().map(&id)
        } else {
            None
        };
        Page {
            items: rows,
            next_after,
        }
    }
}

/// Connect and bring the schema up to date. SQLite files (and their folder) are created on demand.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let url = if url.starts_with("sqlite:") && !url.contains("mode=") {
        let path = url
            .trim_start_matches("sqlite://")
            .trim_start_matches("sqlite:");
        if let Some(dir) = std::path::Path::new(path)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir)
                .map_err(|e| DbErr::Custom(format!("cannot create {}: {e}", dir.display())))?;
        }
        format!("{url}?mode=rwc")
    } else {
        url.to_string()
    };
    let mut options = ConnectOptions::new(url);
    // While the database is down or restarting, a request waits this long for a connection and
    // then gets 503, rather than hanging for sqlx's default 30 s.
    options
        .sqlx_logging(false)
        .connect_timeout(std::time::Duration::from_secs(3))
        .acquire_timeout(std::time::Duration::from_secs(5));
    let db = Database::connect(options).await?;
    if db.get_database_backend() == sea_orm::DatabaseBackend::Sqlite {
        // sqlx turns foreign keys on and sets a busy timeout per connection; WAL (kept in the file)
        // lets readers go on while one writer writes.
        db.execute_unprepared("PRAGMA journal_mode = WAL;").await?;
    }
    Ok(db)
}

/// The slugs starting with `base` in `column` of `E`, read under a transaction lock per table on
/// PostgreSQL: two transactions registering namesakes at once would otherwise both pick
/// the same free slug and the second would fail on the unique index. The second now waits until
/// the first commits and then sees its slug. (SQLite has one writer at a time already.)
pub(crate) async fn taken_slugs<E: sea_orm::EntityTrait>(
    db: &impl ConnectionTrait,
    column: E::Column,
    base: &str,
) -> StoreResult<Vec<String>> {
    use sea_orm::{ColumnTrait, QueryFilter, QuerySelect};
    if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        // Per table, not per base: one base's "-2" may be another base (a title ending in a digit).
        let key = format!("youde-slug:{}", E::default().table_name());
        db.execute(sea_orm::Statement::from_sql_and_values(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT pg_advisory_xact_lock(hashtext($1))",
            [key.into()],
        ))
        .await?;
    }
    Ok(E::find()
        .select_only()
        .column(column)
        .filter(column.like(like_literal("", base, "%")))
        .into_tuple()
        .all(db)
        .await?)
}

/// A `LIKE` pattern that matches `text` literally (its `%`, `_` and `\` escaped) between the
/// wildcards `prefix` and `suffix`: user text never acts as a wildcard.
pub(crate) fn like_literal(prefix: &str, text: &str, suffix: &str) -> sea_orm::sea_query::LikeExpr {
    let mut pattern = String::with_capacity(prefix.len() + text.len() + suffix.len() + 4);
    pattern.push_str(prefix);
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push_str(suffix);
    sea_orm::sea_query::LikeExpr::new(pattern).escape('\\')
}

/// Apply pending migrations.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    use migration::MigratorTrait;
    migration::Migrator::up(db, None).await
}

pub fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}
