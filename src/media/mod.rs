//! Media: photo files. [`processing`] turns an upload into upright, metadata-free renditions;
//! [`storage`] keeps them in object storage under their SHA-256. [`Media`] ties the files to the
//! database rows: a photo's files are written inside the transaction that records it and removed
//! again when that transaction fails, and [`Media::sweep`] removes whatever a crash left behind.

pub mod processing;
pub mod seal;
pub mod sniff;
pub mod storage;

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, TransactionTrait};
use serde_json::{json, Value};

use crate::domain::photo::PhotoDraft;
use crate::store::audit::{self, Actor, Event};
use crate::store::entities::photo;
use crate::store::photos::{self, NewFile, NewPhoto};
use crate::store::StoreError;
use processing::{IngestLimits, ProcessedPhoto, ProcessingError, Rendition};
use storage::{MediaStore, StorageError};

/// Default largest upload request: 20 MiB.
pub const DEFAULT_MAX_UPLOAD_BYTES: usize = 20 * 1024 * 1024;

/// How old an unreferenced file must be before a sweep removes it: younger ones may belong to an
/// upload still in its transaction on another node.
pub const DEFAULT_SWEEP_MIN_AGE: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error(transparent)]
    Processing(#[from] ProcessingError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("image processing stopped: {0}")]
    Worker(String),
}

impl From<sea_orm::DbErr> for MediaError {
    fn from(err: sea_orm::DbErr) -> Self {
        MediaError::Store(err.into())
    }
}

/// What a sweep did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SweepReport {
    pub kept: usize,
    pub removed: usize,
    /// Unreferenced but younger than the minimum age.
    pub too_young: usize,
}

/// Where photo files are kept and the limits uploads are held to (from the configuration).
#[derive(Debug, Clone)]
pub struct MediaSettings {
    /// An S3-compatible bucket (needs the `s3` feature); the folder otherwise.
    pub s3_bucket: Option<String>,
    pub dir: std::path::PathBuf,
    pub max_pixels: u64,
    pub max_upload_bytes: usize,
}

/// The media store with the limits uploads are held to.
#[derive(Debug, Clone)]
pub struct Media {
    pub store: MediaStore,
    pub limits: IngestLimits,
    /// Largest upload request body, in bytes (413 above).
    pub max_upload_bytes: usize,
}

impl Media {
    pub fn new(store: MediaStore) -> Self {
        Media {
            store,
            limits: IngestLimits::default(),
            max_upload_bytes: DEFAULT_MAX_UPLOAD_BYTES,
        }
    }

    /// The store and limits `settings` name: an S3 bucket when given, else the folder.
    pub fn open(settings: &MediaSettings) -> Result<Self, StorageError> {
        let store = match &settings.s3_bucket {
            #[cfg(feature = "s3")]
            Some(bucket) => MediaStore::s3(bucket)?,
            #[cfg(not(feature = "s3"))]
            Some(_) => {
                return Err(StorageError::Setup(
                    "YOUDE_MEDIA_S3_BUCKET is set, but this build has no S3 support (build with --features s3)".into(),
                ))
            }
            None => MediaStore::local(&settings.dir)?,
        };
        Ok(Media {
            store,
            limits: IngestLimits {
                max_pixels: settings.max_pixels,
            },
            max_upload_bytes: settings.max_upload_bytes,
        })
    }

    /// Check and render an upload on the blocking pool, off the async workers.
    pub async fn process(&self, bytes: Vec<u8>) -> Result<ProcessedPhoto, MediaError> {
        let limits = self.limits;
        match tokio::task::spawn_blocking(move || processing::process(&bytes, &limits)).await {
            Ok(result) => Ok(result?),
            // A decoder that panics on a hostile file has still only met a file it cannot
            // decode: the request gets 422 and the server goes on.
            Err(err) if err.is_panic() => {
                tracing::error!("an image decoder panicked on an upload");
                Err(ProcessingError::Undecodable("the decoder panicked".into()).into())
            }
            Err(err) => Err(MediaError::Worker(err.to_string())),
        }
    }

