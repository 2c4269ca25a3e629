//! Housekeeping on a schedule inside the server (at start, then every 10 minutes) and as
//! `youde prune`: what is no longer needed is removed, and each run that removed something is
//! logged with its counts.
//!
//! - login attempts older than the throttle window, and sessions that have ended;
//! - objectors' contact details, a set number of days after their objection was decided, in the
//!   objection and in its audit history (data minimisation: the decision, the content and the
//!   receipt code stay);
//! - stale temporary files: backup archives left as `*.partial` by a crash, older than a day.
//!
//! (Delivered search outbox rows are pruned by the relay itself, after an hour.)

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, TransactionTrait};

use crate::store::{retention, users, StoreError};

/// What housekeeping keeps, and where it looks for temporary files.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Days an objector's contact is kept after the objection was decided.
    pub objector_contact_days: u32,
    /// Folders whose stale `*.partial` files are removed.
    pub temp_dirs: Vec<PathBuf>,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    pub login_attempts: u64,
    pub sessions: u64,
    pub objector_contacts: u64,
    pub temp_files: u64,
}

const STALE_TEMP: Duration = Duration::from_secs(24 * 3600);

/// One run at `now`.
pub async fn run(
    db: &DatabaseConnection,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Result<Report, StoreError> {
    let (login_attempts, sessions) = users::prune(db, now).await?;
    let txn = db.begin().await?;
    let objector_contacts = retention::forget_objector_contacts(
        &txn,
        now - chrono::Duration::days(settings.objector_contact_days.into()),
    )
    .await?;
    txn.commit().await?;
    let temp_files = settings
        .temp_dirs
        .iter()
        .map(|dir| remove_stale_partials(dir, STALE_TEMP))
        .sum();
    let report = Report {
        login_attempts,
        sessions,
        objector_contacts,
        temp_files,
    };
    if report != Report::default() {
        tracing::info!(
            login_attempts = report.login_attempts,
            sessions = report.sessions,
            objector_contacts = report.objector_contacts,
            temp_files = report.temp_files,
            "housekeeping removed what is no longer needed"
        );
    }
    Ok(report)
}

/// Remove `*.partial` files of `dir` not touched for `older_than`; returns how many.
fn remove_stale_partials(dir: &Path, older_than: Duration) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age >= older_than);
        if stale
            && path.extension().is_some_and(|e| e == "partial")
            && std::fs::remove_file(&path).is_ok()
        {
            removed += 1;
        }
    }
    removed
}

/// Housekeeping every `every`, in the background, for the life of the server.
pub fn spawn(db: DatabaseConnection, settings: Settings, every: Duration) {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        loop {
            ticks.tick().await;
            if let Err(err) = run(&db, &settings, Utc::now()).await {
                tracing::warn!(error = %err, "housekeeping failed; it runs again later");
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_stale_partial_files_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("youde-1.zip.partial"), b"half").unwrap();
        std::fs::write(dir.path().join("youde-1.zip"), b"whole").unwrap();
        assert_eq!(
            remove_stale_partials(dir.path(), Duration::from_secs(3600)),
            0,
            "too young"
        );
        assert_eq!(remove_stale_partials(dir.path(), Duration::ZERO), 1);
        assert!(
            dir.path().join("youde-1.zip").exists(),
            "a finished archive stays"
        );
        assert!(!dir.path().join("youde-1.zip.partial").exists());
        assert_eq!(
            remove_stale_partials(&dir.path().join("missing"), Duration::ZERO),
            0
        );
    }
}
