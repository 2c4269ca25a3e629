//! Housekeeping on a schedule inside the server (and as `youde prune`): what is no longer needed
//! is removed, and each run is logged with its counts.
//!
//! - search outbox rows delivered more than a day ago (the relay keeps an hour for replays);
//! - objectors' contact details, a set number of days after their objection was decided (data
//!   minimisation: the decision, the content and the receipt code stay);
//! - stale temporary files: backup archives left as `*.partial` by a crash, older than a day.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

use crate::store::{outbox, retention, StoreError};

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
    pub outbox_rows: u64,
    pub objector_contacts: u64,
    pub temp_files: u64,
}

const KEEP_DELIVERED: chrono::Duration = chrono::Duration::days(1);
const STALE_TEMP: Duration = Duration::from_secs(24 * 3600);

/// One run at `now`.
pub async fn run(
    db: &DatabaseConnection,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Result<Report, StoreError> {
    let outbox_rows = outbox::prune(db, now - KEEP_DELIVERED).await?;
    let objector_contacts = retention::forget_objector_contacts(
        db,
        now - chrono::Duration::days(settings.objector_contact_days.into()),
    )
    .await?;
    let temp_files = settings
        .temp_dirs
        .iter()
        .map(|dir| remove_stale_partials(dir, STALE_TEMP))
        .sum();
    let report = Report {
        outbox_rows,
        objector_contacts,
        temp_files,
    };
    tracing::info!(
        outbox_rows = report.outbox_rows,
        objector_contacts = report.objector_contacts,
        temp_files = report.temp_files,
        "housekeeping done"
    );
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
