//! Configuration: every setting is a CLI flag with a matching `YOUDE_*` environment variable.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "youde",
    version,
    about = "有德 Youde — 长寿路街道有德之士登记系统: residents' evidenced service history, consent, \
             public recognition pages and the newsletter's featured stories.",
    long_about = None
)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    /// What to do; without one, `serve`.
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Migrate the database, load the demo data on first start, and serve HTTP (the default):
    /// the public site at /, the staff console at /admin, the API at /api/v1 (docs at /api/docs).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Load the demo data from the 2019-09 newsletter (safe to run again: nothing is duplicated).
    Demo,
    /// Manage staff accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Write a newsletter issue's export pack (zip: Markdown, clean HTML, captions, manifest), as
    /// `GET /api/v1/issues/{id}/pack` gives it to editors.
    ExportIssue {
        /// The issue's id.
        id: i64,
        /// Where to write the zip (default: youde-issue-<id>.zip).
        #[arg(long, short)]
        output: Option<std::path::PathBuf>,
    },
    /// Remove stored media files that no photo uses (left by a crash or a deleted owner).
    MediaSweep {
        /// Keep unused files younger than this many seconds: they may belong to an upload that
        /// is still being recorded by another node.
        #[arg(long, default_value_t = 900)]
        min_age_secs: u64,
    },
    /// Rebuild the search index from the database into a fresh index and swap it in atomically
    /// (searches keep answering meanwhile), then replay the changes made during the rebuild.
    Reindex,
    /// Run only the search outbox relay (delivery to the search engine), e.g. beside app nodes
    /// started elsewhere. `serve` runs one itself.
    SearchRelay,
    /// Write one archive (zip) of everything needed to bring the registry back: a consistent
    /// snapshot of the database taken while the server keeps writing (SQLite `VACUUM INTO`;
    /// PostgreSQL through `pg_dump`), every media file, and a manifest with each member's SHA-256
    /// and the schema version. Written under `<file>.partial` and renamed when complete.
    Backup {
        /// Where to write the archive (default: <backup-dir>/youde-<UTC time>.zip).
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Restore an archive made by `youde backup` into an empty database and an empty media folder
    /// (refuses non-empty ones), after checking every member's checksum; migrates an archive of an
    /// older schema, refuses one of a newer schema, and rebuilds the search index.
    Restore {
        /// The archive (.zip).
        archive: PathBuf,
    },
    /// Housekeeping now (`serve` runs it at start and every 10 minutes): remove login attempts
    /// older than the throttle window and ended sessions, clear objectors' contact details
    /// `--objector-contact-days` after the decision (in the objection and its audit history), and
    /// remove stale `*.partial` backup files. Prints the counts.
    Prune,
    /// Check a roster (.xlsx, .xls or .csv in UTF-8 or GBK) and print its report; with
    /// `--commit`, then apply it in one transaction, as `POST /api/v1/imports` and its commit do.
    Import {
        /// The roster file.
        file: PathBuf,
        /// What it holds: `residents`, `service_records` or `participation` (an activity
        /// sign-in sheet with hours).
        #[arg(long, default_value = "residents")]
        kind: String,
        /// Apply the roster when the check finds no problem.
        #[arg(long)]
        commit: bool,
        /// The registry editor the import is recorded as (default: the first admin).
        #[arg(long = "as")]
        user: Option<String>,
    },
    /// Ask the running server's `/readyz` (at `--bind`) and exit 0 when it is ready, 1 otherwise:
    /// the container healthcheck.
    Healthcheck,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user. The password is read from standard input with --password-stdin; otherwise a
    /// one-time password is generated and printed.
    Add {
        username: String,
        /// Display name, e.g. 王丽.
        #[arg(long)]
        name: String,
        /// Comma-separated roles: admin, nominator, reviewer, editor.
        #[arg(long, value_delimiter = ',', required = true)]
        roles: Vec<String>,
        /// Grant the roles for this community's subtree only (its slug, e.g.
        /// changshoulujiedao, or id); without it they reach the whole deployment.
        #[arg(long)]
        community: Option<String>,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a user's password (ends their sessions and revokes their API tokens). From standard
    /// input with --password-stdin, otherwise generated and printed.
    Passwd {
        username: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Disable a user: ends their sessions and revokes their API tokens.
    Disable { username: String },
    /// Enable a disabled user.
    Enable { username: String },
    /// List users: username, name, roles and the community their roles are granted for (its
    /// slug; * for the whole deployment).
    List,
}

#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Address to listen on.
    #[arg(
        long,
        env = "YOUDE_BIND",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub bind: String,

    /// Database URL: `sqlite://path/to/file.db` or `postgres://user@host/db`.
    /// Default: SQLite at `<data-dir>/youde.db`.
    #[arg(long, env = "YOUDE_DATABASE_URL", global = true)]
    pub database_url: Option<String>,

    /// Folder for the SQLite database and the embedded search index.
    #[arg(long, env = "YOUDE_DATA_DIR", default_value = "./data", global = true)]
    pub data_dir: PathBuf,

    /// A bearer token accepted as the first admin's API token, for deployment scripts and
    /// automation. At least 32 random characters (e.g. `openssl rand -hex 32`): a short or
    /// repetitive one refuses to start.
    #[arg(long, env = "YOUDE_ADMIN_TOKEN", hide_env_values = true, global = true)]
    pub admin_token: Option<String>,

    /// The public address of the site, for links, feeds and QR codes; https makes session cookies
    /// `Secure`.
    #[arg(
        long,
        env = "YOUDE_PUBLIC_URL",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    pub public_url: String,

    /// Host names that serve one 街道's or district's own site at their root, as `host=slug`
    /// pairs separated by commas (`changshou.example.cn=changshoulujiedao`). At such a host `/`
    /// is the community's honour roll and `/notices`, `/search`, `/feeds/…` and `/sitemap.xml`
    /// are its own; every site is also served at `/s/{slug}` on any host.
    #[arg(
        long,
        env = "YOUDE_SITES",
        default_value = "",
        value_parser = crate::domain::site::HostSites::parse,
        global = true
    )]
    pub sites: crate::domain::site::HostSites,

    /// Password of the first admin (user `admin`), used when the database has no users yet. When
    /// unset, a one-time password is generated and printed at first start.
    #[arg(
        long,
        env = "YOUDE_ADMIN_PASSWORD",
        hide_env_values = true,
        global = true
    )]
    pub admin_password: Option<String>,

    /// Default length of a public notice (公示期) in days.
    #[arg(long, env = "YOUDE_NOTICE_DAYS", default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..=30), global = true)]
    pub notice_days: u32,

    /// Comma-separated addresses of reverse proxies in front of the service (e.g. `127.0.0.1` or
    /// the compose network's proxy). Requests from them are attributed to the client named in
    /// `X-Forwarded-For`, so sign-in and objection throttling count each visitor, not the proxy.
    /// Default: none (the socket's peer is the client).
    #[arg(
        long,
        env = "YOUDE_TRUSTED_PROXIES",
        value_delimiter = ',',
        global = true
    )]
    pub trusted_proxies: Vec<std::net::IpAddr>,

    /// Most connections open at once from one client address (reverse proxies named in
    /// `--trusted-proxies` are exempt); more are closed as soon as they are accepted.
    #[arg(long, env = "YOUDE_MAX_CONNECTIONS_PER_ADDRESS", default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub max_connections_per_address: u32,

    /// Seconds a client may take from a request's first byte to the end of its headers; slower
    /// connections are closed.
    #[arg(long, env = "YOUDE_HEADER_TIMEOUT_SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub header_timeout_secs: u64,

    /// Seconds a connection may stay silent (no bytes either way) before it is closed.
    #[arg(long, env = "YOUDE_IDLE_TIMEOUT_SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub idle_timeout_secs: u64,

    /// Do not load the demo data into an empty database at start.
    #[arg(long, env = "YOUDE_NO_DEMO", global = true)]
    pub no_demo: bool,

    /// Folder of the embedded search index. Default: `<data-dir>/index`.
    #[arg(long, env = "YOUDE_INDEX_DIR", global = true)]
    pub index_dir: Option<PathBuf>,

    /// Meilisearch URL (`http://127.0.0.1:7700`). When set, search uses Meilisearch instead of
    /// the embedded index.
    #[arg(long, env = "YOUDE_MEILI_URL", global = true)]
    pub meili_url: Option<String>,

    /// Meilisearch API key (the master key or an admin key), if the instance needs one.
    #[arg(
        long,
        env = "YOUDE_MEILI_API_KEY",
        hide_env_values = true,
        global = true
    )]
    pub meili_api_key: Option<String>,

    /// Name (uid) of the Meilisearch index; several deployments may share one Meilisearch.
    #[arg(
        long,
        env = "YOUDE_MEILI_INDEX",
        default_value = "youde",
        global = true
    )]
    pub meili_index: String,

    /// How long a search or a readiness check waits for Meilisearch, in milliseconds, before it
    /// answers 503 (the engine hangs or is unreachable). Writes are not affected: they wait in
    /// the outbox.
    #[arg(long, env = "YOUDE_MEILI_TIMEOUT_MS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(50..=60_000), global = true)]
    pub meili_timeout_ms: u64,

    /// Largest JSON request body accepted, in bytes (larger ones get 413).
    #[arg(long, env = "YOUDE_MAX_BODY_BYTES", default_value_t = 1024 * 1024, global = true)]
    pub max_body_bytes: usize,

    /// Folder for photo files (used unless `--media-s3-bucket` is given).
    #[arg(
        long,
        env = "YOUDE_MEDIA_DIR",
        default_value = "./media",
        global = true
    )]
    pub media_dir: PathBuf,

    /// Keep photo files in this S3-compatible bucket instead (needs the `s3` cargo feature;
    /// credentials and endpoint from the standard `AWS_*` variables).
    #[arg(long, env = "YOUDE_MEDIA_S3_BUCKET", global = true)]
    pub media_s3_bucket: Option<String>,

    /// Largest photo upload request, in bytes (larger ones get 413).
    #[arg(long, env = "YOUDE_MAX_UPLOAD_BYTES", default_value_t = crate::media::DEFAULT_MAX_UPLOAD_BYTES, global = true)]
    pub max_upload_bytes: usize,

    /// Log lines as text (default) or as JSON objects, one a line (with the request id of the
    /// request they belong to).
    #[arg(long, env = "YOUDE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,

    /// Comma-separated addresses that may read `/metrics` (the socket's peer, never a forwarded
    /// address); everyone else gets 404. Empty: nobody.
    #[arg(
        long,
        env = "YOUDE_METRICS_ALLOW",
        value_delimiter = ',',
        default_value = "127.0.0.1,::1",
        global = true
    )]
    pub metrics_allow: Vec<std::net::IpAddr>,

    /// Days an objector's contact details are kept after their objection was decided; then
    /// housekeeping clears them (the decision, the content and the receipt code stay).
    #[arg(
        long,
        env = "YOUDE_OBJECTOR_CONTACT_DAYS",
        default_value_t = 90,
        global = true
    )]
    pub objector_contact_days: u32,

    /// Folder of backup archives. Default: `<data-dir>/backups`.
    #[arg(long, env = "YOUDE_BACKUP_DIR", global = true)]
    pub backup_dir: Option<PathBuf>,

    /// `serve` writes a backup into the backup folder every this many hours (0: never).
    #[arg(
        long,
        env = "YOUDE_BACKUP_EVERY_HOURS",
        default_value_t = 0,
        global = true
    )]
    pub backup_every_hours: u64,

    /// How many scheduled backups to keep (the oldest beyond this are removed).
    #[arg(long, env = "YOUDE_BACKUP_KEEP", default_value_t = 7, value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub backup_keep: u64,

    /// Prefix of certificate numbers: `长寿` numbers them `长寿〔2026〕第001号`.
    #[arg(long, env = "YOUDE_CERT_PREFIX", default_value = "长寿", global = true)]
    pub cert_prefix: String,

    /// The issuing body printed on certificates (落款). `{区}` and `{街道}` are replaced by the
    /// names of the holder's district and 街道 in the community tree, so each 街道 of a city
    /// deployment issues its own.
    #[arg(
        long,
        env = "YOUDE_CERT_ISSUER",
        default_value = crate::domain::certificate::DEFAULT_ISSUER,
        global = true
    )]
    pub cert_issuer: String,

    /// The signatory printed on certificates under the issuing body (`{区}`, `{街道}` as above).
    #[arg(
        long,
        env = "YOUDE_CERT_SIGNATORY",
        default_value = crate::domain::certificate::DEFAULT_SIGNATORY,
        global = true
    )]
    pub cert_signatory: String,

    /// The CJK font for certificate PDFs (the `pdf` feature): a TTF/OTF/TTC file, `path#N` for
    /// face N of a collection. Without it, one of Debian's (fonts-noto-cjk, fonts-wqy-microhei)
    /// is looked for; with none, PDFs answer 503 saying so.
    #[arg(long, env = "YOUDE_CERT_FONT", global = true)]
    pub cert_font: Option<String>,

    /// Largest photo accepted, in pixels (width × height, read from the header before decoding).
    #[arg(long, env = "YOUDE_MAX_IMAGE_PIXELS", default_value_t = crate::media::processing::DEFAULT_MAX_PIXELS, global = true)]
    pub max_image_pixels: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

