//! Newsletter issues as every face shows them (the API, the console, the packs).

use poem_openapi::Object;

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
