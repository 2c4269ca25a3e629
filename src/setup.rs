//! First-start setup: the first admin account, the demo data, and tokens from before accounts.

use sea_orm::DatabaseConnection;

use crate::domain::user::{check_password, UserDraft};
use crate::store::{self, tokens, users, StoreError};

/// What first-start setup did.
#[derive(Debug, Default)]
pub struct SetupReport {
    /// Set when the first admin was created with a generated password: show it once.
    pub generated_admin_password: Option<String>,
    pub admin_created: bool,
}

/// A random password for one-time use: 16 characters from an unambiguous alphabet.
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let bytes: [u8; 16] = rand::random();
    bytes
        .iter()
        .map(|b| ALPHABET[(*b as usize) % ALPHABET.len()] as char)
        .collect()
}

/// Create the first admin (`admin`) when there are no users, with `password` or a generated one;
/// give tokens made before accounts existed to the first admin.
pub async fn ensure_admin(
    db: &DatabaseConnection,
    password: Option<&str>,
) -> Result<SetupReport, StoreError> {
    let mut report = SetupReport::default();
    if users::count(db).await? == 0 {
        let draft = UserDraft::parse("admin", "管理员", &["admin".to_string()])
            .map_err(StoreError::Invalid)?;
        let (password, generated) = match password {
            Some(p) => {
                check_password("admin", p).map_err(StoreError::Invalid)?;
                (p.to_string(), false)
            }
            None => (generate_password(), true),
        };
        let to_hash = password.clone();
        let hash = tokio::task::spawn_blocking(move || users::hash_password(&to_hash))
            .await
            .map_err(|e| StoreError::Conflict(format!("password hashing failed: {e}")))?;
        users::insert(db, &draft, hash, store::now()).await?;
        report.admin_created = true;
        if generated {
            report.generated_admin_password = Some(password);
        }
    }
    if let Some(admin) = users::first_admin(db).await? {
        tokens::adopt_ownerless(db, admin.id).await?;
    }
    Ok(report)
}
