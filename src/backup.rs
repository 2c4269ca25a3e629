//! Backup and restore: one zip archive holds everything needed to bring a registry back — a
//! consistent snapshot of the database taken while the server keeps writing, every stored media
//! file, and a manifest with the SHA-256 of each member and the schema (applied migrations).
//!
//! - SQLite: `VACUUM INTO` writes a transaction-consistent copy of the live database file.
//! - PostgreSQL: `pg_dump --format=custom` when it is on the `PATH` (restored with `pg_restore`).
//!
//! Archives are written to `<name>.partial` and renamed when complete, so a crash never leaves a
//! half-written archive under the final name. A restore goes only into an empty database and an
//! empty media store, checks every member's checksum before writing anything, refuses an archive
//! whose schema is newer than this program's, and migrates an older one.

use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bytes::Bytes;
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::media::storage::MediaStore;

/// The archive format this program writes and reads.
pub const FORMAT: &str = "youde-backup/1";
const MANIFEST: &str = "manifest.json";
const SQLITE_MEMBER: &str = "database.sqlite";
const PG_MEMBER: &str = "database.pgdump";

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0}")]
    Refused(String),
    #[error("the archive is damaged: {0}")]
    Damaged(String),
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("file: {0}")]
    Io(#[from] std::io::Error),
    #[error("media store: {0}")]
    Media(#[from] crate::media::storage::StorageError),
    #[error("archive: {0}")]
    Zip(#[from] zip::result::ZipError),
}

type Result<T> = std::result::Result<T, BackupError>;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Member {
    pub name: String,
    pub sha256: String,
    pub bytes: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// `sqlite` or `postgres`: which member holds the database.
    pub database: String,
    /// The migrations applied to the database when it was copied, oldest first.
    pub schema: Vec<String>,
    pub members: Vec<Member>,
}

#[derive(Debug)]
pub struct BackupReport {
    pub path: PathBuf,
    pub media_files: usize,
    pub bytes: u64,
    pub elapsed: Duration,
}

#[derive(Debug)]
pub struct RestoreReport {
    pub media_files: usize,
    pub migrated: Vec<String>,
}

fn hex(digest: impl AsRef<[u8]>) -> String {
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

fn hex_sha256(bytes: &[u8]) -> String {
    hex(Sha256::digest(bytes))
}

/// The names of the migrations applied to `db`, oldest first.
pub async fn applied_migrations(db: &impl ConnectionTrait) -> Result<Vec<String>> {
    let rows = db
        .query_all(Statement::from_string(
            db.get_database_backend(),
            "SELECT version FROM seaql_migrations ORDER BY version",
        ))
        .await?;
    rows.iter()
        .map(|row| Ok(row.try_get::<String>("", "version")?))
        .collect()
}

/// The migrations this program knows, oldest first.
pub fn known_migrations() -> Vec<String> {
    use migration::MigratorTrait;
    migration::Migrator::migrations()
        .iter()
        .map(|m| m.name().to_string())
        .collect()
}

/// The temporary name an archive is written under until it is complete.
pub fn partial_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    path.with_file_name(name)
}

/// A transaction-consistent copy of the database at `url` in a file of `dir`: its archive member
/// name and path. SQLite: `VACUUM INTO` while others keep writing; PostgreSQL: `pg_dump`.
async fn snapshot_database(
    db: &DatabaseConnection,
    url: &str,
    dir: &Path,
) -> Result<(&'static str, PathBuf)> {
    match db.get_database_backend() {
        DatabaseBackend::Sqlite => {
            let path = dir.join(SQLITE_MEMBER);
            let quoted = path.to_string_lossy().replace('\'', "''");
            db.execute_unprepared(&format!("VACUUM INTO '{quoted}'"))
                .await?;
            Ok((SQLITE_MEMBER, path))
        }
        DatabaseBackend::Postgres => pg_dump(url, dir),
        other => Err(BackupError::Refused(format!(
            "no backup for {other:?} databases"
        ))),
    }
}

/// `pg_dump --format=custom` of `url` into a file of `dir`.
fn pg_dump(url: &str, dir: &Path) -> Result<(&'static str, PathBuf)> {
    let path = dir.join(PG_MEMBER);
    let status = std::process::Command::new("pg_dump")
        .args(["--format=custom", "--no-owner", "--no-privileges", "--file"])
        .arg(&path)
        .arg("--dbname")
        .arg(url)
        .status()
        .map_err(|e| {
            BackupError::Refused(format!(
                "cannot run pg_dump ({e}): install the PostgreSQL client tools (Debian: postgresql-client)"
            ))
        })?;
    if !status.success() {
        return Err(BackupError::Refused(format!("pg_dump failed ({status})")));
    }
    Ok((PG_MEMBER, path))
}

/// A media file as a stored member (photos are JPEGs already: deflating them gains nothing).
fn add_member<W: Write + Seek>(
    zip: &mut zip::ZipWriter<W>,
    name: &str,
    bytes: &[u8],
) -> Result<Member> {
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(bytes.len() as u64 >= u32::MAX as u64);
    zip.start_file(name, options)?;
    zip.write_all(bytes)?;
    Ok(Member {
        name: name.to_string(),
        sha256: hex_sha256(bytes),
        bytes: bytes.len() as u64,
    })
}

/// A file as a deflated member, streamed (the database may be larger than memory should hold).
fn add_file_member<W: Write + Seek>(
    zip: &mut zip::ZipWriter<W>,
    name: &str,
    path: &Path,
) -> Result<Member> {
    let len = std::fs::metadata(path)?.len();
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(len >= u32::MAX as u64);
    zip.start_file(name, options)?;
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0; 1 << 16];
    let mut bytes = 0u64;
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        zip.write_all(&buffer[..n])?;
        bytes += n as u64;
    }
    Ok(Member {
        name: name.to_string(),
        sha256: hex(hasher.finalize()),
        bytes,
    })
}

