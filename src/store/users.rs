//! Staff accounts with argon2id password hashes, and their sessions and failed-login record.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::entities::user::{ActiveModel, Column, Entity, Model};
use super::entities::{login_attempt, session};
use super::{throttle, tokens, Page, StoreError, StoreResult};
use crate::domain::policy::{format_roles, parse_roles, Role};
use crate::domain::user::UserDraft;

/// argon2id with OWASP's recommended minimum: 19 MiB of memory, 2 passes, 1 lane.
fn hasher() -> Argon2<'static> {
    Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(19_456, 2, 1, None).expect("valid argon2 parameters"),
    )
}

/// Hash a password (CPU-heavy: call from a blocking task).
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashing does not fail")
        .to_string()
}

/// Check a password against a stored hash (CPU-heavy: call from a blocking task).
pub fn verify_password(stored_hash: &str, password: &str) -> bool {
    PasswordHash::new(stored_hash)
        .is_ok_and(|h| hasher().verify_password(password.as_bytes(), &h).is_ok())
}

pub fn roles(user: &Model) -> Vec<Role> {
    parse_roles(&user.roles)
}

pub async fn get(db: &impl ConnectionTrait, id: i64) -> StoreResult<Model> {
    Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(StoreError::NotFound("user"))
}

pub async fn find_by_username(
    db: &impl ConnectionTrait,
    username: &str,
) -> StoreResult<Option<Model>> {
    Ok(Entity::find()
        .filter(Column::Username.eq(username.trim().to_ascii_lowercase()))
        .one(db)
        .await?)
}

/// Users by id; `within` a community: only those whose grant lies in its subtree.
pub async fn list(
    db: &impl ConnectionTrait,
    after: Option<i64>,
    limit: u64,
    within: Option<i64>,
) -> StoreResult<Page<Model>> {
    let mut query = Entity::find().order_by_asc(Column::Id).limit(limit + 1);
    if let Some(root) = within {
        query = query.filter(super::communities::in_subtree(
            "users",
            "community_id",
            root,
        ));
    }
    if let Some(after) = after {
        query = query.filter(Column::Id.gt(after));
    }
    Ok(Page::from_rows(query.all(db).await?, limit, |m| m.id))
}

pub async fn count(db: &impl ConnectionTrait) -> StoreResult<u64> {
    Ok(Entity::find().count(db).await?)
}

/// The first admin: the oldest active user holding the admin role.
pub async fn first_admin(db: &impl ConnectionTrait) -> StoreResult<Option<Model>> {
    let admins = Entity::find()
        .filter(Column::DisabledAt.is_null())
        .order_by_asc(Column::Id)
        .all(db)
        .await?;
    Ok(admins.into_iter().find(|u| roles(u).contains(&Role::Admin)))
}

/// Create a user with an already hashed password.
pub async fn insert(
    db: &impl ConnectionTrait,
    draft: &UserDraft,
    password_hash: String,
    now: DateTime<Utc>,
) -> StoreResult<Model> {
    if find_by_username(db, &draft.username).await?.is_some() {
        return Err(StoreError::Conflict(format!(
            "用户名“{}”已被使用",
            draft.username
        )));
    }
    let model = ActiveModel {
        username: Set(draft.username.clone()),
        display_name: Set(draft.display_name.clone()),
        password_hash: Set(password_hash),
        roles: Set(format_roles(&draft.roles)),
        disabled_at: Set(None),
        community_id: Set(draft.community_id),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    Ok(model.insert(db).await?)
}

/// Change display name and roles (the username stays).
pub async fn update(
    db: &impl ConnectionTrait,
    id: i64,
    expected_version: i32,
    draft: &UserDraft,
    now: DateTime<Utc>,
) -> StoreResult<Model> {
    let result = Entity::update_many()
        .col_expr(Column::DisplayName, Expr::value(draft.display_name.clone()))
        .col_expr(Column::Roles, Expr::value(format_roles(&draft.roles)))
        .col_expr(Column::CommunityId, Expr::value(draft.community_id))
        .col_expr(Column::Version, Expr::value(expected_version + 1))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .filter(Column::Version.eq(expected_version))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Err(StoreError::VersionMismatch {
            current: get(db, id).await?.version,
        });
    }
    get(db, id).await
}

