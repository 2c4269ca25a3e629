//! API tokens for tools: shown once, only their SHA-256 hashes stored, owned by a user, revocable.
//! Tokens are long random strings, so a fast hash is enough (a password hash is for low-entropy
//! secrets).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};
use sha2::{Digest, Sha256};

use super::entities::api_token::{ActiveModel, Column, Entity, Model};
use super::{now, StoreError, StoreResult};

pub fn hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A new random token: 32 bytes from the OS generator, URL-safe base64 with a readable prefix.
pub fn generate() -> String {
    use base64::Engine;
    let bytes: [u8; 32] = rand::random();
    format!(
        "yd_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

pub async fn insert(
    db: &impl ConnectionTrait,
    user_id: Option<i64>,
    label: &str,
    token: &str,
) -> StoreResult<Model> {
    let model = ActiveModel {
        label: Set(label.to_string()),
        token_hash: Set(hash(token)),
        created_at: Set(now()),
        last_used_at: Set(None),
        revoked_at: Set(None),
        user_id: Set(user_id),
        ..Default::default()
    };
    Ok(model.insert(db).await?)
}

pub async fn find_active(db: &impl ConnectionTrait, token: &str) -> StoreResult<Option<Model>> {
    Ok(Entity::find()
        .filter(Column::TokenHash.eq(hash(token)))
        .filter(Column::RevokedAt.is_null())
        .one(db)
        .await?)
}

pub async fn count_active(db: &impl ConnectionTrait) -> StoreResult<u64> {
    Ok(Entity::find()
        .filter(Column::RevokedAt.is_null())
        .count(db)
        .await?)
}

/// Tokens of one user, or of everyone.
/// Tokens of one user, or of everyone; `within` a community: only of users granted inside its
/// subtree (a scoped admin's view).
pub async fn list(
    db: &impl ConnectionTrait,
    user_id: Option<i64>,
    within: Option<i64>,
) -> StoreResult<Vec<Model>> {
    let mut query = Entity::find().order_by_asc(Column::Id);
    if let Some(user) = user_id {
        query = query.filter(Column::UserId.eq(user));
    }
    if let Some(root) = within {
        query = query.filter(super::communities::granted_within(
            "api_tokens",
            "user_id",
            root,
        ));
    }
    Ok(query.all(db).await?)
}

pub async fn get(db: &impl ConnectionTrait, id: i64) -> StoreResult<Model> {
    Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(StoreError::NotFound("token"))
}

pub async fn revoke(db: &impl ConnectionTrait, id: i64, at: DateTime<Utc>) -> StoreResult<Model> {
    let token = get(db, id).await?;
    if token.revoked_at.is_some() {
        return Ok(token);
    }
    let mut active: ActiveModel = token.into();
    active.revoked_at = Set(Some(at));
    Ok(active.update(db).await?)
}

pub async fn revoke_all_of_user(
    db: &impl ConnectionTrait,
    user_id: i64,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    Entity::update_many()
        .col_expr(Column::RevokedAt, Expr::value(at))
        .filter(Column::UserId.eq(user_id))
        .filter(Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Tokens made before accounts existed (the one printed at first start) belong to the first admin.
pub async fn adopt_ownerless(db: &impl ConnectionTrait, user_id: i64) -> StoreResult<()> {
    Entity::update_many()
        .col_expr(Column::UserId, Expr::value(user_id))
        .filter(Column::UserId.is_null())
        .exec(db)
        .await?;
    Ok(())
}
