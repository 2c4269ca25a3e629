//! The application's state, made in one place from the configuration: the database, the photo
//! store, the search engine. Its routes are in `router.rs`.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::config::Config;
use crate::media::Media;
use crate::search::Search;
use crate::state::{AppState, Clock};

/// Why the application could not be built, for the operator (printed by `youde`).
pub type StartError = Box<dyn std::error::Error + Send + Sync>;

/// The application as `serve` runs it. [`Application::build`] is the one place its state is made
/// from the configuration: `serve`, the commands that need the whole of it and the test suite's
/// helper all go through it, so the tests run the wiring the service runs.
pub struct Application {
    pub state: AppState,
}

impl Application {
    /// Connect to and migrate the database, then open the photo store and the search engine the
    /// configuration names. A new, empty index over a database that has residents (first start
    /// with search, a deleted index folder) is filled in the background.
    pub async fn build(config: &Config) -> Result<Self, StartError> {
        let db = connect(config).await?;
        let search = open_search(config, &db).await?;
        Self::with_search(config, db, search).await
    }

    /// The same over a database and search engine the caller opened (each test has its own).
    pub async fn with_search(
        config: &Config,
        db: DatabaseConnection,
        search: Search,
    ) -> Result<Self, StartError> {
        // A weak admin token is refused, not served.
        let admin_token = config.admin_token()?;
        let address_key =
            crate::store::secrets::get_or_create(&db, crate::store::secrets::ADDRESS_KEY).await?;
        let media = Media::open(&config.media_settings())?;
        let public_url = config.public_url.trim_end_matches('/');
        Ok(Application {
            state: AppState {
                db,
                admin_token,
                address_key: Arc::from(address_key),
                max_body_bytes: config.max_body_bytes,
                secure_cookies: public_url.starts_with("https://"),
                notice_days: config.notice_days,
                trusted_proxies: Arc::from(config.trusted_proxies.clone()),
                clock: Clock::default(),
                certificates: Arc::new(config.certificate_settings()),
                public_url: Arc::from(public_url),
                sites: Arc::new(config.sites.clone()),
                pages: Arc::default(),
                media,
                search,
                metrics: Arc::default(),
                metrics_allow: Arc::from(config.metrics_allow.clone()),
            },
        })
    }
}

/// The configured database, connected and migrated to the latest schema.
pub async fn connect(config: &Config) -> Result<DatabaseConnection, StartError> {
    let db = crate::store::connect(&config.database_url())
        .await
        .map_err(|e| format!("cannot open the database: {e}"))?;
    crate::store::migrate(&db)
        .await
        .map_err(|e| format!("cannot migrate the database: {e}"))?;
    Ok(db)
}

/// The configured engine with its relay. A new, empty index over a database that has residents is
/// filled in the background.
pub async fn open_search(config: &Config, db: &DatabaseConnection) -> Result<Search, StartError> {
    let opened = crate::search::open(&config.search_settings())
        .await
        .map_err(|e| format!("cannot open the search index: {e}"))?;
    tracing::info!(engine = opened.index.engine(), "search engine ready");
    let search = Search::new(db.clone(), opened.index);
    if opened.fresh {
        let (db, search) = (db.clone(), search.clone());
        tokio::spawn(async move {
            match crate::search::reindex::run(&db, search.index.as_ref(), &search.relay, None).await
            {
                Ok(report) => tracing::info!(
                    documents = report.documents,
                    "new search index filled from the database"
                ),
                Err(err) => {
                    tracing::warn!(error = %err, "could not fill the new search index; run `youde reindex`")
                }
            }
        });
    }
    Ok(search)
}