impl Config {
    /// Folder of the archives `youde backup` and scheduled backups write.
    pub fn backup_dir(&self) -> PathBuf {
        self.backup_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("backups"))
    }

    /// `YOUDE_ADMIN_TOKEN` when set and strong enough; an explanation when it is set but weak.
    pub fn admin_token(&self) -> Result<Option<std::sync::Arc<str>>, String> {
        match self.admin_token.as_deref().filter(|t| !t.is_empty()) {
            None => Ok(None),
            Some(token) => {
                crate::domain::user::check_admin_token(token)?;
                Ok(Some(token.into()))
            }
        }
    }

    /// Who issues certificates and how they are numbered.
    pub fn certificate_settings(&self) -> crate::domain::certificate::Settings {
        crate::domain::certificate::Settings {
            prefix: self.cert_prefix.trim().to_string(),
            issuing_body: self.cert_issuer.trim().to_string(),
            signatory: self.cert_signatory.trim().to_string(),
            font: self.cert_font.clone(),
        }
    }

    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", self.data_dir.join("youde.db").display()),
        }
    }

    pub fn media_settings(&self) -> crate::media::MediaSettings {
        crate::media::MediaSettings {
            s3_bucket: self.media_s3_bucket.clone().filter(|b| !b.is_empty()),
            dir: self.media_dir.clone(),
            max_pixels: self.max_image_pixels,
            max_upload_bytes: self.max_upload_bytes,
        }
    }

    pub fn search_settings(&self) -> crate::search::SearchSettings {
        crate::search::SearchSettings {
            index_dir: self
                .index_dir
                .clone()
                .unwrap_or_else(|| self.data_dir.join("index")),
            meili_url: self.meili_url.clone().filter(|u| !u.is_empty()),
            meili_api_key: self.meili_api_key.clone().filter(|k| !k.is_empty()),
            meili_index: self.meili_index.clone(),
            meili_timeout: std::time::Duration::from_millis(self.meili_timeout_ms),
        }
    }
}
