//! `youde`: a thin CLI over the library. `cargo run --release` serves everything embedded.

use std::io::Read;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use poem::listener::{Listener, TcpListener};
use poem::Server;
use tracing_subscriber::EnvFilter;

use sea_orm::TransactionTrait;
use youde::app::{self, Application};
use youde::config::{Cli, Command, Config, UserCommand};
use youde::domain::user::{check_password, UserDraft};
use youde::listener::GuardedAcceptor;
use youde::media::Media;
use youde::search::{self, Search};
use youde::store::{self, users};
use youde::{demo, setup};

type Error = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    match cli.config.log_format {
        youde::config::LogFormat::Json => tracing_subscriber::fmt()
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .with_env_filter(filter)
            .init(),
        youde::config::LogFormat::Text => tracing_subscriber::fmt().with_env_filter(filter).init(),
    }
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(cli.config).await,
        Command::Migrate => migrate(cli.config).await,
        Command::Demo => load_demo(cli.config).await,
        Command::User(command) => user(cli.config, command).await,
        Command::ExportIssue { id, output } => export_issue(cli.config, id, output).await,
        Command::MediaSweep { min_age_secs } => {
            media_sweep(cli.config, Duration::from_secs(min_age_secs)).await
        }
        Command::Reindex => reindex(cli.config).await,
        Command::SearchRelay => search_relay(cli.config).await,
        Command::Backup { output } => backup(cli.config, output).await,
        Command::Restore { archive } => restore(cli.config, archive).await,
        Command::Healthcheck => healthcheck(cli.config).await,
        Command::Prune => prune(cli.config).await,
        Command::Import {
            file,
            kind,
            commit,
            user,
        } => import(cli.config, file, &kind, commit, user.as_deref()).await,
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
    app::connect(config).await
}

async fn migrate(config: Config) -> Result<(), Error> {
    connect(&config).await?;
    println!("database is up to date");
    Ok(())
}

async fn load_demo(config: Config) -> Result<(), Error> {
    let db = connect(&config).await?;
    setup::ensure_admin(&db, config.admin_password.as_deref()).await?;
    let media = Media::open(&config.media_settings())?;
    let report = demo::load(&db).await?;
    let photos = demo::load_photos(&db, &media).await?;
    println!(
        "demo data: {} created, {} already present",
        report.created + photos.created,
        report.existing + photos.existing
    );
    Ok(())
}

async fn backup(config: Config, output: Option<std::path::PathBuf>) -> Result<(), Error> {
    let db = connect(&config).await?;
    let media = Media::open(&config.media_settings())?;
    let path = output.unwrap_or_else(|| {
        config
            .backup_dir()
            .join(youde::backup::archive_name(chrono::Utc::now()))
    });
    let report = youde::backup::create(&db, &config.database_url(), &media.store, &path).await?;
    println!(
        "wrote {} ({} bytes, {} media files) in {:.1} s",
        report.path.display(),
        report.bytes,
        report.media_files,
        report.elapsed.as_secs_f64()
    );
    Ok(())
}

async fn restore(config: Config, archive: std::path::PathBuf) -> Result<(), Error> {
    let media = Media::open(&config.media_settings())?;
    let url = config.database_url();
    let report = youde::backup::restore(
        &archive,
        youde::backup::Target {
            database_url: &url,
            media: &media.store,
        },
    )
    .await?;
    println!(
        "restored {} ({} media files{})",
        archive.display(),
        report.media_files,
        if report.migrated.is_empty() {
            String::new()
        } else {
            format!(", migrated: {}", report.migrated.join(", "))
        }
    );
    // The search index is rebuilt from the restored database.
    reindex(config).await
}

/// `GET /readyz` on the configured address: exit 0 when ready. Plain HTTP/1.0 over a socket, so
/// the container image needs no curl.
async fn healthcheck(config: Config) -> Result<(), Error> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = config
        .bind
        .replace("0.0.0.0", "127.0.0.1")
        .replace("[::]", "[::1]");
    let ask = async {
        let mut stream = tokio::net::TcpStream::connect(&addr).await?;
        stream
            .write_all(b"GET /readyz HTTP/1.0\r\nHost: localhost\r\n\r\n")
            .await?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await?;
        Ok::<_, std::io::Error>(answer)
    };
    let answer = tokio::time::timeout(Duration::from_secs(3), ask)
        .await
        .map_err(|_| format!("{addr} did not answer within 3 s"))?
        .map_err(|e| format!("{addr}: {e}"))?;
    let status_line = String::from_utf8_lossy(&answer)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    if status_line.split_whitespace().nth(1) == Some("200") {
        println!("ready: {status_line}");
        Ok(())
    } else {
        Err(format!("not ready: {status_line}").into())
    }
}

