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
    /// Rebuild the search index from the database into a fresh index and swap it in atomically
    /// (searches keep answering meanwhile), then replay the changes made during the rebuild.
    Reindex,
    /// Run only the search outbox relay (delivery to the search engine), e.g. beside app nodes
    /// started elsewhere. `serve` runs one itself.
    SearchRelay,
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

    /// A bearer token accepted as the first admin's, for deployment scripts. When unset and no
    /// token exists yet, one is generated at first start and printed once.
    #[arg(long, env = "YOUDE_ADMIN_TOKEN", hide_env_values = true, global = true)]
    pub admin_token: Option<String>,

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

    /// Largest JSON request body accepted, in bytes (larger ones get 413).
    #[arg(long, env = "YOUDE_MAX_BODY_BYTES", default_value_t = 1024 * 1024, global = true)]
    pub max_body_bytes: usize,
}

impl Config {
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", self.data_dir.join("youde.db").display()),
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
        }
    }
}
