//! Staff accounts, their API tokens and the audit log as the API and the console show them.

use poem_openapi::Object;

use crate::store::entities::{api_token, audit_event, user};

#[derive(Debug, Object)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub roles: Vec<String>,
    pub disabled: bool,
    /// The community whose subtree the roles are granted for; null: the whole deployment.
    pub community_id: Option<i64>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<&user::Model> for User {
    fn from(m: &user::Model) -> Self {
        User {
            id: m.id,
            username: m.username.clone(),
            display_name: m.display_name.clone(),
            roles: crate::store::users::roles(m)
                .iter()
                .map(|r| r.code().to_string())
                .collect(),
            disabled: m.disabled_at.is_some(),
            community_id: m.community_id,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

#[derive(Debug, Object)]
pub struct Token {
    pub id: i64,
    pub label: String,
    pub user_id: Option<i64>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<&api_token::Model> for Token {
    fn from(m: &api_token::Model) -> Self {
        Token {
            id: m.id,
            label: m.label.clone(),
            user_id: m.user_id,
            created_at: m.created_at,
            revoked_at: m.revoked_at,
        }
    }
}

#[derive(Debug, Object)]
pub struct AuditEvent {
    pub id: i64,
    pub actor_user_id: Option<i64>,
    pub actor_name: String,
    /// e.g. `resident.update`, `nomination.approved`, `consent.withdraw`.
    pub action: String,
    pub entity_kind: String,
    pub entity_id: i64,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub at: chrono::DateTime<chrono::Utc>,
}

impl From<audit_event::Model> for AuditEvent {
    fn from(m: audit_event::Model) -> Self {
        let parse = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok());
        AuditEvent {
            id: m.id,
            actor_user_id: m.actor_user_id,
            actor_name: m.actor_name,
            action: m.action,
            entity_kind: m.entity_kind,
            entity_id: m.entity_id,
            before: parse(m.before),
            after: parse(m.after),
            at: m.at,
        }
    }
}