/// Scheduled backups into the backup folder, keeping the newest `--backup-keep`.
fn spawn_scheduled_backups(config: &Config, db: sea_orm::DatabaseConnection, media: Media) {
    if config.backup_every_hours == 0 {
        return;
    }
    let every = Duration::from_secs(config.backup_every_hours * 3600);
    let (dir, keep, url) = (
        config.backup_dir(),
        config.backup_keep as usize,
        config.database_url(),
    );
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        loop {
            ticks.tick().await;
            match youde::backup::scheduled(&db, &url, &media.store, &dir, keep).await {
                Ok(report) => tracing::info!(
                    path = %report.path.display(),
                    bytes = report.bytes,
                    media_files = report.media_files,
                    "scheduled backup written"
                ),
                Err(err) => tracing::error!(error = %err, "scheduled backup failed"),
            }
        }
    });
}

fn connection_limits(config: &Config) -> youde::listener::ConnectionLimits {
    youde::listener::ConnectionLimits {
        per_address: config.max_connections_per_address as usize,
        header_timeout: Duration::from_secs(config.header_timeout_secs),
        exempt: config.trusted_proxies.clone().into(),
    }
}

fn housekeeping_settings(config: &Config) -> youde::housekeeping::Settings {
    youde::housekeeping::Settings {
        objector_contact_days: config.objector_contact_days,
        temp_dirs: vec![config.backup_dir()],
    }
}

async fn prune(config: Config) -> Result<(), Error> {
    let db = connect(&config).await?;
    let report =
        youde::housekeeping::run(&db, &housekeeping_settings(&config), chrono::Utc::now()).await?;
    println!(
        "housekeeping: {} old login attempts, {} ended sessions, {} objector contacts, {} stale temporary files removed",
        report.login_attempts, report.sessions, report.objector_contacts, report.temp_files
    );
    Ok(())
}

async fn media_sweep(config: Config, min_age: Duration) -> Result<(), Error> {
    let db = connect(&config).await?;
    let media = Media::open(&config.media_settings())?;
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
    // Before anything else: a weak admin token is refused, not served.
    config.admin_token()?;
    let state = Application::build(&config).await?.state;
    let (db, media) = (&state.db, &state.media);
    let report = setup::ensure_admin(db, config.admin_password.as_deref()).await?;
    if let Some(password) = &report.generated_admin_password {
        // Printed once, to the terminal only: it is stored hashed and cannot be shown again.
        eprintln!(
            "\n  First start: the admin account was created.\n\n    username: admin\n    password: {password}\n\n  \
             Sign in to the staff console at {}/admin.\n  \
             It is shown only this once. Change it with `youde user passwd admin`, or set\n  \
             YOUDE_ADMIN_PASSWORD before the first start.\n",
            config.public_url.trim_end_matches('/')
        );
    }
    if !config.no_demo && store::communities::count(db).await? == 0 {
        let loaded = demo::load(db).await?;
        let photos = demo::load_photos(db, media).await?;
        tracing::info!(
            created = loaded.created + photos.created,
            "empty database: loaded the demo data (turn off with --no-demo)"
        );
    }
    // A host of YOUDE_SITES whose slug names no 街道 or district would answer 404 at its root.
    for (host, slug) in config.sites.slugs() {
        if youde::service::site::Site::of_slug(db, slug)
            .await?
            .is_none()
        {
            tracing::warn!(
                host,
                slug,
                "YOUDE_SITES names no 街道 or district; that host's site pages answer 404"
            );
        }
    }
    // Files left by a crash between writing a photo's files and committing it.
    match media.sweep(db, youde::media::DEFAULT_SWEEP_MIN_AGE).await {
        Ok(swept) if swept.removed > 0 => {
            tracing::info!(removed = swept.removed, "media sweep removed unused files")
        }
        Ok(_) => {}
        Err(err) => {
            tracing::warn!(error = %err, "media sweep failed; run `youde media-sweep` later")
        }
    }
    spawn_scheduled_backups(&config, db.clone(), media.clone());
    // At start, then every 10 minutes: old login attempts, ended sessions, objectors' contacts.
    youde::housekeeping::spawn(
        db.clone(),
        housekeeping_settings(&config),
        Duration::from_secs(600),
    );
    let relay = state.search.relay.spawn();
    // Pages changed by other nodes or the CLI: the audit log moves with every change.
    tokio::spawn(youde::cache::watch_changes(
        state.pages.clone(),
        state.db.clone(),
        Duration::from_secs(2),
    ));
    tracing::info!(bind = %config.bind, "serving: staff console at /admin, API docs at /api/docs");
    let acceptor = TcpListener::bind(config.bind.as_str())
        .into_acceptor()
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.bind))?;
    let acceptor = GuardedAcceptor::new(acceptor, connection_limits(&config));
    let served = Server::new_with_acceptor(acceptor)
        .idle_timeout(Duration::from_secs(config.idle_timeout_secs))
        .run_with_graceful_shutdown(
            youde::router::routes(state),
            shutdown_signal(),
            Some(Duration::from_secs(10)),
        )
        .await;
    // Undelivered changes stay in the outbox for the next start.
    relay.abort();
    served?;
    Ok(())
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
    let search = app::open_search(&config, &db).await?;
    tracing::info!(
        engine = search.index.engine(),
        "search relay running; stop with Ctrl-C"
    );
    let relay = search.relay.spawn();
    shutdown_signal().await;
    relay.abort();
    Ok(())
}

