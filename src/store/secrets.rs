//! Server secrets: random keys generated once per deployment and kept in the database, so every
//! app node uses the same ones. Never shown, logged or exported.

use sea_orm::sea_query::{Alias, Expr, OnConflict, Query};
use sea_orm::ConnectionTrait;

use super::StoreResult;

/// The key client addresses are HMAC'd with before a throttle stores them (login attempts,
/// objections): without it, an IPv4 address is recovered from its plain SHA-256 in minutes.
pub const ADDRESS_KEY: &str = "address_hmac_key";

/// The secret `name`, created (32 random bytes) on first use. Two nodes starting together agree:
/// the first insert wins and both read it back.
pub async fn get_or_create(db: &impl ConnectionTrait, name: &str) -> StoreResult<Vec<u8>> {
    let bytes: [u8; 32] = rand::random();
    let fresh: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let insert = Query::insert()
        .into_table(Alias::new("server_secrets"))
        .columns([
            Alias::new("name"),
            Alias::new("value"),
            Alias::new("created_at"),
        ])
        .values_panic([name.into(), fresh.into(), super::now().into()])
        .on_conflict(
            OnConflict::column(Alias::new("name"))
                .do_nothing()
                .to_owned(),
        )
        .to_owned();
    let backend = db.get_database_backend();
    db.execute(backend.build(&insert)).await?;
    let select = Query::select()
        .column(Alias::new("value"))
        .from(Alias::new("server_secrets"))
        .and_where(Expr::col(Alias::new("name")).eq(name))
        .to_owned();
    let row = db
        .query_one(backend.build(&select))
        .await?
        .ok_or(super::StoreError::NotFound("server secret"))?;
    let hex: String = row.try_get("", "value")?;
    Ok(decode_hex(&hex))
}

fn decode_hex(hex: &str) -> Vec<u8> {
    hex.as_bytes()
        .chunks(2)
        .filter_map(|pair| u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok())
        .collect()
}
