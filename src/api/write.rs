//! The one write path. A change is made in one transaction that also writes its audit event
//! (actor, action, entity, before/after as the staff view) and then commits, so a handler says
//! only what changes:
//!
//! ```ignore
//! let staff = auth.require(Action::EditRegistry)?;
//! let current = communities::get(&state.db, id.0).await?;
//! let version = if_match.check(id.0, current.version)?;
//! let draft = body.parse()?;
//! let change = Change::begin(&state.db, state.clock.now(), staff).await?;
//! let m = communities::update(&change, id.0, version, &draft).await.map_err(mismatch(id.0))?;
//! let dto = Community::from(m);
//! change.updated(&Community::from(current), &dto).await?;
//! ```
//!
//! A [`Change`] is a connection like any other for the store's functions. A handler ends with
//! `created`, `updated` or `deleted`, or with [`Change::done`] for another verb
//! (`story.publish`, `user.disable`, `nomination.approved`). A change of several entities writes
//! the others' events with [`Change::note`] first (a recognition's certificates revoked with it).
//!
//! The audit action is `<kind>.<verb>`, the kind and the id coming from the resource's
//! [`Audited`] implementation (each resource's module declares it with `audited!`). Events
//! that carry no resource view (an erasure's report, an import's summary) are written with
//! [`Change::record`].

use std::ops::Deref;

use poem_openapi::types::ToJSON;
use sea_orm::{
    ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, ExecResult, QueryResult, Statement,
    TransactionTrait,
};

use super::auth::Staff;
use super::error::ApiError;
use crate::store::audit;

/// A resource as the audit log names it.
pub trait Audited: ToJSON {
    /// The entity kind in the audit log: `community`, `activity`, …
    const KIND: &'static str;
    fn audit_id(&self) -> i64;
}

/// `audited!(Story => "story")`: the resource is audited under this kind, its id being its `id`
/// field. Each resource's API module says it next to the resource.
macro_rules! audited {
    ($($ty:ty => $kind:literal),* $(,)?) => {$(
        impl $crate::api::write::Audited for $ty {
            const KIND: &'static str = $kind;
            fn audit_id(&self) -> i64 {
                self.id
            }
        }
    )*};
}

pub(crate) use audited;

/// An open transaction of one member of staff's change.
pub struct Change<'a> {
    txn: DatabaseTransaction,
    /// The time the change is recorded at (the application's clock when it began).
    now: chrono::DateTime<chrono::Utc>,
    staff: &'a Staff,
}

impl Deref for Change<'_> {
    type Target = DatabaseTransaction;
    fn deref(&self) -> &DatabaseTransaction {
        &self.txn
    }
}

/// Store functions take the change as they take any connection.
#[async_trait::async_trait]
impl ConnectionTrait for Change<'_> {
    fn get_database_backend(&self) -> DbBackend {
        self.txn.get_database_backend()
    }
    async fn execute(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.txn.execute(stmt).await
    }
    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.txn.execute_unprepared(sql).await
    }
    async fn query_one(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.txn.query_one(stmt).await
    }
    async fn query_all(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.txn.query_all(stmt).await
    }
    fn support_returning(&self) -> bool {
        self.txn.support_returning()
    }
}

impl<'a> Change<'a> {
    /// A change by `staff` on `db`, recorded as made at `now`.
    pub async fn begin(
        db: &sea_orm::DatabaseConnection,
        now: chrono::DateTime<chrono::Utc>,
        staff: &'a Staff,
    ) -> Result<Self, ApiError> {
        Ok(Change {
            txn: db.begin().await?,
            now,
            staff,
        })
    }

    /// Record one event of a change of several entities (`import.commit` and a
    /// `resident.create` per row), at the change's time, by its member of staff.
    pub async fn record(
        &self,
        action: &str,
        kind: &str,
        id: i64,
        before: Option<serde_json::Value>,
        after: Option<serde_json::Value>,
    ) -> Result<(), ApiError> {
        let event = audit::Event {
            action,
            entity_kind: kind,
            entity_id: id,
            before,
            after,
        };
        audit::record(&self.txn, &self.staff.actor(), event, self.now).await?;
        Ok(())
    }

    /// Commit a change whose audit events were written already (a change of several entities).
    pub async fn commit(self) -> Result<(), ApiError> {
        self.txn.commit().await?;
        Ok(())
    }

    /// Record `action` on `id` of `kind` with its before and after, then commit.
    pub async fn commit_audited(
        self,
        action: &str,
        kind: &str,
        id: i64,
        before: Option<serde_json::Value>,
        after: Option<serde_json::Value>,
    ) -> Result<(), ApiError> {
        self.record(action, kind, id, before, after).await?;
        self.txn.commit().await?;
        Ok(())
    }

    /// Record `<kind>.<verb>` (`story.publish`, `recognition.create`) with the resource as it was
    /// and as it is now, either left out where the event does not keep it: one event of a change
    /// that goes on.
    pub async fn note<T: Audited>(
        &self,
        verb: &str,
        before: Option<&T>,
        after: Option<&T>,
    ) -> Result<(), ApiError> {
        let id = after.or(before).map_or(0, Audited::audit_id);
        let action = format!("{}.{verb}", T::KIND);
        let json = |dto: Option<&T>| dto.and_then(ToJSON::to_json);
        self.record(&action, T::KIND, id, json(before), json(after))
            .await
    }

    /// [`Change::note`] as the change's last event, then commit.
    pub async fn done<T: Audited>(
        self,
        verb: &str,
        before: Option<&T>,
        after: Option<&T>,
    ) -> Result<(), ApiError> {
        self.note(verb, before, after).await?;
        self.commit().await
    }

    /// `<kind>.create`, with the new resource as it reads now.
    pub async fn created<T: Audited>(self, after: &T) -> Result<(), ApiError> {
        self.done("create", None, Some(after)).await
    }

    /// `<kind>.update`, with the resource before and after.
    pub async fn updated<T: Audited>(self, before: &T, after: &T) -> Result<(), ApiError> {
        self.done("update", Some(before), Some(after)).await
    }

    /// `<kind>.delete`, with the resource as it was.
    pub async fn deleted<T: Audited>(self, before: &T) -> Result<(), ApiError> {
        self.done("delete", Some(before), None).await
    }
}