/// Set a new password hash; every session of the user ends and every API token of theirs is
/// revoked (a stolen session could have minted a token that would outlive the new password).
pub async fn set_password_hash(
    db: &impl ConnectionTrait,
    id: i64,
    password_hash: String,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let user = get(db, id).await?;
    let mut active: ActiveModel = user.into();
    active.password_hash = Set(password_hash);
    active.updated_at = Set(now);
    active.update(db).await?;
    end_sessions(db, id).await?;
    tokens::revoke_all_of_user(db, id, now).await
}

/// Disable (or enable) an account; disabling ends its sessions and revokes its tokens.
pub async fn set_disabled(
    db: &impl ConnectionTrait,
    id: i64,
    disabled: bool,
    now: DateTime<Utc>,
) -> StoreResult<Model> {
    let user = get(db, id).await?;
    let mut active: ActiveModel = user.into();
    active.disabled_at = Set(disabled.then_some(now));
    active.updated_at = Set(now);
    let user = active.update(db).await?;
    if disabled {
        end_sessions(db, id).await?;
        tokens::revoke_all_of_user(db, id, now).await?;
    }
    Ok(user)
}

// --- sessions ---

/// Sessions end after this long without a request…
pub const SESSION_IDLE: Duration = Duration::hours(2);
/// …and at the latest this long after sign-in.
pub const SESSION_ABSOLUTE: Duration = Duration::hours(12);

