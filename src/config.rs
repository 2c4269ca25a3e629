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
    /// Migrate the database, load the demo data on first start, and serve HTTP (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Load the demo data from the 2019-09 newsletter (safe to run again: nothing is duplicated).
    Demo,
    /// Remove stored media files that no photo uses (left by a crash or a deleted owner).
    MediaSweep {
        /// Keep unused files younger than this many seconds: they may belong to an upload that
        /// is still being recorded by another node.
        #[arg(long, default_value_t = 900)]
        min_age_secs: u64,
    },
}

#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "YOUDE_BIND", default_value = "127.0.0.1:8080", global = true)]
    pub bind: String,

    /// Database URL: `sqlite://path/to/file.db` or `postgres://user@host/db`.
    /// Default: SQLite at `<data-dir>/youde.db`.
    #[arg(long, env = "YOUDE_DATABASE_URL", global = true)]
    pub database_url: Option<String>,

    /// Folder for the SQLite database (and, later, the embedded search index).
    #[arg(long, env = "YOUDE_DATA_DIR", default_value = "./data", global = true)]
    pub data_dir: PathBuf,

    /// A bearer token accepted as the first admin's, for deployment scripts. When unset and no
    /// token exists yet, one is generated at first start and printed once.
    #[arg(long, env = "YOUDE_ADMIN_TOKEN", hide_env_values = true, global = true)]
    pub admin_token: Option<String>,

    /// Do not load the demo data into an empty database at start.
    #[arg(long, env = "YOUDE_NO_DEMO", global = true)]
    pub no_demo: bool,

    /// Largest JSON request body accepted, in bytes (larger ones get 413).
    #[arg(long, env = "YOUDE_MAX_BODY_BYTES", default_value_t = 1024 * 1024, global = true)]
    pub max_body_bytes: usize,

    /// Folder for photo files (used unless `--media-s3-bucket` is given).
    #[arg(long, env = "YOUDE_MEDIA_DIR", default_value = "./media", global = true)]
    pub media_dir: PathBuf,

    /// Keep photo files in this S3-compatible bucket instead (needs the `s3` cargo feature;
    /// credentials and endpoint from the standard `AWS_*` variables).
    #[arg(long, env = "YOUDE_MEDIA_S3_BUCKET", global = true)]
    pub media_s3_bucket: Option<String>,

    /// Largest photo upload request, in bytes (larger ones get 413).
    #[arg(long, env = "YOUDE_MAX_UPLOAD_BYTES", default_value_t = crate::media::DEFAULT_MAX_UPLOAD_BYTES, global = true)]
    pub max_upload_bytes: usize,

    /// Largest photo accepted, in pixels (width × height, read from the header before decoding).
    #[arg(long, env = "YOUDE_MAX_IMAGE_PIXELS", default_value_t = crate::media::processing::DEFAULT_MAX_PIXELS, global = true)]
    pub max_image_pixels: u64,
}

impl Config {
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", self.data_dir.join("youde.db").display()),
        }
    }
}
