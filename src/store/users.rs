//! Staff accounts with argon2id password hashes, and their sessions and failed-login record.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use super::entities::user::{ActiveModel, Column, Entity, Model};
use super::entities::{login_attempt, session};
use super::{tokens, Page, StoreError, StoreResult};
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

pub async fn list(
    db: &impl ConnectionTrait,
    after: Option<i64>,
    limit: u64,
) -> StoreResult<Page<Model>> {
    let mut query = Entity::find().order_by_asc(Column::Id).limit(limit + 1);
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

/// Set a new password hash; every session of the user ends.
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
    end_sessions(db, id).await
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

pub async fn record_login(
    db: &impl ConnectionTrait,
    username: &str,
    address_hash: &str,
    succeeded: bool,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    login_attempt::ActiveModel {
        username: Set(username.trim().to_ascii_lowercase()),
        address_hash: Set(address_hash.to_string()),
        succeeded: Set(succeeded),
        at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Whether this account or address has failed too often lately.
pub async fn login_throttled(
    db: &impl ConnectionTrait,
    username: &str,
    address_hash: &str,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let since = now - THROTTLE_WINDOW;
    let failures = |column: login_attempt::Column, value: String| {
        login_attempt::Entity::find()
            .filter(column.eq(value))
            .filter(login_attempt::Column::Succeeded.eq(false))
            .filter(login_attempt::Column::At.gt(since))
    };
    let per_account = failures(
        login_attempt::Column::Username,
        username.trim().to_ascii_lowercase(),
    )
    .count(db)
    .await?;
    let per_address = failures(login_attempt::Column::AddressHash, address_hash.to_string())
        .count(db)
        .await?;
    Ok(per_account >= MAX_FAILURES_PER_ACCOUNT || per_address >= MAX_FAILURES_PER_ADDRESS)
}