/// Write a backup of `db` (at `db_url`) and every object of `media` to `path`.
pub async fn create(
    db: &DatabaseConnection,
    db_url: &str,
    media: &MediaStore,
    path: &Path,
) -> Result<BackupReport> {
    let started = Instant::now();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let work = tempfile::Builder::new()
        .prefix("youde-backup-")
        .tempdir_in(
            path.parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new(".")),
        )?;
    // The schema first: a migration applied between this and the copy would only make the
    // recorded schema older than the copy, which restore then migrates (a no-op).
    let schema = applied_migrations(db).await?;
    let (member, db_file) = snapshot_database(db, db_url, work.path()).await?;
    let partial = partial_path(path);
    let file = std::fs::File::create(&partial)?;
    let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(file));
    let mut members = Vec::new();
    members.push(add_file_member(&mut zip, member, &db_file)?);
    // Media after the database: a file the copy names was written before its row committed,
    // so it is there (files are never changed, only added and swept when unused).
    let mut objects = media.list().await?;
    objects.sort_by(|a, b| a.key.cmp(&b.key));
    let mut media_files = 0;
    for object in objects {
        if let Some(bytes) = media.get(&object.key).await? {
            members.push(add_member(
                &mut zip,
                &format!("media/{}", object.key),
                &bytes,
            )?);
            media_files += 1;
        }
    }
    let manifest = Manifest {
        format: FORMAT.into(),
        created_at: chrono::Utc::now(),
        database: match member {
            PG_MEMBER => "postgres",
            _ => "sqlite",
        }
        .into(),
        schema,
        members,
    };
    let json = serde_json::to_vec_pretty(&manifest).expect("manifest serialises");
    zip.start_file(MANIFEST, zip::write::SimpleFileOptions::default())?;
    zip.write_all(&json)?;
    let mut writer = zip.finish()?;
    writer.flush()?;
    writer
        .into_inner()
        .map_err(|e| BackupError::Io(e.into_error()))?
        .sync_all()?;
    std::fs::rename(&partial, path)?;
    Ok(BackupReport {
        path: path.to_path_buf(),
        media_files,
        bytes: std::fs::metadata(path)?.len(),
        elapsed: started.elapsed(),
    })
}

