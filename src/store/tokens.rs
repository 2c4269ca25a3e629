//! API tokens: only their SHA-256 hashes are stored. Tokens are long random strings, so a fast
//! hash is enough (a password hash is for low-entropy secrets).

use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use sha2::{Digest, Sha256};

use super::entities::api_token::{ActiveModel, Column, Entity, Model};
use super::{now, StoreResult};

pub fn hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A new random token: 32 bytes from the OS generator, URL-safe base64 with a readable prefix.
pub fn generate() -> String {
    use base64::Engine;
    let bytes: [u8; 32] = rand::random();
    format!("yd_{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

pub async fn insert(db: &impl ConnectionTrait, label: &str, token: &str) -> StoreResult<Model> {
    let model = ActiveModel {
        label: Set(label.to_string()),
        token_hash: Set(hash(token)),
        created_at: Set(now()),
        last_used_at: Set(None),
        revoked_at: Set(None),
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
    Ok(Entity::find().filter(Column::RevokedAt.is_null()).count(db).await?)
}
