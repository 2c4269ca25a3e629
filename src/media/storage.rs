//! Where renditions live: any `object_store` back end — a local folder (the default, `./media`),
//! memory (unit tests), or S3-compatible storage (the `s3` cargo feature). Objects are named by
//! the SHA-256 of their bytes (`<hex>.jpg`), so writing one that exists is a no-op and a name
//! always means the same bytes: it can be cached for ever.

use std::path::Path as FsPath;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::TryStreamExt;
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("media storage: {0}")]
    Store(#[from] object_store::Error),
    #[error("media storage: {0}")]
    Setup(String),
}

pub type StorageResult<T> = Result<T, StorageError>;

/// Whether `key` is a name this service could have given: 64 lowercase hex digits and `.jpg`.
/// Anything else is refused before it reaches the store (no `..`, no folders, no other types).
pub fn is_valid_key(key: &str) -> bool {
    key.strip_suffix(".jpg").is_some_and(|hash| {
        hash.len() == 64
            && hash
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// An object in the store, as the sweep sees it.
#[derive(Debug, Clone)]
pub struct StoredObject {
    pub key: String,
    pub age: Duration,
}

#[derive(Clone)]
pub struct MediaStore {
    inner: Arc<dyn ObjectStore>,
    description: String,
}

impl std::fmt::Debug for MediaStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.description)
    }
}

/// Tries of one create before its error counts.
const PUT_ATTEMPTS: u64 = 3;

impl MediaStore {
    /// A local folder, created when missing.
    pub fn local(dir: &FsPath) -> StorageResult<Self> {
        std::fs::create_dir_all(dir)
            .map_err(|e| StorageError::Setup(format!("cannot create {}: {e}", dir.display())))?;
        let store = LocalFileSystem::new_with_prefix(dir)?;
        Ok(MediaStore {
            inner: Arc::new(store),
            description: format!("folder {}", dir.display()),
        })
    }

    /// Kept in memory only: for unit tests.
    pub fn memory() -> Self {
        MediaStore {
            inner: Arc::new(InMemory::new()),
            description: "memory".into(),
        }
    }

    /// An S3-compatible bucket. Credentials, region and endpoint come from the usual
    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, `AWS_ENDPOINT` variables.
    #[cfg(feature = "s3")]
    pub fn s3(bucket: &str) -> StorageResult<Self> {
        let store = object_store::aws::AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .build()?;
        Ok(MediaStore {
            inner: Arc::new(store),
            description: format!("s3 bucket {bucket}"),
        })
    }

    pub fn describe(&self) -> &str {
        &self.description
    }

    /// Store `bytes` under `key` unless an object of that name exists. Returns whether this call
    /// created it, so that a failed upload removes only what it added.
    pub async fn put_if_absent(&self, key: &str, bytes: Bytes) -> StorageResult<bool> {
        let path = Path::from(key);
        let payload = PutPayload::from_bytes(bytes);
        let mut attempt = 1;
        loop {
            let options = PutOptions::from(PutMode::Create);
            match self.inner.put_opts(&path, payload.clone(), options).await {
                Ok(_) => return Ok(true),
                Err(object_store::Error::AlreadyExists { .. }) => return Ok(false),
                // A pooled keep-alive connection the server closed just as it was reused fails
                // with "error sending request" before anything is sent; object_store does not
                // retry a conditional PUT. Trying again is safe: a create either happens once or
                // answers AlreadyExists (then a file an earlier attempt wrote may be reported as
                // not created here, and the sweep removes it if the photo is not stored).
                Err(object_store::Error::Generic { source, .. }) if attempt < PUT_ATTEMPTS => {
                    tracing::warn!(%key, attempt, error = %source, "storing a media file failed; trying again");
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(50 * attempt)).await;
                }
                Err(err) => return Err(err.into()),
            }
        }
    }

    /// The object's bytes, or `None` when there is none.
    pub async fn get(&self, key: &str) -> StorageResult<Option<Bytes>> {
        match self.inner.get(&Path::from(key)).await {
            Ok(result) => Ok(Some(result.bytes().await?)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(err) => Err(err.into()),
        }
    }

    /// Remove an object; removing one that is gone is not an error.
    pub async fn delete(&self, key: &str) -> StorageResult<()> {
        match self.inner.delete(&Path::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(err) => Err(err.into()),
        }
    }

    /// Every object, with its age.
    pub async fn list(&self) -> StorageResult<Vec<StoredObject>> {
        let now = chrono::Utc::now();
        let objects: Vec<object_store::ObjectMeta> = self.inner.list(None).try_collect().await?;
        Ok(objects
            .into_iter()
            .map(|meta| StoredObject {
                key: meta.location.to_string(),
                age: (now - meta.last_modified).to_std().unwrap_or_default(),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08.jpg";

    #[test]
    fn only_content_addresses_are_keys() {
        assert!(is_valid_key(KEY));
        for bad in [
            "../etc/passwd",
            "x.jpg",
            &KEY.to_uppercase(),
            &KEY.replace(".jpg", ".html"),
            &format!("a/{KEY}"),
            "",
        ] {
            assert!(!is_valid_key(bad), "{bad}");
        }
    }

    #[tokio::test]
    async fn writing_the_same_name_twice_creates_it_once() {
        let store = MediaStore::memory();
        assert!(store
            .put_if_absent(KEY, Bytes::from_static(b"x"))
            .await
            .unwrap());
        assert!(!store
            .put_if_absent(KEY, Bytes::from_static(b"x"))
            .await
            .unwrap());
        assert_eq!(store.get(KEY).await.unwrap().as_deref(), Some(&b"x"[..]));
        assert_eq!(store.list().await.unwrap().len(), 1);
        store.delete(KEY).await.unwrap();
        store.delete(KEY).await.unwrap();
        assert_eq!(store.get(KEY).await.unwrap(), None);
    }
}
