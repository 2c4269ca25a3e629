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
use youde::media::Media;
use youde::{demo, store};

type Error = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")))
        .init();
    let cli = Cli::parse();
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(cli.config).await,
        Command::Migrate => migrate(cli.config).await,
        Command::Demo => load_demo(cli.config).await,
        Command::MediaSweep { min_age_secs } => media_sweep(cli.config, Duration::from_secs(min_age_secs)).await,
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
    let db = store::connect(&url).await.map_err(|e| format!("cannot open the database: {e}"))?;
    store::migrate(&db).await.map_err(|e| format!("cannot migrate the database: {e}"))?;
    Ok(db)
}

async fn migrate(config: Config) -> Result<(), Error> {
    connect(&config).await?;
    println!("database is up to date");
    Ok(())
}

async fn load_demo(config: Config) -> Result<(), Error> {
    let db = connect(&config).await?;
    let media = Media::open(&config)?;
    let report = demo::load(&db).await?;
    let photos = demo::load_photos(&db, &media).await?;
    println!(
        "demo data: {} created, {} already present",
        report.created + photos.created,
        report.existing + photos.existing
    );
    Ok(())
}

async fn media_sweep(config: Config, min_age: Duration) -> Result<(), Error> {
    let db = connect(&config).await?;
    let media = Media::open(&config)?;
    let report = media.sweep(&db, min_age).await?;
    println!(
        "media sweep ({}): {} files removed, {} in use, {} unused but younger than {} s (kept)",
        media.store.describe(),
        report.removed,
        report.kept,
        report.too_young,
        min_age.as_secs()
    );
    Ok(())
}

async fn serve(config: Config) -> Result<(), Error> {
    let db = connect(&config).await?;
    let media = Media::open(&config)?;
    if !config.no_demo && store::communities::count(&db).await? == 0 {
        let report = demo::load(&db).await?;
        let photos = demo::load_photos(&db, &media).await?;
        tracing::info!(
            created = report.created + photos.created,
            "empty database: loaded the demo data (turn off with --no-demo)"
        );
    }
    // Files left by a crash between writing a photo's files and committing it.
    match media.sweep(&db, youde::media::DEFAULT_SWEEP_MIN_AGE).await {
        Ok(report) if report.removed > 0 => tracing::info!(removed = report.removed, "media sweep removed unused files"),
        Ok(_) => {}
        Err(err) => tracing::warn!(error = %err, "media sweep failed; run `youde media-sweep` later"),
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
    let state = AppState {
        db,
        admin_token: config.admin_token.as_deref().map(Arc::from),
        max_body_bytes: config.max_body_bytes,
        media,
    };
    tracing::info!(bind = %config.bind, "serving: API docs at /api/docs");
    Server::new(TcpListener::bind(config.bind.as_str()))
        .run_with_graceful_shutdown(app::routes(state), shutdown_signal(), Some(Duration::from_secs(10)))
        .await?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("signal handler");
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("shutting down");
}