/// Read and check an archive: the manifest, and every member against its checksum.
pub fn verify(path: &Path) -> Result<Manifest> {
    let file = std::fs::File::open(path)?;
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file))
        .map_err(|e| BackupError::Damaged(format!("not a readable zip archive ({e})")))?;
    let manifest: Manifest = {
        let mut entry = zip
            .by_name(MANIFEST)
            .map_err(|_| BackupError::Damaged("no manifest.json".into()))?;
        let mut text = Vec::new();
        entry
            .read_to_end(&mut text)
            .map_err(|e| BackupError::Damaged(format!("manifest.json: {e}")))?;
        serde_json::from_slice(&text)
            .map_err(|e| BackupError::Damaged(format!("manifest.json: {e}")))?
    };
    if manifest.format != FORMAT {
        return Err(BackupError::Refused(format!(
            "unknown archive format “{}” (this program reads {FORMAT})",
            manifest.format
        )));
    }
    for member in &manifest.members {
        let (bytes, sha256) = hash_member(&mut zip, &member.name)?;
        if bytes != member.bytes || sha256 != member.sha256 {
            return Err(BackupError::Damaged(format!(
                "{} does not match its checksum",
                member.name
            )));
        }
    }
    Ok(manifest)
}

/// A member's size and SHA-256, read in pieces.
fn hash_member<R: Read + Seek>(zip: &mut zip::ZipArchive<R>, name: &str) -> Result<(u64, String)> {
    let mut entry = zip
        .by_name(name)
        .map_err(|_| BackupError::Damaged(format!("{name} is missing")))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0; 1 << 16];
    let mut bytes = 0u64;
    loop {
        let n = entry
            .read(&mut buffer)
            .map_err(|e| BackupError::Damaged(format!("{name}: {e}")))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        bytes += n as u64;
    }
    Ok((bytes, hex(hasher.finalize())))
}

/// A member copied into a new file at `path`, in pieces.
fn extract_member<R: Read + Seek>(
    zip: &mut zip::ZipArchive<R>,
    name: &str,
    path: &Path,
) -> Result<()> {
    let mut entry = zip
        .by_name(name)
        .map_err(|_| BackupError::Damaged(format!("{name} is missing")))?;
    let mut out = std::fs::File::create(path)?;
    std::io::copy(&mut entry, &mut out)
        .map_err(|e| BackupError::Damaged(format!("{name}: {e}")))?;
    out.sync_all()?;
    Ok(())
}

fn read_member<R: Read + Seek>(zip: &mut zip::ZipArchive<R>, name: &str) -> Result<Vec<u8>> {
    let mut entry = zip
        .by_name(name)
        .map_err(|_| BackupError::Damaged(format!("{name} is missing")))?;
    let mut bytes = Vec::with_capacity(entry.size() as usize);
    entry
        .read_to_end(&mut bytes)
        .map_err(|e| BackupError::Damaged(format!("{name}: {e}")))?;
    Ok(bytes)
}

/// Refuse an archive whose schema this program does not know (made by a newer version).
pub fn check_schema(manifest: &Manifest) -> Result<()> {
    let known = known_migrations();
    if let Some(unknown) = manifest.schema.iter().find(|m| !known.contains(m)) {
        return Err(BackupError::Refused(format!(
            "the archive comes from a newer schema (migration {unknown} is unknown to this youde): \
             restore it with the version that made it, or a later one"
        )));
    }
    Ok(())
}

/// Where a restore writes: the database URL and the media store, both of which must be empty.
pub struct Target<'a> {
    pub database_url: &'a str,
    pub media: &'a MediaStore,
}

async fn database_is_empty(url: &str) -> Result<bool> {
    if let Some(path) = sqlite_path(url) {
        return Ok(std::fs::metadata(path)
            .map(|m| m.len() == 0)
            .unwrap_or(true));
    }
    let db = sea_orm::Database::connect(url).await?;
    let row = db
        .query_one(Statement::from_string(
            DatabaseBackend::Postgres,
            "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'public'",
        ))
        .await?
        .expect("a count");
    let n: i64 = row.try_get("", "n")?;
    db.close().await?;
    Ok(n == 0)
}

fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.trim_start_matches("//");
    let rest = rest.split('?').next().unwrap_or(rest);
    Some(PathBuf::from(rest))
}