    /// Record a processed upload (with its audit event) and store its files, all or nothing: if
    /// anything fails, the files this call created are removed again (those another photo uses
    /// stay).
    pub async fn save(
        &self,
        db: &DatabaseConnection,
        draft: &PhotoDraft,
        processed: &ProcessedPhoto,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<photo::Model, MediaError> {
        let mut created = Vec::new();
        let result = self
            .save_inner(db, draft, processed, actor, now, &mut created)
            .await;
        if result.is_err() && !created.is_empty() {
            self.remove_unreferenced(db, &created).await;
        }
        result
    }

    async fn save_inner(
        &self,
        db: &DatabaseConnection,
        draft: &PhotoDraft,
        processed: &ProcessedPhoto,
        actor: &Actor,
        now: DateTime<Utc>,
        created: &mut Vec<String>,
    ) -> Result<photo::Model, MediaError> {
        let new = NewPhoto {
            draft,
            source_sha256: &processed.source_sha256,
            source_format: processed.source_kind.name(),
            width: processed.width,
            height: processed.height,
            files: processed.renditions.iter().map(new_file).collect(),
            uploaded_by: &actor.name,
        };
        let txn = db.begin().await?;
        // Rows first: a refusal (unknown owner, duplicate) happens before any file is written.
        let photo = photos::insert(&txn, &new).await?;
        let event = Event {
            action: "photo.create",
            entity_kind: "photo",
            entity_id: photo.id,
            before: None,
            after: Some(snapshot(&photo, draft, processed)),
        };
        audit::record(&txn, actor, event, now).await?;
        for rendition in &processed.renditions {
            let key = rendition.key();
            if self
                .store
                .put_if_absent(&key, rendition.bytes.clone())
                .await?
            {
                created.push(key);
            }
        }
        txn.commit().await?;
        Ok(photo)
    }

    /// Delete a photo (recording `before` in the audit log) and the files no other photo uses.
    pub async fn delete(
        &self,
        db: &DatabaseConnection,
        id: i64,
        actor: &Actor,
        now: DateTime<Utc>,
        before: Option<Value>,
    ) -> Result<(), MediaError> {
        let txn = db.begin().await?;
        let keys = photos::delete(&txn, id).await?;
        let event = Event {
            action: "photo.delete",
            entity_kind: "photo",
            entity_id: id,
            before,
            after: None,
        };
        audit::record(&txn, actor, event, now).await?;
        txn.commit().await?;
        self.remove_unreferenced(db, &keys).await;
        Ok(())
    }

    /// Best effort: a file that cannot be removed now is an orphan the next sweep removes.
    pub async fn remove_unreferenced(&self, db: &DatabaseConnection, keys: &[String]) {
        let unused = match photos::unreferenced(db, keys).await {
            Ok(unused) => unused,
            Err(err) => {
                tracing::warn!(error = %err, "cannot tell which media files are unused; the sweep will remove them");
                return;
            }
        };
        for key in unused {
            if let Err(err) = self.store.delete(&key).await {
                tracing::warn!(%key, error = %err, "cannot remove a media file; the sweep will");
            }
        }
    }

    /// Remove stored files no photo uses, once older than `min_age`. Objects whose names this
    /// service would not have given (a `.gitkeep`, someone else's file) are left alone.
    pub async fn sweep(
        &self,
        db: &DatabaseConnection,
        min_age: Duration,
    ) -> Result<SweepReport, MediaError> {
        let objects = self.store.list().await?;
        let used = photos::all_keys(db).await?;
        let mut report = SweepReport::default();
        for object in objects
            .into_iter()
            .filter(|o| storage::is_valid_key(&o.key))
        {
            if used.contains(&object.key) {
                report.kept += 1;
            } else if object.age < min_age {
                report.too_young += 1;
            } else {
                self.store.delete(&object.key).await?;
                report.removed += 1;
            }
        }
        Ok(report)
    }
}

/// The new photo as the audit log keeps it.
fn snapshot(photo: &photo::Model, draft: &PhotoDraft, processed: &ProcessedPhoto) -> Value {
    let files: Vec<Value> = processed
        .renditions
        .iter()
        .map(|r| json!({ "variant": r.variant.code(), "key": r.key(), "width": r.width, "height": r.height }))
        .collect();
    json!({
        "id": photo.id,
        "owner_kind": photo.owner_kind,
        "owner_id": draft.owner.id,
        "caption": photo.caption,
        "credit": photo.credit,
        "alt": photo.alt,
        "taken_on": photo.taken_on,
        "resident_ids": draft.resident_ids,
        "source_sha256": photo.source_sha256,
        "files": files,
    })
}

fn new_file(r: &Rendition) -> NewFile {
    NewFile {
        variant: r.variant.code(),
        object_key: r.key(),
        content_type: Rendition::CONTENT_TYPE,
        width: r.width,
        height: r.height,
        size_bytes: r.bytes.len() as u64,
    }
}
