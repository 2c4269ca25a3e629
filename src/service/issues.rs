//! Newsletter issues as every face shows them (the API, the console, the packs).

use poem_openapi::Object;
use sea_orm::ConnectionTrait;

use crate::markdown;
use crate::store::entities::newsletter_issue::Model;
use crate::store::{issues, stories, StoreError};

#[derive(Debug, Object)]
pub struct Issue {
    pub id: i64,
    /// e.g. 长寿社区晨报 · 小城大事 2019年9月.
    pub name: String,
    pub date: chrono::NaiveDate,
    pub theme: Option<String>,
    /// 编者按 (Markdown).
    pub editors_note: Option<String>,
    pub editors_note_html: String,
    /// `draft` or `published`.
    pub state: String,
    pub published_at: Option<chrono::DateTime<chrono::Utc>>,
    /// In order. Anonymous callers see only the stories the public may read.
    pub story_ids: Vec<i64>,
    pub url: String,
}

/// The issue as the API, the console and the packs show it; `public` keeps only the stories the
/// public may read.
pub async fn view(
    db: &impl ConnectionTrait,
    public_url: &str,
    m: Model,
    public: bool,
) -> Result<Issue, StoreError> {
    let mut story_ids = issues::story_ids(db, m.id).await?;
    if public {
        let mut kept = Vec::new();
        for id in story_ids {
            if stories::is_public(db, &stories::get(db, id).await?).await? {
                kept.push(id);
            }
        }
        story_ids = kept;
    }
    Ok(Issue {
        id: m.id,
        url: format!("{public_url}/issues/{}", m.id),
        editors_note_html: m
            .editors_note
            .as_deref()
            .map(markdown::to_safe_html)
            .unwrap_or_default(),
        name: m.name,
        date: m.issue_date,
        theme: m.theme,
        editors_note: m.editors_note,
        state: m.state,
        published_at: m.published_at,
        story_ids,
    })
}