/// Restore `archive` into `target`. Nothing is written unless the archive is whole, of a known
/// schema, and the target empty.
pub async fn restore(archive: &Path, target: Target<'_>) -> Result<RestoreReport> {
    let manifest = verify(archive)?;
    check_schema(&manifest)?;
    if !database_is_empty(target.database_url).await? {
        return Err(BackupError::Refused(format!(
            "the database {} is not empty: restore only into a new, empty one",
            redact_url(target.database_url)
        )));
    }
    if !target.media.list().await?.is_empty() {
        return Err(BackupError::Refused(format!(
            "the media store ({}) is not empty: restore only into an empty one",
            target.media.describe()
        )));
    }
    let file = std::fs::File::open(archive)?;
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file))?;
    match manifest.database.as_str() {
        "sqlite" => {
            let path = sqlite_path(target.database_url).ok_or_else(|| {
                BackupError::Refused(
                    "this archive holds a SQLite database: restore it to a sqlite:// URL".into(),
                )
            })?;
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            let partial = partial_path(&path);
            extract_member(&mut zip, SQLITE_MEMBER, &partial)?;
            std::fs::rename(&partial, &path)?;
        }
        "postgres" => {
            let dump = tempfile::NamedTempFile::new()?;
            extract_member(&mut zip, PG_MEMBER, dump.path())?;
            let status = std::process::Command::new("pg_restore")
                .args([
                    "--no-owner",
                    "--no-privileges",
                    "--exit-on-error",
                    "--dbname",
                ])
                .arg(target.database_url)
                .arg(dump.path())
                .status()
                .map_err(|e| {
                    BackupError::Refused(format!(
                        "cannot run pg_restore ({e}): install the PostgreSQL client tools"
                    ))
                })?;
            if !status.success() {
                return Err(BackupError::Refused(format!(
                    "pg_restore failed ({status})"
                )));
            }
        }
        other => {
            return Err(BackupError::Damaged(format!(
                "unknown database kind “{other}”"
            )));
        }
    }
    let mut media_files = 0;
    for member in &manifest.members {
        if let Some(key) = member.name.strip_prefix("media/") {
            let bytes = read_member(&mut zip, &member.name)?;
            target.media.put_if_absent(key, Bytes::from(bytes)).await?;
            media_files += 1;
        }
    }
    // An older archive is brought up to this program's schema.
    let db = crate::store::connect(target.database_url).await?;
    let before = applied_migrations(&db).await?;
    crate::store::migrate(&db).await?;
    let after = applied_migrations(&db).await?;
    db.close().await?;
    Ok(RestoreReport {
        media_files,
        migrated: after.into_iter().filter(|m| !before.contains(m)).collect(),
    })
}

fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => format!("{}://…{}", &url[..scheme], &url[at..]),
        _ => url.to_string(),
    }
}

/// The archives of `dir` made by scheduled backups, oldest first.
pub fn scheduled_archives(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("youde-") && n.ends_with(".zip"))
                })
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

/// The file name of a backup made now: sortable by time.
pub fn archive_name(now: chrono::DateTime<chrono::Utc>) -> String {
    format!("youde-{}.zip", now.format("%Y%m%dT%H%M%SZ"))
}

/// One scheduled backup into `dir`, keeping the newest `keep` archives.
pub async fn scheduled(
    db: &DatabaseConnection,
    db_url: &str,
    media: &MediaStore,
    dir: &Path,
    keep: usize,
) -> Result<BackupReport> {
    let report = create(
        db,
        db_url,
        media,
        &dir.join(archive_name(chrono::Utc::now())),
    )
    .await?;
    let archives = scheduled_archives(dir);
    for old in archives
        .iter()
        .take(archives.len().saturating_sub(keep.max(1)))
    {
        std::fs::remove_file(old)?;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_name_their_file() {
        assert_eq!(
            sqlite_path("sqlite://data/youde.db"),
            Some(PathBuf::from("data/youde.db"))
        );
        assert_eq!(
            sqlite_path("sqlite:///var/lib/youde/youde.db?mode=rwc"),
            Some(PathBuf::from("/var/lib/youde/youde.db"))
        );
        assert_eq!(sqlite_path("postgres://u@h/db"), None);
    }

    #[test]
    fn passwords_stay_out_of_messages() {
        assert_eq!(
            redact_url("postgres://youde:secret@db:5432/youde"),
            "postgres://…@db:5432/youde"
        );
    }

    #[test]
    fn an_archive_of_a_newer_schema_is_refused() {
        let mut manifest = Manifest {
            format: FORMAT.into(),
            created_at: chrono::Utc::now(),
            database: "sqlite".into(),
            schema: known_migrations(),
            members: vec![],
        };
        assert!(check_schema(&manifest).is_ok());
        manifest
            .schema
            .push("m20991231_000000_from_the_future".into());
        let err = check_schema(&manifest).unwrap_err().to_string();
        assert!(err.contains("newer schema"), "{err}");
    }
}
