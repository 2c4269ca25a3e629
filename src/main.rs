//! `youde`: a thin CLI over the library. `cargo run --release` serves everything embedded.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use poem::listener::TcpListener;
use poem::Server;
use tracing_subscriber::EnvFilter;

use youde::app::{self, AppState};
use youde::config::{Cli, Command, Config};
use youde::search::{self, Search};
use youde::{demo, store};

type Error = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")),
        )
        .init();
    let cli = Cli::parse();
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(cli.config).await,
        Command::Migrate => migrate(cli.config).await,
        Command::Demo => load_demo(cli.config).await,
        Command::Reindex => reindex(cli.config).await,
        Command::SearchRelay => search_relay(cli.config).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("youde: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn connect(config: &Config) -> Result<sea_orm::DatabaseConnection, Error> {
    let url = config.database_url();
    let db = store::connect(&url)
        .await
        .map_err(|e| format!("cannot open the database: {e}"))?;
    store::migrate(&db)
        .await
        .map_err(|e| format!("cannot migrate the database: {e}"))?;
    Ok(db)
}

async fn migrate(config: Config) -> Result<(), Error> {
    connect(&config).await?;
    println!("database is up to date");
    Ok(())
}

async fn load_demo(config: Config) -> Result<(), Error> {
    let db = connect(&config).await?;
    let report = demo::load(&db).await?;
    println!(
        "demo data: {} created, {} already present",
        report.created, report.existing
    );
    Ok(())
}

async fn serve(config: Config) -> Result<(), Error> {
    let db = connect(&config).await?;
    if !config.no_demo && store::communities::count(&db).await? == 0 {
        let report = demo::load(&db).await?;
        tracing::info!(
            created = report.created,
            "empty database: loaded the demo data (turn off with --no-demo)"
        );
    }
    if config.admin_token.is_none() && store::tokens::count_active(&db).await? == 0 {
        let token = store::tokens::generate();
        store::tokens::insert(&db, "first-admin", &token).await?;
        // Printed once, to the terminal only: it is stored hashed and cannot be shown again.
        eprintln!(
            "\n  First start: an admin API token was created. It is shown only this once:\n\n    {token}\n\n  \
             Use it as `Authorization: Bearer {token}`, or set YOUDE_ADMIN_TOKEN instead.\n"
        );
    }
    let search = open_search(&config, &db).await?;
    let relay = search.relay.spawn();
    let state = AppState {
        db,
        admin_token: config.admin_token.as_deref().map(Arc::from),
        max_body_bytes: config.max_body_bytes,
        search,
    };
    tracing::info!(bind = %config.bind, "serving: API docs at /api/docs");
    let served = Server::new(TcpListener::bind(config.bind.as_str()))
        .run_with_graceful_shutdown(
            app::routes(state),
            shutdown_signal(),
            Some(Duration::from_secs(10)),
        )
        .await;
    // Undelivered changes stay in the outbox for the next start.
    relay.abort();
    served?;
    Ok(())
}

/// The configured engine with its relay. A new, empty index over a database that has residents
/// (first start with search, a deleted index folder) is filled in the background.
async fn open_search(config: &Config, db: &sea_orm::DatabaseConnection) -> Result<Search, Error> {
    let settings = config.search_settings();
    let opened = search::open(&settings)
        .await
        .map_err(|e| format!("cannot open the search index: {e}"))?;
    tracing::info!(engine = opened.index.engine(), "search engine ready");
    let search = Search::new(db.clone(), opened.index);
    if opened.fresh {
        let (db, search) = (db.clone(), search.clone());
        tokio::spawn(async move {
            match search::reindex::run(&db, search.index.as_ref(), &search.relay, None).await {
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

async fn reindex(config: Config) -> Result<(), Error> {
    let db = connect(&config).await?;
    let opened = search::open(&config.search_settings())
        .await
        .map_err(|e| format!("cannot open the search index: {e}"))?;
    let search = Search::new(db.clone(), opened.index);
    let bar = search::reindex::progress_bar(0);
    let report =
        search::reindex::run(&db, search.index.as_ref(), &search.relay, Some(&bar)).await?;
    println!(
        "search index rebuilt ({}): {} documents in {:.1} s ({:.0} per second); {} changes made meanwhile replayed",
        search.index.engine(),
        report.documents,
        report.elapsed.as_secs_f64(),
        report.documents as f64 / report.elapsed.as_secs_f64().max(0.001),
        report.replayed
    );
    Ok(())
}

async fn search_relay(config: Config) -> Result<(), Error> {
    let db = connect(&config).await?;
    let search = open_search(&config, &db).await?;
    tracing::info!(
        engine = search.index.engine(),
        "search relay running; stop with Ctrl-C"
    );
    let relay = search.relay.spawn();
    shutdown_signal().await;
    relay.abort();
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("signal handler");
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("shutting down");
}
