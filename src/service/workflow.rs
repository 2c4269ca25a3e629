//! Nominations and their categories as every face shows them.

use poem_openapi::Object;

use crate::domain::nomination::NominationState;

use crate::store::entities::category;

#[derive(Debug, Clone, Object)]
pub struct StatementDto {
    pub author: String,
    /// The author's relation to the nominee, e.g. "小区业主".
    pub relation: String,
    pub body: String,
}

#[derive(Debug, Object)]
pub struct NoticeWindow {
    pub id: i64,
    pub opens_at: chrono::DateTime<chrono::Utc>,
    pub closes_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Object)]
pub struct Nomination {
    pub id: i64,
    pub resident_id: i64,
    pub resident_name: String,
    pub category_id: i64,
    pub category_name: String,
    /// e.g. "2019年度长寿路街道有德之士".
    pub honour_title: String,
    pub year: i32,
    /// 推荐理由.
    pub citation: String,
    pub statements: Vec<StatementDto>,
    pub nominator_id: i64,
    pub state: NominationState,
    pub state_label: String,
    /// The states the caller may move it to now (by the state machine and the policy table).
    pub allowed_transitions: Vec<NominationState>,
    pub notice: Option<NoticeWindow>,
    pub recognition_id: Option<i64>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Object)]
pub struct Category {
    pub id: i64,
    /// Stable code, e.g. `dedication` (敬业奉献).
    pub code: String,
    pub name: String,
    /// `national` (道德模范 / 中国好人榜) or `local`.
    pub origin: String,
    pub active: bool,
}

impl From<&category::Model> for Category {
    fn from(m: &category::Model) -> Self {
        Category {
            id: m.id,
            code: m.code.clone(),
            name: m.name.clone(),
            origin: m.origin.clone(),
            active: m.active,
        }
    }
}