/// Start a session: a new random token (only its hash is stored).
pub async fn create_session(
    db: &impl ConnectionTrait,
    user_id: i64,
    now: DateTime<Utc>,
) -> StoreResult<String> {
    let token = tokens::generate();
    session::ActiveModel {
        token_hash: Set(tokens::hash(&token)),
        user_id: Set(user_id),
        created_at: Set(now),
        last_seen_at: Set(now),
        expires_at: Set(now + SESSION_ABSOLUTE),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(token)
}

/// The user behind a live session token. An idle or expired session is deleted and gives `None`.
pub async fn session_user(
    db: &impl ConnectionTrait,
    token: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<Model>> {
    let Some(s) = session::Entity::find()
        .filter(session::Column::TokenHash.eq(tokens::hash(token)))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if now >= s.expires_at || now - s.last_seen_at >= SESSION_IDLE {
        session::Entity::delete_by_id(s.id).exec(db).await?;
        return Ok(None);
    }
    let user = get(db, s.user_id).await?;
    if user.disabled_at.is_some() {
        return Ok(None);
    }
    // Refresh the idle clock at most once a minute: reads should not all become writes.
    if now - s.last_seen_at > Duration::minutes(1) {
        session::Entity::update_many()
            .col_expr(session::Column::LastSeenAt, Expr::value(now))
            .filter(session::Column::Id.eq(s.id))
            .exec(db)
            .await?;
    }
    Ok(Some(user))
}

pub async fn end_session(db: &impl ConnectionTrait, token: &str) -> StoreResult<()> {
    session::Entity::delete_many()
        .filter(session::Column::TokenHash.eq(tokens::hash(token)))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn end_sessions(db: &impl ConnectionTrait, user_id: i64) -> StoreResult<()> {
    session::Entity::delete_many()
        .filter(session::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

// --- failed-login throttling ---

/// Failures counted over this window…
pub const THROTTLE_WINDOW: Duration = Duration::minutes(15);
/// …at most this many per account…
pub const MAX_FAILURES_PER_ACCOUNT: u64 = 5;
/// …and this many per client address.
pub const MAX_FAILURES_PER_ADDRESS: u64 = 20;

/// `username` of a failed bearer token: not a valid username, so it counts against the client
/// address only.
pub const TOKEN_FAILURE: &str = "#token";

/// The lock keys of a sign-in decision: the account and the client address.
fn login_keys(username: &str, address_hash: &str) -> [String; 2] {
    [format!("account:{username}"), address_key(address_hash)]
}

/// The lock key of the client address, shared by sign-ins and bearer tokens.
fn address_key(address_hash: &str) -> String {
    format!("address:{address_hash}")
}

fn normal(username: &str) -> String {
    username.trim().to_ascii_lowercase()
}

async fn failures_since(
    db: &impl ConnectionTrait,
    column: login_attempt::Column,
    value: &str,
    since: DateTime<Utc>,
) -> StoreResult<u64> {
    Ok(login_attempt::Entity::find()
        .filter(column.eq(value))
        .filter(login_attempt::Column::Succeeded.eq(false))
        .filter(login_attempt::Column::At.gt(since))
        .count(db)
        .await?)
}

async fn record_failure(
    db: &impl ConnectionTrait,
    username: &str,
    address_hash: &str,
    now: DateTime<Utc>,
) -> StoreResult<i64> {
    let attempt = login_attempt::ActiveModel {
        username: Set(username.to_string()),
        address_hash: Set(address_hash.to_string()),
        succeeded: Set(false),
        at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(attempt.id)
}

/// A password check that was let through: recorded as a failure until [`PasswordAttempt::succeeded`].
#[derive(Debug, Clone, Copy)]
pub struct PasswordAttempt(i64);

/// Let a password check for `username` from `address_hash` go ahead, or refuse it (`None`) when the
/// account or the address has failed too often lately. Counting and recording happen under the
/// throttle's locks, and the attempt is recorded as a failure *before* the password is checked, so
/// N guesses sent at once are counted as N: at most [`MAX_FAILURES_PER_ACCOUNT`] of them are ever
/// checked.
pub async fn admit_password_attempt(
    db: &DatabaseConnection,
    username: &str,
    address_hash: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<PasswordAttempt>> {
    let username = normal(username);
    let lock = throttle::lock(db, &login_keys(&username, address_hash)).await?;
    let since = now - THROTTLE_WINDOW;
    let per_account =
        failures_since(&lock, login_attempt::Column::Username, &username, since).await?;
    let per_address = failures_since(
        &lock,
        login_attempt::Column::AddressHash,
        address_hash,
        since,
    )
    .await?;
    if per_account >= MAX_FAILURES_PER_ACCOUNT || per_address >= MAX_FAILURES_PER_ADDRESS {
        lock.release().await?;
        return Ok(None);
    }
    let id = record_failure(&lock, &username, address_hash, now).await?;
    lock.release().await?;
    Ok(Some(PasswordAttempt(id)))
}

impl PasswordAttempt {
    /// The password was right: the attempt no longer counts as a failure.
    pub async fn succeeded(self, db: &impl ConnectionTrait) -> StoreResult<()> {
        login_attempt::Entity::update_many()
            .col_expr(login_attempt::Column::Succeeded, Expr::value(true))
            .filter(login_attempt::Column::Id.eq(self.0))
            .exec(db)
            .await?;
        Ok(())
    }
}

/// Decide on a bearer token from `address_hash` under the address's lock: `check` resolves the
/// token; a token it does not know is recorded as a failure of the address. Gives `Err(Throttled)`
/// without calling `check` when the address has failed too often lately (sign-ins included), so
/// guesses sent at once are counted before any is answered.
///
/// `check` reads through the lock's own connection: on PostgreSQL the lock is a transaction, and
/// asking the pool for a second connection while holding it could exhaust the pool under load.
pub async fn check_bearer<T>(
    db: &DatabaseConnection,
    address_hash: &str,
    now: DateTime<Utc>,
    check: impl AsyncFnOnce(&throttle::Locked) -> StoreResult<Option<T>>,
) -> StoreResult<Result<Option<T>, Throttled>> {
    let lock = throttle::lock(db, &[address_key(address_hash)]).await?;
    let since = now - THROTTLE_WINDOW;
    let failures = failures_since(
        &lock,
        login_attempt::Column::AddressHash,
        address_hash,
        since,
    )
    .await?;
    if failures >= MAX_FAILURES_PER_ADDRESS {
        lock.release().await?;
        return Ok(Err(Throttled));
    }
    let found = check(&lock).await?;
    if found.is_none() {
        record_failure(&lock, TOKEN_FAILURE, address_hash, now).await?;
    }
    lock.release().await?;
    Ok(Ok(found))
}

/// Too many failures lately: answer 429.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled;

/// Forget login attempts older than the throttle window and sessions past their end: neither
/// decides anything any more. Run at start and then on a schedule by `serve`.
pub async fn prune(db: &impl ConnectionTrait, now: DateTime<Utc>) -> StoreResult<(u64, u64)> {
    let attempts = login_attempt::Entity::delete_many()
        .filter(login_attempt::Column::At.lt(now - THROTTLE_WINDOW))
        .exec(db)
        .await?
        .rows_affected;
    let sessions = session::Entity::delete_many()
        .filter(
            sea_orm::Condition::any()
                .add(session::Column::ExpiresAt.lte(now))
                .add(session::Column::LastSeenAt.lte(now - SESSION_IDLE)),
        )
        .exec(db)
        .await?
        .rows_affected;
    Ok((attempts, sessions))
}