async fn export_issue(
    config: Config,
    id: i64,
    output: Option<std::path::PathBuf>,
) -> Result<(), Error> {
    let db = connect(&config).await?;
    let issue = store::issues::get(&db, id)
        .await
        .map_err(|_| format!("no newsletter issue {id}"))?;
    // A pack needs the stories, their photos and the public address: no search engine, no state.
    let media = Media::open(&config.media_settings())?;
    let public_url = config.public_url.trim_end_matches('/');
    let bytes = youde::pack::of_issue(&db, &media, public_url, &issue, false)
        .await
        .map_err(|e| format!("building the pack failed: {e}"))?;
    let path = output.unwrap_or_else(|| format!("youde-issue-{id}.zip").into());
    std::fs::write(&path, &bytes)?;
    println!("wrote {} ({} bytes)", path.display(), bytes.len());
    Ok(())
}

/// `youde import FILE [--commit]`: the check's report, then the commit, with a progress bar over
/// the rows of each.
async fn import(
    config: Config,
    file: std::path::PathBuf,
    kind: &str,
    commit: bool,
    user: Option<&str>,
) -> Result<(), Error> {
    use youde::api::imports;
    use youde::domain::roster::SheetKind;
    let kind = SheetKind::parse(kind)
        .ok_or("--kind must be residents, service_records or participation")?;
    let db = connect(&config).await?;
    let account = match user {
        Some(name) => users::find_by_username(&db, name).await?,
        None => users::first_admin(&db).await?,
    }
    .ok_or("no such user (give a registry editor with --as)")?;
    let staff = youde::service::auth::staff_of(account).ok_or("that user is disabled")?;
    let content = std::fs::read(&file)?;
    let file_name = file
        .file_name()
        .map_or("roster".into(), |n| n.to_string_lossy().into_owned());
    let rows = youde::roster::sheet::read(&content, kind)
        .map(|t| t.rows.len().saturating_sub(1) as u64)
        .unwrap_or(0);
    let bar = search::reindex::progress_bar(rows);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {msg} [{bar:40}] {pos}/{len} 行 · {per_sec}",
        )?
        .progress_chars("=> "),
    );
    bar.set_message("检查");
    let started = std::time::Instant::now();
    let report = imports::check_file(&db, store::now(), &staff, kind, &file_name, content, &|n| {
        bar.set_position(n)
    })
    .await
    .map_err(|e| e.message().to_string())?;
    bar.finish_and_clear();
    println!(
        "检查 {}：{} 行，新建 {}，更新 {}，不变 {}，问题 {}（{:.2} 秒，导入编号 {}）",
        file_name,
        report.rows,
        report.create,
        report.update,
        report.unchanged,
        report.problems.len(),
        started.elapsed().as_secs_f64(),
        report.id
    );
    for p in &report.problems {
        println!(
            "  第 {} 行 · {} · “{}”：{}",
            p.row, p.column, p.value, p.message
        );
    }
    if !commit {
        return Ok(());
    }
    if !report.problems.is_empty() {
        return Err("名册有问题，未导入任何数据".into());
    }
    // The commit makes its own report; a 50,000-row check's need not stay in memory meanwhile.
    let id = report.id;
    drop(report);
    bar.reset();
    bar.set_message("导入");
    let started = std::time::Instant::now();
    let done = imports::commit_import(&db, store::now(), &staff, id, &|n| bar.set_position(n))
        .await
        .map_err(|e| e.message().to_string())?;
    bar.finish_and_clear();
    println!(
        "已导入：新建 {}，更新 {}（{:.2} 秒）",
        done.create,
        done.update,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The password for `user add` / `user passwd`: from standard input, or generated and printed.
fn new_password(from_stdin: bool) -> Result<(String, bool), Error> {
    if from_stdin {
        let mut input = String::new();
        std::io::stdin().read_to_string(&mut input)?;
        Ok((input.trim_end_matches(['\r', '\n']).to_string(), false))
    } else {
        Ok((setup::generate_password(), true))
    }
}

/// The audit event of a change made with `youde user`, in the change's transaction: the actor is
/// the command line, the snapshots are the user as the API shows them (never the password).
async fn audit_cli(
    db: &impl sea_orm::ConnectionTrait,
    action: &str,
    id: i64,
    before: Option<&youde::store::entities::user::Model>,
    after: Option<&youde::store::entities::user::Model>,
) -> Result<(), Error> {
    let view = |m: &youde::store::entities::user::Model| {
        youde::api::snap(&youde::api::users::User::from(m))
    };
    let event = youde::store::audit::Event {
        action,
        entity_kind: "user",
        entity_id: id,
        before: before.and_then(view),
        after: after.and_then(view),
    };
    let actor = youde::store::audit::Actor::system("命令行（youde user）");
    youde::store::audit::record(db, &actor, event, store::now()).await?;
    Ok(())
}

async fn user(config: Config, command: UserCommand) -> Result<(), Error> {
    let db = connect(&config).await?;
    let now = store::now();
    let find = |username: String| {
        let db = db.clone();
        async move {
            users::find_by_username(&db, &username)
                .await?
                .ok_or_else(|| Error::from(format!("no user “{username}”")))
        }
    };
    match command {
        UserCommand::Add {
            username,
            name,
            roles,
            community,
            password_stdin,
        } => {
            let scope = match community.as_deref() {
                None => None,
                Some(c) => Some(match c.parse::<i64>() {
                    Ok(id) => youde::store::communities::get(&db, id).await?.id,
                    Err(_) => {
                        youde::store::communities::find_by_slug(&db, c)
                            .await?
                            .ok_or_else(|| Error::from(format!("no community “{c}”")))?
                            .id
                    }
                }),
            };
            let draft = UserDraft::parse(&username, &name, &roles)
                .map_err(|e| e.to_string())?
                .scoped_to(scope);
            let (password, generated) = new_password(password_stdin)?;
            check_password(&draft.username, &password).map_err(|e| e.to_string())?;
            let shown = password.clone();
            let hash = tokio::task::spawn_blocking(move || users::hash_password(&password)).await?;
            let txn = db.begin().await?;
            let user = users::insert(&txn, &draft, hash, now).await?;
            audit_cli(&txn, "user.create", user.id, None, Some(&user)).await?;
            txn.commit().await?;
            println!(
                "added {} ({}) with roles {}",
                user.username, user.display_name, user.roles
            );
            if generated {
                println!("one-time password (shown once): {shown}");
            }
        }
        UserCommand::Passwd {
            username,
            password_stdin,
        } => {
            let user = find(username).await?;
            let (password, generated) = new_password(password_stdin)?;
            check_password(&user.username, &password).map_err(|e| e.to_string())?;
            let shown = password.clone();
            let hash = tokio::task::spawn_blocking(move || users::hash_password(&password)).await?;
            let txn = db.begin().await?;
            users::set_password_hash(&txn, user.id, hash, now).await?;
            audit_cli(&txn, "user.password", user.id, None, None).await?;
            txn.commit().await?;
            println!(
                "password of {} changed; their sessions have ended",
                user.username
            );
            if generated {
                println!("new password (shown once): {shown}");
            }
        }
        UserCommand::Disable { username } => {
            let user = find(username).await?;
            let txn = db.begin().await?;
            let after = users::set_disabled(&txn, user.id, true, now).await?;
            audit_cli(&txn, "user.disable", user.id, Some(&user), Some(&after)).await?;
            txn.commit().await?;
            println!(
                "{} is disabled; their sessions ended and their tokens are revoked",
                user.username
            );
        }
        UserCommand::Enable { username } => {
            let user = find(username).await?;
            let txn = db.begin().await?;
            let after = users::set_disabled(&txn, user.id, false, now).await?;
            audit_cli(&txn, "user.enable", user.id, Some(&user), Some(&after)).await?;
            txn.commit().await?;
            println!("{} is enabled", user.username);
        }
        UserCommand::List => {
            for u in users::list(&db, None, 10_000, None).await?.items {
                let status = if u.disabled_at.is_some() {
                    " (disabled)"
                } else {
                    ""
                };
                let scope = match u.community_id {
                    Some(c) => youde::store::communities::get(&db, c).await?.slug,
                    None => "*".to_string(),
                };
                println!(
                    "{}\t{}\t{}\t{scope}{status}",
                    u.username, u.display_name, u.roles
                );
            }
        }
    }
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
